// harness/check.ts — differential testing: transformer vs IR interpreter vs native V8.
//
// For each export, runs N seeded random argument tuples plus the edge tuples
// (every argument 0, 1, -1, INT_MIN, INT_MAX) on a fresh memory each, through
// all three oracles, and compares results, traps, steps and final memory. A case
// still running after the step limit cannot run natively (it could not be
// stopped); it is compared with the IR interpreter on that prefix instead: the
// block reached, its arguments and the memory after maxSteps steps.
//
// Arguments are drawn from per-parameter ranges (default: the whole i32 range, which
// drives a loop whose trip count is an argument to the step limit in every case), and the
// edge tuples are clamped into them. Cases run in batches, taking the exports in turn, so
// a time limit stops with a fair sample of every export (a batch still running at the limit
// is abandoned) and the report says how many of the planned cases ran.

import type { Module } from '../ir/ir.js';
import { initialMemory } from '../ir/ir.js';
import { interpret } from '../ir/interp.js';
import { NativeInstance, nativeTrapAgrees } from './native.js';
import { Outcome, TransformerModel, decodeMemory } from '../runtime/transformer.js';

export interface CheckOptions {
  exports?: string[];
  cases?: number; // random tuples per export (default 50)
  seed?: number;
  maxSteps?: number; // per case (default 10000)
  /** Extra argument tuples to check, per export name. */
  extraArgs?: Record<string, number[][]>;
  /** Argument generators per export (e.g. bounded loop counters); default: full i32 range. */
  argGen?: Record<string, (rand: () => number) => number[]>;
  onProgress?: (done: number, total: number) => void;
  /** Run the transformer with superseded cache rows evicted (results must not change). */
  evict?: boolean;
  /**
   * Inclusive [lo, hi] (signed) per parameter position; parameters past the last range use the
   * last one (so one range applies to every parameter). Default: the whole i32 range.
   */
  ranges?: Array<[number, number]>;
  /** Stop after this many milliseconds, abandoning the batch then running (default: no limit). */
  timeLimitMs?: number;
  /** Cases per transformer batch (default 32). */
  batch?: number;
  /** Clock for the time limit (default performance.now). */
  now?: () => number;
}

export interface CaseResult {
  export: string;
  args: number[];
  ok: boolean;
  tooLong: boolean;
  reason: string | null;
  native: { results: number[]; trap: string | null } | null;
  ir: { results: number[]; trap: string | null; steps: number } | null;
  transformer: Outcome | null;
}

export interface CheckReport {
  passed: number; // includes tooLong cases whose state after maxSteps steps matched
  failed: number;
  /** Cases still running after maxSteps steps: compared with the IR interpreter on that prefix only. */
  tooLong: number;
  cases: CaseResult[];
  /** Cases planned; cases.length of them ran (fewer when the time limit stopped the check). */
  planned: number;
  /** Whether the time limit stopped the check before every planned case ran. */
  timedOut: boolean;
}

export const EDGE_VALUES = [0, 1, -1, -2147483648, 2147483647];

/** mulberry32: a small seeded PRNG returning uint32. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The range of parameter `i` under `ranges` (see CheckOptions.ranges). */
export function rangeOf(ranges: ReadonlyArray<[number, number]> | undefined, i: number): [number, number] {
  if (!ranges || ranges.length === 0) return [-2147483648, 2147483647];
  return ranges[Math.min(i, ranges.length - 1)];
}

/** A uniform value in [lo, hi] from a uint32 source. */
function inRange(r: () => number, [lo, hi]: [number, number]): number {
  const span = hi - lo + 1;
  return span >= 2 ** 32 ? r() | 0 : lo + Math.floor((r() / 2 ** 32) * span);
}

const clamp = (v: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, v));

/** The first index where two byte strings differ (their common length when one is a prefix), or -1. */
function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function sameMemory(a: Uint8Array, b: Uint8Array): number {
  return a.length !== b.length ? 0 : sameBytes(a, b);
}

export async function checkProgram(
  model: TransformerModel,
  ir: Module,
  wasm: Uint8Array,
  opts: CheckOptions = {},
): Promise<CheckReport> {
  const names = opts.exports ?? model.layout.entries.map((e) => e.name);
  const rand = prng(opts.seed ?? 1);
  const maxSteps = opts.maxSteps ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const plan: Array<{ name: string; tuples: number[][] }> = names.map((name) => {
    const e = model.entry(name);
    const ranges = Array.from({ length: e.params }, (_, i) => rangeOf(opts.ranges, i));
    const tuples: number[][] = EDGE_VALUES.map((v) => ranges.map((r) => clamp(v, r)));
    const gen = opts.argGen?.[name] ?? ((r: () => number) => ranges.map((range) => inRange(r, range)));
    for (let i = 0; i < (opts.cases ?? 50); i++) tuples.push(gen(rand));
    tuples.push(...(opts.extraArgs?.[name] ?? []));
    const seen = new Set<string>();
    return { name, tuples: tuples.filter((t) => (seen.has(t.join()) ? false : (seen.add(t.join()), true))) };
  });
  const total = plan.reduce((s, p) => s + p.tuples.length, 0);
  // batches, taking the exports in turn
  const size = Math.max(1, opts.batch ?? 32);
  const batches: Array<{ name: string; tuples: number[][] }> = [];
  for (let k = 0; plan.some((p) => k * size < p.tuples.length); k++) {
    for (const p of plan) if (k * size < p.tuples.length) batches.push({ name: p.name, tuples: p.tuples.slice(k * size, (k + 1) * size) });
  }
  const cases: CaseResult[] = [];
  let timedOut = false;
  const deadline = started + (opts.timeLimitMs ?? Infinity);
  for (const { name, tuples } of batches) {
    if (now() >= deadline) {
      timedOut = true;
      break;
    }
    try {
      cases.push(...(await checkBatch(model, ir, wasm, name, tuples, maxSteps, opts.evict, () => now() >= deadline)));
    } catch (e) {
      if (!(e instanceof TimeUp)) throw e;
      timedOut = true;
      break;
    }
    opts.onProgress?.(cases.length, total);
  }
  const passed = cases.filter((c) => c.ok).length;
  const failed = cases.filter((c) => !c.ok).length;
  return { passed, failed, tooLong: cases.filter((c) => c.tooLong).length, cases, planned: total, timedOut };
}

