// format/token.ts — the state token: what goes into a step and what comes out.
//
// Input token (float32, one row per execution):
//   [ 1 | epoch bits (8, with memory) | tick base (1, with memory) | global_g lo, hi (mutable
//     globals × 2) | call depth (1, with calls) | arg_i lo, hi (maxArgs × 2) ]
// The constant 1 is the bias input of every linear map (a bias is a weight on slot 0). The
// arguments come last, so every field's position is independent of maxArgs, and arguments
// beyond a block's parameters are always 0 (the readout leaves them 0, the runtime pads
// entry arguments with 0): an expert need not know how many arguments other blocks take.
// plus the program counter, which selects the step's expert: an int64 `pc` input
// (routed models) or a one-hot `route` input over the experts (dense models).
// Output token `readout.next`:
//   [ next pc (an exact integer; pc = number of experts means HALT) | trap code |
//     output (OUTPUTS_PER_STEP fields, with env.output_byte: byte + 1 for each byte the step wrote,
//     in order, else 0) | globals | depth | args ]
// Limbs are 16-bit halves of an i32: value = lo + 65536·hi (mod 2^32). The trap code is a
// TrapCode (format/errors.ts), 0 for none. Every field is an exact small integer in float32.
// The backend derives the layout with tokenLayout(); the runtime encodes and decodes with
// the functions below, and validates a model's layout against tokenLayout() before use.

import { EPOCH_BITS } from './memory.js';

export interface TokenIn {
  one: number;
  epoch: number;
  tick: number;
  /** Mutable globals' limbs (2 each). */
  globals: number;
  /** The call depth (frames saved), with calls. */
  depth: number;
  args: number;
  width: number;
}

/** How many bytes a step may write (env.output_byte): the token's output fields. */
export const OUTPUTS_PER_STEP = 4;

export interface TokenOut {
  pc: number;
  trap: number;
  /** The first of OUTPUTS_PER_STEP output fields, each a byte + 1 (0: none); only with hasOutput (then at 2), else −1. */
  out: number;
  globals: number;
  depth: number;
  args: number;
  width: number;
}

export interface TokenShape {
  maxArgs: number;
  hasMemory: boolean;
  globals: number;
  hasCalls: boolean;
  /** The program writes output (env.output_byte): at most OUTPUTS_PER_STEP bytes per step. */
  hasOutput: boolean;
}

export function tokenLayout(shape: TokenShape): { tokenIn: TokenIn; tokenOut: TokenOut } {
  const { maxArgs, hasMemory, globals: G, hasCalls, hasOutput } = shape;
  const epoch = 1;
  const tick = epoch + (hasMemory ? EPOCH_BITS : 0);
  const globals = tick + (hasMemory ? 1 : 0);
  const depth = globals + 2 * G;
  const args = depth + (hasCalls ? 1 : 0);
  const oGlobals = 2 + (hasOutput ? OUTPUTS_PER_STEP : 0);
  const oDepth = oGlobals + 2 * G;
  const oArgs = oDepth + (hasCalls ? 1 : 0);
  return {
    tokenIn: { one: 0, epoch, tick, globals, depth, args, width: args + 2 * maxArgs },
    tokenOut: { pc: 0, trap: 1, out: hasOutput ? 2 : -1, globals: oGlobals, depth: oDepth, args: oArgs, width: oArgs + 2 * maxArgs },
  };
}

export function splitI32(v: number): [number, number] {
  const u = v >>> 0;
  return [u & 0xffff, u >>> 16];
}

export function joinI32(lo: number, hi: number): number {
  return ((Math.round(lo) & 0xffff) | ((Math.round(hi) & 0xffff) << 16)) | 0;
}

/** One execution's state between steps (besides its pc and memory). */
export interface StepState {
  args: number[];
  globals: number[];
  depth: number;
}

function putI32(buf: Float32Array, at: number, v: number): void {
  const u = v >>> 0;
  buf[at] = u & 0xffff;
  buf[at + 1] = u >>> 16;
}

/** Writes one execution's input token at `o` (args beyond `args.length` are 0). */
export function encodeToken(
  t: TokenIn,
  shape: TokenShape,
  buf: Float32Array,
  o: number,
  s: StepState,
  time: { epoch: number; tickBase: number } | null,
): void {
  buf[o + t.one] = 1;
  for (let i = 0; i < shape.maxArgs; i++) putI32(buf, o + t.args + 2 * i, s.args[i] ?? 0);
  for (let g = 0; g < shape.globals; g++) putI32(buf, o + t.globals + 2 * g, s.globals[g] ?? 0);
  if (shape.hasCalls) buf[o + t.depth] = s.depth;
  if (time) {
    for (let j = 0; j < EPOCH_BITS; j++) buf[o + t.epoch + j] = (time.epoch >>> j) & 1;
    buf[o + t.tick] = time.tickBase;
  }
}

/**
 * Reads one execution's output token at `o` into `s` (args and globals signed i32); returns pc,
 * trap code and the bytes written this step, in order (each field's value − 1; the fields left
 * 0 are skipped; a value outside 0..255 is the caller's to reject).
 */
export function decodeToken(t: TokenOut, shape: TokenShape, buf: Float32Array, o: number, s: StepState): { pc: number; trap: number; out: number[] } {
  for (let i = 0; i < shape.maxArgs; i++) s.args[i] = joinI32(buf[o + t.args + 2 * i], buf[o + t.args + 2 * i + 1]);
  for (let g = 0; g < shape.globals; g++) s.globals[g] = joinI32(buf[o + t.globals + 2 * g], buf[o + t.globals + 2 * g + 1]);
  if (shape.hasCalls) s.depth = Math.round(buf[o + t.depth]);
  const out: number[] = [];
  if (shape.hasOutput) {
    for (let k = 0; k < OUTPUTS_PER_STEP; k++) {
      const b = Math.round(buf[o + t.out + k]) - 1;
      if (b !== -1) out.push(b);
    }
  }
  return { pc: Math.round(buf[o + t.pc]), trap: Math.round(buf[o + t.trap]), out };
}
