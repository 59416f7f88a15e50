// bench/gadget_costs.ts — prints, per i32 gadget, its MLP sublayers (schedule) and hidden units (DESIGN.md §10).
//
// Usage: npx tsx bench/gadget_costs.ts [--markdown]
// Each gadget is built alone on canonical embedding operands (variable, or the constant named),
// with a fresh BitCache; "with bits" reuses a cache that already holds both operands' bits
// (their decomposition's own sublayers are then not counted).

import { GraphBuilder, nodeInputs } from '../backend/graph.js';
import type { Graph } from '../backend/graph.js';
import { lvar, lvars } from '../backend/linear.js';
import type { LinForm } from '../backend/linear.js';
import { LIMB } from '../backend/encoding.js';
import { IValue, constValue, limbValue } from '../backend/gadgets/arith.js';
import { BitCache, bitsOf } from '../backend/gadgets/bits.js';
import { I32_BINARY, I32_UNARY, I32BinaryCode, I32UnaryCode } from '../backend/gadgets/i32.js';
import { mulLazy } from '../backend/gadgets/multiply.js';
import { select } from '../backend/gadgets/select.js';
import { checkMagnitudes } from '../backend/check_magnitudes.js';
import { criticalPath, schedule } from '../backend/schedule.js';

interface Row {
  gadget: string;
  operands: string;
  layers: number;
  units: number;
  withBits: string;
  worst: number;
}

/** What a gadget computes: its value's limbs and trap signals (nodes nobody of them needs are pruned, as ir_to_graph does). */
type Built = { value: IValue; traps?: Array<{ signal: LinForm }> } | IValue;
const formsOf = (r: Built): LinForm[] => {
  const v = 'value' in r ? r.value : r;
  return [v.lo, v.hi, ...('traps' in r ? (r.traps ?? []).map((t) => t.signal) : [])];
};

function measure(build: (g: GraphBuilder, a: IValue, b: IValue, cache: BitCache) => Built, B: number | null, preBits: boolean): { layers: number; units: number; worst: number } {
  const g = new GraphBuilder();
  const embed = [g.vreg('a.lo', 0, LIMB - 1), g.vreg('a.hi', 0, LIMB - 1)];
  const a = limbValue(lvar(embed[0]), lvar(embed[1]));
  let b: IValue;
  if (B === null) {
    embed.push(g.vreg('b.lo', 0, LIMB - 1), g.vreg('b.hi', 0, LIMB - 1));
    b = limbValue(lvar(embed[2]), lvar(embed[3]));
  } else b = constValue(B);
  const cache = new BitCache();
  let skip = 0;
  if (preBits) {
    bitsOf(g, 0, 'a', a, cache).all();
    bitsOf(g, 0, 'b', b, cache).all();
    skip = g.nodes.length;
  }
  const needed = new Set(formsOf(build(g, a, b, cache)).flatMap(lvars));
  // the cached bits are given (kept whether read or not); the gadget's own nodes are kept when needed
  const keep = g.nodes.map((_, i) => i < skip);
  for (let i = g.nodes.length - 1; i >= skip; i--) {
    if (!g.nodes[i].outputs.some((v) => needed.has(v))) continue;
    keep[i] = true;
    for (const v of nodeInputs(g.nodes[i])) needed.add(v);
  }
  const nodes = g.nodes.filter((_, i) => keep[i]).map((n, i) => ({ ...n, id: i }));
  const graph: Graph = { vregs: g.vregs, nodes, embed, readout: [], ports: [] };
  const { worst } = checkMagnitudes(graph, null);
  const sched = schedule(graph);
  if (criticalPath(graph) !== sched.layers) throw new Error('schedule and critical path disagree');
  const pre = preBits ? Math.max(0, ...sched.nodePoint.slice(0, skip).map((p) => (p + 1) / 2)) : 0;
  const units = nodes.slice(skip).reduce((s, n) => s + (n.kind === 'mlp' ? n.units.length : 0), 0);
  const last = Math.max(0, ...sched.nodePoint.slice(skip).map((p) => (p + 1) / 2));
  return { layers: Math.max(0, last - pre), units, worst };
}

const rows: Row[] = [];
function add(gadget: string, operands: string, build: (g: GraphBuilder, a: IValue, b: IValue, cache: BitCache) => Built, B: number | null, bitsToo = true): void {
  const m = measure(build, B, false);
  const w = bitsToo ? measure(build, B, true) : null;
  rows.push({ gadget, operands, layers: m.layers, units: m.units, withBits: w ? `${w.layers} / ${w.units}` : '', worst: m.worst });
}

const BIN = Object.keys(I32_BINARY) as I32BinaryCode[];
for (const op of BIN) {
  add(op, 'a, b', (g, a, b, c) => I32_BINARY[op](g, 0, op, a, b, c), null);
  const consts: Partial<Record<I32BinaryCode, number[]>> = {
    mul: [10, 4, 1000003],
    div_u: [10, 1000, 16],
    div_s: [10, 1000, 8, 100000],
    rem_u: [10, 1000, 16],
    rem_s: [10, 8],
    and: [0xff, 0xffff, 0x80],
    or: [0x100],
    xor: [0xffffffff],
    shl: [2, 16],
    shr_s: [31],
    shr_u: [8],
    rotl: [5],
    rotr: [5],
    eq: [10, 0x12345678],
    ne: [0],
    lt_s: [100, 0x12345678],
    lt_u: [100],
    gt_s: [0],
    ge_u: [0x10000],
  };
  for (const C of consts[op] ?? []) add(op, `a, ${C > 0xffff ? '0x' + C.toString(16) : C}`, (g, a, b, c) => I32_BINARY[op](g, 0, op, a, b, c), C);
}
for (const op of Object.keys(I32_UNARY) as I32UnaryCode[]) add(op, 'a', (g, a, _b, c) => I32_UNARY[op](g, 0, op, a, c), 0);
add('mulLazy', 'a, b', (g, a, b, c) => mulLazy(g, 0, 'm', a, b, c), null);
add('select', 'i32 cond', (g, a, b) => select(g, 0, 's', a, b, a), null, false);
add('select', '0/1 cond', (g, a, b) => select(g, 0, 's', I32_BINARY.lt_u(g, 0, 'c', a, b).value, a, b), null, false);

const md = process.argv.includes('--markdown');
if (md) {
  console.log('| gadget | operands | sublayers | units | with cached bits (sublayers / units) | worst Σ |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.gadget} | ${r.operands} | ${r.layers} | ${r.units} | ${r.withBits} | ${(r.worst / 2 ** 24).toFixed(3)}·2^24 |`);
} else {
  for (const r of rows) console.log(`${r.gadget.padEnd(10)} ${r.operands.padEnd(14)} layers ${String(r.layers).padStart(2)}  units ${String(r.units).padStart(6)}  with-bits ${r.withBits.padEnd(12)} worst ${(r.worst / 2 ** 24).toFixed(3)}·2^24`);
}
