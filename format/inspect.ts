// format/inspect.ts — the inspect metadata of a compiled model: its schema, validation, and the
// metadata entry that carries it.
//
// A model compiled by the library's compile() (unless --no-inspect-info) holds, beside the layout
// (format/layout.ts), metadata_props["wasmformer.inspect"]: this JSON, raw-deflated and base64
// encoded (metadata values are strings; the JSON is repetitive, so this is 5-10 times smaller
// than the text, which keeps the entry a few percent of the model). It is what
// `wasmformer inspect` draws (cli/inspect_html.ts) and nothing executes it: the runtime never
// reads it. backend/describe.ts computes it from the pass products. Per expert (basic block):
//   - values: every materialised vreg as [name, role, slot, def, end, line]: it occupies `slot`
//     over the sublayer points def..end (inclusive; -1 the embedding, 2l layer l's attention,
//     2l+1 its MLP, 2·layers the readout; `end` is the MLP point that clears it, or the readout);
//     `role` indexes VALUE_ROLES; `line` indexes `ir` (-1: not derivable from the name);
//   - nodes: every gadget node as [point, kind, role, size, line] (size: hidden units of an MLP
//     node, features read by a head);
//   - maps: a coarse density grid of each nonempty linear map of each sublayer;
//   - ir: the block's IR text, one line per entry (header, instructions, terminator).
// Deflate and inflate are fflate's (pure JavaScript), so Node and a browser read and write the same entry.
// validateInspect() checks all of it (types, ranges, one value per slot per point), so a viewer
// never draws a corrupt chart; errors are one-line RunErrors naming the field.

import { deflateSync, Inflate } from 'fflate';
import onnxProto from 'onnx-proto';
import { RunError } from './errors.js';
import { Checker } from './checker.js';
import { LAYOUT_KEY, validateLayout, type ModelLayout } from './layout.js';
import { decodeBase64, encodeBase64 } from './memory.js';

const { onnx } = onnxProto;

export const INSPECT_KEY = 'wasmformer.inspect';
export const INSPECT_FORMAT = 'wasmformer-inspect/1';

/** Roles of residual values (backend/describe.ts's valueRole derives them from vreg names). */
export const VALUE_ROLES = [
  'constant one', // the embedding's `one`: the bias input of every map
  'argument', // the block's parameter limbs from the token (arg0.lo, arg0.hi, ...)
  'global', // mutable globals and the call depth, from the token
  'time', // time features (epoch bits, tick) from the token
  'limb', // 16-bit limbs, sums and quotients of i32 gadgets (….lo_sum, ….q12, ….copy)
  'carry', // carries and wraps of additions (….carry, ….wrap, ….hi_wrap)
  'bit', // single bits of a value (….bit7)
  'address bit', // bits and nibbles of a decoded memory address (load/store ….a0.bit12, ….a0.q8)
  'byte', // bytes read from or written to memory (….byte, ….value.limb0.q8)
  'memory read', // attention outputs of a lookup (….epoch_avg3, ….epoch3)
  'gate', // 0/1 conditions and selectors (….lt, ….eq, ….cond, ….sel0, ….valid, traps)
  'next token', // the readout's inputs (next.arg0.lo, next.global0.hi)
  'other',
] as const;
export type ValueRole = (typeof VALUE_ROLES)[number];

/**
 * The linear maps (backend/assemble_weights.ts): an attention sublayer's q, pending rows and out;
 * an MLP's up and down; the readout's next token and memory rows (at the readout point).
 */
export const MAP_NAMES = ['q', 'pending', 'out', 'up', 'down', 'next', 'rows'] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** Density grids have at most this many cells per side. */
export const MAX_GRID_SIDE = 32;
/** Density levels: 0 is an empty cell, 1…15 a nonempty one (log scale of its density). */
export const DENSITY_LEVELS = 16;
/** Longest run of empty cells one letter encodes ('g' = 1 … 'z' = 20). */
const MAX_RUN = 20;

/** [name without the `b{block}.` prefix, role index, slot, def point, end point, IR line or -1] */
export type SlotValue = [name: string, role: number, slot: number, def: number, end: number, line: number];
/** [point, kind, role without the prefix, size, IR line or -1] */
export type NodeInfo = [point: number, kind: 'attn' | 'mlp', role: string, size: number, line: number];
/**
 * [point, map, rows of the map, columns, nonzeros, grid rows, grid columns, cells]: the grid
 * covers the map's nonzero bounding box from index 0; cells, row-major, as encodeCells writes them.
 */
export type MapDensity = [point: number, map: MapName, nIn: number, nOut: number, nonzeros: number, rows: number, cols: number, cells: string];

