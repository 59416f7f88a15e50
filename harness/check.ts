// harness/check.ts — differential testing: transformer vs IR interpreter vs native V8.
//
// For each export, runs N seeded random argument tuples plus the edge tuples
// (every argument 0, 1, -1, INT_MIN, INT_MAX) on a fresh memory each, through
// all three oracles, and compares results, traps, steps and final memory. A case
// still running after the step limit cannot run natively (it could not be
// stopped); it is compared with the IR interpreter on that prefix instead: the
// block reached, its arguments and the memory after maxSteps steps.

import type { Module } from '../ir/ir.js';
import { initialMemory } from '../ir/ir.js';
import { interpret } from '../ir/interp.js';
import { NativeInstance } from './native.js';
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
    // IR interpreter first: it decides which cases terminate within the step limit; for the
    // others it reports the state reached after maxSteps steps.
    const irRuns = tuples.map((args) => interpret(ir, name, args, { memory: initialMemory(ir), maxSteps, stopAtLimit: true }));
    const entry = model.entry(name);
    const mems = tuples.map(() => model.newMemory({ evict: opts.evict }));
    const outs = tuples.length ? await model.runBatch(name, tuples, mems, { maxSteps, stopAtLimit: true }) : [];
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
        done++;
        opts.onProgress?.(done, total);
        continue;
      }
      const native = (await NativeInstance.create(wasm)).invoke(name, args);
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
  const passed = cases.filter((c) => c.ok).length;
  const failed = cases.filter((c) => !c.ok).length;
  return { passed, failed, tooLong: cases.filter((c) => c.tooLong).length, cases };
}
