// format/layout.ts — the layout schema of a compiled model, and its validation.
//
// A model is one self-describing .onnx file: metadata_props["wasmformer.layout"] holds this
// JSON. The backend writes it (backend/index.ts); the runtime reads it only through
// validateLayout(), which checks every field's type and range and every derived field
// (token offsets, memory columns) against the one definition in format/token.ts and
// format/memory.ts, so an edited or foreign model gets a one-line RunError naming the
// field, never an out-of-memory abort or an internal error.

import { Checker } from './checker.js';
import { DataSegment, decodeBase64, LOOKUP_KINDS, memoryLayout, MemoryLayout } from './memory.js';
import { tokenLayout, TokenIn, TokenOut, type TokenShape } from './token.js';

export const FORMAT_VERSION = 'wasmformer/7';
export const LAYOUT_KEY = 'wasmformer.layout';

/** Bounds that keep a model runnable (and every pc and count an exact float32 integer). */
export const FORMAT_LIMITS = {
  experts: 2 ** 22,
  maxArgs: 4096,
  storePorts: 2 ** 16,
  memBytes: 2 ** 32,
  storeSlots: 2 ** 16,
  entries: 2 ** 20,
  globals: 2 ** 16,
  dataBytes: 2 ** 28,
} as const;

export interface CompileStats {
  /** Transformer layers (every expert is padded to this many). */
  layers: number;
  /** Residual width: the widest expert's allocation. */
  dModel: number;
  /** Attention heads, summed over layers (the widest expert per layer). */
  heads: number;
  /** Stored parameters (weights, biases and index tables). */
  params: number;
  /** Nonzero weights over all experts. */
  nonzeros: number;
  /** MLP hidden units, summed over layers (the widest expert per layer). */
  mlpHidden: number;
  /** Longest dependency chain of any expert, in layers (a lower bound for `layers`). */
  criticalPath: number;
  /** Most values live at once in any expert (a lower bound for dModel). */
  maxLive: number;
  /** One slot per value of the widest expert (tracr's policy), for comparison. */
  naiveSlots: number;
  experts: number;
  compileMs: number;
}

export interface ExpertInfo {
  func: string;
  block: number;
  params: number;
  /**
   * Routed models: the layers this expert's step needs, when fewer than the model's. Every later
   * layer leaves its residual stream unchanged (no entries of its output maps are the expert's),
   * so the graph also reads the step's outputs out after `exit` layers (`exit<N>.next`,
   * `exit<N>.entries`), and the runtime runs such a step on the graph cut at those outputs
   * (format/model_file.ts): the later layers do not run (early exit, routed by pc).
   */
  exit?: number;
}

export interface EntryPoint {
  name: string;
  func: string;
  pc: number;
  params: number;
  results: number;
}

export type Routing = 'gather' | 'onehot';

/** A WebAssembly global: mutable ones travel in the state token (in this order). */
export interface GlobalInfo {
  name: string | null;
  mutable: boolean;
  init: number;
}

/** With memory.grow: the page count is mutable token global `slot`, starting at initialPages. */
export interface GrowLayout {
  initialPages: number;
  maxPages: number;
  slot: number;
}

/** The call stack: frame k (k = depth when saved) is at frameBase + k·frameBytes in the cache. */
export interface CallStackLayout {
  maxDepth: number;
  frameBase: number;
  frameBytes: number;
}

/**
 * An attention layer whose lookups the graph also exposes as outputs, for tracing only (a step
 * never needs them; the runtime fetches them only when asked, `run --trace-html`): the heads'
 * softmax weights over [pending rows | cache rows], their queries, and the pending rows.
 * Named by traceOutputNames(layer). DESIGN.md §15.
 */
export interface AttentionTrace {
  layer: number;
  /** Whether the layer has pending rows (then the `pending` output exists). */
  pending: boolean;
}

