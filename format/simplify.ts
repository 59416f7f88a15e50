// format/simplify.ts — rewrites of a pinned graph after constant folding, in plain JavaScript.
//
// Once format/fold.ts has evaluated a pinned graph's routing (format/model_file.ts cutModel), the
// pinned expert's linear maps are plain constants: every sparse map is a Gather of the rows it
// reads by constant indices, a Mul by constant values and a scatter-add (ScatterND, reduction
// add) at constant target rows (backend/emit_onnx.ts). These exact rewrites then make its steps
// cheaper, and dead-node elimination drops what they leave unread:
//   1. a scatter-add of zeros is its data input (pruneZeroUpdates): the one zero entry that
//      stands in for an empty map, so a layer where the expert has no heads loses its whole
//      attention (queries, scores and softmax over the cache, mix), and the cache input goes
//      when no layer of the expert reads it;
//   2. a Concat input of length 0 along the Concat's axis is dropped (dropEmptyConcatInputs):
//      a layer where the expert has heads but no pending rows concatenates empty pending scores
//      and values to the cache's, and the pending rows' nodes go;
//   3. a sparse map becomes a dense block between the rows it reads and the rows it writes
//      (densifyMaps): a Gather of those rows, one MatMul, and a scatter-add of the product (none
//      when it writes every row of zeros it is added into, as an MLP's up map does), or several
//      blocks where its entries fall into groups that share no row written (denseBlocks: the
//      gadgets of one layer; one block of them all is mostly zeros), their products concatenated;
//      an up map's hidden rows may come out permuted, the down map then reading each where it
//      went; and a dense block reads its whole input where that makes it at most twice as big,
//      or 16K cells bigger (widenGathers: its zero columns spare the Gather of the rows it reads). At batch 1
//      ONNX Runtime takes about 15 ns an entry for the sparse form's three nodes (Gather, Mul,
//      ScatterND on [k, 1] tensors) and about 0.1 ns a cell for the MatMul, and a pinned session
//      holds one expert's weights, so the block may be many times the entries.
// Exactness: the block holds each entry's value in its own cell (maps where two entries share
// a cell are left sparse), every other cell is 0, and every value the model computes is finite
// and every sum of them exact in any order (DESIGN.md §3), so block · x adds exactly the terms
// the scatter-add added. The ops are MatMul, Gather and ScatterND with constant indices, as in
// the emitted graph (its op set and index provenance hold).

import onnxProto from 'onnx-proto';
import { FLOAT, INT64, intAttr, readTensor, writeTensor, type Const } from './fold.js';

const { onnx } = onnxProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** A sparse map becomes dense when its block has at most this many cells an entry (or few cells). */
export const DENSE_CELLS_PER_ENTRY = 128;
/** Blocks of up to this many cells are always dense; none is larger than MAX_DENSE_CELLS. */
const SMALL_BLOCK = 4096;
const MAX_DENSE_CELLS = 1 << 21;

/**
 * The pinned graph (after fold.ts) with every rewrite applied and only the nodes its outputs
 * read; initializers no node reads are dropped, the dense blocks and indices added.
 */
export function simplifyPinned(nodes: NodeProto[], inits: TensorProto[], graphOutputs: readonly string[]): { nodes: NodeProto[]; inits: TensorProto[] } {
  const byName = new Map(inits.map((t) => [t.name ?? '', t]));
  const added = new Map<string, Const>();
  const constant = (name: string): Const | null => {
    const a = added.get(name);
    if (a) return a;
    const t = byName.get(name);
    return t ? readTensor(t) : null;
  };
  let out = pruneZeroUpdates(nodes, constant, graphOutputs);
  out = dropEmptyConcatInputs(out, constant, graphOutputs);
  out = densifyMaps(out, constant, (name, c) => added.set(name, c), graphOutputs);
  out = widenGathers(out, constant, (name, c) => added.set(name, c));
  out = liveNodes(out, graphOutputs);
  const read = new Set<string>(graphOutputs);
  for (const n of out) for (const i of n.input ?? []) read.add(i);
  return {
    nodes: out,
    inits: [...inits.filter((t) => read.has(t.name ?? '')), ...[...added].filter(([name]) => read.has(name)).map(([name, c]) => writeTensor(name, c))],
  };
}

function producers(nodes: readonly NodeProto[]): Map<string, NodeProto> {
  const p = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) p.set(o, n);
  return p;
}

/** Whether a constant is all zeros (false for none). */
function allZero(c: Const | null): boolean {
  return c !== null && c.data.every((v) => v === 0);
}

/** A constant that a node input names, reading the current graph's constants. */
type InputConstant = (name: string | undefined, type?: number) => Const | null;

/** The constant an input names (null: a node's output, or not a constant of that type). */
function inputConstant(producer: Map<string, NodeProto>, constant: (name: string) => Const | null): InputConstant {
  return (name, type) => {
    if (!name || producer.has(name)) return null;
    const c = constant(name);
    return c && (type === undefined || c.type === type) ? c : null;
  };
}

/** An int64 constant's elements (null: not one). */
function intsOf(c: Const | null): number[] | null {
  return c && c.type === INT64 ? Array.from(c.data) : null;
}