/**
 * Grid cells as text: a nonempty cell is its level as a hex digit ('1'…'f'); a run of k empty
 * cells is letters 'g' (1) … 'z' (20), as many as it takes (maps are sparse, so runs are long).
 */
export function encodeCells(levels: ArrayLike<number>): string {
  const nonzero: number[] = [];
  for (let k = 0; k < levels.length; k++) if (levels[k] !== 0) nonzero.push(k);
  return encodeSparseCells(levels.length, nonzero, (k) => levels[k]);
}

/** Letters for a run of n empty cells. */
function emptyRun(n: number): string {
  let out = '';
  for (let r = n; r > 0; r -= MAX_RUN) out += String.fromCharCode(0x67 + Math.min(r, MAX_RUN) - 1);
  return out;
}

/** encodeCells of `total` cells that are empty except at the ascending indices `nonzero`. */
export function encodeSparseCells(total: number, nonzero: readonly number[], level: (cell: number) => number): string {
  let out = '';
  let next = 0;
  for (const k of nonzero) {
    const l = level(k);
    if (!Number.isInteger(l) || l < 1 || l >= DENSITY_LEVELS || k < next || k >= total) throw new Error(`encodeCells: cell ${k} has level ${l}, outside [1, ${DENSITY_LEVELS - 1}] (or out of order)`);
    out += emptyRun(k - next) + l.toString(16);
    next = k + 1;
  }
  return out + emptyRun(total - next);
}

/** The levels encodeCells(levels) wrote, or null when the text is not such an encoding. */
export function decodeCells(text: string): number[] | null {
  const out: number[] = [];
  for (const ch of text) {
    if (/^[1-9a-f]$/.test(ch)) out.push(parseInt(ch, 16));
    else if (/^[g-z]$/.test(ch)) for (let k = ch.charCodeAt(0) - 0x66; k > 0; k--) out.push(0);
    else return null;
  }
  return out;
}

export interface ExpertInspect {
  pc: number;
  func: string;
  block: number;
  /** The expert's own layers (the model pads every expert to the widest). */
  layers: number;
  dModel: number;
  maxLive: number;
  criticalPath: number;
  ir: string[];
  values: SlotValue[];
  nodes: NodeInfo[];
  maps: MapDensity[];
}

export interface InspectInfo {
  format: typeof INSPECT_FORMAT;
  /** The grid side the maps were drawn at (≤ MAX_GRID_SIDE; 0: maps left out to keep the entry small). */
  gridSide: number;
  experts: ExpertInspect[];
}

/** The most bytes an entry's JSON may inflate to (a corrupt or hostile entry stops there). */
export const MAX_INSPECT_JSON = 2 ** 28;

const LIMITS = { experts: 2 ** 22, slots: 2 ** 16, layers: 4096, lines: 2 ** 20, values: 2 ** 20, nodes: 2 ** 20, dim: 2 ** 24 } as const;

function checkValue(c: Checker, raw: unknown, p: string, e: { dModel: number; readout: number; lines: number }): SlotValue {
  const t = c.arr(raw, p, 6, 6);
  const def = c.int(t[3], `${p}[3]`, -1, e.readout);
  return [
    c.str(t[0], `${p}[0]`),
    c.int(t[1], `${p}[1]`, 0, VALUE_ROLES.length - 1),
    c.int(t[2], `${p}[2]`, 0, e.dModel - 1),
    def,
    c.int(t[4], `${p}[4]`, def, e.readout),
    c.int(t[5], `${p}[5]`, -1, e.lines - 1),
  ];
}

function checkNode(c: Checker, raw: unknown, p: string, e: { readout: number; lines: number }): NodeInfo {
  const t = c.arr(raw, p, 5, 5);
  const point = c.int(t[0], `${p}[0]`, 0, e.readout - 1);
  const kind = c.oneOf(t[1], ['attn', 'mlp'] as const, `${p}[1]`);
  if ((point % 2 === 0) !== (kind === 'attn')) c.fail(`${p}[0]`, `is ${point}: a${kind === 'attn' ? 'n attention' : 'n MLP'} node sits at ${kind === 'attn' ? 'an even' : 'an odd'} point`);
  return [point, kind, c.str(t[2], `${p}[2]`), c.int(t[3], `${p}[3]`, 0, LIMITS.dim), c.int(t[4], `${p}[4]`, -1, e.lines - 1)];
}