/** The graph outputs of one traced attention layer (the emitter names its nodes with these). */
export function traceOutputNames(layer: number): { weights: string; queries: string; pending: string } {
  return { weights: `layer${layer}.attn.softmax`, queries: `layer${layer}.attn.q_heads`, pending: `layer${layer}.attn.pending_rows` };
}

/** The names of a step's outputs (the next token, the memory rows) at one exit depth, or the full depth (null). */
export function stepOutputNames(L: Pick<ModelLayout, 'memory' | 'storePorts'>, exit: number | null): { next: string; entries: string | null } {
  const p = exit === null ? 'readout' : `exit${exit}`;
  return { next: `${p}.next`, entries: L.memory && L.storePorts > 0 ? `${p}.entries` : null };
}

/** The exit depths a layout's experts use, ascending (their outputs follow the trace outputs in the graph). */
export function exitDepths(L: Pick<ModelLayout, 'experts'>): number[] {
  return [...new Set(L.experts.flatMap((e) => (e.exit === undefined ? [] : [e.exit])))].sort((a, b) => a - b);
}

/** Every graph output of a layout, in graph order: the full-depth step outputs, the trace outputs, the exits'. */
export function graphOutputs(L: Pick<ModelLayout, 'memory' | 'storePorts' | 'attention' | 'experts'>): string[] {
  const names = (n: { next: string; entries: string | null }): string[] => [n.next, ...(n.entries !== null ? [n.entries] : [])];
  return [...names(stepOutputNames(L, null)), ...traceOutputs(L), ...exitDepths(L).flatMap((d) => names(stepOutputNames(L, d)))];
}

/** Every trace output of a layout, in graph order (after readout.next and readout.entries). */
export function traceOutputs(L: Pick<ModelLayout, 'attention'>): string[] {
  return L.attention.flatMap((a) => {
    const n = traceOutputNames(a.layer);
    return a.pending ? [n.weights, n.queries, n.pending] : [n.weights, n.queries];
  });
}

export interface ModelLayout {
  format: typeof FORMAT_VERSION;
  /** gather: an int64 `pc` input selects expert weights; onehot: a one-hot `route` input (dense). */
  routing: Routing;
  /** One per program counter value; pc = experts.length is HALT. */
  experts: ExpertInfo[];
  entries: EntryPoint[];
  maxArgs: number;
  globals: GlobalInfo[];
  calls: CallStackLayout | null;
  grow: GrowLayout | null;
  /** The program writes output bytes (env.output_byte): the token's `out` field. */
  output: boolean;
  tokenIn: TokenIn;
  tokenOut: TokenOut;
  /** Memory rows each step emits (`readout.entries`); rows with pad = 1 are dropped. */
  storePorts: number;
  memory: (MemoryLayout & { data: DataSegment[] }) | null;
  /** The attention layers exposed as trace outputs, by layer (absent in older models: none). */
  attention: AttentionTrace[];
  stats: CompileStats;
}