function isAddScatter(n: NodeProto): boolean {
  const red = (n.attribute ?? []).find((a) => a.name === 'reduction');
  return n.opType === 'ScatterND' && red !== undefined && new TextDecoder().decode(red.s ?? new Uint8Array()) === 'add';
}

/**
 * The nodes rewritten one by one, in order, with their inputs renamed through the aliases the
 * rewrite makes: rewrite(n) returns the nodes to keep for n, or a tensor that n's (single) output
 * equals, which n's readers then read instead (never for a graph output).
 */
function rewriteNodes(nodes: NodeProto[], graphOutputs: readonly string[], rewrite: (n: NodeProto) => NodeProto[] | string): NodeProto[] {
  const alias = new Map<string, string>();
  const outputs = new Set(graphOutputs);
  const out: NodeProto[] = [];
  for (const n0 of nodes) {
    const ins = n0.input ?? [];
    const n = ins.some((i) => alias.has(i)) ? onnx.NodeProto.create({ ...n0, input: ins.map((i) => alias.get(i) ?? i) }) : n0;
    const r = rewrite(n);
    const result = (n.output ?? [])[0];
    if (typeof r !== 'string') out.push(...r);
    else if (result !== undefined && !outputs.has(result)) alias.set(result, r);
    else out.push(n);
  }
  return out;
}

/**
 * Every scatter-add whose updates are a product with an all-zero constant (Mul or MatMul)
 * replaced by its data input: its readers read the data instead. An empty map's one zero entry
 * (backend/emit_onnx.ts partsOf) adds 0·x, which is ±0 for the finite x the model computes, and
 * data + ±0 = data.
 */
export function pruneZeroUpdates(nodes: NodeProto[], constant: (name: string) => Const | null, graphOutputs: readonly string[]): NodeProto[] {
  const producer = producers(nodes);
  const constOf = inputConstant(producer, constant);
  const zeroProduct = (name: string): boolean => {
    const p = producer.get(name);
    if (!p || (p.opType !== 'Mul' && p.opType !== 'MatMul')) return false;
    return (p.input ?? []).some((i) => allZero(constOf(i)));
  };
  return rewriteNodes(nodes, graphOutputs, (n) => {
    const [data, , updates] = n.input ?? [];
    return isAddScatter(n) && data && updates && zeroProduct(updates) ? data : [n];
  });
}

/**
 * Every Concat input that has length 0 along the Concat's axis dropped (a Concat left with one
 * input is that input): a pinned expert without pending rows at a layer where it has heads
 * concatenates its empty pending scores and values to the cache's, so the scores, softmax and mix
 * are the cache's alone, and the pending rows' slices, transposes and products are dropped.
 * A length is known to be 0 only from constants: a Slice whose start equals its end on that
 * axis, carried through Transpose, Reshape, Slice, MatMul and Add (broadcasting a 0 with a 1
 * gives 0) of such tensors.
 */