function checkMap(c: Checker, raw: unknown, p: string, readout: number, side: number): MapDensity {
  const t = c.arr(raw, p, 8, 8);
  const point = c.int(t[0], `${p}[0]`, 0, readout);
  const map = c.oneOf(t[1], MAP_NAMES, `${p}[1]`);
  const at = map === 'next' || map === 'rows' ? 'readout' : map === 'up' || map === 'down' ? 'mlp' : 'attn';
  const where = point === readout ? 'readout' : point % 2 === 0 ? 'attn' : 'mlp';
  if (at !== where) c.fail(`${p}[0]`, `is ${point}, not ${at === 'readout' ? 'the readout point' : `an ${at === 'mlp' ? 'MLP' : 'attention'} point`} (map ${map})`);
  const nIn = c.int(t[2], `${p}[2]`, 1, LIMITS.dim);
  const nOut = c.int(t[3], `${p}[3]`, 1, LIMITS.dim);
  const nonzeros = c.int(t[4], `${p}[4]`, 0, nIn * nOut);
  const rows = c.int(t[5], `${p}[5]`, 1, Math.min(side, nIn));
  const cols = c.int(t[6], `${p}[6]`, 1, Math.min(side, nOut));
  const cells = c.str(t[7], `${p}[7]`);
  const levels = cells.length <= rows * cols ? decodeCells(cells) : null;
  if (levels === null) c.fail(`${p}[7]`, "must be density levels '1'-'f' and runs of empty cells 'g'-'z'");
  if (levels.length !== rows * cols) c.fail(`${p}[7]`, `has ${levels.length} cells, not ${rows}×${cols}`);
  return [point, map, nIn, nOut, nonzeros, rows, cols, cells];
}

/** The first (slot, point) two values share, or null. */
function slotClash(values: SlotValue[]): { slot: number; point: number } | null {
  const bySlot = new Map<number, SlotValue[]>();
  for (const v of values) bySlot.set(v[2], [...(bySlot.get(v[2]) ?? []), v]);
  for (const [slot, vs] of bySlot) {
    vs.sort((a, b) => a[3] - b[3]);
    for (let i = 1; i < vs.length; i++) if (vs[i][3] <= vs[i - 1][4]) return { slot, point: vs[i][3] };
  }
  return null;
}

function checkExpert(c: Checker, raw: unknown, p: string, side: number): ExpertInspect {
  const x = c.obj(raw, p);
  const layers = c.int(x.layers, `${p}.layers`, 1, LIMITS.layers);
  const dModel = c.int(x.dModel, `${p}.dModel`, 1, LIMITS.slots);
  const readout = 2 * layers;
  const ir = c.arr(x.ir, `${p}.ir`, LIMITS.lines).map((l, i) => c.str(l, `${p}.ir[${i}]`));
  const e = { dModel, readout, lines: ir.length };
  const values = c.arr(x.values, `${p}.values`, LIMITS.values).map((v, i) => checkValue(c, v, `${p}.values[${i}]`, e));
  const clash = slotClash(values.slice());
  if (clash) c.fail(`${p}.values`, `puts two values in slot ${clash.slot} at point ${clash.point}`);
  return {
    pc: c.int(x.pc, `${p}.pc`, 0, LIMITS.experts - 1),
    func: c.str(x.func, `${p}.func`),
    block: c.int(x.block, `${p}.block`, 0, 2 ** 31),
    layers,
    dModel,
    maxLive: c.int(x.maxLive, `${p}.maxLive`, 0, dModel),
    criticalPath: c.int(x.criticalPath, `${p}.criticalPath`, 1, layers),
    ir,
    values,
    nodes: c.arr(x.nodes, `${p}.nodes`, LIMITS.nodes).map((n, i) => checkNode(c, n, `${p}.nodes[${i}]`, e)),
    maps: c.arr(x.maps, `${p}.maps`, 5 * readout + 2).map((m, i) => checkMap(c, m, `${p}.maps[${i}]`, readout, side)),
  };
}

/** Checks untrusted inspect JSON; returns it typed, or throws a one-line RunError naming the field. */
export function validateInspect(raw: unknown, what = 'model'): InspectInfo {
  const c = new Checker(what, 'inspect');
  const o = c.obj(raw, '<root>');
  if (o.format !== INSPECT_FORMAT) c.fail('format', `is ${JSON.stringify(o.format)?.slice(0, 40)}; this tool reads ${INSPECT_FORMAT} (recompile the module)`);
  const gridSide = c.int(o.gridSide, 'gridSide', 0, MAX_GRID_SIDE);
  const experts = c.arr(o.experts, 'experts', LIMITS.experts).map((e, i) => checkExpert(c, e, `experts[${i}]`, gridSide));
  experts.forEach((e, i) => e.pc !== i && c.fail(`experts[${i}].pc`, `is ${e.pc}, expected ${i}`));
  return { format: INSPECT_FORMAT, gridSide, experts };
}

