// runtime/transformer.ts — runs a compiled model step by step on ONNX Runtime.
//
// One step = one session.run = one forward pass over a batch of independent
// executions. Between steps the runtime only decodes the output token (the
// one-hot program counter, the trap flag, the argument limbs) and re-embeds
// it with the next position's time features, and appends the step's valid
// memory rows to each execution's KV cache. All program logic is in the
// model's weights.

import * as ort from 'onnxruntime-node';
import { RunError } from '../format/errors.js';
import type { ModelLayout } from '../backend/index.js';
import { entryRow, EPOCH_BITS, joinI32, padRow, sinkRow, timeOf, MemoryLayout } from '../backend/encoding.js';
import { inspectOnnx } from '../backend/emit_onnx.js';

export const TRAP_OOB = 'out of bounds memory access';
export const DEFAULT_MAX_STEPS = 1_000_000;

export interface Outcome {
  results: number[];
  steps: number;
  trap: string | null;
  /** With stopAtLimit: the state reached after maxSteps steps (next pc and its arguments). */
  truncated?: { pc: number; args: number[] };
}

export interface TraceEvent {
  row: number;
  step: number;
  pc: number;
  block: string;
  args: number[];
}

export interface StepRecord {
  feeds: Record<string, { data: Float32Array; dims: readonly number[] }>;
  outputs: Record<string, { data: Float32Array; dims: readonly number[] }>;
}

export interface RunOptions {
  maxSteps?: number;
  trace?: (ev: TraceEvent) => void;
  /** Receives every session.run's inputs and outputs (for cross-provider checks). */
  record?: (step: StepRecord) => void;
  /** At the step limit, report the state reached (Outcome.truncated) instead of throwing. */
  stopAtLimit?: boolean;
}

/**
 * One execution's memory: the KV-cache rows it has accumulated and its next position.
 *
 * Two cache-maintenance operations never change a result (DESIGN.md §5):
 *  - evict (opt-in): a row for an address that already has a row replaces it in place,
 *    since the newer write is the only one any lookup can select;
 *  - rebase: when the position reaches the end of the exact time range, superseded rows are
 *    dropped and the survivors re-stamped to time 0 (like data segments), position 1.
 */
export class MemoryState {
  rows: Float32Array;
  count: number;
  position: number;
  /** Rows written since the last BatchCache sync (all of them after a rebase). */
  dirtyRows: number[] = [];
  dirtyAll = true;
  private readonly byAddr: Map<number, number> | null;

  constructor(
    readonly F: number,
    init?: Float32Array[],
    readonly opts: { layout?: MemoryLayout | null; evict?: boolean } = {},
  ) {
    this.rows = new Float32Array(Math.max(16, (init?.length ?? 0) * 2) * Math.max(1, F));
    this.count = 0;
    this.position = 1;
    this.byAddr = opts.evict && opts.layout ? new Map() : null;
    for (const r of init ?? []) this.push(r);
  }

