// runtime/core.ts — runs a compiled model step by step on ONNX Runtime (any binding).
//
// One step = one session.run = one forward pass over a batch of independent executions.
// Between steps the runtime only decodes the output token (next pc, trap code, argument
// limbs: format/token.ts), re-embeds it with the next position's time features, feeds the
// pc that routes the next step to its expert, and appends the step's valid memory rows to
// each execution's KV cache. All program logic is in the model's weights. This file imports
// only the model format (format/) and ONNX Runtime's common types: the binding itself
// (onnxruntime-node, onnxruntime-web) is a parameter (`ort` in the load options) or the
// default set with useOnnxRuntime; runtime/transformer.ts sets onnxruntime-node's for Node.

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { RunError, TrapCode, trapMessage } from '../format/errors.js';
import { exitDepths, graphOutputs, stepOutputNames, tokenShape, traceOutputs, type ModelLayout } from '../format/layout.js';
import { cutModel, readModelFile, type ModelFileInfo } from '../format/model_file.js';
import { CACHE_KEYS, CACHE_VALUES, decodeRows, entryRow, headWidths, keepsRow, putCacheRow, initialRows as layoutRows, MemoryLayout, padRow, rowAddress, sinkRow, timeOf, type HeadWidths } from '../format/memory.js';
import { decodeToken, encodeToken, type StepState } from '../format/token.js';
import { HEAP_BASE_EXPORT } from '../format/io.js';
import { decodeLookups, type StepDetail } from './trace.js';

export type { StepDetail, TraceLookup, TraceRow } from './trace.js';

/** What the runtime needs of an ONNX Runtime binding (onnxruntime-node and onnxruntime-web both are one). */
export interface OrtBinding {
  readonly InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  readonly Tensor: typeof Tensor;
}

let defaultBinding: OrtBinding | null = null;

/** Sets the binding that loads use when their options give none. */
export function useOnnxRuntime(binding: OrtBinding): void {
  defaultBinding = binding;
}

function bindingOf(given: OrtBinding | undefined): OrtBinding {
  const b = given ?? defaultBinding;
  if (!b) throw new RunError("no ONNX Runtime binding: pass { ort } (e.g. import * as ort from 'onnxruntime-web') or call useOnnxRuntime(ort) first");
  return b;
}

/** Options for loading a model. */
export interface LoadOptions {
  /** Execution provider (default 'cpu'; onnxruntime-web: 'wasm' or 'webgpu'). */
  provider?: string;
  /** The ONNX Runtime binding (default: the one set with useOnnxRuntime). */
  ort?: OrtBinding;
  /**
   * Run a step whose expert needs fewer layers on the graph cut at its exit (default true; one
   * more session per exit depth the run reaches: the model's exits, at most 6 in models over
   * 4 MiB of entries, backend/index.ts maxExits). false: every step runs every layer.
   */
  earlyExit?: boolean;
  /**
   * Pinned sessions (routed models): a session per hot program counter, made on the graph with
   * `pc` a constant, the routing it selects (every bound, slice and reshape) folded away
   * (format/fold.ts), so a step runs only the nodes on the data (the same outputs, bit for bit). 'auto'
   * (default) pins a pc once its steps have taken about as long as making a pinned session takes
   * (measured), so short runs never pay for it; 'always' pins every pc before its first step; 'never'.
   */
  pin?: PinPolicy;
}

export type PinPolicy = 'auto' | 'always' | 'never';

/**
 * Pinned sessions serve groups of at most this many executions: what pinning saves is per-node
 * overhead, which a large batch shares anyway, and each session's memory arena grows to the
 * largest batch it ran (sudoku at B = 1024 with a session per pc ran out of 24 GiB).
 */
const PIN_MAX_ROWS = 64;
/**
 * At most this many pinned sessions per model, fewer for a large model (a budget of about 1 GiB
 * of model bytes: each holds its expert's weights and its own buffers); later pcs run on the
 * routed graph.
 */
function maxPinned(modelBytes: number): number {
  return Math.max(8, Math.min(64, Math.floor(2 ** 30 / Math.max(1, modelBytes))));
}

export const TRAP_OOB = trapMessage(TrapCode.OutOfBounds);
export const DEFAULT_MAX_STEPS = 1_000_000;