/** Checks that the inspect entry describes the same experts as the layout. */
function checkAgainstLayout(info: InspectInfo, layout: ModelLayout, what: string): void {
  const c = new Checker(what, 'inspect');
  if (info.experts.length !== layout.experts.length) c.fail('experts', `has ${info.experts.length} entries; the layout has ${layout.experts.length} experts`);
  info.experts.forEach((e, i) => {
    const l = layout.experts[i];
    if (e.func !== l.func || e.block !== l.block) c.fail(`experts[${i}]`, `is ${e.func}:block${e.block}; the layout says ${l.func}:block${l.block}`);
    if (e.layers > layout.stats.layers) c.fail(`experts[${i}].layers`, `is ${e.layers}, more than the model's ${layout.stats.layers}`);
  });
}

/** The metadata entry's text (undefined when absent); two entries with the key are an error. */
function metadataText(m: onnxProto.onnx.ModelProto, key: string, what: string): string | undefined {
  const entries = (m.metadataProps ?? []).filter((p) => p.key === key);
  if (entries.length > 1) throw new RunError(`${what} holds ${entries.length} ${key} metadata entries; expected one`);
  return entries[0]?.value || undefined;
}

function parseJson(text: string, key: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new RunError(`${what}: the ${key} metadata is not valid JSON`);
  }
}

const encoded = new WeakMap<InspectInfo, string>();

/** The metadata value of `info`: base64 of its raw-deflated JSON (memoized: describe measures it, attach writes it). */
export function encodeInspect(info: InspectInfo): string {
  let e = encoded.get(info);
  if (e === undefined) {
    e = encodeBase64(deflateSync(new TextEncoder().encode(JSON.stringify(info))));
    encoded.set(info, e);
  }
  return e;
}

/** Compressed bytes fed to the inflater at a time (a DEFLATE stream expands at most about 1032-fold). */
const INFLATE_CHUNK = 1 << 14;

class TooLarge extends Error {}

/** Raw DEFLATE data inflated, stopping with TooLarge once the output passes `max` bytes. */
function inflateRaw(data: Uint8Array, max: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > max) throw new TooLarge();
    parts.push(chunk);
  });
  if (data.length === 0) throw new Error('no data');
  for (let at = 0; at < data.length; at += INFLATE_CHUNK) inflater.push(data.subarray(at, at + INFLATE_CHUNK), at + INFLATE_CHUNK >= data.length);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** The JSON text an entry's value encodes; RunError for anything that is not such an encoding. */
export function decodeInspect(value: string, what = 'model'): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new RunError(`${what}: the ${INSPECT_KEY} metadata is not base64 (of deflated JSON)`);
  try {
    return new TextDecoder('utf-8').decode(inflateRaw(decodeBase64(value), MAX_INSPECT_JSON));
  } catch (e) {
    const big = e instanceof TooLarge || e instanceof RangeError;
    throw new RunError(`${what}: the ${INSPECT_KEY} metadata ${big ? `inflates past ${MAX_INSPECT_JSON} bytes` : 'is not deflated JSON'}`);
  }
}

/**
 * The layout and inspect metadata of an .onnx file, both validated (and checked against each
 * other), with the inspect entry's size in the file (bytes); RunError for anything else.
 */
export function readInspect(bytes: Uint8Array, what = 'model'): { layout: ModelLayout; info: InspectInfo; entryBytes: number } {
  let m: onnxProto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new RunError(`${what} is not an ONNX model: ${(e as Error).message.split('\n')[0]}`);
  }
  const layoutText = metadataText(m, LAYOUT_KEY, what);
  if (layoutText === undefined) throw new RunError(`${what} was not produced by wasmformer (no ${LAYOUT_KEY} metadata)`);
  const layout = validateLayout(parseJson(layoutText, LAYOUT_KEY, what), what);
  const text = metadataText(m, INSPECT_KEY, what);
  if (text === undefined) throw new RunError(`${what} has no ${INSPECT_KEY} metadata (compiled with --no-inspect-info?); compile it again without that flag`);
  const info = validateInspect(parseJson(decodeInspect(text, what), INSPECT_KEY, what), what);
  checkAgainstLayout(info, layout, what);
  return { layout, info, entryBytes: text.length };
}

/**
 * The model with metadata_props[INSPECT_KEY] = encodeInspect(info) added. A serialized protobuf
 * message followed by another is their merge (repeated fields concatenate), so the entry is
 * appended as a one-field ModelProto: the model itself is neither decoded nor re-encoded.
 * The model must not hold an entry already (readInspect refuses two).
 */
export function attachInspect(model: Uint8Array, info: InspectInfo): Uint8Array {
  const entry = onnx.ModelProto.encode({ metadataProps: [{ key: INSPECT_KEY, value: encodeInspect(info) }] }).finish();
  const out = new Uint8Array(model.length + entry.length);
  out.set(model, 0);
  out.set(entry, model.length);
  return out;
}
