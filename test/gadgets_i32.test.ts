// test/gadgets_i32.test.ts — the i32 gadget library (backend/gadgets/i32.ts) against exact JS semantics.
//
// For every op: the gadget is built in a GraphBuilder with its operands as embedding vregs
// (both variable, and with either operand constant), evaluated by test/support/graph_eval.ts in
// float32 arithmetic, and compared with test/support/i32_ref.ts on crossed edge values and
// seeded random pairs; every written vreg must be an integer inside its declared range (so
// gadgets stay exact on trapping inputs too), each trap signal must be exactly 0 or 1 and
// raised exactly when the reference traps, and checkMagnitudes must accept every graph.

import { describe, expect, it } from 'vitest';
import { Graph, GraphBuilder } from '../backend/graph.js';
import type { Vreg } from '../backend/linear.js';
import { lvar } from '../backend/linear.js';
import { LIMB } from '../backend/encoding.js';
import { IValue, addLazy, constValue, limbValue } from '../backend/gadgets/arith.js';
import { BitCache } from '../backend/gadgets/bits.js';
import { I32_BINARY, I32_UNARY, I32BinaryCode, I32Result, I32UnaryCode } from '../backend/gadgets/i32.js';
import { select } from '../backend/gadgets/select.js';
import { mulLazy } from '../backend/gadgets/multiply.js';
import { subLazy } from '../backend/gadgets/sub.js';
import { checkMagnitudes } from '../backend/check_magnitudes.js';
import { schedule } from '../backend/schedule.js';
import { TrapCode } from '../format/errors.js';
import { evalGraph, EvalResult } from './support/graph_eval.js';
import { refBinary, refUnary } from './support/i32_ref.js';

const EDGES = [0, 1, 2, 3, 7, 15, 16, 31, 32, 33, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0xffff0000, 0x12345678, 0xdeadbeef];
const CONSTS = [0, 1, 2, 3, 10, 16, 31, 32, 33, 100, 0xff, 0x8000, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xdeadbeef];

/** Deterministic PRNG (mulberry32), with a bias towards values near limb boundaries. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomPairs(seed: number, n: number): Array<[number, number]> {
  const r = rng(seed);
  const val = () => {
    const k = r() % 4;
    const x = r();
    if (k === 0) return x >>> (r() % 32); // small magnitudes
    if (k === 1) return (x | 0) < 0 ? x : -(x >>> (r() % 32)) >>> 0; // small negatives
    return x;
  };
  return Array.from({ length: n }, () => [val(), val()] as [number, number]);
}

const limbs = (u: number): [number, number] => [(u >>> 0) & 0xffff, (u >>> 0) >>> 16];

function expectInRange(graph: Graph, res: EvalResult, what: string): void {
  for (const n of graph.nodes) {
    for (const v of n.outputs) {
      const info = graph.vregs[v];
      const x = res.values[v];
      if (!(Number.isInteger(x) && x >= info.min && x <= info.max)) {
        throw new Error(`${what}: ${info.name} = ${x} outside its declared range [${info.min}, ${info.max}]`);
      }
    }
  }
}

/** Every unit's pre-activation is an integer within its declared activation bound (what checkMagnitudes trusts). */
function expectUnitBounds(graph: Graph, res: EvalResult, what: string): void {
  for (const n of graph.nodes) {
    if (n.kind !== 'mlp') continue;
    n.units.forEach((u, i) => {
      const p = res.form(u.pre);
      if (!(Number.isInteger(p) && p <= u.max)) throw new Error(`${what}: ${n.role} unit ${i} pre-activation ${p} above its bound ${u.max}`);
    });
  }
}

interface Built {
  graph: Graph;
  result: I32Result;
  /** embedding values for operand values (constants are not embedded) */
  embed: (a: number, b: number) => number[];
}

type Operand = 'var' | number;

function operand(g: GraphBuilder, name: string, o: Operand, embed: Vreg[]): IValue {
  if (o !== 'var') return constValue(o);
  const lo = g.vreg(`${name}.lo`, 0, LIMB - 1);
  const hi = g.vreg(`${name}.hi`, 0, LIMB - 1);
  embed.push(lo, hi);
  return limbValue(lvar(lo), lvar(hi));
}

function build(f: (g: GraphBuilder, a: IValue, b: IValue) => I32Result, A: Operand, B: Operand, cheapBits?: ReadonlySet<string>): Built {
  const g = new GraphBuilder(cheapBits);
  const embed: Vreg[] = [];
  const a = operand(g, 'a', A, embed);
  const b = operand(g, 'b', B, embed);
  const result = f(g, a, b);
  const graph: Graph = { vregs: g.vregs, nodes: g.nodes, embed, readout: [], ports: [] };
  checkMagnitudes(graph, null);
  return {
    graph,
    result,
    embed: (x, y) => [...(A === 'var' ? limbs(x) : []), ...(B === 'var' ? limbs(y) : [])],
  };
}