/** Thrown out of a transformer batch when the time limit is reached. */
class TimeUp extends Error {}

/** One export on a batch of argument tuples through all three oracles; throws TimeUp once `late()`. */
async function checkBatch(
  model: TransformerModel,
  ir: Module,
  wasm: Uint8Array,
  name: string,
  tuples: number[][],
  maxSteps: number,
  evict: boolean | undefined,
  late: () => boolean,
): Promise<CaseResult[]> {
  const cases: CaseResult[] = [];
  // IR interpreter first: it decides which cases terminate within the step limit; for the
  // others it reports the state reached after maxSteps steps.
  const irRuns = tuples.map((args) => interpret(ir, name, args, { memory: initialMemory(ir), maxSteps, stopAtLimit: true }));
  const entry = model.entry(name);
  const mems = tuples.map(() => model.newMemory({ evict }));
  const trace = (ev: { step: number }) => {
    if (ev.step % 64 === 0 && late()) throw new TimeUp();
  };
  const outs = tuples.length ? await model.runBatch(name, tuples, mems, { maxSteps, stopAtLimit: true, trace }) : [];
  for (let i = 0; i < tuples.length; i++) {
    const args = tuples[i];
    const irr = irRuns[i];
    const t = { out: outs[i], mem: mems[i] };
    const tMem = model.layout.memory ? decodeMemory(model.layout.memory, t.mem) : new Uint8Array(0);
    if (irr.truncated) {
      // Too long to finish (and to run natively): compare the state after maxSteps steps.
      let reason: string | null = null;
      const tr = t.out.truncated;
      const blk = tr ? model.layout.experts[tr.pc] : null;
      const irState = `block${irr.truncated.block}(${irr.truncated.args.join(', ')})`;
      const tState = tr && blk ? `${blk.func === entry.func ? '' : `${blk.func}:`}block${blk.block}(${tr.args.slice(0, irr.truncated.args.length).join(', ')})` : t.out.trap ? `trap "${t.out.trap}"` : `halted with [${t.out.results.join(', ')}]`;
      if (tState !== irState) reason = `after ${maxSteps} steps the transformer is at ${tState}, the IR interpreter at ${irState}`;
      else {
        const d = sameMemory(irr.memory, tMem);
        if (d >= 0) reason = `after ${maxSteps} steps the transformer memory differs from the IR interpreter at byte ${d}`;
      }
      cases.push({ export: name, args, ok: reason === null, tooLong: true, reason, native: null, ir: { results: [], trap: null, steps: maxSteps }, transformer: t.out });
      continue;
    }
    const native = (await NativeInstance.create(wasm)).invoke(name, args);
    // V8 says one thing for two call_indirect traps: read it as the IR interpreter's when it stands for that
    if (native.trap !== null && irr.trap !== null && nativeTrapAgrees(native.trap, irr.trap)) native.trap = irr.trap;
    let reason: string | null = null;
    const fmt = (o: { results: number[]; trap: string | null }) => (o.trap ? `trap "${o.trap}"` : `[${o.results.join(', ')}]`);
    if (fmt(native) !== fmt(irr)) reason = `IR interpreter ${fmt(irr)} != native ${fmt(native)}`;
    else if (fmt(native) !== fmt(t.out)) reason = `transformer ${fmt(t.out)} != native ${fmt(native)}`;
    else if (t.out.steps !== irr.steps) reason = `transformer took ${t.out.steps} steps, IR interpreter ${irr.steps}`;
    else if (sameBytes(native.output, irr.output) >= 0) reason = `IR interpreter output differs from native at byte ${sameBytes(native.output, irr.output)}`;
    else if (sameBytes(native.output, t.out.output) >= 0) reason = `transformer output differs from native at byte ${sameBytes(native.output, t.out.output)}`;
    else {
      const d1 = sameMemory(native.memory, irr.memory);
      const d2 = sameMemory(native.memory, tMem);
      if (d1 >= 0) reason = `IR interpreter memory differs from native at byte ${d1}`;
      else if (d2 >= 0) reason = `transformer memory differs from native at byte ${d2}`;
    }
    cases.push({
      export: name,
      args,
      ok: reason === null,
      tooLong: false,
      reason,
      native: { results: native.results, trap: native.trap },
      ir: { results: irr.results, trap: irr.trap, steps: irr.steps },
      transformer: t.out,
    });
  }
  return cases;
}