  push(row: ArrayLike<number>): void {
    const L = this.opts.layout;
    if (this.byAddr && L && row[L.col.sink] < 0.5) {
      const addr = rowAddress(L, row);
      const at = this.byAddr.get(addr);
      if (at !== undefined) {
        this.rows.set(row as Float32Array, at * this.F);
        this.dirtyRows.push(at);
        return;
      }
      this.byAddr.set(addr, this.count);
    }
    if ((this.count + 1) * this.F > this.rows.length) {
      const bigger = new Float32Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    this.rows.set(row as Float32Array, this.count * this.F);
    this.dirtyRows.push(this.count);
    this.count++;
  }

  /** Drops superseded rows and re-stamps the rest to time 0; the next step is position 1. */
  rebase(L: MemoryLayout): void {
    const image = decodeMemory(L, this);
    const fresh = new MemoryState(this.F, [sinkRow(L)], this.opts);
    image.forEach((b, addr) => {
      if (b !== 0) fresh.push(entryRow(L, addr, 0, 0, b));
    });
    this.rows = fresh.rows;
    this.count = fresh.count;
    this.position = 1;
    this.dirtyAll = true;
    if (this.byAddr && fresh.byAddr) {
      this.byAddr.clear();
      for (const [k, v] of fresh.byAddr) this.byAddr.set(k, v);
    }
  }

  clone(): MemoryState {
    const m = new MemoryState(this.F, [], this.opts);
    m.rows = this.rows.slice();
    m.count = this.count;
    m.position = this.position;
    if (this.byAddr && m.byAddr) for (const [k, v] of this.byAddr) m.byAddr.set(k, v);
    return m;
  }
}

function rowAddress(L: MemoryLayout, row: ArrayLike<number>): number {
  let addr = 0;
  for (let j = 0; j < L.addrBits; j++) addr += Math.round(row[L.col.addr + j]) * 2 ** j;
  return addr;
}

export function parseLayout(bytes: Uint8Array): ModelLayout {
  let info;
  try {
    info = inspectOnnx(bytes);
  } catch (e) {
    throw new RunError(`not an ONNX model: ${(e as Error).message}`);
  }
  const layout = info.layout as ModelLayout | null;
  if (!layout || layout.format !== 'wasmformer/1') throw new RunError('this ONNX model was not produced by wasmformer (no wasmformer.layout metadata)');
  return layout;
}

/** Initial cache rows: the sink row, then one row per non-zero data byte (later segments win). */
export function initialRows(mem: ModelLayout['memory']): Float32Array[] {
  if (!mem) return [];
  const image = new Map<number, number>();
  for (const seg of mem.data) {
    const bytes = Buffer.from(seg.base64, 'base64');
    bytes.forEach((b, i) => image.set(seg.offset + i, b));
  }
  const rows = [sinkRow(mem)];
  for (const [addr, b] of [...image.entries()].sort((x, y) => x[0] - y[0])) if (b !== 0) rows.push(entryRow(mem, addr, 0, 0, b));
  return rows;
}

/** Decodes a cache into memory bytes (latest write wins, replayed in order) — for reports and checks only. */
export function decodeMemory(mem: MemoryLayout, state: MemoryState): Uint8Array {
  const out = new Uint8Array(mem.memBytes);
  const F = mem.features;
  const order: Array<[number, number, number, number]> = [];
  for (let r = 0; r < state.count; r++) {
    const o = r * F;
    if (state.rows[o + mem.col.sink] > 0.5 || state.rows[o + mem.col.pad] > 0.5) continue;
    let addr = 0;
    for (let j = 0; j < mem.addrBits; j++) addr += Math.round(state.rows[o + mem.col.addr + j]) * 2 ** j;
    let epoch = 0;
    for (let j = 0; j < EPOCH_BITS; j++) epoch += Math.round(state.rows[o + mem.col.epoch + j]) << j;
    order.push([epoch, state.rows[o + mem.col.tick], addr, state.rows[o + mem.col.value]]);
  }
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [, , addr, v] of order) if (addr < out.length) out[addr] = Math.round(v);
  return out;
}