export interface Outcome {
  results: number[];
  steps: number;
  /** The trap message (format/errors.ts), or null. */
  trap: string | null;
  trapCode?: TrapCode;
  /** With stopAtLimit: the state reached after maxSteps steps (next pc and its arguments). */
  truncated?: { pc: number; args: number[] };
  /** Bytes the program wrote with env.output_byte, in order (empty when it writes none). */
  output: Uint8Array;
}

export interface TraceEvent {
  row: number;
  step: number;
  pc: number;
  block: string;
  args: number[];
  /** With RunOptions.traceDetail: what the step did (runtime/trace.ts). */
  detail?: StepDetail;
}

export interface StepRecord {
  feeds: Record<string, { data: Float32Array | BigInt64Array; dims: readonly number[] }>;
  outputs: Record<string, { data: Float32Array; dims: readonly number[] }>;
}

export interface RunOptions {
  maxSteps?: number;
  trace?: (ev: TraceEvent) => void;
  /**
   * Give trace events their detail: globals, next pc, trap, output, memory writes and every lookup
   * head's reads and attention weights (fetches the model's trace outputs, format/layout.ts).
   */
  traceDetail?: boolean;
  /** Receives every session.run's inputs and outputs (for cross-provider checks). */
  record?: (step: StepRecord) => void;
  /** At the step limit, report the state reached (Outcome.truncated) instead of throwing. */
  stopAtLimit?: boolean;
  /** Output past this many bytes stops the run with a RunError (default 1 MiB). */
  maxOutputBytes?: number;
  /** Receives each output byte as it is written (row, byte), e.g. to print while running. */
  onOutput?: (row: number, byte: number) => void;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 1 << 20;

/** A MemoryState as plain data (MemoryState.snapshot / restore). */
export interface MemorySnapshot {
  globals: number[];
  pagesSlot: number | null;
  rows: Float32Array;
  count: number;
  position: number;
  byAddr: Array<[number, number]> | null;
}

/**
 * One execution's memory: the KV-cache rows it has accumulated and its next position.
 *
 * Two cache-maintenance operations never change a result (DESIGN.md §5):
 *  - evict (the default, and required by 'unique' lookups, format/memory.ts LookupKind): a row
 *    for an address that already has a row replaces it in place, since the newer write is the
 *    only one any lookup can select;
 *  - rebase: when the position reaches the end of the exact time range, superseded rows are
 *    dropped and the survivors re-stamped to time 0 (like data segments), position 1.
 */
export class MemoryState {
  /** The instance's token globals (signed i32, token order): state that persists like memory. */
  globals: number[] = [];
  /** With memory.grow: which of `globals` is the current page count. */
  pagesSlot: number | null = null;
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
    if (opts.evict === false && opts.layout?.lookup === 'unique') {
      throw new RunError("this model's lookups read one cache row per address, so its cache always evicts superseded rows (compile with --lookup timed for a model that can keep them)");
    }
    this.rows = new Float32Array(Math.max(16, (init?.length ?? 0) * 2) * Math.max(1, F));
    this.count = 0;
    this.position = 1;
    this.byAddr = (opts.evict ?? true) && opts.layout ? new Map() : null;
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
    const image = decodeRows(L, this.rows, this.count);
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

  /** Linear memory's current size in bytes (the page count with memory.grow). */
  sizeBytes(L: MemoryLayout): number {
    return this.pagesSlot === null ? L.memBytes : this.globals[this.pagesSlot] * 65536;
  }

  /**
   * Writes bytes into linear memory from outside the program (the input, before a call): one
   * cache row per byte at the next position, as if one step had stored them.
   */
  write(L: MemoryLayout, addr: number, bytes: Uint8Array): void {
    const size = this.sizeBytes(L);
    if (!Number.isInteger(addr) || addr < 0 || addr + bytes.length > size) {
      throw new RunError(`${bytes.length} bytes at address ${addr} do not fit in linear memory of ${size} bytes`);
    }
    if (this.position > L.maxSteps) this.rebase(L);
    const { epoch, tickBase } = timeOf(L, this.position);
    bytes.forEach((b, j) => this.push(entryRow(L, addr + j, epoch, tickBase, b)));
    this.position++;
  }