function run(b: Built, x: number, y: number, what: string, units = false): { value: number; traps: Map<TrapCode, number> } {
  const res = evalGraph(b.graph, b.embed(x, y), { float32: true });
  expectInRange(b.graph, res, what);
  if (units) expectUnitBounds(b.graph, res, what);
  const lo = res.form(b.result.value.lo);
  const hi = res.form(b.result.value.hi);
  expect(Number.isInteger(lo) && lo >= 0 && lo <= 0xffff, `${what}: lo limb ${lo} not canonical`).toBe(true);
  expect(Number.isInteger(hi) && hi >= 0 && hi <= 0xffff, `${what}: hi limb ${hi} not canonical`).toBe(true);
  expect(lo, `${what}: lo within loMax`).toBeLessThanOrEqual(b.result.value.loMax);
  expect(hi, `${what}: hi within hiMax`).toBeLessThanOrEqual(b.result.value.hiMax);
  const traps = new Map<TrapCode, number>();
  for (const t of b.result.traps) {
    const s = res.form(t.signal);
    expect(s === 0 || s === 1, `${what}: trap signal ${s}`).toBe(true);
    traps.set(t.code, s);
  }
  return { value: (lo + LIMB * hi) >>> 0, traps };
}

const hex = (x: number) => `0x${(x >>> 0).toString(16)}`;

/** Yields to the event loop now and then, so long evaluations keep the test runner responsive. */
const breathe = (i: number) => (i % 25 === 24 ? new Promise<void>((r) => setImmediate(r)) : null);

async function checkBinary(op: I32BinaryCode, b: Built, pairs: Array<[number, number]>): Promise<void> {
  for (const [i, [x, y]] of pairs.entries()) {
    await breathe(i);
    const what = `${op}(${hex(x)}, ${hex(y)})`;
    const got = run(b, x, y, what, i < 40 || i % 10 === 0);
    const want = refBinary(op, x, y);
    const raised = [...got.traps].filter(([, s]) => s === 1).map(([c]) => c);
    if ('trap' in want) {
      expect(raised, what).toContain(want.trap);
    } else {
      expect(raised, `${what}: no trap`).toEqual([]);
      expect(hex(got.value), what).toBe(hex(want.value));
    }
  }
}

const BINARY = Object.keys(I32_BINARY) as I32BinaryCode[];
const UNARY = Object.keys(I32_UNARY) as I32UnaryCode[];
const crossed: Array<[number, number]> = EDGES.flatMap((x) => EDGES.map((y) => [x, y] as [number, number]));
/** The division gadgets are large (~10^4 units): they get the brief's edge set, crossed. */
const DIV_EDGES = [0, 1, 2, 3, 10, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0xdeadbeef];
const DIV_CONSTS = [0, 1, 2, 3, 7, 8, 10, 60, 100, 1000, 0x7fff, 0x8001, 12345, 0xffff, 0x8000, 0x10000, 0x10001, 0x20000, 0x40000000, 0x7fffffff, 0x80000000, 0xfffffff6, 0xfffffffe, 0xffffffff];
const isDiv = (op: string) => /^(div|rem)_/.test(op);
const crossedFor = (op: string) => (isDiv(op) ? DIV_EDGES.flatMap((x) => DIV_EDGES.map((y) => [x, y] as [number, number])) : crossed);

describe('i32 binary gadgets, both operands variable', () => {
  for (const op of BINARY) {
    it(`${op}: crossed edge values and 300 random pairs, float32, exact`, async () => {
      const b = build((g, x, y) => I32_BINARY[op](g, 0, op, x, y, new BitCache()), 'var', 'var');
      await checkBinary(op, b, [...crossedFor(op), ...randomPairs(op.length * 7919 + op.charCodeAt(0), 300)]);
    });
  }
});

describe('i32 binary gadgets with a constant operand', () => {
  for (const op of BINARY) {
    it(`${op}: each constant on either side`, async () => {
      const xs = isDiv(op) ? [...DIV_EDGES, ...randomPairs(17, 10).map(([x]) => x)] : [...EDGES, ...randomPairs(17 + op.length, 40).map(([x]) => x)];
      for (const C of isDiv(op) ? DIV_CONSTS : CONSTS) {
        const right = build((g, x, y) => I32_BINARY[op](g, 0, op, x, y, new BitCache()), 'var', C);
        await checkBinary(op, right, xs.map((x) => [x, C]));
        const left = build((g, x, y) => I32_BINARY[op](g, 0, op, x, y, new BitCache()), C, 'var');
        await checkBinary(op, left, xs.map((x) => [C, x]));
      }
    });
  }
});