export class TransformerModel {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly layout: ModelLayout,
  ) {}

  static async load(bytes: Uint8Array, opts: { provider?: string } = {}): Promise<TransformerModel> {
    const layout = parseLayout(bytes);
    const provider = opts.provider ?? 'cpu';
    // TF32 tensor-core math rounds float32 matmul operands to 10-bit mantissas and breaks
    // exactness (measured on an H200, see bench/gpu/README.md). onnxruntime-node cannot pass
    // the CUDA provider's use_tf32 option, so disable TF32 process-wide unless the user chose.
    if (provider !== 'cpu') process.env.NVIDIA_TF32_OVERRIDE ??= '0';
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' });
    } catch (e) {
      throw new RunError(`ONNX Runtime could not load the model with provider '${provider}': ${(e as Error).message.split('\n')[0]}`);
    }
    return new TransformerModel(session, layout);
  }

  /** A fresh memory (data segments loaded); `evict` keeps one row per address (same results, less work). */
  newMemory(opts: { evict?: boolean } = {}): MemoryState {
    return new MemoryState(this.layout.memory?.features ?? 0, initialRows(this.layout.memory), { layout: this.layout.memory, evict: opts.evict });
  }

  entry(name: string) {
    const e = this.layout.entries.find((x) => x.name === name);
    if (!e) throw new RunError(`no export named '${name}' (exports: ${this.layout.entries.map((x) => x.name).join(', ') || 'none'})`);
    return e;
  }

  /** Runs one export on a batch of argument tuples, each with its own memory (mutated). */
  async runBatch(name: string, argsList: number[][], memories: MemoryState[], opts: RunOptions = {}): Promise<Outcome[]> {
    const L = this.layout;
    const e = this.entry(name);
    const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
    const B = argsList.length;
    for (const a of argsList) if (a.length !== e.params) throw new RunError(`export '${name}' takes ${e.params} arguments, got ${a.length}`);
    const mem = L.memory;
    const F = mem?.features ?? 0;
    const pcs = new Array<number>(B).fill(e.pc);
    const args = argsList.map((a) => [...a.map((x) => x | 0), ...new Array(L.maxArgs - a.length).fill(0)]);
    const steps = new Array<number>(B).fill(0);
    const outcomes: Array<Outcome | null> = new Array(B).fill(null);
    // Only running executions are in the batch: a finished row leaves it (and the cache tensor
    // is rebuilt once for the smaller batch), so long runs don't drag finished ones along.
    let live = argsList.map((_, b) => b);
    let token = new Float32Array(0);
    let tokenTensor: ort.Tensor | null = null;
    let cache: BatchCache | null = null;
    for (const m of memories) m.dirtyAll = true;
    while (live.length > 0) {
      const R = live.length;
      if (!tokenTensor || tokenTensor.dims[0] !== R) {
        token = new Float32Array(R * L.tokenIn.width);
        tokenTensor = new ort.Tensor('float32', token, [R, L.tokenIn.width]); // refilled in place each step
        cache = mem ? new BatchCache(F, padRow(mem)) : null;
        for (const b of live) if (memories[b]) memories[b].dirtyAll = true;
      }
      token.fill(0);
      live.forEach((b, k) => {
        const o = k * L.tokenIn.width;
        token[o + L.tokenIn.gates + pcs[b]] = 1;
        for (let i = 0; i < L.maxArgs; i++) {
          const u = args[b][i] >>> 0;
          token[o + L.tokenIn.args + 2 * i] = u & 0xffff;
          token[o + L.tokenIn.args + 2 * i + 1] = u >>> 16;
        }
        if (mem) {
          if (memories[b].position > mem.maxSteps) memories[b].rebase(mem);
          const t = timeOf(mem, memories[b].position);
          for (let j = 0; j < EPOCH_BITS; j++) token[o + L.tokenIn.epoch + j] = (t.epoch >>> j) & 1;
          token[o + L.tokenIn.tick] = t.tickBase;
        }
      });
      const feeds: Record<string, ort.Tensor> = { token: tokenTensor };
      if (cache) feeds.cache = cache.tensor(live.map((b) => memories[b]));
      const out = await this.session.run(feeds);
      if (opts.record) {
        const copy = (t: ort.Tensor) => ({ data: (t.data as Float32Array).slice(), dims: t.dims });
        opts.record({
          feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, copy(t)])),
          outputs: Object.fromEntries(Object.entries(out).map(([k, t]) => [k, copy(t)])),
        });
      }
      const next = out['readout.next'].data as Float32Array;
      const entries = mem && L.storePorts > 0 ? (out['readout.entries'].data as Float32Array) : null;
      live.forEach((b, k) => {
        steps[b]++;
        if (opts.trace) {
          const blk = L.blocks[pcs[b]];
          opts.trace({ row: b, step: steps[b], pc: pcs[b], block: `${blk.func}:block${blk.block}`, args: args[b].slice(0, blk.params) });
        }
        const o = k * L.tokenOut.width;
        let pc = -1;
        for (let t = 0; t <= L.haltPc; t++) if (next[o + L.tokenOut.pc + t] > 0.5) pc = t;
        const trapped = next[o + L.tokenOut.trap] > 0.5;
        for (let i = 0; i < L.maxArgs; i++) args[b][i] = joinI32(next[o + L.tokenOut.args + 2 * i], next[o + L.tokenOut.args + 2 * i + 1]);
        if (mem && entries) {
          const m = memories[b];
          for (let p = 0; p < L.storePorts; p++) {
            const r = (k * L.storePorts + p) * F;
            if (entries[r + mem.col.pad] < 0.5) m.push(entries.subarray(r, r + F));
          }
          m.position++;
        }
        if (trapped) {
          outcomes[b] = { results: [], steps: steps[b], trap: TRAP_OOB };
        } else if (pc === L.haltPc) {
          outcomes[b] = { results: args[b].slice(0, e.results), steps: steps[b], trap: null };
        } else if (pc < 0) {
          throw new RunError(`internal error: the model produced no program counter at step ${steps[b]}`);
        } else if (steps[b] >= maxSteps) {
          if (!opts.stopAtLimit) throw new RunError(`step limit exceeded (${maxSteps} steps)`);
          outcomes[b] = { results: [], steps: steps[b], trap: null, truncated: { pc, args: args[b].slice(0, L.blocks[pc].params) } };
        } else {
          pcs[b] = pc;
        }
      });
      live = live.filter((b) => !outcomes[b]);
    }
    return outcomes as Outcome[];
  }
}