  /** Everything this state holds, as structured-cloneable data (to hand it to a worker and back, runtime/parallel.ts). */
  snapshot(): MemorySnapshot {
    return {
      globals: [...this.globals],
      pagesSlot: this.pagesSlot,
      rows: this.rows.slice(0, this.count * this.F),
      count: this.count,
      position: this.position,
      byAddr: this.byAddr ? [...this.byAddr] : null,
    };
  }

  /** Takes over a snapshot's contents (of a state made with the same layout and evict option). */
  restore(s: MemorySnapshot): void {
    if ((s.byAddr !== null) !== (this.byAddr !== null)) throw new RunError('memory snapshot: evict option differs');
    this.globals = [...s.globals];
    this.pagesSlot = s.pagesSlot;
    this.rows = new Float32Array(Math.max(16 * Math.max(1, this.F), 2 * s.rows.length));
    this.rows.set(s.rows);
    this.count = s.count;
    this.position = s.position;
    this.dirtyRows = [];
    this.dirtyAll = true;
    if (this.byAddr && s.byAddr) {
      this.byAddr.clear();
      for (const [k, v] of s.byAddr) this.byAddr.set(k, v);
    }
  }

  clone(): MemoryState {
    const m = new MemoryState(this.F, [], this.opts);
    m.globals = [...this.globals];
    m.pagesSlot = this.pagesSlot;
    m.rows = this.rows.slice();
    m.count = this.count;
    m.position = this.position;
    if (this.byAddr && m.byAddr) for (const [k, v] of this.byAddr) m.byAddr.set(k, v);
    return m;
  }
}

/** Initial cache rows of a model's memory (sink, then data bytes). */
export function initialRows(mem: ModelLayout['memory']): Float32Array[] {
  return mem ? layoutRows(mem, mem.data) : [];
}

/** Decodes a cache into memory bytes (latest write wins; the current size) — for reports and checks only. */
export function decodeMemory(mem: MemoryLayout, state: MemoryState): Uint8Array {
  const all = decodeRows(mem, state.rows, state.count);
  return state.pagesSlot === null ? all : all.slice(0, state.globals[state.pagesSlot] * 65536);
}

/** The graph's inputs, outputs and expert tables must have the sizes the layout promises. */
function checkShapes(info: ModelFileInfo): void {
  const L = info.layout;
  const F = L.memory?.features ?? 0;
  const outs = graphOutputs(L);
  const w = L.memory ? headWidths(L.memory) : null;
  if (outs.join() !== info.outputs.join()) throw new RunError(`model outputs are [${info.outputs.join(', ')}], expected [${outs.join(', ')}] for its layout`);
  const want: Record<string, Array<number | null>> = {
    token: [null, L.tokenIn.width],
    'readout.next': [null, L.tokenOut.width],
    ...(L.routing === 'onehot' ? { route: [null, L.experts.length] } : { pc: [1] }),
    ...(w ? { [CACHE_KEYS]: [null, w.keys, null], [CACHE_VALUES]: [null, null, w.valueEnd - w.valueStart] } : {}),
  };
  for (const d of [null, ...exitDepths(L)]) {
    const n = stepOutputNames(L, d);
    want[n.next] = [null, L.tokenOut.width];
    if (n.entries !== null) want[n.entries] = [null, L.storePorts, F];
  }
  for (const t of traceOutputs(L)) want[t] = [null, null, null];
  for (const [name, dims] of Object.entries(want)) {
    const got = info.shapes[name] ?? [];
    const ok = got.length === dims.length && dims.every((d, i) => d === null || got[i] === d);
    if (!ok) throw new RunError(`model ${name} has shape [${got.join(', ')}], expected [${dims.map((d) => d ?? '*').join(', ')}] for its layout`);
  }
  const bad = info.expertRows.find((n) => n !== L.experts.length);
  if (bad !== undefined) throw new RunError(`model expert tables have ${bad} rows, but its layout lists ${L.experts.length} experts`);
}

type StepSession = { session: InferenceSession; inputs: Set<string> };

export class TransformerModel {
  /** Sessions on the graph cut at each exit depth (format/layout.ts `exit`), made on first use. */
  private readonly exits = new Map<number, Promise<StepSession>>();
  /** Sessions pinned at one pc, each cut at that expert's exit (LoadOptions.pin). */
  private readonly pinned = new Map<number, Promise<StepSession>>();
  /** What making each pinned session cost (ms, in the order they were made). */
  private readonly pinCosts: number[] = [];
  /** Milliseconds the steps at each not yet pinned pc have spent in session.run. */
  private readonly spentAt = new Map<number, number>();

