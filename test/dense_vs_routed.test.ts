// test/dense_vs_routed.test.ts — the two execution forms of one model compute the same thing.
//
// Each sample is compiled with routing 'gather' (sparse experts gathered by pc) and
// 'onehot' (dense expert stacks picked by a one-hot route). The samples.json cases run on
// both (each case on a fresh memory, all cases of an export in one batch: the routed form
// dispatches the executions at one pc together, the dense form runs every row each step):
// results, traps, step counts and final memory must be identical, and equal to the natively
// recorded expectation. Run one case at a time, every step's raw outputs (readout.next and
// readout.entries) and inputs (token, cache) must be bit-identical between the two forms:
// every value the model emits is an exact integer, so the summation order cannot matter.
// A generated multi-block program (bench/programs.ts chainedLoops) is checked the same way,
// against V8.

import { describe, expect, it } from 'vitest';
import { loadSamples, sampleWasm } from '../wasm-samples/samples.js';
import { compile } from '../index.js';
import { TransformerModel, decodeMemory, type Outcome, type StepRecord } from '../runtime/transformer.js';
import type { Routing } from '../format/layout.js';
import { CACHE_KEYS, CACHE_VALUES } from '../format/memory.js';
import { NativeInstance } from '../harness/native.js';
import { chainedLoops } from '../bench/programs.js';

const samples = loadSamples();

interface Run {
  outcomes: Outcome[];
  memories: Uint8Array[];
  records: StepRecord[];
}

async function runForm(model: TransformerModel, name: string, argsList: number[][]): Promise<Run> {
  const mems = argsList.map(() => model.newMemory());
  const records: StepRecord[] = [];
  const outcomes = await model.runBatch(name, argsList, mems, { maxSteps: 20000, record: (r) => records.push(r) });
  const L = model.layout.memory;
  return { outcomes, memories: mems.map((m) => (L ? decodeMemory(L, m) : new Uint8Array(0))), records };
}