export function dropEmptyConcatInputs(nodes: NodeProto[], constant: (name: string) => Const | null, graphOutputs: readonly string[]): NodeProto[] {
  const producer = producers(nodes);
  const constOf = inputConstant(producer, constant);
  const ints = (name: string | undefined): number[] | null => intsOf(constOf(name));
  const rankMemo = new Map<string, number | null>();
  const rankOf = (t: string): number | null => {
    if (rankMemo.has(t)) return rankMemo.get(t) as number | null;
    rankMemo.set(t, null);
    const n = producer.get(t);
    const c = n ? null : constOf(t);
    let r: number | null = c ? c.dims.length : null;
    if (n) {
      const ins = n.input ?? [];
      const perm = (n.attribute ?? []).find((a) => a.name === 'perm');
      if (n.opType === 'Transpose' && perm) r = (perm.ints ?? []).length;
      else if (n.opType === 'Reshape') r = ints(ins[1])?.length ?? null;
      else if (n.opType === 'Slice' || n.opType === 'Concat' || n.opType === 'Relu' || n.opType === 'Softmax') r = rankOf(ins[0] ?? '');
      else if (n.opType === 'MatMul' || n.opType === 'Add' || n.opType === 'Mul') {
        const [a, b] = [rankOf(ins[0] ?? ''), rankOf(ins[1] ?? '')];
        r = a !== null && b !== null ? Math.max(a, b) : null;
      }
    }
    rankMemo.set(t, r);
    return r;
  };
  // zeroAt(t, a): t has length 0 along axis a (a non-negative); emptyAny(t): along some axis
  const zeroAt = (t: string, a: number, depth = 0): boolean => {
    const n = producer.get(t);
    if (!n || depth > 64) return false;
    const ins = n.input ?? [];
    if (n.opType === 'Slice') {
      const [starts, ends] = [ints(ins[1]), ints(ins[2])];
      const axes = ins[3] ? ints(ins[3]) : starts ? starts.map((_, k) => k) : null;
      if (!starts || !ends || !axes || starts.length !== ends.length || axes.length !== starts.length) return false;
      const r = rankOf(ins[0] ?? '');
      const norm = axes.map((x) => (x < 0 && r !== null ? x + r : x));
      const k = norm.indexOf(a);
      if (k >= 0 && starts[k] === ends[k]) return true;
      return zeroAt(ins[0] ?? '', a, depth + 1);
    }
    if (n.opType === 'Transpose') {
      const perm = (n.attribute ?? []).find((x) => x.name === 'perm')?.ints?.map(Number);
      return perm !== undefined && a < perm.length && zeroAt(ins[0] ?? '', perm[a] as number, depth + 1);
    }
    if (n.opType === 'Reshape') {
      const shape = ints(ins[1]);
      const allowzero = intAttr(n, 'allowzero', 0) === 1;
      if (!shape || a >= shape.length) return false;
      if (shape[a] === 0) return allowzero || zeroAt(ins[0] ?? '', a, depth + 1);
      if (shape[a] !== -1 || !emptyAny(ins[0] ?? '', depth + 1)) return false;
      // the inferred dim is 0 when the others are not: positive, or copies of non-empty dims
      return shape.every((d, j) => j === a || d > 0 || (d === 0 && !allowzero && !zeroAt(ins[0] ?? '', j, depth + 1)));
    }
    if (n.opType === 'MatMul' || n.opType === 'Add') {
      const R = rankOf(t);
      if (R === null) return false;
      return ins.slice(0, 2).some((x, i) => {
        const r = rankOf(x);
        if (r === null) return false;
        const at = a - (R - r); // the operand's axis (aligned from the right)
        if (n.opType === 'MatMul' && ((i === 0 && at !== r - 2) || (i === 1 && at !== r - 1))) return false;
        return at >= 0 && zeroAt(x, at, depth + 1);
      });
    }
    return false;
  };
  const emptyAny = (t: string, depth: number): boolean => {
    const r = rankOf(t);
    if (r === null) return false;
    for (let a = 0; a < r; a++) if (zeroAt(t, a, depth)) return true;
    return false;
  };
  return rewriteNodes(nodes, graphOutputs, (n) => {
    const result = (n.output ?? [])[0];
    if (n.opType !== 'Concat' || !result) return [n];
    const r = rankOf(result);
    let axis = intAttr(n, 'axis', 0);
    if (axis < 0 && r !== null) axis += r;
    const ins = n.input ?? [];
    const kept = axis >= 0 ? ins.filter((i) => !zeroAt(i, axis)) : ins;
    if (kept.length === ins.length || kept.length === 0) return [n];
    return kept.length === 1 ? (kept[0] as string) : [onnx.NodeProto.create({ ...n, input: kept })];
  });
}

/** A sparse map's dense form: the rows it reads (S) and writes (D), and the [|D|, |S|] block. */
interface DenseMap {
  rowsRead: number[];
  rowsWritten: number[];
  block: Float32Array;
}

/** The dense form of entries (src[k], dst[k], val[k]), or null: two entries share a cell, or the block is too big. */
export function denseMap(src: ArrayLike<number>, dst: ArrayLike<number>, val: ArrayLike<number>): DenseMap | null {
  const k = src.length;
  const cells = distinctCount(src) * distinctCount(dst);
  if (cells > SMALL_BLOCK && cells > DENSE_CELLS_PER_ENTRY * k) return null;
  return blockOf(src, dst, val);
}

/** How many distinct values xs (non-negative integers: row indices) holds. */
function distinctCount(xs: ArrayLike<number>): number {
  let n = 0;
  for (let k = 0; k < xs.length; k++) n = Math.max(n, (xs[k] as number) + 1);
  const seen = new Uint8Array(n);
  let c = 0;
  for (let k = 0; k < xs.length; k++) if (!seen[xs[k] as number]) (seen[xs[k] as number] = 1), c++;
  return c;
}

/** The block between the rows entries read and write, or null: two share a cell, or it has more than MAX_DENSE_CELLS. */
function blockOf(src: ArrayLike<number>, dst: ArrayLike<number>, val: ArrayLike<number>): DenseMap | null {
  const k = src.length;
  const rowsRead = [...new Set(Array.from(src))].sort((a, b) => a - b);
  const rowsWritten = [...new Set(Array.from(dst))].sort((a, b) => a - b);
  const cells = rowsRead.length * rowsWritten.length;
  if (cells > MAX_DENSE_CELLS) return null;
  const col = new Map(rowsRead.map((r, i) => [r, i]));
  const row = new Map(rowsWritten.map((r, i) => [r, i]));
  const block = new Float32Array(cells);
  const seen = new Uint8Array(cells);
  for (let e = 0; e < k; e++) {
    const cell = (row.get(dst[e] as number) as number) * rowsRead.length + (col.get(src[e] as number) as number);
    if (seen[cell]) return null;
    seen[cell] = 1;
    block[cell] = val[e] as number;
  }
  return { rowsRead, rowsWritten, block };
}

/**
 * What one more node of a pinned step costs, in cells of a dense block: about 1 µs a node and
 * 0.1 ns a cell at batch 1 (see the file header).
 */
export const NODE_CELLS = 10_000;
/** The most blocks a map is split into (their products are one Concat's inputs: WebGPU binds at most 8 buffers a shader). */
export const MAX_BLOCKS = 7;
/** A map whose one block has at most this many cells is not searched for blocks (denseBlocks). */
const SPLIT_CELLS = 8 * NODE_CELLS;
/** Maps with more components than this are split at most as runs of this many parts (the search is quadratic in it). */
const MAX_PARTS = 64;