  private constructor(
    readonly session: InferenceSession,
    readonly layout: ModelLayout,
    readonly ort: OrtBinding,
    private readonly bytes: Uint8Array,
    private readonly sessionOptions: InferenceSession.SessionOptions,
    private readonly earlyExit: boolean,
    private readonly pin: PinPolicy,
    /**
     * What a pc's steps may spend before 'auto' pins it: what making a pinned session costs, the
     * mean of those made so far but the first (at first a quarter of what loading the model took:
     * a pinned graph holds one expert's weights).
     */
    private pinAfterMs: number,
  ) {
    this.whole = Promise.resolve({ session, inputs: new Set(session.inputNames) });
  }

  /** The whole-depth session (made once: sessionAt runs every step). */
  private readonly whole: Promise<StepSession>;

  /** The last session being made: the next waits for it (onnxruntime-web's WebGPU makes one at a time). */
  private making: Promise<unknown> = Promise.resolve();

  /**
   * A session made after every one asked for before it (a pinned one is made while steps run),
   * and the milliseconds making it took (not counting the wait for those before it).
   */
  private createSession(bytes: Uint8Array, options: InferenceSession.SessionOptions): Promise<{ session: InferenceSession; ms: number }> {
    const s = this.making.then(async () => {
      const t0 = performance.now();
      const session = await this.ort.InferenceSession.create(bytes, options);
      return { session, ms: performance.now() - t0 };
    });
    this.making = s.catch(() => undefined);
    return s;
  }

  /** The program counters that have a pinned session (made or being made), ascending. */
  pinnedPcs(): number[] {
    return [...this.pinned.keys()].sort((a, b) => a - b);
  }

  /** The session pinned at pc (cut at its exit), made now if it is not yet. */
  private pinnedAt(pc: number, exit: number | null): Promise<StepSession> {
    let s = this.pinned.get(pc);
    if (!s) {
      const t0 = performance.now();
      const n = stepOutputNames(this.layout, exit);
      const cut = cutModel(this.bytes, [n.next, ...(n.entries !== null ? [n.entries] : [])], { pc });
      const cutMs = performance.now() - t0;
      // no memory arena: it would keep each session's largest step's buffers (PIN_MAX_ROWS)
      s = this.createSession(cut.bytes, { ...this.sessionOptions, enableCpuMemArena: false }).then(
        ({ session, ms }) => {
          // what this pin cost: cutting and making it, not waiting for the sessions made before it;
          // the first also reads the model's tables once for all (format/fold.ts), and its pc is
          // the hottest, often the largest: the estimate stays the load-time guess until later
          // ones are measured, then is their mean
          this.pinCosts.push(cutMs + ms);
          const later = this.pinCosts.slice(1);
          if (later.length > 0) this.pinAfterMs = later.reduce((a, b) => a + b, 0) / later.length;
          return { session, inputs: new Set(cut.inputs) };
        },
        (e: unknown) => { throw new RunError(`ONNX Runtime could not load the model pinned at pc ${pc}: ${(e as Error).message.split('\n')[0]}`); },
      );
      this.pinned.set(pc, s);
      this.spentAt.delete(pc);
    }
    return s;
  }

  /** The session a step at depth `exit` runs on (null: the whole graph) and the inputs it takes. */
  private sessionAt(exit: number | null): Promise<{ session: InferenceSession; inputs: Set<string> }> {
    if (exit === null) return this.whole;
    let s = this.exits.get(exit);
    if (!s) {
      const n = stepOutputNames(this.layout, exit);
      const cut = cutModel(this.bytes, [n.next, ...(n.entries !== null ? [n.entries] : [])]);
      s = this.createSession(cut.bytes, this.sessionOptions).then(
        ({ session }) => ({ session, inputs: new Set(cut.inputs) }),
        (e: unknown) => { throw new RunError(`ONNX Runtime could not load the model cut at exit ${exit}: ${(e as Error).message.split('\n')[0]}`); },
      );
      this.exits.set(exit, s);
    }
    return s;
  }

