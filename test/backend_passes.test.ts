// test/backend_passes.test.ts — pass-level tests of the backend on the samples.
//
// schedule (dependencies, sublayer parity, ASAP = critical path), the
// independent allocation checker (accepts every real allocation, rejects
// mutated ones), determinism of the emitted bytes, the ONNX op set and
// initializer types (decoded with onnx-proto), the layout metadata and node
// names, runtime behaviour (memory kept across invokes, step limit), and
// agreement of the reference graph evaluator with ONNX Runtime step by step.

import { beforeAll, describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { loadSamples, sampleWasm, type Sample } from '../wasm-samples/samples.js';
import { compileToIR } from '../frontend/index.js';
import { compileIR, type BackendResult, type ModelLayout } from '../backend/index.js';
import { nodeInputs } from '../backend/graph.js';
import { criticalPath } from '../backend/schedule.js';
import { checkAllocation } from '../backend/check_allocation.js';
import type { Allocation } from '../backend/allocate.js';
import { ALLOWED_OPS } from '../backend/emit_onnx.js';
import { EPOCH_BITS, joinI32, padRow, splitI32, timeOf } from '../backend/encoding.js';
import { compile, instantiate, NativeInstance, RunError } from '../index.js';
import { TransformerModel, initialRows } from '../runtime/transformer.js';
import { evalGraph } from './support/graph_eval.js';

const { onnx } = onnxProto;
const samples = loadSamples();
const byName = (name: string): Sample => {
  const s = samples.find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return s;
};

async function backendOf(s: Sample): Promise<BackendResult> {
  const { ir } = await compileToIR(sampleWasm(s), { filename: s.file });
  return compileIR(ir);
}

const compiled = new Map<string, BackendResult>();
beforeAll(async () => {
  for (const s of samples) compiled.set(s.name, await backendOf(s));
});
const get = (name: string): BackendResult => compiled.get(name)!;

// ---------------------------------------------------------------- schedule

describe('schedule', () => {
  it('places every node after its inputs, attention at even and MLP at odd points, as early as possible', () => {
    for (const s of samples) {
      const { program, sched, stats } = get(s.name);
      const graph = program.graph;
      expect(sched.nodePoint.length, s.name).toBe(graph.nodes.length);
      for (const v of graph.embed) expect(sched.defPoint[v]).toBe(-1);
      graph.nodes.forEach((n, i) => {
        const p = sched.nodePoint[i];
        const where = `${s.name}: ${n.role} at point ${p}`;
        expect(((p % 2) + 2) % 2, where).toBe(n.kind === 'attn' ? 0 : 1);
        let ready = -1;
        for (const v of nodeInputs(n)) {
          expect(sched.defPoint[v], `${where} reads ${graph.vregs[v].name}`).toBeLessThan(p);
          ready = Math.max(ready, sched.defPoint[v]);
        }
        // ASAP: the first point of the node's kind after its last input
        expect(p - ready === 1 || p - ready === 2, `${where}, inputs ready at ${ready}`).toBe(true);
        if (p - ready === 2) expect(((ready + 1) % 2 + 2) % 2, where).toBe(n.kind === 'attn' ? 1 : 0);
        for (const v of n.outputs) expect(sched.defPoint[v]).toBe(p);
        expect(p).toBeLessThan(sched.readoutPoint);
      });
      for (const v of graph.readout) expect(sched.defPoint[v]).toBeLessThan(sched.readoutPoint);
      expect(sched.readoutPoint).toBe(2 * sched.layers);
      expect(sched.layers, s.name).toBe(criticalPath(graph));
      expect(stats.layers).toBe(stats.criticalPath);
    }
  });
});

// ---------------------------------------------------------------- allocation checker

function cloneAlloc(a: Allocation): Allocation {
  return { ...a, slot: [...a.slot], clears: new Map([...a.clears].map(([p, vs]) => [p, [...vs]])) };
}

function clearPoint(a: Allocation, v: number): number | null {
  for (const [p, vs] of a.clears) if (vs.includes(v)) return p;
  return null;
}

describe('allocation checker', () => {
  it('accepts the real allocation of every sample; dModel is between maxLive and naiveSlots', () => {
    for (const s of samples) {
      const { program, sched, alloc } = get(s.name);
      expect(() => checkAllocation(program.graph, sched, alloc), s.name).not.toThrow();
      expect(() => checkAllocation(program.graph, sched, cloneAlloc(alloc)), s.name).not.toThrow();
      expect(alloc.dModel, s.name).toBeGreaterThanOrEqual(alloc.maxLive);
      expect(alloc.dModel, s.name).toBeLessThanOrEqual(alloc.naiveSlots);
      // every slot index is in range and every materialised vreg is read somewhere
      for (let v = 0; v < alloc.slot.length; v++) {
        if (alloc.slot[v] >= 0) expect(alloc.slot[v]).toBeLessThan(alloc.dModel);
      }
    }
  });

  it('rejects two simultaneously live vregs sharing a slot', () => {
    let tried = 0;
    for (const s of samples) {
      const { program, sched, alloc } = get(s.name);
      const live = alloc.slot.map((_, v) => v).filter((v) => alloc.slot[v] >= 0);
      let here = 0;
      for (const a of live) {
        for (const b of live) {
          if (here >= 6) break;
          const da = sched.defPoint[a];
          const db = sched.defPoint[b];
          if (a === b || alloc.slot[a] === alloc.slot[b] || !(da <= db && db < alloc.lastRead[a])) continue;
          const bad = cloneAlloc(alloc);
          bad.slot[b] = bad.slot[a];
          expect(() => checkAllocation(program.graph, sched, bad), `${s.name}: v${b} into the slot of live v${a}`).toThrow(/allocation:/);
          here++;
        }
      }
      tried += here;
    }
    expect(tried).toBeGreaterThan(10);
  });

  it('rejects a vreg put in a slot before the previous occupant is cleared', () => {
    let slotMoves = 0;
    let lateClears = 0;
    for (const s of samples) {
      const { program, sched, alloc } = get(s.name);
      const vs = alloc.slot.map((_, v) => v).filter((v) => alloc.slot[v] >= 0);
      // (1) b lands in the slot of a after a's last read but at or before a's clear
      let moves = 0;
      for (const a of vs) {
        if (moves >= 20) break;
        const ca = clearPoint(alloc, a);
        if (ca === null) continue;
        const b = vs.find((w) => alloc.slot[w] !== alloc.slot[a] && sched.defPoint[w] > alloc.lastRead[a] && sched.defPoint[w] <= ca);
        if (b === undefined) continue;
        const bad = cloneAlloc(alloc);
        bad.slot[b] = bad.slot[a];
        expect(() => checkAllocation(program.graph, sched, bad), `${s.name}: v${b} into slot of v${a} before its clear at ${ca}`).toThrow(/allocation:/);
        moves++;
      }
      slotMoves += moves;
      // (2) consecutive occupants u, v of one slot: move u's clear to after v's definition
      const bySlot = new Map<number, number[]>();
      for (const v of vs) bySlot.set(alloc.slot[v], [...(bySlot.get(alloc.slot[v]) ?? []), v]);
      let here = 0;
      for (const occ of bySlot.values()) {
        occ.sort((x, y) => sched.defPoint[x] - sched.defPoint[y]);
        for (let i = 0; i + 1 < occ.length && here < 5; i++) {
          const u = occ[i];
          const next = occ[i + 1];
          const cu = clearPoint(alloc, u)!;
          expect(cu, `${s.name}: v${u} is followed by v${next} in its slot, so it is cleared`).not.toBeNull();
          expect(cu).toBeLessThan(sched.defPoint[next]);
          const d = sched.defPoint[next];
          const late = d % 2 === 1 ? d : d + 1;
          const bad = cloneAlloc(alloc);
          bad.clears.set(cu, bad.clears.get(cu)!.filter((w) => w !== u));
          bad.clears.set(late, [...(bad.clears.get(late) ?? []), u]);
          expect(() => checkAllocation(program.graph, sched, bad), `${s.name}: v${next} defined at ${d}, v${u} cleared at ${late}`).toThrow(/allocation:/);
          here++;
        }
      }
      lateClears += here;
    }
    expect(slotMoves).toBeGreaterThan(0);
    expect(lateClears).toBeGreaterThan(10);
  });

  it('rejects a removed clear, a clear before the last read, and an out-of-range slot', () => {
    let removed = 0;
    let early = 0;
    for (const s of samples) {
      const { program, sched, alloc } = get(s.name);
      const points = [...alloc.clears.keys()].slice(0, 4);
      for (const p of points) {
        const v = alloc.clears.get(p)![0];
        const bad = cloneAlloc(alloc);
        bad.clears.set(p, bad.clears.get(p)!.slice(1));
        expect(() => checkAllocation(program.graph, sched, bad), `${s.name}: clear of v${v} at ${p} removed`).toThrow(/allocation:/);
        removed++;
        // clear it at an MLP point strictly between its definition and its last read instead
        const d = sched.defPoint[v];
        const q = d % 2 === 0 ? d + 1 : d + 2;
        if (q < alloc.lastRead[v] && q !== p) {
          bad.clears.set(q, [...(bad.clears.get(q) ?? []), v]);
          expect(() => checkAllocation(program.graph, sched, bad), `${s.name}: v${v} cleared at ${q} before its last read ${alloc.lastRead[v]}`).toThrow(/allocation:/);
          early++;
        }
      }
      const v = alloc.slot.findIndex((sl) => sl >= 0);
      const bad = cloneAlloc(alloc);
      bad.slot[v] = alloc.dModel;
      expect(() => checkAllocation(program.graph, sched, bad)).toThrow(/allocation:/);
      // a never-read vreg must not get a slot
      const unread = alloc.lastRead.findIndex((l, w) => Number.isNaN(l) && alloc.slot[w] === -1 && sched.defPoint[w] >= 0);
      if (unread >= 0) {
        const bad2 = cloneAlloc(alloc);
        bad2.slot[unread] = 0;
        expect(() => checkAllocation(program.graph, sched, bad2)).toThrow(/never read/);
      }
    }
    expect(removed).toBeGreaterThan(20);
    expect(early).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- emitted model

interface Decoded {
  model: onnxProto.onnx.ModelProto;
  ops: string[];
  layout: ModelLayout;
}

function decode(bytes: Uint8Array): Decoded {
  const model = onnx.ModelProto.decode(bytes);
  const ops = (model.graph?.node ?? []).map((n) => n.opType ?? '');
  const entry = (model.metadataProps ?? []).find((p) => p.key === 'wasmformer.layout');
  expect(entry?.value, 'wasmformer.layout metadata').toBeTruthy();
  return { model, ops, layout: JSON.parse(entry!.value!) as ModelLayout };
}

describe('emitted ONNX model', () => {
  it('is byte-identical when the same sample is compiled twice', async () => {
    for (const s of samples) {
      const again = await compile(sampleWasm(s), { filename: s.file });
      expect(Buffer.compare(Buffer.from(again.onnx), Buffer.from(get(s.name).onnx)), s.name).toBe(0);
    }
  });

  it('uses only allowed ops; initializers are float except int64 Reshape shapes and Slice bounds', () => {
    const forbidden = ['Where', 'If', 'Equal', 'Less', 'Greater', 'Mod', 'Floor', 'Ceil', 'Round', 'Cast', 'ArgMax', 'TopK', 'Sign', 'Clip', 'Max', 'Min'];
    const FLOAT = onnx.TensorProto.DataType.FLOAT;
    const INT64 = onnx.TensorProto.DataType.INT64;
    for (const s of samples) {
      const { model, ops } = decode(get(s.name).onnx);
      const graph = model.graph!;
      for (const op of ops) expect(ALLOWED_OPS.has(op), `${s.name}: op ${op}`).toBe(true);
      for (const op of forbidden) expect(ops, s.name).not.toContain(op);
      expect(ops).toContain('MatMul');
      const reshapeShapes = new Set<string>();
      for (const n of graph.node ?? []) {
        if (n.opType === 'Reshape') reshapeShapes.add(n.input![1]);
        if (n.opType === 'Slice') n.input!.slice(1).forEach((x) => reshapeShapes.add(x));
        // other inputs never use an int64 initializer (shapes and slice bounds are cache plumbing)
        (n.input ?? []).forEach((name, i) => {
          const init = graph.initializer!.find((t) => t.name === name);
          const plumbing = (n.opType === 'Reshape' && i === 1) || (n.opType === 'Slice' && i >= 1);
          if (init && init.dataType === INT64) expect(plumbing, `${s.name}: ${n.name} input ${i} is int64`).toBe(true);
        });
        if (n.opType === 'Constant') {
          for (const a of n.attribute ?? []) expect(a.t?.dataType ?? FLOAT, `${s.name}: ${n.name}`).toBe(FLOAT);
        }
      }
      expect(graph.initializer!.length).toBeGreaterThan(0);
      for (const t of graph.initializer!) {
        if (reshapeShapes.has(t.name!)) expect(t.dataType, `${s.name}: ${t.name}`).toBe(INT64);
        else expect(t.dataType, `${s.name}: ${t.name}`).toBe(FLOAT);
        const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
        expect(t.rawData!.length, `${s.name}: ${t.name} raw size`).toBe(count * (t.dataType === INT64 ? 8 : 4));
      }
      // inputs and outputs
      const inputs = (graph.input ?? []).map((i) => i.name);
      const outputs = (graph.output ?? []).map((o) => o.name);
      const mem = get(s.name).layout.memory;
      expect(inputs).toEqual(mem ? ['token', 'cache'] : ['token']);
      expect(outputs).toEqual(mem && get(s.name).layout.storePorts > 0 ? ['readout.next', 'readout.entries'] : ['readout.next']);
    }
  });

  it('carries a layout with every export, and names nodes by layer and role', () => {
    // Besides layerN.(attn|mlp).*, embed and readout.*, memory models have one shared
    // node, cache.keysT (the transposed cache, computed once for all layers).
    const nameRe = /^(layer(\d+)\.(attn|mlp)\.[A-Za-z0-9_.]+|embed|readout\.[A-Za-z0-9_.]+|cache\.keysT)$/;
    for (const s of samples) {
      const r = get(s.name);
      const { model, layout } = decode(r.onnx);
      expect(layout.format).toBe('wasmformer/1');
      expect(layout.entries.map((e) => e.name).sort(), s.name).toEqual(s.exports.map((e) => e.name).sort());
      for (const ex of s.exports) {
        const e = layout.entries.find((x) => x.name === ex.name)!;
        expect([e.params, e.results], `${s.name}.${ex.name}`).toEqual([ex.params, ex.results]);
        expect(e.pc).toBeLessThan(layout.haltPc);
      }
      expect(layout).toEqual(JSON.parse(JSON.stringify({ ...r.layout, stats: { ...r.stats, compileMs: 0 } })));
      expect(layout.tokenIn.width).toBe(r.program.graph.embed.length);
      expect(layout.tokenOut.width).toBe(r.program.graph.readout.length);
      const names = (model.graph!.node ?? []).map((n) => n.name!);
      expect(new Set(names).size, `${s.name}: node names are unique`).toBe(names.length);
      for (const n of names) {
        const m = nameRe.exec(n);
        expect(m, `${s.name}: node name ${n}`).not.toBeNull();
        if (m?.[2] !== undefined) expect(Number(m[2]), n).toBeLessThan(r.stats.layers);
        if (n === 'cache.keysT') expect(layout.memory).not.toBeNull();
      }
      expect(names).toContain('embed');
      expect(names).toContain('readout.next');
    }
  });
});

// ---------------------------------------------------------------- runtime

describe('runtime', () => {
  it('TransformerInstance keeps memory across invokes, like a native instance', async () => {
    const s = byName('multi_export');
    const wasm = sampleWasm(s);
    const inst = await instantiate(get(s.name).onnx);
    const native = await NativeInstance.create(wasm);
    const calls: Array<[string, number[]]> = [
      ['peek', [0]],
      ['poke', [100, 0x12345678]],
      ['peek', [100]],
      ['peek', [104]],
      ['counter', []],
      ['counter', []],
      ['poke', [102, -1]],
      ['peek_alias', [100]],
      ['peek', [0]],
      ['poke', [0, 7]],
      ['counter', []],
      ['peek', [16]],
    ];
    const got: unknown[] = [];
    const want: unknown[] = [];
    for (const [name, args] of calls) {
      const o = await inst.invoke(name, args);
      const n = native.invoke(name, args);
      got.push({ name, results: o.results, trap: o.trap });
      want.push({ name, results: n.results, trap: n.trap });
    }
    expect(got).toEqual(want);
    expect(got[2]).toEqual({ name: 'peek', results: [0x12345678], trap: null });
    expect(got[5]).toEqual({ name: 'counter', results: [43], trap: null });
    expect(got[10]).toEqual({ name: 'counter', results: [8], trap: null });
    const m = inst.memory();
    expect([...m.subarray(100, 104)]).toEqual([0x78, 0x56, 0xff, 0xff]);
    // a fresh instance starts from the data segments again
    const fresh = await instantiate(get(s.name).onnx);
    expect((await fresh.invoke('counter', [])).results).toEqual([42]);
  });

  it('throws RunError("step limit exceeded (N steps)") past the step limit', async () => {
    const inst = await instantiate(get('countdown').onnx);
    const err = await inst.invoke('countdown', [50], { maxSteps: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as Error).message).toBe('step limit exceeded (5 steps)');
    // enough steps: it finishes, and the step count is below the limit
    const ok = await inst.invoke('countdown', [3], { maxSteps: 100 });
    expect(ok.results).toEqual([3]);
    expect(ok.steps).toBeLessThan(100);
    const limited = await inst.invoke('countdown', [3], { maxSteps: ok.steps });
    expect(limited).toEqual(ok);
    await expect(inst.invoke('countdown', [3], { maxSteps: ok.steps - 1 })).rejects.toThrow(`step limit exceeded (${ok.steps - 1} steps)`);
  });
});

// ---------------------------------------------------------------- graph_eval vs ONNX Runtime

describe('reference graph evaluator agrees with ONNX Runtime', () => {
  const cases: Array<{ sample: string; export: string; args: number[]; minSteps?: number }> = [
    { sample: 'add_chain', export: 'add_chain', args: [123456789, -5, 2147483647] },
    { sample: 'lookup', export: 'lookup', args: [66] },
    { sample: 'countdown', export: 'countdown', args: [4], minSteps: 5 },
    { sample: 'multi_export', export: 'poke', args: [65528, -123456] },
    { sample: 'oob', export: 'store_load', args: [131068, 0x01020304] },
    { sample: 'oob', export: 'load_at', args: [131069] },
    { sample: 'unaligned', export: 'unaligned', args: [287454020, 1432778632, -1719109785] },
    { sample: 'copy_loop', export: 'copy_loop', args: [512, 1030, 3], minSteps: 4 },
    { sample: 'data_segments', export: 'peek_sum', args: [3] },
  ];
  for (const c of cases) {
    it(`${c.sample}.${c.export}(${c.args.join(', ')}): readout and new cache rows, every step`, async () => {
      const r = get(c.sample);
      const L = r.layout;
      const graph = r.program.graph;
      const model = await TransformerModel.load(r.onnx);
      const entry = L.entries.find((e) => e.name === c.export)!;
      const mem = L.memory;
      const F = mem?.features ?? 0;
      expect(graph.nodes.some((n) => n.kind === 'attn'), 'memory models have heads').toBe(mem !== null);
      const cache: Float32Array[] = initialRows(mem);
      let pc = entry.pc;
      let args = [...c.args, ...new Array(L.maxArgs - c.args.length).fill(0)];
      let steps = 0;
      for (let step = 1; step <= 200; step++) {
        const token = new Float32Array(L.tokenIn.width);
        token[L.tokenIn.gates + pc] = 1;
        args.forEach((a, i) => {
          const [lo, hi] = splitI32(a);
          token[L.tokenIn.args + 2 * i] = lo;
          token[L.tokenIn.args + 2 * i + 1] = hi;
        });
        if (mem) {
          const t = timeOf(mem, step);
          for (let j = 0; j < EPOCH_BITS; j++) token[L.tokenIn.epoch + j] = (t.epoch >>> j) & 1;
          token[L.tokenIn.tick] = t.tickBase;
        }
        const feeds: Record<string, ort.Tensor> = { token: new ort.Tensor('float32', token, [1, L.tokenIn.width]) };
        const rows = [...cache];
        if (mem) {
          let n = 1;
          while (n < rows.length) n *= 2;
          while (rows.length < n) rows.push(padRow(mem));
          const flat = new Float32Array(rows.length * F);
          rows.forEach((row, i) => flat.set(row, i * F));
          feeds.cache = new ort.Tensor('float32', flat, [1, rows.length, F]);
        }
        const out = await model.session.run(feeds);
        const next = [...(out['readout.next'].data as Float32Array)];
        const ev = evalGraph(graph, token, { cache: rows });
        expect(next, `step ${step}: readout`).toEqual(ev.readout);
        expect(evalGraph(graph, token, { cache: rows, float32: true }).readout, `step ${step}: float32 readout`).toEqual(next);
        if (mem && L.storePorts > 0) {
          const entries = out['readout.entries'].data as Float32Array;
          const got = ev.ports.map((_, p) => [...entries.subarray(p * F, (p + 1) * F)]);
          expect(got, `step ${step}: new cache rows`).toEqual(ev.ports);
          for (const row of got) if (row[mem.col.pad] < 0.5) cache.push(Float32Array.from(row));
        }
        steps++;
        // decode (same as the runtime) and continue
        const nextPc = next.slice(L.tokenOut.pc, L.tokenOut.pc + L.haltPc + 1).findIndex((x) => x > 0.5);
        expect(nextPc, `step ${step}: a program counter`).toBeGreaterThanOrEqual(0);
        args = args.map((_, i) => joinI32(next[L.tokenOut.args + 2 * i], next[L.tokenOut.args + 2 * i + 1]));
        if (next[L.tokenOut.trap] > 0.5 || nextPc === L.haltPc) break;
        pc = nextPc;
      }
      // the same run through the runtime gives the same number of steps and outcome
      const o = (await model.runBatch(c.export, [c.args], [model.newMemory()]))[0];
      expect(o.steps).toBe(steps);
      const n = (await NativeInstance.create(sampleWasm(byName(c.sample)))).invoke(c.export, c.args);
      expect({ results: o.results, trap: o.trap }).toEqual({ results: n.results, trap: n.trap });
      if (c.minSteps) expect(steps).toBeGreaterThanOrEqual(c.minSteps);
    });
  }
});