/**
 * A sparse map as several dense blocks, or null where one block (denseMap) or the sparse form
 * costs no more. The entries fall into parts (connected through the rows they share: a gadget's
 * units read its inputs and write its outputs; components), no two of which write the same row,
 * so the blocks of groups of whole parts together write each row once, and the map is their
 * products concatenated, scattered into the rows they write. A row read by more than
 * SHARED_READ entries joins no parts: blocks may read the same rows, each gathering its own.
 * One block holds every cell between all the rows read and written, mostly zeros when a layer
 * holds several gadgets (sudoku's clear-bit step: 1.6% nonzero, 7.8 MB a step); blocks of
 * groups hold the cells within each group only. Groups are runs of the parts in the order of
 * their first row read, or written (the cheaper), chosen by a search over run boundaries for the
 * least cells + 2·NODE_CELLS a block (its Gather and MatMul), at most MAX_BLOCKS of them.
 */
export function denseBlocks(src: ArrayLike<number>, dst: ArrayLike<number>, val: ArrayLike<number>, into: BlockTarget = 'scatter'): DenseMap[] | null {
  const k = src.length;
  // two blocks or more cost at least 5 nodes to one block's 2 (besides a scatter both have), so
  // a block of at most 3·NODE_CELLS cells is never split; below SPLIT_CELLS what a split could
  // save is a few µs a step, less than the search costs a pinned session (most maps: no search)
  if (distinctCount(src) * distinctCount(dst) <= SPLIT_CELLS) return null;
  // into zeros ('whole'): the products in order are the result when no two blocks' rows written
  // interleave, so parts whose written rows overlap as ranges are one part, in that order; in
  // any order ('permuted'), its rows permuted
  const whole = into === 'whole';
  const parts = whole ? unInterleaved(components(src, dst)) : components(src, dst);
  if (parts.length < 2) return null;
  const nIn = Math.max(...parts.map((p) => Math.max(...p.read))) + 1;
  const rowsIn = distinctCount(src);
  const rowsOut = parts.reduce((t, p) => t + p.rowsWritten, 0);
  // one block: Gather, MatMul, ScatterND; the sparse form: Gather, Mul, ScatterND; blocks: a
  // Gather and a MatMul each, then Concat and ScatterND
  const scatter = into === 'scatter' ? NODE_CELLS : 0;
  const oneBlock = rowsIn * rowsOut <= MAX_DENSE_CELLS ? rowsIn * rowsOut + 2 * NODE_CELLS + scatter : Infinity;
  const sparse = DENSE_CELLS_PER_ENTRY * k + 3 * NODE_CELLS;
  let best: { cost: number; runs: Part[][] } | null = null;
  for (const key of whole ? (['firstWritten'] as const) : (['firstRead', 'firstWritten'] as const)) {
    const ordered = coarsened([...parts].sort((a, b) => a[key] - b[key]));
    const r = bestRuns(ordered, nIn);
    if (!best || r.cost < best.cost) best = r;
  }
  if (!best || best.runs.length < 2 || best.cost + NODE_CELLS + scatter >= Math.min(oneBlock, sparse)) return null;
  const blocks: DenseMap[] = [];
  for (const run of best.runs) {
    const es = run.flatMap((p) => p.entries);
    const b = blockOf(es.map((e) => src[e] as number), es.map((e) => dst[e] as number), es.map((e) => val[e] as number));
    if (!b) return null;
    blocks.push(b);
  }
  return blocks;
}

/**
 * Where a map's blocks' products go: scattered into its base, or its base is zeros whose every
 * row it writes, so the products concatenated are the result, in row order ('whole') or in any
 * order ('permuted': the result's rows permuted, its readers reading them where they went).
 */
export type BlockTarget = 'scatter' | 'whole' | 'permuted';

/** Entries no two parts of which write the same row; the rows they read (distinct), and how many rows they write. */
interface Part {
  entries: number[];
  read: number[];
  rowsWritten: number;
  firstRead: number;
  firstWritten: number;
  lastWritten: number;
}

/** Runs of parts as parts (each run's rows read counted once). */
function joinedRuns(runs: readonly (readonly Part[])[]): Part[] {
  let nIn = 0;
  for (const run of runs) for (const p of run) for (const r of p.read) nIn = Math.max(nIn, r + 1);
  const stamp = new Int32Array(nIn).fill(-1);
  return runs.map((run, i) => {
    if (run.length === 1) return run[0]!;
    const j: Part = { entries: [], read: [], rowsWritten: 0, firstRead: Infinity, firstWritten: Infinity, lastWritten: -1 };
    for (const p of run) {
      for (const e of p.entries) j.entries.push(e);
      for (const r of p.read) if (stamp[r] !== i) (stamp[r] = i), j.read.push(r);
      j.rowsWritten += p.rowsWritten;
      j.firstRead = Math.min(j.firstRead, p.firstRead);
      j.firstWritten = Math.min(j.firstWritten, p.firstWritten);
      j.lastWritten = Math.max(j.lastWritten, p.lastWritten);
    }
    return j;
  });
}