  static async load(bytes: Uint8Array, opts: LoadOptions = {}): Promise<TransformerModel> {
    const ort = bindingOf(opts.ort);
    const info = readModelFile(bytes);
    const { layout, inputs } = info;
    const want = [layout.routing === 'gather' ? 'pc' : 'route', 'token', ...(layout.memory ? [CACHE_KEYS, CACHE_VALUES] : [])];
    if (want.join() !== inputs.join()) throw new RunError(`model inputs are [${inputs.join(', ')}], expected [${want.join(', ')}] for its layout`);
    checkShapes(info);
    const provider = opts.provider ?? 'cpu';
    // TF32 tensor-core math rounds float32 matmul operands to 10-bit mantissas and breaks
    // exactness (measured on an H200, see bench/gpu/README.md). onnxruntime-node cannot pass
    // the CUDA provider's use_tf32 option, so disable TF32 process-wide unless the user chose.
    if (provider !== 'cpu' && typeof process !== 'undefined' && process.env) process.env.NVIDIA_TF32_OVERRIDE ??= '0';
    let session: InferenceSession;
    // One intra-op thread: at batch 1 a step is many tiny kernels, and a second thread
    // only adds synchronisation (measured 1.5-2x slower, README "Performance").
    const sessionOptions: InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      // one intra-op thread, always: with two, steps came out wrong (collatz at B = 1024: 20 of
      // its first 60 steps differ from one thread's; DESIGN.md §8), most likely ScatterND's
      // reduction splitting the updates of one target row across threads
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    };
    // ONNX Runtime runs every node whatever is fetched: the whole-depth session leaves out the
    // exits' readouts (it keeps the full readout and the trace outputs)
    const full = stepOutputNames(layout, null);
    const main = exitDepths(layout).length === 0 ? bytes
      : cutModel(bytes, [full.next, ...(full.entries !== null ? [full.entries] : []), ...traceOutputs(layout)]).bytes;
    const t0 = performance.now();
    try {
      session = await ort.InferenceSession.create(main, sessionOptions);
    } catch (e) {
      throw new RunError(`ONNX Runtime could not load the model with provider '${provider}': ${(e as Error).message.split('\n')[0]}`);
    }
    const pin = layout.routing === 'gather' ? opts.pin ?? 'auto' : 'never';
    return new TransformerModel(session, layout, ort, bytes, sessionOptions, opts.earlyExit ?? true, pin, (performance.now() - t0) / 4);
  }

  /** A fresh memory (data segments loaded); evict (default true) keeps one row per address. */
  newMemory(opts: { evict?: boolean } = {}): MemoryState {
    const m = new MemoryState(this.layout.memory?.features ?? 0, initialRows(this.layout.memory), { layout: this.layout.memory, evict: opts.evict ?? true });
    m.globals = this.layout.globals.filter((g) => g.mutable).map((g) => g.init);
    if (this.layout.grow) {
      m.globals.push(this.layout.grow.initialPages);
      m.pagesSlot = this.layout.grow.slot;
    }
    return m;
  }

