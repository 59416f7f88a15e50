// harness/retired.ts — how many WebAssembly instructions a run retires, counted natively.
//
// The module is instrumented (harness/wasm_count.ts: a counter per opcode, bumped before
// every instruction) and run on V8 with the I/O convention (harness/io.ts). The count is
// every executed instruction except the purely structural ones (block, loop, end, else,
// nop), which compute nothing; branches, calls, local.get/set and constants all count.
// This is the figure instructions-per-second rates are quoted in (bench, demo).

import { instrumentCounting } from './wasm_count.js';
import { HEAP_BASE_EXPORT, inputImage, resolveArgs, type IoArg } from '../format/io.js';

/** Instructions that only delimit structure (they compute nothing). */
export const STRUCTURAL = new Set(['block', 'loop', 'end', 'else', 'nop']);

export interface RetiredOptions {
  invoke: string;
  args?: IoArg[];
  input?: string | Uint8Array;
}

/** Executed instructions (structural ones excluded) of one call on a fresh instance. */
export async function instructionsRetired(wasm: Uint8Array, opts: RetiredOptions): Promise<number> {
  const { wasm: counted, counters } = instrumentCounting(wasm);
  const inst = (await WebAssembly.instantiate(new Uint8Array(counted), { env: { output_byte: () => undefined } })).instance;
  const g = inst.exports[HEAP_BASE_EXPORT];
  const at = g instanceof WebAssembly.Global ? (g.value as number) >>> 0 : null;
  if (opts.input !== undefined) {
    const mem = Object.values(inst.exports).find((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory);
    if (!mem || at === null) throw new Error(`${opts.invoke}: no memory or ${HEAP_BASE_EXPORT} for the input`);
    new Uint8Array(mem.buffer).set(inputImage(opts.input), at);
  }
  const fn = inst.exports[opts.invoke] as (...a: number[]) => unknown;
  try {
    fn(...resolveArgs(opts.args ?? [], at, opts.invoke));
  } catch {
    // a trap still retired what ran before it
  }
  let n = 0;
  for (const [name, exp] of Object.entries(counters)) {
    if (!STRUCTURAL.has(name)) n += (inst.exports[exp] as WebAssembly.Global).value as number;
  }
  return n;
}