/** Parts whose ranges of rows written overlap merged into one, ordered by their first row written. */
function unInterleaved(parts: Part[]): Part[] {
  const runs: Part[][] = [];
  let end = -1;
  for (const p of [...parts].sort((a, b) => a.firstWritten - b.firstWritten)) {
    if (runs.length > 0 && p.firstWritten <= end) runs[runs.length - 1]!.push(p);
    else runs.push([p]);
    end = Math.max(end, p.lastWritten);
  }
  return joinedRuns(runs);
}

/**
 * A row read by more entries than this does not join their parts (the constant-1 row, a
 * tabulate's input: read by hundreds of units that write distinct rows); blocks may share the rows
 * they read, each gathering its own.
 */
const SHARED_READ = 16;

/**
 * The entries' parts: entries writing the same row are in the same one, and entries reading the
 * same row unless it is read by more than SHARED_READ entries.
 */
function components(src: ArrayLike<number>, dst: ArrayLike<number>): Part[] {
  const k = src.length;
  let nIn = 0;
  for (let e = 0; e < k; e++) nIn = Math.max(nIn, (src[e] as number) + 1);
  let nOut = 0;
  for (let e = 0; e < k; e++) nOut = Math.max(nOut, (dst[e] as number) + 1);
  const readers = new Int32Array(nIn);
  for (let e = 0; e < k; e++) readers[src[e] as number]!++;
  // union-find over the rows: read row r is r, written row w is nIn + w
  const parent = new Int32Array(nIn + nOut).map((_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x] as number] as number;
    return x;
  };
  for (let e = 0; e < k; e++) {
    if (readers[src[e] as number]! > SHARED_READ) continue;
    const a = find(src[e] as number);
    const b = find(nIn + (dst[e] as number));
    if (a !== b) parent[a] = b;
  }
  // the parts, numbered by root in order of their first entry; each part's entries in order
  const partOf = new Int32Array(nIn + nOut).fill(-1);
  const parts: Part[] = [];
  const readStamp = new Int32Array(nIn).fill(-1);
  const writeStamp = new Int32Array(nOut).fill(-1);
  for (let e = 0; e < k; e++) {
    const r = find(nIn + (dst[e] as number));
    let i = partOf[r]!;
    if (i < 0) {
      i = partOf[r] = parts.length;
      parts.push({ entries: [], read: [], rowsWritten: 0, firstRead: Infinity, firstWritten: Infinity, lastWritten: -1 });
    }
    const part = parts[i]!;
    const sr = src[e] as number;
    const dr = dst[e] as number;
    part.entries.push(e);
    if (readStamp[sr] !== i) {
      readStamp[sr] = i;
      part.read.push(sr);
      // a part's first row read, of the rows that join parts (shared rows, read by most, say little)
      part.firstRead = Math.min(part.firstRead, readers[sr]! <= SHARED_READ ? sr : nIn + sr);
    }
    if (writeStamp[dr] !== i) {
      writeStamp[dr] = i;
      part.rowsWritten++;
      part.firstWritten = Math.min(part.firstWritten, dr);
      part.lastWritten = Math.max(part.lastWritten, dr);
    }
  }
  return parts;
}

/** Runs of adjacent parts merged into at most MAX_PARTS parts of about equal entries. */
function coarsened(parts: Part[]): Part[] {
  if (parts.length <= MAX_PARTS) return parts;
  const total = parts.reduce((t, p) => t + p.entries.length, 0);
  const runs: Part[][] = [];
  let run: Part[] = [];
  let entries = 0;
  for (const p of parts) {
    run.push(p);
    entries += p.entries.length;
    if (entries * MAX_PARTS >= total) (runs.push(run), (run = []), (entries = 0));
  }
  if (run.length > 0) runs.push(run);
  return joinedRuns(runs);
}

/**
 * The cheapest split of parts into at most MAX_BLOCKS runs: Σ (rows read · rows written +
 * 2·NODE_CELLS) over the runs (a Gather and a MatMul each; a run's rows read counted once).
 */
function bestRuns(parts: Part[], nIn: number): { cost: number; runs: Part[][] } {
  const n = parts.length;
  const outAt = [0];
  for (const p of parts) outAt.push((outAt.at(-1) as number) + p.rowsWritten);
  // cells[i][j]: the block of parts i..j−1
  const cells: Float64Array[] = [];
  const stamp = new Int32Array(nIn).fill(-1);
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n + 1);
    let read = 0;
    for (let j = i; j < n; j++) {
      for (const r of parts[j]!.read) if (stamp[r] !== i) (stamp[r] = i), read++;
      row[j + 1] = read * (outAt[j + 1]! - outAt[i]!);
    }
    cells.push(row);
  }
  const runCost = (i: number, j: number) => {
    const c = cells[i]![j]!;
    return c > MAX_DENSE_CELLS ? Infinity : c + 2 * NODE_CELLS;
  };
  // cost[g][j]: the first j parts as g runs
  const cost: number[][] = [[0, ...new Array<number>(n).fill(Infinity)]];
  const from: number[][] = [[]];
  for (let g = 1; g <= MAX_BLOCKS; g++) {
    const c = new Array<number>(n + 1).fill(Infinity);
    const f = new Array<number>(n + 1).fill(-1);
    for (let j = 1; j <= n; j++) {
      for (let i = g - 1; i < j; i++) {
        const v = cost[g - 1]![i]! + runCost(i, j);
        if (v < c[j]!) (c[j] = v), (f[j] = i);
      }
    }
    cost.push(c);
    from.push(f);
  }
  let g = 1;
  for (let h = 2; h <= MAX_BLOCKS; h++) if (cost[h]![n]! < cost[g]![n]!) g = h;
  const runs: Part[][] = [];
  for (let j = n, h = g; h > 0; h--) {
    const i = from[h]![j]!;
    runs.unshift(parts.slice(i, j));
    j = i;
  }
  return { cost: cost[g]![n]!, runs };
}

