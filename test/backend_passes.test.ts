// test/backend_passes.test.ts — pass-level tests of the backend on the samples, per expert.
//
// Every IR basic block is one expert with its own gadget graph, schedule and allocation.
// Per expert: schedule (dependencies, sublayer parity, ASAP = critical path), the
// independent allocation checker (accepts every real allocation, rejects mutated ones,
// embedding pinned to slot = token index). Per model: determinism of the emitted bytes, the
// ONNX op set and initializer types of both routing forms (decoded with onnx-proto), the
// layout metadata and node names, runtime behaviour (memory kept across invokes, step
// limit), and agreement of the reference graph evaluator with ONNX Runtime step by step
// (routed model: feed pc + token + cache, compare with evalGraph of that step's expert).

import { beforeAll, describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { loadSamples, sampleWasm, type Sample } from '../wasm-samples/samples.js';
import { compileToIR } from '../frontend/index.js';
import { compileIR, type BackendResult, type ModelLayout } from '../backend/index.js';
import type { ExpertGraph } from '../backend/ir_to_graph.js';
import type { PlacedExpert } from '../backend/assemble_weights.js';
import { nodeInputs } from '../backend/graph.js';
import { lvars } from '../backend/linear.js';
import { criticalPath } from '../backend/schedule.js';
import { checkAllocation } from '../backend/check_allocation.js';
import type { Allocation } from '../backend/allocate.js';
import { ALLOWED_OPS } from '../backend/emit_onnx.js';
import type { Routing } from '../format/layout.js';
import { decodeToken, encodeToken } from '../format/token.js';
import { exitDepths, tokenShape, traceOutputs } from '../format/layout.js';
import { expertDepth } from '../backend/assemble_weights.js';
import { maxExits } from '../backend/index.js';
import { CACHE_KEYS, CACHE_VALUES, cacheInputData, keepsRow, padRow, rowAddress, timeOf } from '../format/memory.js';
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

async function backendOf(s: Sample, routing: Routing): Promise<BackendResult> {
  const { ir } = await compileToIR(sampleWasm(s), { filename: s.file });
  return compileIR(ir, performance.now(), { routing });
}

const compiled = new Map<string, BackendResult>();
const dense = new Map<string, BackendResult>();
beforeAll(async () => {
  for (const s of samples) {
    compiled.set(s.name, await backendOf(s, 'gather'));
    dense.set(s.name, await backendOf(s, 'onehot'));
  }
});
const get = (name: string): BackendResult => compiled.get(name)!;
const getForm = (name: string, routing: Routing): BackendResult => (routing === 'gather' ? compiled : dense).get(name)!;

// ---------------------------------------------------------------- schedule

/** Every placed expert of every sample, with a name for messages. */
function allExperts(): Array<{ where: string; r: BackendResult; e: ExpertGraph; p: PlacedExpert }> {
  const out: Array<{ where: string; r: BackendResult; e: ExpertGraph; p: PlacedExpert }> = [];
  for (const s of samples) {
    const r = get(s.name);
    r.placed.forEach((p, i) => {
      const e = r.program.experts[i];
      out.push({ where: `${s.name}: ${e.func}:block${e.block} (pc ${e.pc})`, r, e, p });
    });
  }
  return out;
}

describe('schedule', () => {
  it('places every node after its inputs, attention at even and MLP at odd points, as early as possible, per expert', () => {
    let nodes = 0;
    for (const s of samples) {
      const r = get(s.name);
      expect(r.placed.length, s.name).toBe(r.program.experts.length);
      expect(r.layout.experts.length, s.name).toBe(r.program.experts.length);
      r.program.experts.forEach((e, i) => expect(e.pc, `${s.name}: experts are numbered by pc`).toBe(i));
      expect(r.program.haltPc, s.name).toBe(r.program.experts.length);
    }
    for (const { where: at, r, e, p } of allExperts()) {
      const { graph, sched } = p;
      expect(graph, at).toBe(e.graph);
      expect(sched.nodePoint.length, at).toBe(graph.nodes.length);
      for (const v of graph.embed) expect(sched.defPoint[v]).toBe(-1);
      graph.nodes.forEach((n, i) => {
        const pt = sched.nodePoint[i];
        const where = `${at}: ${n.role} at point ${pt}`;
        expect(((pt % 2) + 2) % 2, where).toBe(n.kind === 'attn' ? 0 : 1);
        let ready = -1;
        for (const v of nodeInputs(n)) {
          expect(sched.defPoint[v], `${where} reads ${graph.vregs[v].name}`).toBeLessThan(pt);
          ready = Math.max(ready, sched.defPoint[v]);
        }
        // ASAP: the first point of the node's kind after its last input
        expect(pt - ready === 1 || pt - ready === 2, `${where}, inputs ready at ${ready}`).toBe(true);
        if (pt - ready === 2) expect(((ready + 1) % 2 + 2) % 2, where).toBe(n.kind === 'attn' ? 1 : 0);
        for (const v of n.outputs) expect(sched.defPoint[v]).toBe(pt);
        expect(pt).toBeLessThan(sched.readoutPoint);
        nodes++;
      });
      for (const f of graph.readout) for (const v of lvars(f)) expect(sched.defPoint[v], at).toBeLessThan(sched.readoutPoint);
      expect(sched.readoutPoint).toBe(2 * sched.layers);
      expect(sched.layers, at).toBe(criticalPath(graph));
      // every expert is padded to the model's layer count
      expect(sched.layers, at).toBeLessThanOrEqual(r.stats.layers);
    }
    for (const s of samples) expect(get(s.name).stats.layers, s.name).toBe(get(s.name).stats.criticalPath);
    expect(nodes).toBeGreaterThan(100);
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

/** Vregs with a slot that the allocator was free to place (not pinned embedding components). */
function movable(p: PlacedExpert): number[] {
  const pinned = new Set(p.graph.embed);
  return p.alloc.slot.map((_, v) => v).filter((v) => p.alloc.slot[v] >= 0 && !pinned.has(v));
}

describe('allocation checker', () => {
  it('accepts the real allocation of every expert; dModel is between maxLive and naiveSlots; the embedding is pinned', () => {
    for (const { where, r, p } of allExperts()) {
      const { graph, sched, alloc } = p;
      expect(() => checkAllocation(graph, sched, alloc), where).not.toThrow();
      expect(() => checkAllocation(graph, sched, cloneAlloc(alloc)), where).not.toThrow();
      expect(alloc.dModel, where).toBeGreaterThanOrEqual(alloc.maxLive);
      expect(alloc.dModel, where).toBeLessThanOrEqual(Math.max(alloc.naiveSlots, 1));
      expect(alloc.dModel, where).toBeLessThanOrEqual(r.stats.dModel);
      graph.embed.forEach((v, t) => expect(alloc.slot[v], `${where}: token component ${t}`).toBe(t));
      if (graph.one !== undefined) expect(graph.embed[0], where).toBe(graph.one);
      for (let v = 0; v < alloc.slot.length; v++) {
        if (alloc.slot[v] >= 0) expect(alloc.slot[v]).toBeLessThan(alloc.dModel);
      }
    }
  });

  it('rejects two simultaneously live vregs sharing a slot', () => {
    let tried = 0;
    for (const { where, p } of allExperts()) {
      const { graph, sched, alloc } = p;
      const live = alloc.slot.map((_, v) => v).filter((v) => alloc.slot[v] >= 0);
      const free = movable(p);
      let here = 0;
      for (const a of live) {
        for (const b of free) {
          if (here >= 3) break;
          const da = sched.defPoint[a];
          const db = sched.defPoint[b];
          if (a === b || alloc.slot[a] === alloc.slot[b] || !(da <= db && db < alloc.lastRead[a])) continue;
          const bad = cloneAlloc(alloc);
          bad.slot[b] = bad.slot[a];
          expect(() => checkAllocation(graph, sched, bad), `${where}: v${b} into the slot of live v${a}`).toThrow(/allocation:/);
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
    for (const { where, p } of allExperts()) {
      const { graph, sched, alloc } = p;
      const vs = alloc.slot.map((_, v) => v).filter((v) => alloc.slot[v] >= 0);
      const free = movable(p);
      // (1) b lands in the slot of a after a's last read but at or before a's clear
      let moves = 0;
      for (const a of vs) {
        if (moves >= 5) break;
        const ca = clearPoint(alloc, a);
        if (ca === null) continue;
        const b = free.find((w) => alloc.slot[w] !== alloc.slot[a] && sched.defPoint[w] > alloc.lastRead[a] && sched.defPoint[w] <= ca);
        if (b === undefined) continue;
        const bad = cloneAlloc(alloc);
        bad.slot[b] = bad.slot[a];
        expect(() => checkAllocation(graph, sched, bad), `${where}: v${b} into slot of v${a} before its clear at ${ca}`).toThrow(/allocation:/);
        moves++;
      }
      slotMoves += moves;
      // (2) consecutive occupants u, v of one slot: move u's clear to after v's definition
      const bySlot = new Map<number, number[]>();
      for (const v of vs) bySlot.set(alloc.slot[v], [...(bySlot.get(alloc.slot[v]) ?? []), v]);
      let here = 0;
      for (const occ of bySlot.values()) {
        occ.sort((x, y) => sched.defPoint[x] - sched.defPoint[y]);
        for (let i = 0; i + 1 < occ.length && here < 3; i++) {
          const u = occ[i];
          const next = occ[i + 1];
          const cu = clearPoint(alloc, u)!;
          expect(cu, `${where}: v${u} is followed by v${next} in its slot, so it is cleared`).not.toBeNull();
          expect(cu).toBeLessThan(sched.defPoint[next]);
          const d = sched.defPoint[next];
          const late = d % 2 === 1 ? d : d + 1;
          const bad = cloneAlloc(alloc);
          bad.clears.set(cu, bad.clears.get(cu)!.filter((w) => w !== u));
          bad.clears.set(late, [...(bad.clears.get(late) ?? []), u]);
          expect(() => checkAllocation(graph, sched, bad), `${where}: v${next} defined at ${d}, v${u} cleared at ${late}`).toThrow(/allocation:/);
          here++;
        }
      }
      lateClears += here;
    }
    expect(slotMoves).toBeGreaterThan(0);
    expect(lateClears).toBeGreaterThan(10);
  });

  it('rejects a removed clear, a clear before the last read, an out-of-range slot and a moved embedding component', () => {
    let removed = 0;
    let early = 0;
    let outOfRange = 0;
    let pinned = 0;
    for (const { where, p } of allExperts()) {
      const { graph, sched, alloc } = p;
      const points = [...alloc.clears.keys()].slice(0, 3);
      for (const pt of points) {
        const v = alloc.clears.get(pt)![0];
        const bad = cloneAlloc(alloc);
        bad.clears.set(pt, bad.clears.get(pt)!.slice(1));
        expect(() => checkAllocation(graph, sched, bad), `${where}: clear of v${v} at ${pt} removed`).toThrow(/allocation:/);
        removed++;
        // clear it at an MLP point strictly between its definition and its last read instead
        const d = sched.defPoint[v];
        const q = d % 2 === 0 ? d + 1 : d + 2;
        if (q < alloc.lastRead[v] && q !== pt) {
          bad.clears.set(q, [...(bad.clears.get(q) ?? []), v]);
          expect(() => checkAllocation(graph, sched, bad), `${where}: v${v} cleared at ${q} before its last read ${alloc.lastRead[v]}`).toThrow(/allocation:/);
          early++;
        }
      }
      const v = movable(p)[0];
      if (v !== undefined) {
        const bad = cloneAlloc(alloc);
        bad.slot[v] = alloc.dModel;
        expect(() => checkAllocation(graph, sched, bad), where).toThrow(/allocation:/);
        outOfRange++;
      }
      // an embedding component must stay in the slot of its token index
      if (graph.embed.length > 1) {
        const bad = cloneAlloc(alloc);
        [bad.slot[graph.embed[0]], bad.slot[graph.embed[1]]] = [bad.slot[graph.embed[1]], bad.slot[graph.embed[0]]];
        expect(() => checkAllocation(graph, sched, bad), where).toThrow(/allocation: embedding component/);
        pinned++;
      }
      // a never-read vreg must not get a slot
      const unread = alloc.lastRead.findIndex((l, w) => Number.isNaN(l) && alloc.slot[w] === -1 && sched.defPoint[w] >= 0);
      if (unread >= 0) {
        const bad2 = cloneAlloc(alloc);
        bad2.slot[unread] = 0;
        expect(() => checkAllocation(graph, sched, bad2)).toThrow(/never read/);
      }
    }
    expect(removed).toBeGreaterThan(20);
    expect(early).toBeGreaterThan(0);
    expect(outOfRange).toBeGreaterThan(10);
    expect(pinned).toBeGreaterThan(10);
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

const ROUTINGS: Routing[] = ['gather', 'onehot'];

describe('emitted ONNX model', () => {
  it('is byte-identical when the same sample is compiled twice (both routing forms)', async () => {
    for (const s of samples) {
      for (const routing of ROUTINGS) {
        const again = await compile(sampleWasm(s), { filename: s.file, routing, inspectInfo: false });
        expect(Buffer.compare(Buffer.from(again.onnx), Buffer.from(getForm(s.name, routing).onnx)), `${s.name} ${routing}`).toBe(0);
      }
    }
  });

  it('uses only allowed ops; initializers are float except int64 index tables, shapes and Slice bounds', () => {
    const forbidden = ['Where', 'If', 'Equal', 'Less', 'Greater', 'Mod', 'Floor', 'Ceil', 'Round', 'ArgMax', 'TopK', 'Sign', 'Clip', 'Max', 'Min', 'Loop', 'Scan'];
    const FLOAT = onnx.TensorProto.DataType.FLOAT;
    const INT64 = onnx.TensorProto.DataType.INT64;
    for (const s of samples) {
      for (const routing of ROUTINGS) {
        const r = getForm(s.name, routing);
        const at = `${s.name} (${routing})`;
        const { model, ops } = decode(r.onnx);
        const graph = model.graph!;
        for (const op of ops) expect(ALLOWED_OPS.has(op), `${at}: op ${op}`).toBe(true);
        for (const op of forbidden) expect(ops, at).not.toContain(op);
        expect(ops).toContain('MatMul');
        if (routing === 'onehot') for (const op of ['Gather', 'ScatterND']) expect(ops, at).not.toContain(op);
        else expect(ops, at).toContain('ScatterND');
        const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
        const int64Uses = new Set<string>();
        for (const n of graph.node ?? []) {
          (n.input ?? []).forEach((name, i) => {
            const init = inits.get(name);
            if (!init) return;
            // shapes (Reshape, Expand) and slice bounds are plumbing; index tables (an expert's
            // entry bounds, gathered by pc, and its entries, sliced between them) are data of Gather/Slice
            const plumbing = ((n.opType === 'Reshape' || n.opType === 'Expand' || n.opType === 'Split') && i === 1) || (n.opType === 'Slice' && i >= 1);
            const table = (n.opType === 'Gather' || n.opType === 'Slice') && i === 0 && name.endsWith('.table');
            if (init.dataType === INT64) {
              expect(plumbing || (routing === 'gather' && table), `${at}: ${n.name} input ${i} is int64`).toBe(true);
              int64Uses.add(name);
            }
          });
          if (n.opType === 'Constant') {
            for (const a of n.attribute ?? []) expect(a.t?.dataType ?? FLOAT, `${at}: ${n.name}`).toBe(FLOAT);
          }
        }
        expect(graph.initializer!.length).toBeGreaterThan(0);
        for (const t of graph.initializer!) {
          const type = int64Uses.has(t.name!) ? INT64 : FLOAT;
          expect(t.dataType, `${at}: ${t.name}`).toBe(type);
          if (routing === 'onehot') expect(t.dataType === INT64 && t.name!.endsWith('.table'), `${at}: ${t.name} (dense models have no index tables)`).toBe(false);
          const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
          expect(t.rawData!.length, `${at}: ${t.name} raw size`).toBe(count * (t.dataType === INT64 ? 8 : 4));
        }
        // inputs and outputs
        const inputs = (graph.input ?? []).map((i) => i.name);
        const outputs = (graph.output ?? []).map((o) => o.name);
        const mem = r.layout.memory;
        expect(inputs, at).toEqual([routing === 'gather' ? 'pc' : 'route', 'token', ...(mem ? [CACHE_KEYS, CACHE_VALUES] : [])]);
        // the step outputs, then the trace outputs the layout names (format/layout.ts traceOutputs), then the exits'
        const exitOuts = exitDepths(r.layout).flatMap((d) => (mem && r.layout.storePorts > 0 ? [`exit${d}.next`, `exit${d}.entries`] : [`exit${d}.next`]));
        expect(outputs, at).toEqual([...(mem && r.layout.storePorts > 0 ? ['readout.next', 'readout.entries'] : ['readout.next']), ...traceOutputs(r.layout), ...exitOuts]);
        if (routing === 'onehot') expect(exitOuts, `${at}: dense models have no exits`).toEqual([]);
        const first = graph.input![0].type!.tensorType!;
        expect(first.elemType, at).toBe(routing === 'gather' ? INT64 : FLOAT);
        if (routing === 'onehot') expect(Number(first.shape!.dim![1].dimValue), `${at}: route width`).toBe(r.layout.experts.length);
      }
    }
  });

  it('carries a layout with every export, and names nodes by layer and role', () => {
    // Besides layerN.(attn|mlp).*, embed and readout.*, routed models have a zero_row and zerosN (the [N, B] zeros fresh sparse outputs are scattered into)
    // and bounds.row / bounds.flat / bounds (the pc row of every bound, split into them),
    // entries.{src,dst,val}(.region) (the active expert's entries of every map, split into the maps';
    // the values through entries.val.gN… groups) and embed.cols (the expert's embedding columns).
    const nameRe = /^(layer(\d+)\.(attn|mlp)\.[A-Za-z0-9_.]+|embed|embed\.T|embed\.cols|readout\.[A-Za-z0-9_.]+|exit\d+\.[A-Za-z0-9_.]+|zero_row(\.one)?|zeros\d+|bounds(\.row|\.flat)?|entries\.(src|dst|val)(\.region|(\.g\d+)+)?)$/;
    for (const s of samples) {
      for (const routing of ROUTINGS) {
        const r = getForm(s.name, routing);
        const at = `${s.name} (${routing})`;
        const { model, layout } = decode(r.onnx);
        expect(layout.format).toBe('wasmformer/7');
        expect(layout.routing).toBe(routing);
        expect(layout.entries.map((e) => e.name).sort(), at).toEqual(s.exports.map((e) => e.name).sort());
        for (const ex of s.exports) {
          const e = layout.entries.find((x) => x.name === ex.name)!;
          expect([e.params, e.results], `${at}.${ex.name}`).toEqual([ex.params, ex.results]);
          expect(e.pc).toBeLessThan(layout.experts.length);
          expect(layout.experts[e.pc], `${at}.${ex.name}: entry is block 0 of its function`).toMatchObject({ func: e.func, block: 0 });
        }
        expect(layout).toEqual(JSON.parse(JSON.stringify({ ...r.layout, stats: { ...r.stats, compileMs: 0 } })));
        expect(layout.experts.map(({ exit: _exit, ...e }) => e), at).toEqual(r.program.experts.map((e) => ({ func: e.func, block: e.block, params: e.params })));
        // an exit is below the model's depth, and at least the layers the expert's step needs
        layout.experts.forEach((e, i) => {
          if (e.exit === undefined) return;
          expect(e.exit, `${at}: expert ${i}'s exit`).toBeLessThan(layout.stats.layers);
          expect(e.exit, `${at}: expert ${i}'s exit`).toBeGreaterThanOrEqual(expertDepth(r.weights.experts[i]!));
        });
        expect(exitDepths(layout).length, at).toBeLessThanOrEqual(maxExits(layout.stats.nonzeros));
        for (const e of r.program.experts) {
          // an expert embeds the fixed fields and its own parameters, and writes the fixed
          // fields and the arguments its edges pass (format/token.ts: arguments come last)
          expect(e.graph.embed.length, at).toBe(layout.tokenIn.args + 2 * e.params);
          expect(e.graph.embed.length, at).toBeLessThanOrEqual(layout.tokenIn.width);
          expect(e.graph.readout.length, at).toBe(layout.tokenOut.args + 2 * e.outArgs);
          expect(e.graph.readout.length, at).toBeLessThanOrEqual(layout.tokenOut.width);
          expect(e.graph.ports.length, at).toBeLessThanOrEqual(layout.storePorts);
          expect(e.params, at).toBeLessThanOrEqual(layout.maxArgs);
        }
        const names = (model.graph!.node ?? []).map((n) => n.name!);
        expect(new Set(names).size, `${at}: node names are unique`).toBe(names.length);
        for (const n of names) {
          const m = nameRe.exec(n);
          expect(m, `${at}: node name ${n}`).not.toBeNull();
          if (m?.[2] !== undefined) expect(Number(m[2]), n).toBeLessThan(r.stats.layers);
          if (n === 'cache.keysT') expect(layout.memory).not.toBeNull();
          if (n === 'zero_column') expect(routing).toBe('gather');
        }
        // node output name == node name, except the Splits of the bounds and of the entries, whose
        // outputs are the bounds and the maps' parts
        for (const n of model.graph!.node ?? []) {
          if (n.opType === 'Split') {
            expect(n.name, at).toMatch(/^(bounds|entries\.(src|dst|val)|entries\.val(\.g\d+)+)$/);
            // a float Split runs on WebGPU, whose shaders bind at most 8 buffers (emit_onnx.ts SPLIT_FANOUT)
            if (n.name?.startsWith('entries.val')) expect(n.output!.length, `${at}: ${n.name}`).toBeLessThanOrEqual(7);
          } else expect(n.output, `${at}: ${n.name}`).toEqual([n.name]);
        }
        expect(names).toContain('embed');
        expect(names).toContain('readout.next');
      }
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

  it('throws RunError("step limit exceeded (N steps; ...)") past the step limit', async () => {
    const inst = await instantiate(get('countdown').onnx);
    const err = await inst.invoke('countdown', [50], { maxSteps: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as Error).message).toMatch(/^step limit exceeded \(5 steps[;)]/);
    expect((err as Error).message).not.toContain('\n');
    // enough steps: it finishes, and the step count is below the limit
    const ok = await inst.invoke('countdown', [3], { maxSteps: 100 });
    expect(ok.results).toEqual([3]);
    expect(ok.steps).toBeLessThan(100);
    const limited = await inst.invoke('countdown', [3], { maxSteps: ok.steps });
    expect(limited).toEqual(ok);
    await expect(inst.invoke('countdown', [3], { maxSteps: ok.steps - 1 })).rejects.toThrow(`step limit exceeded (${ok.steps - 1} steps`);
  });
});

// ---------------------------------------------------------------- graph_eval vs ONNX Runtime

describe('reference graph evaluator agrees with ONNX Runtime', () => {
  const cases: Array<{ sample: string; export: string; args: number[]; minSteps?: number }> = [
    { sample: 'add_chain', export: 'add_chain', args: [123456789, -5, 2147483647] },
    { sample: 'lookup', export: 'lookup', args: [66] },
    { sample: 'countdown', export: 'countdown', args: [9], minSteps: 5 },
    { sample: 'multi_export', export: 'poke', args: [65528, -123456] },
    { sample: 'oob', export: 'store_load', args: [131068, 0x01020304] },
    { sample: 'oob', export: 'load_at', args: [131069] },
    { sample: 'unaligned', export: 'unaligned', args: [287454020, 1432778632, -1719109785] },
    { sample: 'copy_loop', export: 'copy_loop', args: [512, 1030, 3], minSteps: 4 },
    { sample: 'data_segments', export: 'peek_sum', args: [3] },
  ];
  for (const c of cases) {
    it(`${c.sample}.${c.export}(${c.args.join(', ')}): readout and new cache rows of the step's expert, every step`, async () => {
      const r = get(c.sample);
      const L = r.layout;
      const model = await TransformerModel.load(r.onnx);
      const entry = L.entries.find((e) => e.name === c.export)!;
      const mem = L.memory;
      const F = mem?.features ?? 0;
      const halt = L.experts.length;
      const cache: Float32Array[] = initialRows(mem);
      let pc = entry.pc;
      let args = [...c.args];
      const state = { args: new Array<number>(L.maxArgs).fill(0), globals: L.globals.filter((g) => g.mutable).map((g) => g.init), depth: 0 };
      let steps = 0;
      const visited = new Set<number>();
      for (let step = 1; step <= 200; step++) {
        const graph = r.program.experts[pc].graph;
        visited.add(pc);
        const token = new Float32Array(L.tokenIn.width);
        encodeToken(L.tokenIn, tokenShape(L), token, 0, { args, globals: state.globals, depth: state.depth }, mem ? timeOf(mem, step) : null);
        expect(token[L.tokenIn.one]).toBe(1);
        const feeds: Record<string, ort.Tensor> = {
          pc: new ort.Tensor('int64', BigInt64Array.from([BigInt(pc)]), [1]),
          token: new ort.Tensor('float32', token, [1, L.tokenIn.width]),
        };
        const rows = [...cache];
        if (mem) {
          // pad rows up to a power of two (pad rows never win a lookup)
          let n = 1;
          while (n < rows.length) n *= 2;
          while (rows.length < n) rows.push(padRow(mem));
          const c = cacheInputData(mem, rows);
          feeds[CACHE_KEYS] = new ort.Tensor('float32', c.keys, [1, c.K, rows.length]);
          feeds[CACHE_VALUES] = new ort.Tensor('float32', c.values, [1, rows.length, c.V]);
        }
        const out = await model.session.run(feeds);
        const nextT = out['readout.next'].data as Float32Array;
        const next = [...nextT];
        const where = `step ${step} (pc ${pc})`;
        // the expert reads its own fields of the token; the arguments past its parameters are 0
        const own = token.subarray(0, graph.embed.length);
        expect([...token.subarray(graph.embed.length)].every((x) => x === 0), `${where}: arguments past the expert's parameters are 0`).toBe(true);
        const pad = (xs: number[]) => [...xs, ...new Array<number>(next.length - xs.length).fill(0)];
        const ev = evalGraph(graph, own, { cache: rows });
        expect(next, `${where}: readout`).toEqual(pad(ev.readout));
        const ev32 = evalGraph(graph, own, { cache: rows, float32: true });
        expect(pad(ev32.readout), `${where}: float32 readout`).toEqual(next);
        if (mem && L.storePorts > 0) {
          const entries = out['readout.entries'].data as Float32Array;
          expect(entries.length).toBe(L.storePorts * F);
          const got = Array.from({ length: L.storePorts }, (_, p) => [...entries.subarray(p * F, (p + 1) * F)]);
          // the expert's own ports, then unused ports (all zero: KEEP = 0, dropped)
          const want = [...ev32.ports, ...Array.from({ length: L.storePorts - ev32.ports.length }, () => new Array<number>(F).fill(0))];
          expect(got, `${where}: new cache rows`).toEqual(want);
          for (let p = 0; p < L.storePorts; p++) {
            if (!keepsRow(mem, entries, p * F)) continue;
            const row = Float32Array.from(entries.subarray(p * F, (p + 1) * F));
            row[mem.col.pad] = 0; // KEEP → pad
            // one row per address, as the runtime keeps it ('unique' lookups, format/memory.ts)
            const at = cache.findIndex((c) => c[mem.col.sink] < 0.5 && rowAddress(mem, c) === rowAddress(mem, row));
            if (at >= 0) cache[at] = row;
            else cache.push(row);
          }
        }
        steps++;
        // decode (same as the runtime) and continue
        const tok = decodeToken(L.tokenOut, tokenShape(L), nextT, 0, state);
        expect(Number.isInteger(nextT[L.tokenOut.pc]), `${where}: an integer program counter`).toBe(true);
        expect(tok.pc, `${where}: a program counter`).toBeGreaterThanOrEqual(0);
        expect(tok.pc, `${where}: a program counter`).toBeLessThanOrEqual(halt);
        args = [...state.args];
        if (tok.trap !== 0 || tok.pc === halt) break;
        pc = tok.pc;
      }
      // the same run through the runtime gives the same number of steps and outcome
      const o = (await model.runBatch(c.export, [c.args], [model.newMemory()]))[0];
      expect(o.steps).toBe(steps);
      const n = (await NativeInstance.create(sampleWasm(byName(c.sample)))).invoke(c.export, c.args);
      expect({ results: o.results, trap: o.trap }).toEqual({ results: n.results, trap: n.trap });
      if (c.minSteps) {
        expect(steps).toBeGreaterThanOrEqual(c.minSteps);
        expect(visited.size, 'a multi-step run visits several experts').toBeGreaterThan(1);
      }
    });
  }
});