/** The raw bytes of a tensor's data (for bit-identity, including the sign of zeros). */
function bits(data: Float32Array | BigInt64Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

describe('dense (onehot) and routed (gather) forms agree', () => {
  for (const s of samples) {
    it(s.name, async () => {
      const models = {} as Record<Routing, TransformerModel>;
      for (const routing of ['gather', 'onehot'] as const) {
        const m = await compile(sampleWasm(s), { filename: s.file, routing });
        models[routing] = await TransformerModel.load(m.onnx);
        expect(models[routing].layout.routing).toBe(routing);
      }
      const { gather, onehot } = models;
      // same layout apart from the routing form, the stored parameter count and the early exits (routed only)
      const strip = (m: TransformerModel) => ({
        ...m.layout, routing: null, stats: { ...m.layout.stats, params: 0, compileMs: 0 },
        experts: m.layout.experts.map(({ exit: _exit, ...e }) => e),
      });
      expect(strip(onehot)).toEqual(strip(gather));
      let compared = 0;
      for (const ex of s.exports) {
        const argsList = ex.cases.map((c) => c.args);
        if (argsList.length === 0) continue;
        const r = await runForm(gather, ex.name, argsList);
        const d = await runForm(onehot, ex.name, argsList);
        ex.cases.forEach((c, i) => {
          const at = `${s.name}.${ex.name}(${c.args.join(', ')})`;
          expect(d.outcomes[i], at).toEqual(r.outcomes[i]);
          expect(Buffer.compare(Buffer.from(d.memories[i]), Buffer.from(r.memories[i])), `${at}: final memory`).toBe(0);
          // and both are the natively recorded outcome
          expect(r.outcomes[i].trap, at).toBe(c.trap ?? null);
          if (!c.trap) expect(r.outcomes[i].results, at).toEqual(c.results);
          expect(r.outcomes[i].steps, at).toBeGreaterThan(0);
        });
        // one case at a time, every step, raw tensors: bit-identical
        for (const args of argsList) {
          const r1 = await runForm(gather, ex.name, [args]);
          const d1 = await runForm(onehot, ex.name, [args]);
          expect(d1.records.length, `${s.name}.${ex.name}(${args.join(', ')}): session runs`).toBe(r1.records.length);
          compared += compareSteps(r1.records, d1.records, gather.layout.experts.length, `${s.name}.${ex.name}(${args.join(', ')})`);
        }
      }
      expect(compared, `${s.name}: steps compared`).toBeGreaterThan(0);
    });
  }
});

/** Bit-identical outputs and feeds step by step; the routes one-hot at the routed pcs. Returns steps compared. */
function compareSteps(rRecords: StepRecord[], dRecords: StepRecord[], E: number, what: string): number {
  rRecords.forEach((rs, k) => {
          const ds = dRecords[k];
          const at = `${what} run ${k}`;
          expect(Object.keys(ds.outputs).sort(), at).toEqual(Object.keys(rs.outputs).sort());
          for (const [name, t] of Object.entries(rs.outputs)) {
            expect(ds.outputs[name].dims, `${at}: ${name} dims`).toEqual(t.dims);
            expect(Buffer.compare(bits(ds.outputs[name].data), bits(t.data)), `${at}: ${name} bits`).toBe(0);
          }
          for (const name of ['token', CACHE_KEYS, CACHE_VALUES]) {
            if (!rs.feeds[name]) continue;
            expect(Buffer.compare(bits(ds.feeds[name].data), bits(rs.feeds[name].data)), `${at}: ${name} feed`).toBe(0);
          }
          // the routes select the same expert: one-hot rows at the routed pc
          const [pc] = [...(rs.feeds.pc.data as BigInt64Array)].map(Number);
          const route = ds.feeds.route.data as Float32Array;
          for (let b = 0; b < route.length / E; b++) {
            for (let e = 0; e < E; e++) expect(route[b * E + e], `${at}: route row ${b}`).toBe(e === pc ? 1 : 0);
          }
  });
  return rRecords.length;
}

describe('dense and routed forms agree on a generated multi-block program', () => {
  it('chainedLoops(3, memory): run(n) for several n, against V8', async () => {
    const wat = chainedLoops(3, 'memory');
    const forms = await Promise.all((['gather', 'onehot'] as const).map((routing) => compile(wat, { filename: 'chained.wat', routing })));
    const [gather, onehot] = await Promise.all(forms.map((m) => TransformerModel.load(m.onnx)));
    expect(gather.layout.experts.length).toBeGreaterThan(3);
    const argsList = [[1], [2], [5], [9]];
    const r = await runForm(gather, 'run', argsList);
    const d = await runForm(onehot, 'run', argsList);
    expect(d.outcomes).toEqual(r.outcomes);
    for (const args of argsList) {
      const r1 = await runForm(gather, 'run', [args]);
      const d1 = await runForm(onehot, 'run', [args]);
      expect(d1.records.length).toBe(r1.records.length);
      expect(compareSteps(r1.records, d1.records, gather.layout.experts.length, `run(${args[0]})`)).toBeGreaterThan(0);
    }
    for (const [i, args] of argsList.entries()) {
      const n = (await NativeInstance.create(forms[0].wasm)).invoke('run', args);
      expect({ results: r.outcomes[i].results, trap: r.outcomes[i].trap }, `run(${args[0]})`).toEqual({ results: n.results, trap: n.trap });
      expect(Buffer.compare(Buffer.from(r.memories[i]), Buffer.from(n.memory)), `run(${args[0]}): memory`).toBe(0);
      expect(Buffer.compare(Buffer.from(d.memories[i]), Buffer.from(n.memory)), `run(${args[0]}): memory`).toBe(0);
    }
  });
});

describe('early exits: a step whose expert needs fewer layers runs on the graph cut at its exit', () => {
  it('every step emits the same bits with and without exits (bigadd.c -O2, which exits at 3 depths)', async () => {
    const { readFileSync } = await import('node:fs');
    const { inputImage } = await import('../format/io.js');
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/bigadd.O2.wasm')), { filename: 'bigadd.O2.wasm' });
    const exits = new Set(m.layout.experts.flatMap((e) => (e.exit === undefined ? [] : [e.exit])));
    expect(exits.size).toBeGreaterThan(1);
    const run = async (earlyExit: boolean) => {
      const model = await TransformerModel.load(m.onnx, { earlyExit });
      const at = model.inputAddress() as number;
      const mem = model.newMemory();
      mem.write(model.layout.memory!, at, inputImage('987654321+123456789'));
      const records: StepRecord[] = [];
      const [o] = await model.runBatch('compute', [[at]], [mem], { record: (r) => records.push(r) });
      return { o: o!, records, pcs: records.map((r) => Number((r.feeds.pc!.data as BigInt64Array)[0])) };
    };
    const [cut, whole] = [await run(true), await run(false)];
    expect(new TextDecoder().decode(cut.o.output)).toBe('1111111110\n');
    expect(cut.o.steps).toBe(whole.o.steps);
    // some steps ran on a cut graph, and their outputs are bit-identical to the whole graph's
    expect(cut.pcs.some((pc) => m.layout.experts[pc]!.exit !== undefined)).toBe(true);
    cut.records.forEach((r, k) => {
      const w = whole.records[k]!;
      expect(Object.keys(r.outputs).sort(), `step ${k}`).toEqual(Object.keys(w.outputs).sort());
      for (const name of Object.keys(w.outputs)) expect(bits(r.outputs[name]!.data as Float32Array).equals(bits(w.outputs[name]!.data as Float32Array)), `step ${k} ${name}`).toBe(true);
    });
  }, 120_000);
});