/**
 * Every sparse map ScatterND(base, dst, Mul(Gather(x, src), val)) with constant src, dst and
 * val rewritten as Gather(x, S) → MatMul(block, ·) → ScatterND(base, D, ·); when base is zeros
 * (an Expand of a constant shape [w, 1]) and D is every row 0..w−1, the MatMul's product is the
 * result itself.
 */
export function densifyMaps(nodes: NodeProto[], constant: (name: string) => Const | null, add: (name: string, c: Const) => void, graphOutputs: readonly string[] = []): NodeProto[] {
  const producer = producers(nodes);
  const constOf = inputConstant(producer, constant);
  const permutable = permutableResults(nodes, constOf, graphOutputs);
  // tensors whose rows a rewrite permuted: where each row went; the Gathers reading them, rewritten
  const permuted = new Map<string, Int32Array>();
  const gathers = new Map<string, NodeProto>();
  const out: NodeProto[] = [];
  for (const n0 of nodes) {
    const n = rereadPermuted(n0, permuted, constOf, add);
    if (n.opType === 'Relu' && permuted.has((n.input ?? [])[0] ?? '')) permuted.set((n.output ?? [])[0] ?? '', permuted.get((n.input ?? [])[0] ?? '')!);
    if (n.opType === 'Gather') gathers.set((n.output ?? [])[0] ?? '', n);
    const [base, dstName, updates] = n.input ?? [];
    const result = (n.output ?? [])[0];
    const mul = updates ? producer.get(updates) : undefined;
    const gather = mul?.opType === 'Mul' ? gathers.get((mul.input ?? [])[0] ?? '') : undefined;
    const src = gather?.opType === 'Gather' && intAttr(gather, 'axis', 0) === 0 ? constOf((gather.input ?? [])[1], INT64) : null;
    const val = mul ? constOf((mul.input ?? [])[1], FLOAT) : null;
    const dst = constOf(dstName, INT64);
    const x = (gather?.input ?? [])[0];
    const ok = isAddScatter(n) && base && result && x && src && val && dst && src.dims.length === 1 && dst.data.length === src.data.length && val.data.length === src.data.length;
    const whole = ok && writesAllZeros(base, [...new Set(Array.from(dst.data))].sort((a, b) => a - b), producer, constOf);
    const blocks = ok ? denseBlocks(src.data, dst.data, val.data, whole ? (permutable.has(result) ? 'permuted' : 'whole') : 'scatter') : null;
    const dense = ok && !blocks ? denseMap(src.data, dst.data, val.data) : null;
    if (blocks && base && result && x) {
      out.push(...blockNodes(n, blocks, base, result, x, producer, constOf, add, (pos) => permuted.set(result, pos)));
      continue;
    }
    if (!dense || !base || !result || !x) {
      out.push(n);
      continue;
    }
    const d = dense.rowsWritten.length;
    const s = dense.rowsRead.length;
    add(`${result}.dense.src`, { dims: [s], type: INT64, data: Float64Array.from(dense.rowsRead) });
    add(`${result}.dense.block`, { dims: [d, s], type: FLOAT, data: dense.block });
    const gathered = onnx.NodeProto.create({ opType: 'Gather', name: `${result}.dense.inputs`, input: [x, `${result}.dense.src`], output: [`${result}.dense.inputs`], attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })] });
    out.push(gathered);
    // base is zeros when it is an Expand of a product with an all-zero constant (the zero row):
    // with shape [d, 1], d > 1, it has d rows, and a product writing rows 0..d−1 is the result
    if (writesAllZeros(base, dense.rowsWritten, producer, constOf)) {
      out.push(onnx.NodeProto.create({ opType: 'MatMul', name: result, input: [`${result}.dense.block`, `${result}.dense.inputs`], output: [result] }));
      continue;
    }
    add(`${result}.dense.dst`, { dims: [d, 1], type: INT64, data: Float64Array.from(dense.rowsWritten) });
    out.push(onnx.NodeProto.create({ opType: 'MatMul', name: `${result}.dense.product`, input: [`${result}.dense.block`, `${result}.dense.inputs`], output: [`${result}.dense.product`] }));
    out.push(onnx.NodeProto.create({ ...n, input: [base, `${result}.dense.dst`, `${result}.dense.product`] }));
  }
  return out;
}

