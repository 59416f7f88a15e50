// harness/io.ts — the native side of the I/O convention of freestanding C programs.
//
// A module may import `env.output_byte(i32)` (C's putchar): each call appends the low
// byte of its argument to the program's output. Before the call, the input bytes and a
// terminating NUL are written at the input address (the exported global `__heap_base`
// unless given), and an argument '@input' stands for that address, so a C
// `void compute(const char *input)` runs as invoke('compute', ['@input']).
// Every run gets a fresh instance (memory from the data segments). Runs on Node's own
// WebAssembly (V8); independent of backend/ and runtime/ (the transformer side mirrors it).

import { RunError, TrapCode, trapMessage } from '../format/errors.js';
import { normalizeTrapMessage } from './native.js';
import { HEAP_BASE_EXPORT, type IoArg, inputImage, resolveArgs } from '../format/io.js';

export { HEAP_BASE_EXPORT, INPUT_ARG, type IoArg, inputImage, parseIoArg, resolveArgs } from '../format/io.js';

const DEFAULT_MAX_OUTPUT = 1 << 20;

export interface IoRunOptions {
  /** Export to call. */
  invoke: string;
  /** Arguments; '@input' stands for the input address. Default: none. */
  args?: IoArg[];
  /** Text (UTF-8 encoded) or bytes written, plus a NUL, at the input address. Default: nothing written. */
  input?: string | Uint8Array;
  /** Input address; default: the value of the exported global __heap_base. */
  inputAt?: number;
  /** Output beyond this many bytes stops the run with a RunError (default 1 MiB). */
  maxOutputBytes?: number;
  /** Also return a copy of the final linear memory. */
  keepMemory?: boolean;
}

export interface IoOutcome {
  /** Bytes passed to env.output_byte, in order. */
  output: Uint8Array;
  /** The output decoded as UTF-8. */
  text: string;
  /** Results as signed i32 (empty for a void export or after a trap). */
  results: number[];
  /** Trap message in spec wording, or null. */
  trap: string | null;
  /** Where the input was written (null when there is no input address). */
  inputAt: number | null;
  /** Milliseconds spent in the exported call itself (not compiling or instantiating). */
  callMs: number;
  /** Final linear memory, when keepMemory was set and the module exports a memory. */
  memory?: Uint8Array;
}

/** A compiled module; each run() instantiates it afresh. */
export class IoProgram {
  private constructor(private readonly module: WebAssembly.Module) {}

  /** Compile wasm bytes (V8 validates them). */
  static async compile(wasm: Uint8Array): Promise<IoProgram> {
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(new Uint8Array(wasm));
    } catch (e) {
      throw new RunError(`io: invalid module: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module !== 'env' || imp.name !== 'output_byte' || imp.kind !== 'function') {
        throw new RunError(`io: module imports ${imp.kind} ${imp.module}.${imp.name}; only env.output_byte is provided`);
      }
    }
    return new IoProgram(module);
  }

  /** Names of the exported functions. */
  exports(): string[] {
    return WebAssembly.Module.exports(this.module)
      .filter((d) => d.kind === 'function')
      .map((d) => d.name);
  }

  /** Instantiate afresh, write the input, call the export, collect output. */
  async run(opts: IoRunOptions): Promise<IoOutcome> {
    const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const sink = new OutputSink(limit);
    const instance = await WebAssembly.instantiate(this.module, {
      env: { output_byte: (b: number): void => sink.push(b) },
    });
    const fn = exportedFunction(instance, opts.invoke);
    const memory = exportedMemory(instance);
    const inputAt = opts.inputAt ?? heapBase(instance);
    if (opts.input !== undefined) {
      if (inputAt === null) throw new RunError(`io: no input address (no ${HEAP_BASE_EXPORT} export; pass inputAt)`);
      writeInput(memory, inputAt, inputImage(opts.input));
    }
    const args = resolveArgs(opts.args ?? [], inputAt, opts.invoke);
    if (args.length !== fn.length) {
      throw new RunError(`io: export "${opts.invoke}" takes ${fn.length} argument(s), got ${args.length}`);
    }
    const t0 = performance.now();
    const { results, trap } = callTrapping(fn, args, sink);
    const callMs = performance.now() - t0;
    const output = sink.bytes();
    const outcome: IoOutcome = { output, text: new TextDecoder().decode(output), results, trap, inputAt, callMs };
    if (opts.keepMemory && memory) outcome.memory = new Uint8Array(memory.buffer).slice();
    return outcome;
  }
}

/** One-shot: compile `wasm`, run one export with input, return output, results and trap. */
export async function runIo(wasm: Uint8Array, opts: IoRunOptions): Promise<IoOutcome> {
  return (await IoProgram.compile(wasm)).run(opts);
}

class OutputOverflow extends Error {}

class OutputSink {
  private buf = new Uint8Array(256);
  private n = 0;
  constructor(private readonly limit: number) {}
  push(b: number): void {
    if (this.n >= this.limit) throw new OutputOverflow();
    if (this.n === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = b & 0xff;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
  get limitBytes(): number {
    return this.limit;
  }
}

type I32Function = ((...args: number[]) => unknown) & { length: number };

function exportedFunction(instance: WebAssembly.Instance, name: string): I32Function {
  const f = instance.exports[name];
  if (typeof f !== 'function') {
    const names = Object.keys(instance.exports).filter((k) => typeof instance.exports[k] === 'function');
    throw new RunError(`io: no exported function "${name}" (exports: ${names.join(', ') || 'none'})`);
  }
  return f as I32Function;
}

function exportedMemory(instance: WebAssembly.Instance): WebAssembly.Memory | null {
  for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) return v;
  return null;
}

function heapBase(instance: WebAssembly.Instance): number | null {
  const g = instance.exports[HEAP_BASE_EXPORT];
  if (g instanceof WebAssembly.Global && typeof g.value === 'number') return g.value >>> 0;
  return null;
}

function writeInput(memory: WebAssembly.Memory | null, at: number, image: Uint8Array): void {
  if (memory === null) throw new RunError('io: module exports no memory; cannot write the input');
  const size = memory.buffer.byteLength;
  if (at < 0 || at + image.length > size) {
    throw new RunError(`io: input of ${image.length} bytes (with NUL) at ${at} does not fit in memory of ${size} bytes`);
  }
  new Uint8Array(memory.buffer).set(image, at);
}

function callTrapping(fn: I32Function, args: number[], sink: OutputSink): { results: number[]; trap: string | null } {
  let raw: unknown;
  try {
    raw = fn(...args);
  } catch (e) {
    if (e instanceof OutputOverflow) throw new RunError(`io: output exceeds ${sink.limitBytes} bytes`);
    if (e instanceof WebAssembly.RuntimeError) return { results: [], trap: normalizeTrapMessage(e.message) };
    if (e instanceof RangeError) return { results: [], trap: trapMessage(TrapCode.CallStackExhausted) };
    throw e;
  }
  if (raw === undefined) return { results: [], trap: null };
  const list = Array.isArray(raw) ? raw : [raw];
  return {
    results: list.map((v) => {
      if (typeof v !== 'number') throw new RunError(`io: result ${String(v)} is not an i32`);
      return v | 0;
    }),
    trap: null,
  };
}
