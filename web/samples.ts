// web/samples.ts — what the demo page knows about its built-in programs (embedded at build time
// by web/build.ts from wasm-samples/: the WAT samples and a few C programs).

/** One way to call an export: its arguments as typed in the page, and the input text ('@input'). */
export interface DemoCall {
  export: string;
  /** Arguments, space-separated: integers or @input. */
  args: string;
  /** Written with a NUL at __heap_base before the call (C programs' `compute(const char *input)`). */
  input?: string;
}

export interface DemoSample {
  /** Stable key: `wat/NAME` or `c/NAME.O2`. */
  id: string;
  group: string;
  label: string;
  description: string;
  filename: string;
  /** WAT text (the WAT samples). */
  wat?: string;
  /** Base64 of the .wasm (the C programs). */
  wasm?: string;
  /** Calls offered for the sample, the first one preselected. */
  calls: DemoCall[];
}
