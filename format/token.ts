// format/token.ts — the state token: what goes into a step and what comes out.
//
// Input token (float32, one row per execution):
//   [ 1 | arg_i lo, hi  (maxArgs × 2) | epoch bits (8, with memory) | tick base (1, with memory) ]
// The constant 1 is the bias input of every linear map (a bias is a weight on slot 0).
// plus the program counter, which selects the step's expert: an int64 `pc` input
// (routed models) or a one-hot `route` input over the experts (dense models).
// Output token `readout.next`:
//   [ next pc (an exact integer; pc = number of experts means HALT) | trap code | arg_i lo, hi ]
// Limbs are 16-bit halves of an i32: value = lo + 65536·hi (mod 2^32). The trap code is a
// TrapCode (format/errors.ts), 0 for none. Every field is an exact small integer in float32.
// The backend derives the layout with tokenLayout(); the runtime encodes and decodes with
// the functions below, and validates a model's layout against tokenLayout() before use.

import { EPOCH_BITS } from './memory.js';

export interface TokenIn {
  one: number;
  args: number;
  epoch: number;
  tick: number;
  width: number;
}

export interface TokenOut {
  pc: number;
  trap: number;
  args: number;
  width: number;
}

export function tokenLayout(maxArgs: number, hasMemory: boolean): { tokenIn: TokenIn; tokenOut: TokenOut } {
  const epoch = 1 + 2 * maxArgs;
  const tick = epoch + (hasMemory ? EPOCH_BITS : 0);
  return {
    tokenIn: { one: 0, args: 1, epoch, tick, width: tick + (hasMemory ? 1 : 0) },
    tokenOut: { pc: 0, trap: 1, args: 2, width: 2 + 2 * maxArgs },
  };
}

export function splitI32(v: number): [number, number] {
  const u = v >>> 0;
  return [u & 0xffff, u >>> 16];
}

export function joinI32(lo: number, hi: number): number {
  return ((Math.round(lo) & 0xffff) | ((Math.round(hi) & 0xffff) << 16)) | 0;
}

/** Writes one execution's input token at `o` (args beyond `args.length` are 0). */
export function encodeToken(
  t: TokenIn,
  maxArgs: number,
  buf: Float32Array,
  o: number,
  args: readonly number[],
  time: { epoch: number; tickBase: number } | null,
): void {
  buf[o + t.one] = 1;
  for (let i = 0; i < maxArgs; i++) {
    const u = (args[i] ?? 0) >>> 0;
    buf[o + t.args + 2 * i] = u & 0xffff;
    buf[o + t.args + 2 * i + 1] = u >>> 16;
  }
  if (time) {
    for (let j = 0; j < EPOCH_BITS; j++) buf[o + t.epoch + j] = (time.epoch >>> j) & 1;
    buf[o + t.tick] = time.tickBase;
  }
}

export interface DecodedToken {
  pc: number;
  trap: number;
  args: number[];
}

/** Reads one execution's output token at `o`; args are signed i32. */
export function decodeToken(t: TokenOut, maxArgs: number, buf: Float32Array, o: number, args: number[] = new Array(maxArgs)): DecodedToken {
  for (let i = 0; i < maxArgs; i++) args[i] = joinI32(buf[o + t.args + 2 * i], buf[o + t.args + 2 * i + 1]);
  return { pc: Math.round(buf[o + t.pc]), trap: Math.round(buf[o + t.trap]), args };
}