/**
 * The map results whose rows may be permuted: tensors read only by Relus (not graph outputs)
 * whose outputs are read only by Gathers along axis 0 by constant indices (an MLP's up map,
 * its ReLU and the down map's rows), so that a Gather of row r reads it at pos[r] instead.
 */
function permutableResults(nodes: readonly NodeProto[], constOf: InputConstant, graphOutputs: readonly string[]): Set<string> {
  const readers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i !== '') (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  const outputs = new Set(graphOutputs);
  const byRowGathers = (t: string) => !outputs.has(t) && (readers.get(t) ?? []).every((r) => r.opType === 'Gather' && intAttr(r, 'axis', 0) === 0 && (r.input ?? [])[0] === t && constOf((r.input ?? [])[1], INT64) !== null);
  const ok = new Set<string>();
  for (const n of nodes) {
    const result = (n.output ?? [])[0];
    if (!isAddScatter(n) || !result || outputs.has(result)) continue;
    const rs = readers.get(result) ?? [];
    if (rs.length > 0 && rs.every((r) => r.opType === 'Relu' && byRowGathers((r.output ?? [])[0] ?? ''))) ok.add(result);
  }
  return ok;
}

/** n with a Gather of a permuted tensor's rows reading them where they went (new constant indices). */
function rereadPermuted(n: NodeProto, permuted: ReadonlyMap<string, Int32Array>, constOf: InputConstant, add: (name: string, c: Const) => void): NodeProto {
  const [x, idxName] = n.input ?? [];
  const pos = n.opType === 'Gather' && x ? permuted.get(x) : undefined;
  if (!pos) return n;
  const idx = constOf(idxName, INT64);
  if (!idx) throw new Error(`simplify: a Gather of permuted ${x} by non-constant indices`);
  const name = `${(n.output ?? [])[0]}.permuted`;
  add(name, { dims: idx.dims, type: INT64, data: Float64Array.from(idx.data, (r) => pos[r] as number) });
  return onnx.NodeProto.create({ ...n, input: [x, name] });
}

/**
 * Whether base is zeros (an Expand of a product with an all-zero constant, the zero row) of
 * shape [d, 1], d > 1, so that a product writing rows 0..d−1 in order is base + product itself.
 */
function writesAllZeros(base: string, rows: readonly number[], producer: Map<string, NodeProto>, constOf: InputConstant): boolean {
  const d = rows.length;
  const zeros = producer.get(base);
  const shape = zeros?.opType === 'Expand' ? constOf((zeros.input ?? [])[1], INT64) : null;
  const zeroRow = zeros?.opType === 'Expand' ? producer.get((zeros.input ?? [])[0] ?? '') : undefined;
  const isZero = zeroRow?.opType === 'Mul' && (zeroRow.input ?? []).some((i) => allZero(constOf(i, FLOAT)));
  return isZero && shape !== null && shape.data.length === 2 && shape.data[1] === 1 && shape.data[0] === d && d > 1 && rows.every((r, i) => r === i);
}

/**
 * The scatter-add n of a map as blocks (denseBlocks): per block a Gather of the rows it reads
 * and a MatMul, then one Concat of the products and a scatter-add of it at the rows they write
 * (none where those are every row of zeros, in order: the Concat is the result).
 */
function blockNodes(n: NodeProto, blocks: DenseMap[], base: string, result: string, x: string, producer: Map<string, NodeProto>, constOf: InputConstant, add: (name: string, c: Const) => void, permute: (pos: Int32Array) => void): NodeProto[] {
  const out: NodeProto[] = [];
  const axis0 = () => [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })];
  const products = blocks.map((b, g) => {
    const name = `${result}.dense${g}`;
    add(`${name}.src`, { dims: [b.rowsRead.length], type: INT64, data: Float64Array.from(b.rowsRead) });
    add(`${name}.block`, { dims: [b.rowsWritten.length, b.rowsRead.length], type: FLOAT, data: b.block });
    out.push(onnx.NodeProto.create({ opType: 'Gather', name: `${name}.inputs`, input: [x, `${name}.src`], output: [`${name}.inputs`], attribute: axis0() }));
    out.push(onnx.NodeProto.create({ opType: 'MatMul', name: `${name}.product`, input: [`${name}.block`, `${name}.inputs`], output: [`${name}.product`] }));
    return `${name}.product`;
  });
  const rows = blocks.flatMap((b) => b.rowsWritten);
  const sorted = [...rows].sort((a, b) => a - b);
  if (writesAllZeros(base, sorted, producer, constOf)) {
    // the products concatenated hold every row of the result: in order, or permuted (row r at pos[r])
    if (rows.some((r, i) => r !== i)) {
      const pos = new Int32Array(rows.length);
      rows.forEach((r, i) => (pos[r] = i));
      permute(pos);
    }
    out.push(onnx.NodeProto.create({ opType: 'Concat', name: result, input: products, output: [result], attribute: axis0() }));
    return out;
  }
  out.push(onnx.NodeProto.create({ opType: 'Concat', name: `${result}.dense.products`, input: products, output: [`${result}.dense.products`], attribute: axis0() }));
  add(`${result}.dense.dst`, { dims: [rows.length, 1], type: INT64, data: Float64Array.from(rows) });
  out.push(onnx.NodeProto.create({ ...n, input: [base, `${result}.dense.dst`, `${result}.dense.products`] }));
  return out;
}

