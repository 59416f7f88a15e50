// runtime/check.ts — differential testing: transformer vs IR interpreter vs native V8.
//
// For each export, runs N seeded random argument tuples plus the edge tuples
// (every argument 0, 1, -1, INT_MIN, INT_MAX) on a fresh memory each, through
// all three oracles, and compares results, traps and final memory. Cases the
// IR interpreter shows to run past the step limit are reported as "too long"
// and not run natively (a native run could not be stopped).

import type { Module } from '../ir/ir.js';
import { initialMemory } from '../ir/ir.js';
import { interpret } from '../ir/interp.js';
import { RunError } from '../frontend/errors.js';
import { NativeInstance } from './native.js';
import { MemoryState, Outcome, TransformerModel, decodeMemory } from './transformer.js';

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
  passed: number;
  failed: number;
  tooLong: number;
  cases: CaseResult[];
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

function sameMemory(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
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
  const plan: Array<{ name: string; tuples: number[][] }> = names.map((name) => {
    const e = model.entry(name);
    const tuples: number[][] = EDGE_VALUES.map((v) => new Array(e.params).fill(v));
    const gen = opts.argGen?.[name] ?? (() => Array.from({ length: e.params }, () => rand() | 0));
    for (let i = 0; i < (opts.cases ?? 50); i++) tuples.push(gen(rand));
    tuples.push(...(opts.extraArgs?.[name] ?? []));
    const seen = new Set<string>();
    return { name, tuples: tuples.filter((t) => (seen.has(t.join()) ? false : (seen.add(t.join()), true))) };
  });
  const total = plan.reduce((s, p) => s + p.tuples.length, 0);
  const cases: CaseResult[] = [];
  let done = 0;
  for (const { name, tuples } of plan) {
    // IR interpreter first: it decides which cases terminate within the step limit.
    const irRuns = tuples.map((args) => {
      try {
        const r = interpret(ir, name, args, { memory: initialMemory(ir), maxSteps });
        return { ...r, tooLong: false };
      } catch (e) {
        if (e instanceof RunError && /step limit/.test(e.message)) return null;
        throw e;
      }
    });
    const runnable = tuples.map((_, i) => i).filter((i) => irRuns[i] !== null);
    const mems = runnable.map(() => model.newMemory({ evict: opts.evict }));
    const outs = runnable.length ? await model.runBatch(name, runnable.map((i) => tuples[i]), mems, { maxSteps }) : [];
    const byIndex = new Map<number, { out: Outcome; mem: MemoryState }>();
    runnable.forEach((i, k) => byIndex.set(i, { out: outs[k], mem: mems[k] }));
    for (let i = 0; i < tuples.length; i++) {
      const args = tuples[i];
      const irr = irRuns[i];
      if (!irr) {
        cases.push({ export: name, args, ok: true, tooLong: true, reason: null, native: null, ir: null, transformer: null });
        done++;
        continue;
      }
      const native = (await NativeInstance.create(wasm)).invoke(name, args);
      const t = byIndex.get(i)!;
      const tMem = model.layout.memory ? decodeMemory(model.layout.memory, t.mem) : new Uint8Array(0);
      let reason: string | null = null;
      const fmt = (o: { results: number[]; trap: string | null }) => (o.trap ? `trap "${o.trap}"` : `[${o.results.join(', ')}]`);
      if (fmt(native) !== fmt(irr)) reason = `IR interpreter ${fmt(irr)} != native ${fmt(native)}`;
      else if (fmt(native) !== fmt(t.out)) reason = `transformer ${fmt(t.out)} != native ${fmt(native)}`;
      else if (t.out.steps !== irr.steps) reason = `transformer took ${t.out.steps} steps, IR interpreter ${irr.steps}`;
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
      done++;
      opts.onProgress?.(done, total);
    }
  }
  const passed = cases.filter((c) => c.ok && !c.tooLong).length;
  const failed = cases.filter((c) => !c.ok).length;
  return { passed, failed, tooLong: cases.filter((c) => c.tooLong).length, cases };
}