/** Checks untrusted layout JSON; returns it typed, or throws a one-line RunError. */
export function validateLayout(raw: unknown, what = 'model'): ModelLayout {
  const c = new Checker(what, 'layout');
  const o = c.obj(raw, '<root>');
  if (o.format !== FORMAT_VERSION) {
    c.fail('format', `is ${JSON.stringify(o.format)?.slice(0, 40)}; this runtime reads ${FORMAT_VERSION} (recompile the module)`);
  }
  if (o.routing !== 'gather' && o.routing !== 'onehot') c.fail('routing', "must be 'gather' or 'onehot'");
  const routing = o.routing as Routing;
  const experts = c.arr(o.experts, 'experts', FORMAT_LIMITS.experts).map((e, i) => {
    const x = c.obj(e, `experts[${i}]`);
    const info: ExpertInfo = { func: c.str(x.func, `experts[${i}].func`), block: c.int(x.block, `experts[${i}].block`, 0, 2 ** 31), params: c.int(x.params, `experts[${i}].params`, 0, FORMAT_LIMITS.maxArgs) };
    if (x.exit !== undefined) {
      if (routing !== 'gather') c.fail(`experts[${i}].exit`, 'is only for routed models');
      info.exit = c.int(x.exit, `experts[${i}].exit`, 0, 4095);
    }
    return info;
  });
  if (experts.length === 0) c.fail('experts', 'is empty');
  const maxArgs = c.int(o.maxArgs, 'maxArgs', 0, FORMAT_LIMITS.maxArgs);
  experts.forEach((e, i) => e.params > maxArgs && c.fail(`experts[${i}].params`, `exceeds maxArgs ${maxArgs}`));
  const entries = c.arr(o.entries, 'entries', FORMAT_LIMITS.entries).map((e, i) => {
    const x = c.obj(e, `entries[${i}]`);
    const p = `entries[${i}]`;
    return {
      name: c.str(x.name, `${p}.name`),
      func: c.str(x.func, `${p}.func`),
      pc: c.int(x.pc, `${p}.pc`, 0, experts.length - 1),
      params: c.int(x.params, `${p}.params`, 0, maxArgs),
      results: c.int(x.results, `${p}.results`, 0, maxArgs),
    };
  });
  let memory: ModelLayout['memory'] = null;
  if (o.memory !== null) {
    const m = c.obj(o.memory, 'memory');
    const memBytes = c.int(m.memBytes, 'memory.memBytes', 0, FORMAT_LIMITS.memBytes);
    const storeSlots = c.int(m.storeSlots, 'memory.storeSlots', 1, FORMAT_LIMITS.storeSlots);
    const addrSpace = c.int(m.addrSpace, 'memory.addrSpace', memBytes, FORMAT_LIMITS.memBytes);
    const lookup = c.oneOf(m.lookup, LOOKUP_KINDS, 'memory.lookup');
    const derived = memoryLayout(memBytes, storeSlots, addrSpace, lookup);
    for (const k of Object.keys(derived) as Array<keyof MemoryLayout>) c.same(m[k], derived[k], `memory.${k}`);
    let total = 0;
    const data = c.arr(m.data, 'memory.data', FORMAT_LIMITS.entries).map((s, i) => {
      const x = c.obj(s, `memory.data[${i}]`);
      const offset = c.int(x.offset, `memory.data[${i}].offset`, 0, memBytes);
      const base64 = c.str(x.base64, `memory.data[${i}].base64`);
      let n = 0;
      try {
        n = decodeBase64(base64).length;
      } catch {
        c.fail(`memory.data[${i}].base64`, 'is not base64');
      }
      total += n;
      if (offset + n > memBytes) c.fail(`memory.data[${i}]`, `ends at ${offset + n}, past the memory size ${memBytes}`);
      if (total > FORMAT_LIMITS.dataBytes) c.fail('memory.data', `holds more than ${FORMAT_LIMITS.dataBytes} bytes`);
      return { offset, base64 };
    });
    memory = { ...derived, data };
  }
  const globals = c.arr(o.globals, 'globals', FORMAT_LIMITS.globals).map((g, i) => {
    const x = c.obj(g, `globals[${i}]`);
    if (typeof x.mutable !== 'boolean') c.fail(`globals[${i}].mutable`, 'must be a boolean');
    if (x.name !== null && typeof x.name !== 'string') c.fail(`globals[${i}].name`, 'must be a string or null');
    return { name: x.name as string | null, mutable: x.mutable as boolean, init: c.int(x.init, `globals[${i}].init`, -(2 ** 31), 2 ** 31 - 1) };
  });
  let calls: CallStackLayout | null = null;
  if (o.calls !== null) {
    const x = c.obj(o.calls, 'calls');
    if (!memory) c.fail('calls', 'needs a memory layout (frames live in the cache)');
    calls = {
      maxDepth: c.int(x.maxDepth, 'calls.maxDepth', 1, 65535),
      frameBase: c.int(x.frameBase, 'calls.frameBase', 0, FORMAT_LIMITS.memBytes),
      frameBytes: c.int(x.frameBytes, 'calls.frameBytes', 4, 4 * FORMAT_LIMITS.maxArgs + 4),
    };
    if (calls.frameBase + calls.maxDepth * calls.frameBytes > memory!.addrSpace) c.fail('calls', `frames end past the address space ${memory!.addrSpace}`);
  }
  let grow: GrowLayout | null = null;
  if (o.grow !== null && o.grow !== undefined) {
    const x = c.obj(o.grow, 'grow');
    if (!memory) c.fail('grow', 'needs a memory layout');
    const maxPages = c.int(x.maxPages, 'grow.maxPages', 0, memory!.memBytes / 65536);
    grow = {
      initialPages: c.int(x.initialPages, 'grow.initialPages', 0, maxPages),
      maxPages,
      slot: c.int(x.slot, 'grow.slot', globals.filter((g) => g.mutable).length, globals.filter((g) => g.mutable).length),
    };
  }
  if (typeof o.output !== 'boolean') c.fail('output', 'must be a boolean');
  const output = o.output as boolean;
  const tok = tokenLayout(tokenShape({ maxArgs, memory, globals, calls, grow, output }));
  c.same(o.tokenIn, tok.tokenIn, 'tokenIn');
  c.same(o.tokenOut, tok.tokenOut, 'tokenOut');
  const storePorts = c.int(o.storePorts, 'storePorts', 0, memory ? FORMAT_LIMITS.storePorts : 0);
  let attention: AttentionTrace[] = [];
  if (o.attention !== undefined) {
    attention = c.arr(o.attention, 'attention', 4096).map((a, i) => {
      const x = c.obj(a, `attention[${i}]`);
      if (!memory) c.fail('attention', 'needs a memory layout (lookups read the cache)');
      if (typeof x.pending !== 'boolean') c.fail(`attention[${i}].pending`, 'must be a boolean');
      return { layer: c.int(x.layer, `attention[${i}].layer`, 0, 4095), pending: x.pending as boolean };
    });
    attention.forEach((a, i) => i > 0 && a.layer <= attention[i - 1].layer && c.fail(`attention[${i}].layer`, 'must be above the previous layer'));
  }
  const s = c.obj(o.stats, 'stats');
  const stats = {} as Record<keyof CompileStats, number>;
  for (const k of ['layers', 'dModel', 'heads', 'params', 'nonzeros', 'mlpHidden', 'criticalPath', 'maxLive', 'naiveSlots', 'experts', 'compileMs'] as const) {
    stats[k] = c.int(typeof s[k] === 'number' ? Math.round(s[k] as number) : s[k], `stats.${k}`, 0, Number.MAX_SAFE_INTEGER);
  }
  attention.forEach((a, i) => a.layer >= stats.layers && c.fail(`attention[${i}].layer`, `is ${a.layer}, not below stats.layers ${stats.layers}`));
  experts.forEach((e, i) => e.exit !== undefined && e.exit >= stats.layers && c.fail(`experts[${i}].exit`, `is ${e.exit}, not below stats.layers ${stats.layers}`));
  return { format: FORMAT_VERSION, routing, experts, entries, maxArgs, globals, calls, grow, output, tokenIn: tok.tokenIn, tokenOut: tok.tokenOut, storePorts, memory, attention, stats };
}

/** The token shape a layout implies. */
export function tokenShape(L: Pick<ModelLayout, 'maxArgs' | 'memory' | 'globals' | 'calls' | 'grow' | 'output'>): TokenShape {
  return { maxArgs: L.maxArgs, hasMemory: L.memory !== null, globals: L.globals.filter((g) => g.mutable).length + (L.grow ? 1 : 0), hasCalls: L.calls !== null, hasOutput: L.output };
}
