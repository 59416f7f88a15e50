// runtime/trace.ts — what one step did, decoded from the model's outputs (for run --trace-json
// and --trace-html). Imports only the model format.
//
// Memory writes are the step's kept readout rows (format/memory.ts: address and byte). Memory
// reads are the lookup heads of every traced attention layer (format/layout.ts traceOutputNames):
// per head, the address its query asks for (the query's address features are ±β·M, positive for
// a 1 bit, DESIGN.md §5), its stage (0: the one head of a 'unique' model's lookup; in a 'timed'
// model stage 2 weighs the tick, stage 1 does not) and every row of [pending rows | cache] its
// softmax gives a nonzero weight, with that row's address, byte and write position. The weights
// of stage 0 and stage 2 are an exact one-hot: one row at weight 1.

import { RunError } from '../format/errors.js';
import { traceOutputNames, type ModelLayout } from '../format/layout.js';
import { EPOCH_BITS, headWidths, rowAddress, type MemoryLayout } from '../format/memory.js';

/**
 * One row a lookup head weighs: [source, index, weight, address, byte, position]. source is 'p'
 * (a pending row: a store earlier in this step), 'c' (a cache row) or 's' (the sink: the address
 * was never written; address -1, byte 0); index is the row within its source; position is the
 * memory position (format/memory.ts timeOf) the row was written at (0: the data image).
 */
export type TraceRow = [source: 'p' | 'c' | 's', index: number, weight: number, addr: number, value: number, pos: number];

export interface TraceLookup {
  layer: number;
  head: number;
  /**
   * 0: the byte of the newest write at addr (the one head of a lookup in a model whose cache holds
   * one row per address, format/memory.ts LookupKind 'unique'); in a 'timed' model, 1: the newest
   * epoch written at addr, 2: the byte of the newest write at (addr, epoch).
   */
  stage: 0 | 1 | 2;
  /** The byte address the head's query asks for. */
  addr: number;
  /** Stage 2: the epoch its query asks for. */
  epoch?: number;
  /** How many rows the head weighs: this step's pending rows, then the cache rows fed (pad rows included). */
  cols: number;
  /** How many of them are pending rows (the first ones). */
  pending: number;
  /** Rows with a nonzero weight, heaviest first (at most MAX_TRACE_ROWS); every other row's weight is exactly 0. */
  rows: TraceRow[];
  /** How many rows had a nonzero weight, when more than the rows listed. */
  more?: number;
}

/** The per-step detail of a trace event (RunOptions.traceDetail). */
export interface StepDetail {
  /** The memory position of the step (format/memory.ts timeOf; 0 without memory). */
  pos: number;
  /** Token globals entering the step (signed i32, token order). */
  globals: number[];
  /** Call depth entering the step. */
  depth: number;
  /** The next pc (the number of blocks: halt). */
  next: number;
  /** The trap code (format/errors.ts TrapCode), 0 for none. */
  trap: number;
  /** The bytes written with env.output_byte, in order (empty: none). */
  out: number[];
  /** Memory rows the step kept: [address, byte], in store order. */
  writes: Array<[number, number]>;
  /** Every lookup head of the step's block. */
  reads: TraceLookup[];
}

export const MAX_TRACE_ROWS = 16;

interface Tensorish {
  data: unknown;
  dims: readonly number[];
}

/** The write position of a cache or pending row (inverse of timeOf). */
function rowPosition(mem: MemoryLayout, rows: Float32Array, o: number): number {
  let epoch = 0;
  for (let j = 0; j < EPOCH_BITS; j++) epoch += Math.round(rows[o + mem.col.epoch + j]) * 2 ** j;
  return epoch * mem.ticksPerEpochSteps + Math.floor(Math.round(rows[o + mem.col.tick]) / mem.storeSlots);
}

function describeRow(mem: MemoryLayout, source: 'p' | 'c', index: number, w: number, rows: Float32Array, o: number): TraceRow {
  if (rows[o + mem.col.sink] > 0.5) return ['s', index, w, -1, 0, 0];
  return [source, index, w, rowAddress(mem, rows, o), Math.round(rows[o + mem.col.value]), rowPosition(mem, rows, o)];
}

/**
 * The lookups of batch row k in one step: `outputs` holds the trace outputs, `cache` the cache
 * tensor the step was fed ([R, N, F]).
 */
export function decodeLookups(L: ModelLayout, outputs: Record<string, Tensorish>, cache: Tensorish, k: number): TraceLookup[] {
  const mem = L.memory;
  if (!mem) return [];
  const F = mem.features;
  const K = headWidths(mem).keys; // a query's width
  const N = cache.dims[1];
  const cacheData = cache.data as Float32Array;
  const reads: TraceLookup[] = [];
  for (const a of L.attention) {
    const names = traceOutputNames(a.layer);
    const W = outputs[names.weights];
    const Q = outputs[names.queries];
    const P = a.pending ? outputs[names.pending] : undefined;
    if (!W || !Q || (a.pending && !P)) throw new RunError(`the model did not return the trace outputs of layer ${a.layer}`);
    const H = Q.dims[1];
    const Pn = P ? P.dims[1] : 0;
    const C = W.dims[2];
    if (W.dims[1] !== H || C !== Pn + N || Q.dims[2] !== K) throw new RunError(`layer ${a.layer}'s trace outputs have shapes [${W.dims.join(', ')}] and [${Q.dims.join(', ')}], expected [*, ${H}, ${Pn + N}] and [*, ${H}, ${K}]`);
    const w = W.data as Float32Array;
    const q = Q.data as Float32Array;
    const pend = P ? (P.data as Float32Array) : null;
    for (let h = 0; h < H; h++) {
      const qo = (k * H + h) * K;
      // a lookup query pushes pad rows to −2^60; a head an expert does not use (dense form) has a zero query
      if (!(q[qo + mem.col.pad] < 0)) continue;
      let addr = 0;
      for (let j = 0; j < mem.addrBits; j++) if (q[qo + mem.col.addr + j] > 0) addr += 2 ** j;
      const stage: 0 | 1 | 2 = mem.lookup === 'unique' ? 0 : q[qo + mem.col.tick] > 0 ? 2 : 1;
      let epoch = 0;
      if (stage === 2) for (let j = 0; j < EPOCH_BITS; j++) if (q[qo + mem.col.epoch + j] > 0) epoch += 2 ** j;
      const read: TraceLookup = stage === 2 ? { layer: a.layer, head: h, stage, addr, epoch, cols: C, pending: Pn, rows: [] } : { layer: a.layer, head: h, stage, addr, cols: C, pending: Pn, rows: [] };
      const wo = (k * H + h) * C;
      const hits: Array<[number, number]> = [];
      for (let c = 0; c < C; c++) if (w[wo + c] > 0) hits.push([c, w[wo + c]]);
      hits.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
      if (hits.length > MAX_TRACE_ROWS) read.more = hits.length;
      for (const [c, wt] of hits.slice(0, MAX_TRACE_ROWS)) {
        read.rows.push(c < Pn ? describeRow(mem, 'p', c, wt, pend!, (k * Pn + c) * F) : describeRow(mem, 'c', c - Pn, wt, cacheData, (k * N + c - Pn) * F));
      }
      reads.push(read);
    }
  }
  return reads;
}
