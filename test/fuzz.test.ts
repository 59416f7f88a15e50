// test/fuzz.test.ts — `npm run fuzz -- parse` in small: 300 mutated/random inputs into compile, each a
// model (valid to V8) or a located CompileError; and the pool's time limit turns a slow input into a
// "hang" finding and carries on. (.ci/run runs 2,000 inputs.)

import { describe, expect, it } from 'vitest';
import { fuzzParse, loadSamples } from '../fuzz/fuzz.js';
import { fuzzInputs } from '../fuzz/mutate.js';
import { runAll } from '../fuzz/pool.js';
import type { Verdict } from '../fuzz/classify.js';

describe('fuzz parse', () => {
  it('300 inputs: every one a model or a located CompileError, no crash, hang or memory blow-up', { timeout: 600_000 }, async () => {
    const r = await fuzzParse({ count: 300, seed: 1, timeLimitMs: 20_000, memoryLimitMb: 2048 });
    const hexed = r.findings.map((f) => `#${f.index} ${f.verdict.kind} ${f.input.origin} ${Buffer.from(f.input.bytes).toString('hex')}`);
    expect(hexed).toEqual([]);
    expect(r.tally.model + r.tally.located).toBe(300);
    expect(r.tally.model).toBeGreaterThan(0); // some mutations keep a module compilable
    expect(r.tally.located).toBeGreaterThan(0);
  });

  it('inputs are deterministic for a seed and differ between seeds', () => {
    const bins = loadSamples('wasm');
    const wats = loadSamples('wat');
    const hex = (seed: number) => [...fuzzInputs(seed, 20, bins, wats)].map((i) => Buffer.from(i.bytes).toString('hex'));
    expect(hex(7)).toEqual(hex(7));
    expect(hex(7)).not.toEqual(hex(8));
  });

  it('an input past the time limit is a hang; the next input gets a fresh worker', { timeout: 120_000 }, async () => {
    const [fib] = loadSamples('wasm').filter((s) => s.name === 'fib.wasm');
    const verdicts: Verdict[] = [];
    const input = { origin: 'fib', filename: fib.name, bytes: fib.bytes };
    await runAll([input, input], { timeLimitMs: 1, memoryLimitMb: 512 }, (_, __, v) => verdicts.push(v));
    expect(verdicts.map((v) => v.kind)).toEqual(['hang', 'hang']);
    const ok: Verdict[] = [];
    await runAll([input], { timeLimitMs: 60_000, memoryLimitMb: 512 }, (_, __, v) => ok.push(v));
    expect(ok.map((v) => v.kind)).toEqual(['model']);
  });
});