describe('i32 unary gadgets', () => {
  for (const op of UNARY) {
    it(`${op}: edge values and 300 random values, float32, exact`, () => {
      const b = build((g, x) => I32_UNARY[op](g, 0, op, x, new BitCache()), 'var', 0);
      const xs = [...EDGES, ...EDGES.map((x) => (x + 0x80) >>> 0), ...randomPairs(op.length * 31, 300).map(([x]) => x)];
      for (const x of xs) {
        const what = `${op}(${hex(x)})`;
        expect(hex(run(b, x, 0, what, true).value), what).toBe(hex(refUnary(op, x)));
      }
    });
  }
});

describe('bit decompositions in the small form (a nibble a sublayer, backend/bit_slack.ts)', () => {
  // every op whose gadget decomposes an operand into bits, built again with all its decompositions small
  const decompositions = (b: Built) => new Set(b.graph.nodes.filter((n) => n.role.endsWith('.bits_hi')).map((n) => n.role.slice(0, -'.bits_hi'.length)));
  for (const op of BINARY.filter((o) => !isDiv(o))) {
    const fast = build((g, x, y) => I32_BINARY[op](g, 0, op, x, y, new BitCache()), 'var', 'var');
    const names = decompositions(fast);
    if (names.size === 0) continue;
    it(`${op}: crossed edge values and 100 random pairs, float32, exact, with fewer units and no shallower`, async () => {
      const small = build((g, x, y) => I32_BINARY[op](g, 0, op, x, y, new BitCache()), 'var', 'var', names);
      const units = (b: Built) => b.graph.nodes.reduce((s, n) => s + (n.kind === 'mlp' ? n.units.length : 0), 0);
      expect(small.graph.nodes.some((n) => n.role.endsWith('.bits_n3'))).toBe(true);
      expect(small.graph.nodes.some((n) => n.role.endsWith('.bits_hi'))).toBe(false);
      expect(units(small)).toBeLessThan(units(fast));
      expect(schedule(small.graph).layers).toBeGreaterThanOrEqual(schedule(fast.graph).layers);
      await checkBinary(op, small, [...crossed, ...randomPairs(op.length * 104729 + 1, 100)]);
    });
  }
  for (const op of UNARY) {
    const fast = build((g, x) => I32_UNARY[op](g, 0, op, x, new BitCache()), 'var', 0);
    const names = decompositions(fast);
    if (names.size === 0) continue;
    it(`${op}: edge values and 100 random values, float32, exact`, () => {
      const small = build((g, x) => I32_UNARY[op](g, 0, op, x, new BitCache()), 'var', 0, names);
      expect(small.graph.nodes.some((n) => n.role.endsWith('.bits_n3'))).toBe(true);
      for (const x of [...EDGES, ...randomPairs(op.length * 37, 100).map(([v]) => v)]) {
        const what = `${op}(${hex(x)})`;
        expect(hex(run(small, x, 0, what, true).value), what).toBe(hex(refUnary(op, x)));
      }
    });
  }
});

describe('operands that are lazy sums or 0/1 values', () => {
  it('every binary op accepts lazy operands (a + b, a − b) and canonicalises them', async () => {
    for (const op of BINARY) {
      await breathe(24);
      const b = build((g, x, y) => I32_BINARY[op](g, 0, op, addLazy(x, y), subLazy(x, y), new BitCache()), 'var', 'var');
      for (const [x, y] of [...EDGES.slice(0, 12).flatMap((x) => [[x, 0xffffffff], [x, 0x80000000]] as Array<[number, number]>), ...randomPairs(99, 40)]) {
        const u = (x + y) >>> 0;
        const v = (x - y) >>> 0;
        const got = run(b, x, y, `${op} lazy`);
        const want = refBinary(op, u, v);
        if ('value' in want) expect(hex(got.value), `${op}(${hex(u)}, ${hex(v)})`).toBe(hex(want.value));
      }
    }
  });

  it('bitwise ops, select and eqz on comparison results (0/1) are one sublayer or free', () => {
    for (const op of ['and', 'or', 'xor'] as const) {
      const b = build((g, x, y) => {
        const p = I32_BINARY.lt_s(g, 0, 'p', x, y).value;
        const q = I32_BINARY.eq(g, 0, 'q', x, constValue(5)).value;
        return I32_BINARY[op](g, 0, op, p, q);
      }, 'var', 'var');
      expect(schedule(b.graph).layers).toBe(3);
      for (const [x, y] of [...crossed.slice(0, 200), [5, 9], [5, 2], [5, 0xffffffff]] as Array<[number, number]>) {
        const p = (x | 0) < (y | 0) ? 1 : 0;
        const q = x === 5 ? 1 : 0;
        const want = op === 'and' ? p & q : op === 'or' ? p | q : p ^ q;
        expect(run(b, x, y, op).value).toBe(want);
      }
    }
  });
});