  /** The default input address (format/io.ts): the exported global __heap_base, or null. */
  inputAddress(): number | null {
    const g = this.layout.globals.find((x) => x.name === HEAP_BASE_EXPORT);
    return g ? g.init >>> 0 : null;
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
    const E = L.experts.length;
    const halt = E;
    const routed = L.routing === 'gather';
    const shape = tokenShape(L);
    const pcs = new Array<number>(B).fill(e.pc);
    const states: StepState[] = argsList.map((a, b) => ({
      args: [...a.map((x) => x | 0), ...new Array(L.maxArgs - a.length).fill(0)],
      globals: memories[b] ? memories[b].globals : [],
      depth: 0,
    }));
    const steps = new Array<number>(B).fill(0);
    const written: number[][] = argsList.map(() => []);
    const maxOut = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const outcomes: Array<Outcome | null> = new Array(B).fill(null);
    // Only running executions are in the batch: a finished row leaves it, so long runs don't
    // drag finished ones along. A routed model takes one pc per run: the executions at the
    // same pc run together (the most populous pc first, so stragglers catch up and rows
    // re-converge), as an MoE layer dispatches the tokens routed to one expert.
    let live = argsList.map((_, b) => b);
    let token = new Float32Array(0);
    let route = new Float32Array(0);
    const pcIn = new BigInt64Array(1);
    const ort = this.ort;
    let feeds: Record<string, Tensor> = {};
    let cache: BatchCache | null = null;
    let last: number[] = [];
    for (const m of memories) if (m) m.dirtyAll = true;
    // ONNX Runtime computes and returns only the outputs asked for: the trace outputs only with traceDetail
    const detail = !!(opts.trace && opts.traceDetail);
    while (live.length > 0) {
      const group = routed ? mostPopulousPc(live, pcs) : live;
      const R = group.length;
      if (!feeds.token || feeds.token.dims[0] !== R) {
        token = new Float32Array(R * L.tokenIn.width);
        feeds = { token: new ort.Tensor('float32', token, [R, L.tokenIn.width]) }; // refilled in place each step
        if (routed) feeds.pc = new ort.Tensor('int64', pcIn, [1]);
        else {
          route = new Float32Array(R * E);
          feeds.route = new ort.Tensor('float32', route, [R, E]);
        }
        cache = mem ? new BatchCache(ort, F, padRow(mem), headWidths(mem)) : null;
      }
      if (group.length !== last.length || group.some((b, k) => last[k] !== b)) for (const b of group) if (memories[b]) memories[b].dirtyAll = true;
      last = group;
      if (routed) pcIn[0] = BigInt(pcs[group[0]]);
      else route.fill(0);
      group.forEach((b, k) => {
        if (!routed) route[k * E + pcs[b]] = 1;
        let time = null;
        if (mem) {
          if (memories[b].position > mem.maxSteps) memories[b].rebase(mem);
          time = timeOf(mem, memories[b].position);
        }
        encodeToken(L.tokenIn, shape, token, k * L.tokenIn.width, states[b], time);
      });
      if (cache) Object.assign(feeds, cache.tensors(group.map((b) => memories[b])));
      // a traced step runs every layer (its lookups are fetched); else its expert's exit, if any
      const exit = routed && !detail && this.earlyExit ? L.experts[pcs[group[0]]]?.exit ?? null : null;
      const names = stepOutputNames(L, exit);
      const fetches = [names.next, ...(names.entries !== null ? [names.entries] : []), ...(detail ? traceOutputs(L) : [])];
      // a traced step with detail runs the whole graph; others their pc's pinned session, once it has one
      const pc = pcs[group[0]];
      const pinnable = this.pin !== 'never' && !detail && R <= PIN_MAX_ROWS && (this.pinned.has(pc) || this.pinned.size < maxPinned(this.bytes.length));
      const pinned = pinnable && (this.pin === 'always' || this.pinned.has(pc));
      const at = await (pinned ? this.pinnedAt(pc, exit) : this.sessionAt(exit));
      const runFeeds = exit === null && !pinned ? feeds : Object.fromEntries(Object.entries(feeds).filter(([k]) => at.inputs.has(k)));
      const t0 = pinnable && !pinned ? performance.now() : 0;
      const out = await at.session.run(runFeeds, fetches);
      if (pinnable && !pinned) {
        // ski rental: pin once the steps here cost what pinning costs (pinAfterMs). A pc's first
        // step is not counted: a session's first runs are slow (its buffers are allocated)
        const before = this.spentAt.get(pc);
        const spent = before === undefined ? 0 : before + performance.now() - t0;
        this.spentAt.set(pc, spent);
        if (spent >= this.pinAfterMs) this.pinnedAt(pc, exit).catch(() => {}); // a failure surfaces at its next step
      }
      if (opts.record) {
        // recorded under the full-depth names: an exit's outputs equal them (format/layout.ts)
        const full = stepOutputNames(L, null);
        const rename = (k: string): string => (k === names.next ? full.next : k === names.entries ? full.entries ?? k : k);
        const copy = (t: Tensor) => ({ data: (t.data as Float32Array).slice(), dims: t.dims });
        opts.record({
          feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { data: (t.data as Float32Array | BigInt64Array).slice(), dims: t.dims }])),
          outputs: Object.fromEntries(Object.entries(out).map(([k, t]) => [rename(k), copy(t)])),
        });
      }
      const next = out[names.next].data as Float32Array;
      const entries = names.entries !== null && mem ? (out[names.entries].data as Float32Array) : null;
      group.forEach((b, k) => {
        steps[b]++;
        const blk = L.experts[pcs[b]];
        const ev: TraceEvent | null = opts.trace ? { row: b, step: steps[b], pc: pcs[b], block: `${blk.func}:block${blk.block}`, args: states[b].args.slice(0, blk.params) } : null;
        const globalsIn = detail ? states[b].globals.slice() : [];
        const depthIn = states[b].depth;
        const tok = decodeToken(L.tokenOut, shape, next, k * L.tokenOut.width, states[b]);
        const writes: Array<[number, number]> = [];
        if (mem && entries) {
          const m = memories[b];
          for (let p = 0; p < L.storePorts; p++) {
            const r = (k * L.storePorts + p) * F;
            if (keepsRow(mem, entries, r)) {
              entries[r + mem.col.pad] = 0; // KEEP → pad (format/memory.ts)
              if (detail) writes.push([rowAddress(mem, entries, r), Math.round(entries[r + mem.col.value])]);
              m.push(entries.subarray(r, r + F));
            }
          }
        }
        if (ev) {
          if (detail) {
            ev.detail = {
              pos: mem ? memories[b].position : 0,
              globals: globalsIn,
              depth: depthIn,
              next: tok.pc,
              trap: tok.trap,
              out: tok.out,
              writes,
              reads: mem && cache ? decodeLookups(L, out, cache.rowsTensor(), k) : [],
            };
          }
          opts.trace!(ev);
        }
        if (mem) memories[b].position++;
        // the model zeroes the byte of a step that trapped before writing it (lower_block.ts outputOf)
        for (const byte of tok.out) {
          if (!(byte >= 0 && byte <= 255)) throw new RunError(`the model produced an invalid output byte ${byte} at step ${steps[b]}`);
          if (written[b].length >= maxOut) throw new RunError(`output limit exceeded (${maxOut} bytes)`);
          written[b].push(byte);
          opts.onOutput?.(b, byte);
        }
        const output = () => Uint8Array.from(written[b]);
        if (tok.trap !== 0) {
          if (!(tok.trap in TrapCode)) throw new RunError(`the model produced an unknown trap code ${tok.trap} at step ${steps[b]}`);
          const code = tok.trap as TrapCode;
          outcomes[b] = { results: [], steps: steps[b], trap: trapMessage(code), trapCode: code, output: output() };
        } else if (tok.pc === halt) {
          outcomes[b] = { results: states[b].args.slice(0, e.results), steps: steps[b], trap: null, output: output() };
        } else if (!(tok.pc >= 0 && tok.pc < E)) {
          throw new RunError(`the model produced an invalid program counter ${tok.pc} at step ${steps[b]}`);
        } else if (steps[b] >= maxSteps) {
          if (!opts.stopAtLimit) throw new RunError(`step limit exceeded (${maxSteps} steps)`);
          outcomes[b] = { results: [], steps: steps[b], trap: null, truncated: { pc: tok.pc, args: states[b].args.slice(0, L.experts[tok.pc].params) }, output: output() };
        } else {
          pcs[b] = tok.pc;
        }
      });
      live = live.filter((b) => !outcomes[b]);
    }
    return outcomes as Outcome[];
  }
}