/**
 * The [B, rows, F] cache tensor of a batch, kept between steps: only rows written since
 * the last step are copied in (rows = a power of two >= the longest cache; the rest of each
 * execution's block holds pad rows, which never win a lookup).
 */
class BatchCache {
  private buf = new Float32Array(0);
  private rows = 0;
  constructor(
    private readonly F: number,
    private readonly pad: Float32Array,
  ) {}

  tensor(memories: MemoryState[]): ort.Tensor {
    const B = memories.length;
    const F = this.F;
    const need = nextPow2(Math.max(1, ...memories.map((m) => m.count)));
    const rebuild = need !== this.rows;
    if (rebuild) {
      this.rows = need;
      this.buf = new Float32Array(B * need * F);
    }
    memories.forEach((m, b) => {
      const base = b * this.rows * F;
      if (rebuild || m.dirtyAll) {
        this.buf.set(m.rows.subarray(0, m.count * F), base);
        for (let r = m.count; r < this.rows; r++) this.buf.set(this.pad, base + r * F);
      } else {
        for (const r of m.dirtyRows) this.buf.set(m.rows.subarray(r * F, (r + 1) * F), base + r * F);
      }
      m.dirtyRows = [];
      m.dirtyAll = false;
    });
    return new ort.Tensor('float32', this.buf, [B, this.rows, F]);
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A live module: exports share one memory across calls, like a WebAssembly instance. */
export class TransformerInstance {
  private constructor(
    readonly model: TransformerModel,
    private mem: MemoryState,
  ) {}

  static async create(onnxBytes: Uint8Array, opts: { provider?: string; evict?: boolean } = {}): Promise<TransformerInstance> {
    const model = await TransformerModel.load(onnxBytes, opts);
    return new TransformerInstance(model, model.newMemory({ evict: opts.evict }));
  }

  get exports(): string[] {
    return this.model.layout.entries.map((e) => e.name);
  }

  async invoke(name: string, args: number[], opts: RunOptions = {}): Promise<Outcome> {
    const [o] = await this.model.runBatch(name, [args], [this.mem], opts);
    return o;
  }

  /** Current memory contents (decoded from the cache; empty without memory). */
  memory(): Uint8Array {
    const mem = this.model.layout.memory;
    return mem ? decodeMemory(mem, this.mem) : new Uint8Array(0);
  }
}
