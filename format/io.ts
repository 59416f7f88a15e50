// format/io.ts — the I/O convention of freestanding C programs, shared by both sides.
//
// A module may import `env.output_byte(i32)` (C's putchar): each call appends the low byte of
// its argument to the program's output (the transformer's token field `out`, format/token.ts).
// Before the call, the input bytes and a terminating NUL are written at the input address
// (the exported global `__heap_base` unless given), and an argument '@input' stands for that
// address, so a C `void compute(const char *input)` runs as invoke('compute', ['@input']).
// The native harness (harness/io.ts) and the runtime (runtime/transformer.ts) both use these.

import { RunError } from './errors.js';

/** An argument: an i32, or '@input' for the input address. */
export type IoArg = number | '@input';

export const HEAP_BASE_EXPORT = '__heap_base';
export const INPUT_ARG = '@input';

/** Parses one command-line argument: '@input' or a decimal/hex i32 (wrapped to signed). */
export function parseIoArg(text: string): IoArg {
  if (text === INPUT_ARG) return INPUT_ARG;
  if (!/^[-+]?(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) {
    throw new RunError(`bad argument "${text}": expected an integer or ${INPUT_ARG}`);
  }
  const neg = text.startsWith('-');
  const body = text.replace(/^[-+]/, '');
  const v = Number(BigInt(body)); // BigInt reads decimal and 0x hex
  if (v > 0xffffffff) throw new RunError(`bad argument "${text}": does not fit in 32 bits`);
  return (neg ? -v : v) | 0;
}

/** The bytes written for an input: its UTF-8 (or raw) bytes and a terminating NUL. */
export function inputImage(input: string | Uint8Array): Uint8Array {
  const body = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

/** The arguments with '@input' replaced by the input address. */
export function resolveArgs(args: readonly IoArg[], inputAt: number | null, fn: string): number[] {
  return args.map((a) => {
    if (a !== INPUT_ARG) return a | 0;
    if (inputAt === null) {
      throw new RunError(`${fn}: argument ${INPUT_ARG} needs an input address (no ${HEAP_BASE_EXPORT} export; pass inputAt)`);
    }
    return inputAt | 0;
  });
}

