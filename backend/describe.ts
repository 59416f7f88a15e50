// backend/describe.ts — the inspect metadata (format/inspect.ts) of a compiled program, from the pass products.
//
// A pure pass over a BackendResult: nothing here changes the model. Per expert it records
//   - the slot chart: every materialised vreg with its slot and the sublayer points it occupies
//     (definition to the MLP that clears it, or to the readout) — the allocator's intervals,
//     which check_allocation replays;
//   - its gadget nodes (attention heads' and MLP nodes' role strings) by sublayer;
//   - a coarse density grid of every linear map (backend/assemble_weights.ts's sparse maps);
//   - the block's IR text (ir/print.ts), each value and node linked to an IR line where the
//     vreg or node name says which instruction made it (lineKeys below).
// Name conventions (lower_block.ts and the gadgets; best effort, the names are for people):
// a vreg or node name is `b{block}.{key}.{detail}` or a token name (`one`, `arg0.lo`,
// `time.epoch3`, `global0.hi`, `depth`). The key names an instruction: `v17` (the value v17,
// canonicalised or reduced), `add_v3_v4` / `eqz_v3` (the binary or unary op on those operands),
// `load_v5`, `select_v5`, `grow_v5` (by result), `store2` (the block's third store), `output`;
// or the exit: `br_if`, `br_table`, `call`, `ret`, `readout`, `next`, `trap0`. Gadgets that share
// work (a bit decomposition, an address decoding) keep the first user's name, so a shared vreg
// links to that first instruction. valueRole() maps the detail to a VALUE_ROLES colour.
// The whole entry is kept modest: grids are coarsened (32, then 8 cells a side) or left out until
// the encoded entry fits `maxBytes` (default: 15% of the model, at least MIN_BUDGET); the slot
// charts, roles and IR are always kept.

import type { Block, Func, Inst } from '../ir/ir.js';
import { instDst } from '../ir/ir.js';
import { printInst, printTerm } from '../ir/print.js';
import {
  DENSITY_LEVELS,
  encodeInspect,
  encodeSparseCells,
  INSPECT_FORMAT,
  MAX_GRID_SIDE,
  VALUE_ROLES,
  type ExpertInspect,
  type InspectInfo,
  type MapDensity,
  type MapName,
  type NodeInfo,
  type SlotValue,
  type ValueRole,
} from '../format/inspect.js';
import type { ExpertWeights, PlacedExpert, SparseMap } from './assemble_weights.js';
import type { BackendResult } from './index.js';
import { criticalPath } from './schedule.js';

/** The least byte budget of an inspect entry (small models still get their density grids). */
export const MIN_BUDGET = 4 * 1024;
/** The default budget: this fraction of the model's bytes. */
export const BUDGET_FRACTION = 0.15;

/** Rules on the whole name, tried first (each anchored, so cheap). */
const NAME_RULES: ReadonlyArray<readonly [RegExp, ValueRole]> = [
  [/^one$/, 'constant one'],
  [/^arg\d+\.(lo|hi)$/, 'argument'],
  [/^(global\d+\.(lo|hi)|depth)$/, 'global'],
  [/^time\./, 'time'],
  [/^next\./, 'next token'],
  [/^(load_v\d+|store\d+|call\.frame|ret\.frame)\.a\d+\./, 'address bit'],
  [/^call\.frame\d+\.|^store\d+\.value\.limb\d+\.q\d+$/, 'byte'],
  [/\.sd\d+\.q\d+$/, 'bit'],
  [/\.neg\.[tuw]$/, 'gate'],
];

/** Rules on the last dot-separated segment, tried next, in order. */
const TAIL_RULES: ReadonlyArray<readonly [RegExp, ValueRole]> = [
  [/^epoch(_avg)?\d+$/, 'memory read'],
  [/^byte$/, 'byte'],
  [/^(carry|wrap\d*|hi_wrap|hi_top|delta_hi|c\d+(_\d+)?|next_c\d+)$/, 'carry'],
  [/^(bit|abs)\d+$/, 'bit'],
  [
    /^(lt|eq|ne|eqz|hi_gt|hi_ge|lo_gt|cond|sel\d*|valid|first|trap|trap_any|over|eqhi|lowover|hi_is-?\d+|lo_traps-?\d+|sign|sign_a|sign_b|nonzero|hi_nonzero|ge\d+|div_zero|ovf|past_size|exhausted|nested|hi_zero|signs_and|count_is\d+|s\d+|leaf\d+|guarded|both)$/,
    'gate',
  ],
  [/^(lo|hi|\w+_lo|\w+_hi|lo_sum|hi_sum|copy|q\d*|r|old|added|page|ovf_abs|mul_lo|mul_hi\d+|l\d+|g\d+|clz|ctz|popcnt|and|or|xor)$/, 'limb'],
];