describe('select', () => {
  it('cond ? a : b for i32 conditions, 0/1 conditions and constant arms', () => {
    const cases: Array<[string, (g: GraphBuilder, x: IValue, y: IValue) => IValue, (x: number, y: number) => number]> = [
      ['i32 cond', (g, x, y) => select(g, 0, 's', x, y, x), (x, y) => (x !== 0 ? y : x)],
      ['bool cond', (g, x, y) => select(g, 0, 's', I32_BINARY.lt_u(g, 0, 'c', x, y).value, x, y), (x, y) => ((x >>> 0) < (y >>> 0) ? x : y)],
      ['constant arms', (g, _x, y) => select(g, 0, 's', y, constValue(0xdeadbeef), constValue(7)), (_x, y) => (y !== 0 ? 0xdeadbeef : 7)],
      ['lazy arm', (g, x, y) => select(g, 0, 's', y, addLazy(x, y), x), (x, y) => (y !== 0 ? (x + y) >>> 0 : x)],
    ];
    for (const [what, f, want] of cases) {
      const b = build((g, x, y) => ({ value: f(g, x, y), traps: [] }), 'var', 'var');
      for (const [x, y] of [...crossed, ...randomPairs(5, 100)]) expect(hex(run(b, x, y, what).value), `${what} ${hex(x)} ${hex(y)}`).toBe(hex(want(x, y)));
    }
  });
});

describe('mulLazy', () => {
  it('returns a lazy value (lo canonical) equal to a·b mod 2^32', () => {
    const b = build((g, x, y) => ({ value: mulLazy(g, 0, 'm', x, y), traps: [] }), 'var', 'var');
    for (const [x, y] of [...crossed, ...randomPairs(11, 300)]) {
      const res = evalGraph(b.graph, b.embed(x, y), { float32: true });
      const lo = res.form(b.result.value.lo);
      const hi = res.form(b.result.value.hi);
      expect(lo).toBeLessThanOrEqual(0xffff);
      expect(hi).toBeLessThanOrEqual(b.result.value.hiMax);
      expect(hex((lo + LIMB * hi) % 2 ** 32)).toBe(hex(Math.imul(x, y)));
    }
  });
});

describe('shared bit decompositions', () => {
  it('and, xor, shl and popcnt of the same values share one decomposition per value', () => {
    const g = new GraphBuilder();
    const embed: Vreg[] = [];
    const x = operand(g, 'a', 'var', embed);
    const y = operand(g, 'b', 'var', embed);
    const cache = new BitCache();
    I32_BINARY.and(g, 0, 'and', x, y, cache);
    const before = g.nodes.length;
    I32_BINARY.xor(g, 0, 'xor', x, y, cache);
    I32_BINARY.shl(g, 0, 'shl', x, constValue(3), cache);
    I32_UNARY.popcnt(g, 0, 'pop', y, cache);
    // xor adds its combining node per limb; the constant shift and popcnt are affine in cached bits
    expect(g.nodes.length).toBe(before + 2);
  });
});

describe('shifts by every constant count', () => {
  for (const op of ['shl', 'shr_s', 'shr_u', 'rotl', 'rotr'] as const) {
    it(`${op} by 0..33 and -1 (one-sublayer field shifts included)`, async () => {
      const xs = [...EDGES, ...randomPairs(3, 30).map(([x]) => x)];
      for (let c = -1; c <= 33; c++) {
        const C = c >>> 0;
        const b = build((g, x, y) => I32_BINARY[op](g, 0, op, x, y, new BitCache()), 'var', C);
        await checkBinary(op, b, xs.map((x) => [x, C]));
        const layers = b.graph.nodes.length === 0 ? 0 : schedule(b.graph).layers;
        const k = C & 31;
        const right = op === 'shr_u' || op === 'shr_s';
        if ((op === 'shl' && k >= 1 && k <= 5) || (right && ((k >= 11 && k <= 15) || k >= 24))) expect(layers, `${op} ${k}`).toBeLessThanOrEqual(1);
        else expect(layers, `${op} ${k}`).toBeLessThanOrEqual(2);
      }
    });
  }
});