/** A dense block may grow by this many cells, or by its own size, to spare the Gather of its input rows. */
const WIDEN_CELLS = 16384;

/**
 * The rows (first dim) of a tensor, where constants fix them: a residual stream (the embedding's
 * columns, scattered into), a block's product, an MLP's hidden units, a Gather's indices. Null
 * where unknown.
 */
function rowCounter(producer: Map<string, NodeProto>, constOf: InputConstant): (t: string) => number | null {
  const memo = new Map<string, number | null>();
  const constDims = (name: string | undefined): number[] | null => constOf(name)?.dims ?? null;
  const constInts = (name: string | undefined): number[] | null => intsOf(constOf(name));
  const cols = (t: string): number | null => {
    const n = producer.get(t);
    if (n?.opType !== 'MatMul') return null;
    const b = constDims((n.input ?? [])[1]);
    return b && b.length === 2 ? (b[1] as number) : null;
  };
  const rows = (t: string): number | null => {
    if (memo.has(t)) return memo.get(t) as number | null;
    memo.set(t, null);
    const n = producer.get(t);
    const ins = n?.input ?? [];
    let r: number | null = null;
    if (n?.opType === 'ScatterND' || n?.opType === 'Relu') r = rows(ins[0] ?? '');
    else if (n?.opType === 'Concat' && intAttr(n, 'axis', 0) === 0) {
      const parts = ins.map((i) => rows(i));
      r = parts.every((p) => p !== null) ? (parts as number[]).reduce((a, b) => a + b, 0) : null;
    }
    else if (n?.opType === 'MatMul') {
      const a = constDims(ins[0]);
      r = a && a.length === 2 ? (a[0] as number) : null;
    } else if (n?.opType === 'Gather' && intAttr(n, 'axis', 0) === 0) {
      const idx = constDims(ins[1]);
      r = idx && idx.length === 1 ? (idx[0] as number) : null;
    } else if (n?.opType === 'Expand') {
      // broadcast: a shape's 1 keeps the input's rows
      const shape = constInts(ins[1]);
      r = shape && shape.length === 2 ? (shape[0] === 1 ? rows(ins[0] ?? '') : (shape[0] as number)) : null;
    } else if (n?.opType === 'Transpose') {
      const perm = (n.attribute ?? []).find((a) => a.name === 'perm')?.ints?.map(Number);
      if (perm && perm.length === 2 && perm[0] === 1 && perm[1] === 0) r = cols(ins[0] ?? '');
    }
    memo.set(t, r);
    return r;
  };
  return rows;
}

/**
 * Every MatMul(block, Gather(x, S)) of a constant [d, s] block and distinct constant rows S of an x
 * whose R rows are known, rewritten as MatMul(wide, x) with the [d, R] block that holds the block's
 * columns at S and zeros elsewhere, where that adds at most WIDEN_CELLS cells or the block's own
 * size: one node less, and the zero columns add 0·x = ±0 for the finite x the model computes.
 */
export function widenGathers(nodes: NodeProto[], constant: (name: string) => Const | null, add: (name: string, c: Const) => void): NodeProto[] {
  const producer = producers(nodes);
  const constOf = inputConstant(producer, constant);
  const rowsOf = rowCounter(producer, constOf);
  return nodes.map((n) => {
    const [blockName, gathered] = n.input ?? [];
    const result = (n.output ?? [])[0];
    const block = n.opType === 'MatMul' ? constOf(blockName, FLOAT) : null;
    const g = gathered ? producer.get(gathered) : undefined;
    if (!block || !result || block.dims.length !== 2 || g?.opType !== 'Gather' || intAttr(g, 'axis', 0) !== 0) return n;
    const [x, idxName] = g.input ?? [];
    const idx = constOf(idxName, INT64);
    const R = x ? rowsOf(x) : null;
    const [d, s] = block.dims as [number, number];
    if (!x || !idx || idx.dims.length !== 1 || idx.data.length !== s || R === null) return n;
    const S = Array.from(idx.data);
    if (new Set(S).size !== s || S.some((r) => !(r >= 0 && r < R))) return n;
    const extra = d * (R - s);
    if (d * R > MAX_DENSE_CELLS || extra > Math.max(WIDEN_CELLS, d * s)) return n;
    const wide = new Float32Array(d * R);
    for (let i = 0; i < d; i++) for (let j = 0; j < s; j++) wide[i * R + (S[j] as number)] = block.data[i * s + j] as number;
    add(`${result}.wide`, { dims: [d, R], type: FLOAT, data: wide });
    return onnx.NodeProto.create({ ...n, input: [`${result}.wide`, x] });
  });
}

/** The nodes the graph outputs read (directly or through other nodes), in their order. */
export function liveNodes(nodes: NodeProto[], graphOutputs: readonly string[]): NodeProto[] {
  const need = new Set<string>(graphOutputs);
  const live = new Set<NodeProto>();
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k] as NodeProto;
    if ((n.output ?? []).some((o) => need.has(o))) {
      live.add(n);
      for (const i of n.input ?? []) if (i !== '') need.add(i);
    }
  }
  return nodes.filter((n) => live.has(n));
}