/** The VALUE_ROLES colour of a vreg, from its name without the `b{block}.` prefix. */
export function valueRole(name: string): ValueRole {
  for (const [re, role] of NAME_RULES) if (re.test(name)) return role;
  const tail = name.slice(name.lastIndexOf('.') + 1);
  for (const [re, role] of TAIL_RULES) if (re.test(tail)) return role;
  return 'other';
}

/** The name without the expert's `b{block}.` tag (token names have none). */
export function stripTag(name: string, block: number): string {
  const tag = `b${block}.`;
  return name.startsWith(tag) ? name.slice(tag.length) : name;
}

/** The keys (first name segments) an instruction's gadgets are named by (see the header). */
function instKeys(i: Inst, storeIndex: number): string[] {
  const dst = instDst(i);
  const own = dst === null ? [] : [`v${dst}`];
  switch (i.op) {
    case 'binary': return [`${i.code}_v${i.a}_v${i.b}`, ...own];
    case 'unary': return [`${i.code}_v${i.a}`, ...own];
    case 'select': return [`select_v${i.dst}`, ...own];
    case 'load': return [`load_v${i.dst}`, ...own];
    case 'memory_grow': return [`grow_v${i.dst}`, ...own];
    case 'store': return [`store${storeIndex}`];
    case 'output': return ['output'];
    default: return own;
  }
}

const EXIT_KEYS = ['br_if', 'br_table', 'call', 'ret', 'readout', 'next'];

/** The block's IR text, one entry per line: header (as ir/print.ts prints it), instructions, terminator. */
export function blockLines(b: Block, id: number): string[] {
  const head = b.params.length === 0 ? `block${id}:` : `block${id}(${b.params.map((v) => `v${v}`).join(', ')}):`;
  return [head, ...b.insts.map(printInst), printTerm(b.term)];
}

/** key → IR line: line 0 is the header (parameters), 1..n the instructions, n+1 the terminator. */
export function lineKeys(b: Block): Map<string, number> {
  const keys = new Map<string, number>();
  const put = (k: string, line: number) => keys.has(k) || keys.set(k, line);
  b.params.forEach((v, i) => (put(`v${v}`, 0), put(`arg${i}`, 0)));
  let stores = 0;
  b.insts.forEach((inst, k) => {
    for (const key of instKeys(inst, stores)) put(key, k + 1);
    if (inst.op === 'store') stores++;
  });
  const term = b.insts.length + 1;
  for (const k of EXIT_KEYS) put(k, term);
  return keys;
}

/** The IR line a (stripped) name refers to, or -1. */
export function lineOf(name: string, keys: ReadonlyMap<string, number>): number {
  const seg = name.split('.')[0];
  return keys.get(seg) ?? (/^trap\d+$/.test(seg) ? (keys.get('next') ?? -1) : -1);
}

/** Per vreg: the point whose MLP clears it (undefined: it lives to the readout). */
function clearPoints(p: PlacedExpert): Map<number, number> {
  const at = new Map<number, number>();
  for (const [point, vs] of p.alloc.clears) for (const v of vs) at.set(v, point);
  return at;
}

/** The slot chart of an expert: [name, role, slot, def, end, line] per materialised vreg, by slot then def. */
export function slotValues(p: PlacedExpert, block: number, keys: ReadonlyMap<string, number>): SlotValue[] {
  const clear = clearPoints(p);
  const out: SlotValue[] = [];
  for (const v of p.graph.vregs) {
    const slot = p.alloc.slot[v.id];
    if (slot < 0) continue;
    const name = stripTag(v.name, block);
    out.push([name, VALUE_ROLES.indexOf(valueRole(name)), slot, p.sched.defPoint[v.id], clear.get(v.id) ?? p.sched.readoutPoint, lineOf(name, keys)]);
  }
  return out.sort((a, b) => a[2] - b[2] || a[3] - b[3]);
}

/** The expert's gadget nodes: [point, kind, role, size, line], in program order. */
export function nodeInfos(p: PlacedExpert, block: number, keys: ReadonlyMap<string, number>): NodeInfo[] {
  return p.graph.nodes.map((n, i) => {
    const role = stripTag(n.role, block);
    return [p.sched.nodePoint[i], n.kind, role, n.kind === 'mlp' ? n.units.length : n.reads.length, lineOf(role, keys)];
  });
}

/** One cell's level: 0 empty, else 1..15 on a log scale (density 1 → 15, 10^-3 and below → 1). */
export function densityLevel(count: number, area: number): number {
  if (count === 0) return 0;
  const top = DENSITY_LEVELS - 1;
  return Math.max(1, Math.min(top, 1 + Math.round((top - 1) * (1 + Math.log10(count / area) / 3))));
}

const cellOf = (i: number, n: number, k: number) => Math.floor((i * k) / n);

/** How many of the n indices fall in each of k cells. */
function spans(n: number, k: number): Int32Array {
  const s = new Int32Array(k);
  for (let i = 0; i < n; i++) s[cellOf(i, n, k)]++;
  return s;
}