/** The executions at the pc most of them are at (the lowest such pc on a tie). */
function mostPopulousPc(live: readonly number[], pcs: readonly number[]): number[] {
  if (live.length === 1) return [live[0]];
  const count = new Map<number, number>();
  let best = -1;
  let bestN = 0;
  for (const b of live) {
    const n = (count.get(pcs[b]) ?? 0) + 1;
    count.set(pcs[b], n);
    if (n > bestN || (n === bestN && pcs[b] < best)) (best = pcs[b]), (bestN = n);
  }
  return live.filter((b) => pcs[b] === best);
}

/**
 * The cache inputs of a batch (format/memory.ts CACHE_KEYS, CACHE_VALUES), kept between steps:
 * the rows' keys transposed, [B, K, rows], and their values, [B, rows, V], beside the rows
 * themselves, [B, rows, F] (what a trace reads). rows covers the longest cache in the batch with
 * an eighth to spare (shorter ones are filled with pad rows, which never win a lookup), so a
 * growing cache is re-laid out only when it outgrows that, not on every new row; meanwhile only
 * rows written since the last step are copied in.
 */
class BatchCache {
  private buf = new Float32Array(0);
  private keys = new Float32Array(0);
  private values = new Float32Array(0);
  private rows = -1;
  private B = 0;
  private feeds: Record<string, Tensor> = {};
  private all: Tensor | null = null;
  private readonly K: number;
  private readonly V: number;
  constructor(
    private readonly ort: OrtBinding,
    private readonly F: number,
    private readonly pad: Float32Array,
    private readonly widths: HeadWidths,
  ) {
    this.K = widths.keys;
    this.V = widths.valueEnd - widths.valueStart;
  }