/** The density grid of a map's nonzero bounding box (from index 0), at most `side` cells a side. */
export function densityGrid(m: Pick<SparseMap, 'src' | 'dst'>, side: number): { nIn: number; nOut: number; rows: number; cols: number; cells: string } {
  let nIn = 1;
  let nOut = 1;
  for (let k = 0; k < m.src.length; k++) {
    nIn = Math.max(nIn, m.src[k] + 1);
    nOut = Math.max(nOut, m.dst[k] + 1);
  }
  const rows = Math.min(side, nIn);
  const cols = Math.min(side, nOut);
  const rowSpan = spans(nIn, rows);
  const colSpan = spans(nOut, cols);
  const count = new Int32Array(rows * cols);
  const touched: number[] = [];
  for (let k = 0; k < m.src.length; k++) {
    const cell = cellOf(m.src[k], nIn, rows) * cols + cellOf(m.dst[k], nOut, cols);
    if (count[cell]++ === 0) touched.push(cell);
  }
  touched.sort((a, b) => a - b);
  // only the touched cells are visited (maps are sparse): encodeCells of the full grid, in O(nonzeros)
  const cells = encodeSparseCells(rows * cols, touched, (k) => densityLevel(count[k], rowSpan[Math.floor(k / cols)] * colSpan[k % cols]));
  return { nIn, nOut, rows, cols, cells };
}

/** Every nonempty map of an expert with the point of its sublayer (the readout's at 2·layers). */
export function expertMapList(w: ExpertWeights, readoutPoint: number): Array<{ point: number; map: MapName; m: SparseMap }> {
  const out: Array<{ point: number; map: MapName; m: SparseMap }> = [];
  w.layers.forEach((l, k) => {
    if (l.attn) {
      out.push({ point: 2 * k, map: 'q', m: l.attn.q }, { point: 2 * k, map: 'out', m: l.attn.out });
      if (l.attn.pending) out.push({ point: 2 * k, map: 'pending', m: l.attn.pending });
    }
    if (l.mlp) out.push({ point: 2 * k + 1, map: 'up', m: l.mlp.up }, { point: 2 * k + 1, map: 'down', m: l.mlp.down });
  });
  out.push({ point: readoutPoint, map: 'next', m: w.next });
  if (w.entries) out.push({ point: readoutPoint, map: 'rows', m: w.entries });
  return out.filter((x) => x.m.val.length > 0 && x.point <= readoutPoint);
}

function mapDensities(w: ExpertWeights, readoutPoint: number, side: number): MapDensity[] {
  if (side === 0) return [];
  return expertMapList(w, readoutPoint).map(({ point, map, m }) => {
    const g = densityGrid(m, side);
    return [point, map, g.nIn, g.nOut, m.val.length, g.rows, g.cols, g.cells];
  });
}

function blockOf(funcs: readonly Func[], func: string, block: number): Block {
  const f = funcs.find((x) => x.name === func);
  const b = f?.blocks[block];
  if (!b) throw new Error(`describe: no block ${block} in function ${func}`);
  return b;
}

function describeExpert(r: BackendResult, i: number): ExpertInspect {
  const e = r.program.experts[i];
  const p = r.placed[i];
  const b = blockOf(r.ir.funcs, e.func, e.block);
  const keys = lineKeys(b);
  return {
    pc: e.pc,
    func: e.func,
    block: e.block,
    layers: p.sched.layers,
    dModel: p.alloc.dModel,
    maxLive: p.alloc.maxLive,
    criticalPath: criticalPath(e.graph),
    ir: blockLines(b, e.block),
    values: slotValues(p, e.block, keys),
    nodes: nodeInfos(p, e.block, keys),
    maps: [],
  };
}

export interface DescribeOptions {
  /** The most bytes the encoded entry may take (grids are coarsened, then left out, to fit). */
  maxBytes?: number;
}

/** The grid sides tried, finest first; 0 leaves the maps out. */
const GRID_SIDES = [MAX_GRID_SIDE, 8, 0];

/**
 * The inspect metadata of a compiled program: the finest grids whose encoded entry
 * (format/inspect.ts encodeInspect, the bytes the model gains) fits the budget.
 */
export function describe(r: BackendResult, opts: DescribeOptions = {}): InspectInfo {
  const maxBytes = opts.maxBytes ?? Math.max(MIN_BUDGET, Math.round(BUDGET_FRACTION * r.onnx.length));
  const experts = r.program.experts.map((_, i) => describeExpert(r, i));
  let info: InspectInfo | null = null;
  for (const side of GRID_SIDES) {
    info = { format: INSPECT_FORMAT, gridSide: side, experts: experts.map((e, i) => ({ ...e, maps: mapDensities(r.weights.experts[i], 2 * e.layers, side) })) };
    if (encodeInspect(info).length <= maxBytes) break;
  }
  return info!;
}