  /** The rows, [B, rows, F], as last fed (for a trace). */
  rowsTensor(): Tensor {
    if (!this.all) this.all = new this.ort.Tensor('float32', this.buf.subarray(0, this.B * this.rows * this.F), [this.B, this.rows, this.F]);
    return this.all;
  }

  /** Copies one row's features into the rows, keys and values at row r of batch row b. */
  private put(b: number, r: number, row: Float32Array): void {
    this.buf.set(row, (b * this.rows + r) * this.F);
    putCacheRow(this.widths, this.keys, this.values, this.rows, b, r, row);
  }

  tensors(memories: MemoryState[]): Record<string, Tensor> {
    const B = memories.length;
    const F = this.F;
    let need = 1;
    for (const m of memories) need = Math.max(need, m.count);
    const rebuild = need > this.rows || B !== this.B;
    if (rebuild) {
      need = need + Math.ceil(need / 8);
      this.rows = need;
      this.B = B;
      if (this.buf.length < B * need * F) {
        this.buf = new Float32Array(Math.ceil(B * need * F * 1.25));
        this.keys = new Float32Array(Math.ceil(B * need * this.K * 1.25));
        this.values = new Float32Array(Math.ceil(B * need * this.V * 1.25));
      }
      this.feeds = {
        [CACHE_KEYS]: new this.ort.Tensor('float32', this.keys.subarray(0, B * this.K * need), [B, this.K, need]),
        [CACHE_VALUES]: new this.ort.Tensor('float32', this.values.subarray(0, B * need * this.V), [B, need, this.V]),
      };
      this.all = null;
    }
    memories.forEach((m, b) => {
      if (rebuild || m.dirtyAll) {
        for (let r = 0; r < m.count; r++) this.put(b, r, m.rows.subarray(r * F, (r + 1) * F));
        for (let r = m.count; r < this.rows; r++) this.put(b, r, this.pad);
      } else {
        for (const r of m.dirtyRows) this.put(b, r, m.rows.subarray(r * F, (r + 1) * F));
      }
      m.dirtyRows = [];
      m.dirtyAll = false;
    });
    return this.feeds;
  }
}

/** A live module: exports share one memory across calls, like a WebAssembly instance. */
export class TransformerInstance {
  private constructor(
    readonly model: TransformerModel,
    private mem: MemoryState,
  ) {}

  static async create(onnxBytes: Uint8Array, opts: LoadOptions & { evict?: boolean } = {}): Promise<TransformerInstance> {
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

  /** Current values of the module's globals (signed i32, in module order). */
  globals(): number[] {
    let k = 0; // the page count (with memory.grow) comes after the module's globals
    return this.model.layout.globals.map((g) => (g.mutable ? this.mem.globals[k++] : g.init));
  }

  /** The default input address (format/io.ts): the exported global __heap_base, or null. */
  inputAddress(): number | null {
    return this.model.inputAddress();
  }

  /** Writes bytes into linear memory before the next call (the input convention, format/io.ts). */
  writeMemory(addr: number, bytes: Uint8Array): void {
    const mem = this.model.layout.memory;
    if (!mem || mem.memBytes === 0) throw new RunError('the module has no linear memory to write the input into');
    this.mem.write(mem, addr, bytes);
  }

  /** Current memory contents (decoded from the cache; empty without memory). */
  memory(): Uint8Array {
    const mem = this.model.layout.memory;
    return mem ? decodeMemory(mem, this.mem) : new Uint8Array(0);
  }
}
