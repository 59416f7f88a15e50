// test/backend_gadgets.test.ts — gadget unit tests: GraphBuilder + the reference evaluator, no ONNX.
//
// Each gadget (backend/gadgets/*.ts, MlpBuilder.step) is built on a small
// graph whose inputs are embedding vregs, evaluated with test/support/graph_eval.ts
// in float64 and in float32 arithmetic, and compared with the integer
// semantics it implements: step, canonicalisation of lazy sums, nonzero,
// value bytes, round01, address decoding with the bounds check, and the
// two-stage latest-write-wins memory lookup (including ties, late epochs and
// float32 softmax). check_magnitudes is tested on hand-built nodes and on the
// gadget graphs.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Graph, GraphBuilder } from '../backend/graph.js';
import type { LinForm, Vreg } from '../backend/linear.js';
import { lcomb, lconst, lvar } from '../backend/linear.js';
import { EPOCH_BITS, LIMB, MemoryLayout, entryRow, memoryLayout, sinkRow, timeOf } from '../backend/encoding.js';
import {
  IValue,
  addLazy,
  canon,
  canonHi,
  canonLo,
  constValue,
  fitsLazy,
  limbValue,
  nonzero,
  round01,
  valueBytes,
} from '../backend/gadgets/arith.js';
import { decodeAccess, lookupByte, pendingRow, roundBits, stage1, stage2 } from '../backend/gadgets/memory.js';
import { checkMagnitudes, EXACT_LIMIT } from '../backend/check_magnitudes.js';
import { evalGraph, EvalOptions, EvalResult } from './support/graph_eval.js';

// ---------------------------------------------------------------- helpers

function graphOf(g: GraphBuilder, embed: Vreg[]): Graph {
  return { vregs: g.vregs, nodes: g.nodes, embed, readout: [], ports: [] };
}

/** Every exact vreg a node wrote holds an integer inside its declared [min, max]. */
function expectInRange(graph: Graph, res: EvalResult): void {
  for (const n of graph.nodes) {
    for (const v of n.outputs) {
      const info = graph.vregs[v];
      const x = res.values[v];
      if (!info.exact) continue;
      if (!(Number.isInteger(x) && x >= info.min && x <= info.max)) {
        throw new Error(`${info.name} = ${x} outside its declared range [${info.min}, ${info.max}] or not an integer`);
      }
    }
  }
}

const MODES: EvalOptions[] = [{}, { float32: true }];

/** A canonical IValue read from two fresh input vregs. */
function inputValue(g: GraphBuilder, name: string): { v: IValue; lo: Vreg; hi: Vreg } {
  const lo = g.vreg(`${name}.lo`, 0, LIMB - 1);
  const hi = g.vreg(`${name}.hi`, 0, LIMB - 1);
  return { v: limbValue(lvar(lo), lvar(hi)), lo, hi };
}

const limbsOf = (u: number): [number, number] => [(u >>> 0) & 0xffff, (u >>> 0) >>> 16];

const I32_EDGES = [0, 1, 2, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0xfffeffff, 0xffff0000, 0xfffffffe, 0xffffffff];

// ---------------------------------------------------------------- step

describe('MlpBuilder.step', () => {
  it('is exactly 0 below the threshold and exactly w at or above it, on integers', () => {
    for (const k of [-70000, -3, 0, 1, 2, 255, 4096, 65536, 1 << 20]) {
      for (const w of [1, -1, 3, 65536]) {
        const g = new GraphBuilder();
        const x = g.vreg('x', k - 10, k + 10);
        const y = g.vreg('y', Math.min(0, w), Math.max(0, w));
        const m = g.mlp(0, 'step');
        m.bias(y, 0);
        m.step(lvar(x), k, [[y, w]]);
        const graph = graphOf(g, [x]);
        for (const opts of MODES) {
          for (let xv = k - 10; xv <= k + 10; xv++) {
            const r = evalGraph(graph, [xv], opts);
            expect(r.values[y], `step(${xv} >= ${k})·${w}`).toBe(xv >= k ? w : 0);
          }
        }
      }
    }
  });

  it('works on an affine form of several vregs (2a - b + 7 >= 100)', () => {
    const g = new GraphBuilder();
    const a = g.vreg('a', 0, 100);
    const b = g.vreg('b', 0, 100);
    const y = g.vreg('y', 0, 1);
    const m = g.mlp(0, 'step');
    m.bias(y, 0);
    m.step(lcomb([[lvar(a), 2], [lvar(b), -1]], 7), 100, [[y, 1]]);
    const graph = graphOf(g, [a, b]);
    for (let av = 0; av <= 100; av += 3) {
      for (let bv = 0; bv <= 100; bv += 7) {
        expect(evalGraph(graph, [av, bv]).values[y]).toBe(2 * av - bv + 7 >= 100 ? 1 : 0);
      }
    }
  });
});

// ---------------------------------------------------------------- canonicalisation

/** Builds Σ terms lazily (chain or balanced tree), canonicalises it, evaluates on `inputs`. */
function canonCase(terms: Array<number | null>, inputs: number[], tree: boolean, which: 'canon' | 'lo_then_hi') {
  const g = new GraphBuilder();
  const embed: Vreg[] = [];
  const vals: IValue[] = [];
  let k = 0;
  for (const t of terms) {
    if (t === null) {
      const x = inputValue(g, `in${k++}`);
      embed.push(x.lo, x.hi);
      vals.push(x.v);
    } else vals.push(constValue(t));
  }
  const sumOf = (xs: IValue[]): IValue => {
    if (!tree) return xs.reduce((a, b) => addLazy(a, b));
    if (xs.length === 1) return xs[0];
    const mid = Math.floor(xs.length / 2);
    return addLazy(sumOf(xs.slice(0, mid)), sumOf(xs.slice(mid)));
  };
  const lazy = sumOf(vals);
  expect(fitsLazy(g, lazy), 'test precondition: the lazy sum is within the lazy bounds').toBe(true);
  let mid: IValue | null = null;
  let out: IValue;
  if (which === 'canon') out = canon(g, 0, 's', lazy);
  else {
    mid = canonLo(g, 0, 's', lazy);
    out = canonHi(g, 0, 's', mid);
  }
  expect(out.loMax).toBeLessThanOrEqual(LIMB - 1);
  expect(out.hiMax).toBeLessThanOrEqual(LIMB - 1);
  const graph = graphOf(g, embed);
  const limbs = inputs.flatMap((u) => limbsOf(u));
  let exactSum = 0;
  let ii = 0;
  for (const t of terms) exactSum += t === null ? inputs[ii++] >>> 0 : t >>> 0;
  const want = limbsOf(exactSum % 2 ** 32);
  for (const opts of MODES) {
    const r = evalGraph(graph, limbs, opts);
    expectInRange(graph, r);
    expect([r.form(out.lo), r.form(out.hi)], `Σ = ${exactSum} (${JSON.stringify(terms)} / ${inputs.join(',')})`).toEqual(want);
    if (mid) {
      const lo = r.form(mid.lo);
      const hi = r.form(mid.hi);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(lo).toBeLessThanOrEqual(LIMB - 1);
      expect(hi).toBeLessThanOrEqual(mid.hiMax);
      // canon_lo may also wrap hi mod 65536 (same sublayer), so the value is kept mod 2^32
      expect((lo + LIMB * hi) % 2 ** 32).toBe(exactSum % 2 ** 32);
    }
  }
  checkMagnitudes(graph, null);
}

describe('canonLo / canonHi / canon', () => {
  it('canonicalise lazy sums of two and three values on every combination of edge values', () => {
    for (const a of I32_EDGES) for (const b of I32_EDGES) canonCase([null, null], [a, b], false, 'canon');
    const few = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];
    for (const a of few) for (const b of few) for (const c of few) {
      canonCase([null, null, null], [a, b, c], false, 'lo_then_hi');
      canonCase([null, 0xffff_ffff, null, null], [a, b, c], true, 'canon');
    }
  });

  it('canonicalise the largest lazy sum (16 × 0xffffffff)', () => {
    canonCase(new Array(16).fill(null), new Array(16).fill(0xffffffff), true, 'canon');
    canonCase(new Array(16).fill(null), new Array(16).fill(0xffffffff), false, 'lo_then_hi');
    canonCase([...new Array(15).fill(null), 0xffffffff], new Array(15).fill(0xffff0000), false, 'canon');
  });

  it('canonicalise random lazy sums (fast-check)', () => {
    const term = fc.oneof(fc.constant(null), fc.constant(null), fc.integer({ min: 0, max: 0xffffffff }));
    const edgey = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...I32_EDGES));
    fc.assert(
      fc.property(
        fc.array(term, { minLength: 1, maxLength: 16 }).filter((ts) => ts.some((t) => t === null)),
        fc.array(edgey, { minLength: 16, maxLength: 16 }),
        fc.boolean(),
        fc.constantFrom<'canon' | 'lo_then_hi'>('canon', 'lo_then_hi'),
        (terms, pool, tree, which) => {
          const n = terms.filter((t) => t === null).length;
          canonCase(terms, pool.slice(0, n), tree, which);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('canonHi wraps a lazy upper limb whose lower limb is already canonical', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 2, maxLength: 16 }), fc.integer({ min: 0, max: 0xffff }), (his, lo) => {
        const g = new GraphBuilder();
        const loV = g.vreg('lo', 0, LIMB - 1);
        const hiVs = his.map((_, i) => g.vreg(`hi${i}`, 0, LIMB - 1));
        const v: IValue = { lo: lvar(loV), hi: lcomb(hiVs.map((h) => [lvar(h), 1] as [LinForm, number])), loMax: LIMB - 1, hiMax: his.length * (LIMB - 1) };
        const out = canonHi(g, 0, 'h', v);
        const graph = graphOf(g, [loV, ...hiVs]);
        for (const opts of MODES) {
          const r = evalGraph(graph, [lo, ...his], opts);
          expect(r.form(out.lo)).toBe(lo);
          expect(r.form(out.hi)).toBe(his.reduce((a, b) => a + b, 0) % LIMB);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('leave canonical and constant values without adding nodes', () => {
    const g = new GraphBuilder();
    const x = inputValue(g, 'x');
    expect(canon(g, 0, 'c', x.v)).toBe(x.v);
    const k = canon(g, 0, 'k', addLazy(constValue(0xffffffff), constValue(0xffffffff)));
    expect([k.lo.c, k.hi.c]).toEqual(limbsOf(0xfffffffe));
    expect(g.nodes.length).toBe(0);
  });
});

// ---------------------------------------------------------------- nonzero, valueBytes

describe('nonzero', () => {
  const g = new GraphBuilder();
  const x = inputValue(g, 'x');
  const nz = nonzero(g, 0, 'nz', x.v);
  const graph = graphOf(g, [x.lo, x.hi]);

  it('is exactly 1 iff the value is non-zero (edge values)', () => {
    for (const u of I32_EDGES) {
      for (const opts of MODES) {
        const r = evalGraph(graph, limbsOf(u), opts);
        expectInRange(graph, r);
        expect(r.form(nz), `nonzero(${u})`).toBe(u !== 0 ? 1 : 0);
      }
    }
  });

  it('is exactly 1 iff the value is non-zero (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (u) => {
        expect(evalGraph(graph, limbsOf(u)).form(nz)).toBe(u !== 0 ? 1 : 0);
        expect(evalGraph(graph, limbsOf(u), { float32: true }).form(nz)).toBe(u !== 0 ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });

  it('folds constants', () => {
    const h = new GraphBuilder();
    expect(nonzero(h, 0, 'a', constValue(0)).c).toBe(0);
    expect(nonzero(h, 0, 'b', constValue(0x10000)).c).toBe(1);
    expect(h.nodes.length).toBe(0);
  });
});

describe('valueBytes', () => {
  const bytesOf = (u: number) => [0, 1, 2, 3].map((i) => ((u >>> 0) >>> (8 * i)) & 0xff);

  it('gives the four little-endian bytes of a canonical value (edge values and fast-check)', () => {
    const g = new GraphBuilder();
    const x = inputValue(g, 'x');
    const bytes = valueBytes(g, 0, 'vb', x.v);
    const graph = graphOf(g, [x.lo, x.hi]);
    checkMagnitudes(graph, null);
    const check = (u: number) => {
      for (const opts of MODES) {
        const r = evalGraph(graph, limbsOf(u), opts);
        expectInRange(graph, r);
        expect(bytes.map((b) => r.form(b)), `bytes of 0x${u.toString(16)}`).toEqual(bytesOf(u));
      }
    };
    const edges = [...I32_EDGES, 0xff, 0x100, 0xfff, 0x1000, 0x0fff0fff, 0xf000f000, 0x12345678, 0x80808080, 0x7f7f7f7f];
    for (const u of edges) check(u);
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), check), { numRuns: 500 });
  });

  it('handles a constant lower or upper limb', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (c, x, constLo) => {
        const g = new GraphBuilder();
        const v = g.vreg('x', 0, LIMB - 1);
        const val = constLo ? limbValue(lconst(c), lvar(v)) : limbValue(lvar(v), lconst(c));
        const bytes = valueBytes(g, 0, 'vb', val);
        const r = evalGraph(graphOf(g, [v]), [x]);
        const u = constLo ? c + LIMB * x : x + LIMB * c;
        expect(bytes.map((b) => r.form(b))).toEqual(bytesOf(u));
      }),
      { numRuns: 200 },
    );
  });

  it('folds a constant value', () => {
    const g = new GraphBuilder();
    expect(valueBytes(g, 0, 'k', constValue(0xdeadbeef)).map((f) => f.c)).toEqual(bytesOf(0xdeadbeef));
    expect(g.nodes.length).toBe(0);
  });
});

// ---------------------------------------------------------------- round01

describe('round01', () => {
  const g = new GraphBuilder();
  const x = g.vreg('x', 0, 1.25, false);
  const b = g.vreg('b', 0, 1);
  const m = g.mlp(0, 'round');
  m.bias(b, 0);
  round01(m, x, b);
  const graph = graphOf(g, [x]);

  const grid = (lo: number, hi: number, n: number) => Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
  const near = (c: number) => [c, c - 2 ** -24, c + 2 ** -24, c - 2 ** -52, c + 2 ** -52, c - 1e-7, c + 1e-7, c - 2 ** -7, c + 2 ** -7];

  it('is exactly 0 on [0, 0.25]', () => {
    const xs = [...grid(0, 0.25, 1000), ...near(0).filter((v) => v >= 0), 0.25, Number.MIN_VALUE];
    for (const xv of xs) {
      for (const opts of MODES) expect(evalGraph(graph, [xv], opts).values[b], `round01(${xv})`).toBe(0);
    }
  });

  it('is exactly 1 on [0.75, 1.25], in float64 and in float32 arithmetic', () => {
    const xs = [...grid(0.75, 1.25, 1000), ...near(1), 0.75, 1.25, 1 / 3 + 1 / 3 + 1 / 3, Math.fround(1 / 3) * 3, Math.fround(Math.fround(1 / 7) * 7)];
    for (const xv of xs) {
      for (const opts of MODES) expect(evalGraph(graph, [xv], opts).values[b], `round01(${xv})`).toBe(1);
    }
    fc.assert(
      fc.property(fc.double({ min: 0.75, max: 1.25, noNaN: true }), (xv) => {
        expect(evalGraph(graph, [xv]).values[b]).toBe(1);
        expect(evalGraph(graph, [xv], { float32: true }).values[b]).toBe(1);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------- decodeAccess

describe('decodeAccess', () => {
  // 1 page, 3 (not a power of two), 16 (the largest with one staircase over the page number),
  // 160 (clang's --initial-memory=10485760: the clamped page staircase) and 256 (the largest)
  for (const pages of [1, 3, 16, 160, 256]) {
    const mem = memoryLayout(pages * 65536, 1);
    const memBytes = mem.memBytes;

    /** One gadget per offset; evaluated on many bases. */
    const build = (offset: number) => {
      const g = new GraphBuilder();
      const x = inputValue(g, 'base');
      const acc = decodeAccess(g, 0, 'ld', mem, x.v, offset, 4);
      const graph = graphOf(g, [x.lo, x.hi]);
      checkMagnitudes(graph, mem);
      return { graph, acc };
    };
    const check = (built: ReturnType<typeof build>, offset: number, base: number, opts: EvalOptions = {}) => {
      const { graph, acc } = built;
      const r = evalGraph(graph, limbsOf(base), opts);
      expectInRange(graph, r);
      const ea = (base >>> 0) + offset; // no wrap-around: the effective address is a 33-bit sum
      const traps = ea + 4 > memBytes;
      const where = `base ${base >>> 0} + offset ${offset} (memory ${memBytes})`;
      expect(r.form(acc.trap), `trap for ${where}`).toBe(traps ? 1 : 0);
      acc.bits.forEach((bits, i) => {
        const vals = bits.map((b) => r.form(b));
        for (const v of vals) expect(v === 0 || v === 1, `bit value ${v} for ${where}`).toBe(true);
        if (!traps) expect(vals.reduce((s, bit, j) => s + bit * 2 ** j, 0), `address of byte ${i} for ${where}`).toBe(ea + i);
      });
    };

    it(`${pages} page(s): trap iff base+offset+4 > memBytes, bits of base+offset+i otherwise (edge values)`, () => {
      const offsets = [0, 1, 3, 4, 255, 4095, 4096, 65532, 65535, 65536, 65537, memBytes - 5, memBytes - 4, memBytes - 3, memBytes, 0x7fffffff, 0xffffffff];
      for (const offset of offsets) {
        const built = build(offset);
        const limit = memBytes - 4 - offset;
        const bases = new Set<number>([0, 1, 2, 3, 4, 0xffff, 0x10000, 0x10001, memBytes - 4, memBytes - 3, memBytes - 1, memBytes, 0x7fffffff, 0x80000000, 0xfffffffc, 0xfffffffd, 0xffffffff, 0xffff0000]);
        if (limit >= 0) {
          const rh = Math.floor(limit / LIMB);
          for (const d of [-2, -1, 0, 1, 2]) bases.add(limit + d);
          for (const h of [rh - 1, rh, rh + 1]) for (const l of [0, limit % LIMB, (limit % LIMB) + 1, 0xffff]) bases.add(h * LIMB + l);
        }
        for (const base of bases) {
          if (base < 0 || base > 0xffffffff) continue;
          check(built, offset, base);
          check(built, offset, base, { float32: true });
        }
      }
    });

    it(`${pages} page(s): random bases and offsets (fast-check)`, () => {
      const cache = new Map<number, ReturnType<typeof build>>();
      const offset = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: memBytes }), fc.constantFrom(0, 4, memBytes - 4));
      const base = fc.oneof(fc.integer({ min: 0, max: memBytes + 8 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: memBytes - 70000, max: memBytes + 8 }).filter((b) => b >= 0));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 7 }), offset, fc.array(base, { minLength: 4, maxLength: 16 }), (slot, off, bases) => {
          // a few distinct offsets per run, reusing built gadgets to keep the test fast
          const o = slot < 4 ? off : [0, 4, 100, memBytes - 4][slot - 4];
          let built = cache.get(o);
          if (!built) cache.set(o, (built = build(o)));
          for (const b of bases) check(built, o, b);
          // near the bound for this offset
          const limit = memBytes - 4 - o;
          for (const d of [-1, 0, 1]) if (limit + d >= 0) check(built, o, limit + d);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('accepts a base straight from canon_lo (hi up to 65535 + carry) plus a lazy lo, wrapping hi mod 65536', () => {
    for (const pages of [1, 16]) {
      const mem = memoryLayout(pages * 65536, 1);
      for (const offset of [0, 3, 4096, mem.memBytes - 4]) {
        const g = new GraphBuilder();
        const a = inputValue(g, 'a');
        const b = inputValue(g, 'b');
        const low = g.vreg('low', 0, LIMB - 1);
        const sum = canonLo(g, 0, 'sum', addLazy(a.v, b.v)); // lo canonical, hi <= 65536
        expect(sum.hiMax).toBeGreaterThan(LIMB - 1);
        const base = addLazy(sum, { lo: lvar(low), hi: lconst(0), loMax: LIMB - 1, hiMax: 0 }); // and lo lazy
        const acc = decodeAccess(g, 0, 'ld', mem, base, offset, 4);
        const graph = graphOf(g, [a.lo, a.hi, b.lo, b.hi, low]);
        checkMagnitudes(graph, mem);
        const pairs: Array<[number, number]> = [[0, 0], [0xffffffff, 1], [0xffffffff, 0x10], [0xffff0000, 0x10000], [0xfffffff0, 0x20],
          [0x80000000, 0x80000000], [0xffffffff, 0xffffffff], [mem.memBytes - 8, 4], [mem.memBytes - 4 - offset, 0], [mem.memBytes - 3 - offset, 0], [0xfffe0001, 0x2ffff]];
        for (const [x, y] of pairs) {
          for (const [opts, z] of [[{}, 0], [{ float32: true }, 0], [{}, 0xffff], [{ float32: true }, 0x11]] as Array<[EvalOptions, number]>) {
            const r = evalGraph(graph, [...limbsOf(x), ...limbsOf(y), z], opts);
            const ea = ((x + y + z) >>> 0) + offset;
            const traps = ea + 4 > mem.memBytes;
            expect(r.form(acc.trap), `trap for ${x}+${y}+${offset}`).toBe(traps ? 1 : 0);
            if (!traps) {
              acc.bits.forEach((bits, i) => {
                expect(bits.reduce((s2, bit, j) => s2 + r.form(bit) * 2 ** j, 0), `byte ${i} of ${x}+${y}+${offset}`).toBe(ea + i);
              });
            }
          }
        }
      }
    }
  });

  it('decodes a lazy base (lo a sum of limbs below 2^17, no canon_lo), wrapping past 2^32 like i32.add', () => {
    // base = a + b (+ c): a full i32, the others low limbs (hi 0), as `p + i` or `g + 4·q` leave them
    for (const pages of [1, 3, 16, 160, 256]) {
      const mem = memoryLayout(pages * 65536, 1);
      for (const terms of [2, 3, 0]) {
        // 0: two full i32 (both limbs lazy)
        const lowMax = terms === 2 || terms === 0 ? LIMB - 1 : 32767;
        for (const offset of [0, 3, 4096, 65535, mem.memBytes - 4]) {
          const g = new GraphBuilder();
          const a = inputValue(g, 'a');
          const lows = Array.from({ length: terms === 0 ? 2 : terms - 1 }, (_, k) => g.vreg(`l${k}`, 0, lowMax));
          let base: IValue = a.v;
          if (terms === 0) base = addLazy(base, limbValue(lvar(lows[0]), lvar(lows[1])));
          else for (const l of lows) base = addLazy(base, { lo: lvar(l), hi: lconst(0), loMax: lowMax, hiMax: 0 });
          expect(base.loMax).toBeGreaterThan(LIMB - 1);
          const acc = decodeAccess(g, 0, 'ld', mem, base, offset, 4);
          expect(g.nodes.length).toBe(mem.memBytes - 4 - offset >= 0 ? 4 : 0); // no canon_lo sublayer
          const graph = graphOf(g, [a.lo, a.hi, ...lows]);
          checkMagnitudes(graph, mem);
          const near = mem.memBytes - 4 - offset;
          const as = [0, 1, 0xffff, 0x10000, 0xfffffff0, 0xffffffff, 0xfffe0001, 0xffff8000, 0x80000000, near, near - 0x1fffe, near - 0xffff].filter((x) => x >= 0);
          const ls = [0, 1, 0x10, 0x7fff, 0xffff, 0xfffe].map((l) => Math.min(l, lowMax));
          for (const x of as) {
            for (const l0 of ls) {
              for (const l1 of terms === 3 ? [0, 1, 0x7fff] : terms === 0 ? [0, 1, 0xff, 0xfffe, 0xffff] : [null]) {
                const l = l1 === null ? [l0] : [l0, l1];
                const value = (x + (terms === 0 ? l0 + LIMB * (l1 ?? 0) : l.reduce((t, y) => t + y, 0))) % 2 ** 32;
                for (const opts of [{}, { float32: true }] as EvalOptions[]) {
                  const r = evalGraph(graph, [...limbsOf(x), ...l], opts);
                  expectInRange(graph, r);
                  const ea = value + offset;
                  const traps = ea + 4 > mem.memBytes;
                  expect(r.form(acc.trap), `trap for ${x}+${l.join('+')}+${offset}, ${pages} pages`).toBe(traps ? 1 : 0);
                  if (!traps) {
                    acc.bits.forEach((bits, i) => {
                      expect(bits.reduce((s2, bit, j) => s2 + r.form(bit) * 2 ** j, 0), `byte ${i} of ${x}+${l.join('+')}+${offset}`).toBe(ea + i);
                    });
                  }
                }
              }
            }
          }
        }
      }
    }
  });

  it('folds a constant base into constant bits and trap', () => {
    const mem = memoryLayout(65536, 1);
    const g = new GraphBuilder();
    const ok = decodeAccess(g, 0, 'a', mem, constValue(100), 8, 4);
    expect(ok.trap.c).toBe(0);
    expect(ok.bits.map((bits) => bits.reduce((s, b, j) => s + b.c * 2 ** j, 0))).toEqual([108, 109, 110, 111]);
    expect(decodeAccess(g, 0, 'b', mem, constValue(65533), 0, 4).trap.c).toBe(1);
    expect(decodeAccess(g, 0, 'c', mem, constValue(0xffffffff), 1, 4).trap.c).toBe(1);
    expect(g.nodes.length).toBe(0);
  });
});

// ---------------------------------------------------------------- two-stage lookup

interface Write {
  step: number;
  store: number;
  addr: number;
  value: number;
}

/** The pending rows of a step's stores (constant forms), in store order. */
function pendingRowsOf(mem: MemoryLayout, pending: Write[], step: number): LinForm[][] {
  const t = timeOf(mem, step);
  return pending.map((w) =>
    pendingRow(
      mem,
      Array.from({ length: mem.addrBits }, (_, j) => lconst((w.addr >>> j) & 1)),
      Array.from({ length: EPOCH_BITS }, (_, j) => lconst((t.epoch >>> j) & 1)),
      lconst(t.tickBase + w.store),
      lconst(w.value),
    ),
  );
}

/** The lookup gadget over constant-free address-bit inputs; returns its graph and the byte vreg. */
function lookupGraph(mem: MemoryLayout, pending: Write[] = [], stepOfPending = 0) {
  const g = new GraphBuilder();
  const bitsV = Array.from({ length: mem.addrBits }, (_, j) => g.vreg(`q.bit${j}`, 0, 1));
  const bits = bitsV.map((v) => lvar(v));
  const rows = pendingRowsOf(mem, pending, stepOfPending);
  const approx = stage1(g, 0, 'ld', mem, bits, rows);
  const rm = g.mlp(0, 'ld.round');
  const epochs = roundBits(g, rm, 'ld', approx);
  const byte = stage2(g, 0, 'ld', mem, bits, epochs, rows);
  return { graph: graphOf(g, bitsV), byte, epochs };
}

function cacheRows(mem: MemoryLayout, writes: Write[]): Float32Array[] {
  return [
    sinkRow(mem),
    ...writes.map((w) => {
      const t = timeOf(mem, w.step);
      return entryRow(mem, w.addr, t.epoch, t.tickBase + w.store, w.value);
    }),
  ];
}

/** Latest write at addr by (step, store), or 0. */
function latest(writes: Write[], addr: number): number {
  let best: Write | null = null;
  for (const w of writes) {
    if (w.addr !== addr) continue;
    if (!best || w.step > best.step || (w.step === best.step && w.store > best.store)) best = w;
  }
  return best ? best.value : 0;
}

function addrBitsOf(mem: MemoryLayout, addr: number): number[] {
  return Array.from({ length: mem.addrBits }, (_, j) => (addr >>> j) & 1);
}

/** Looks up addr in float64 and float32; float32 also checks the softmax weights are exact. */
function lookup(mem: MemoryLayout, built: ReturnType<typeof lookupGraph>, rows: Float32Array[], addr: number): number {
  const r64 = evalGraph(built.graph, addrBitsOf(mem, addr), { cache: rows });
  const heads: Array<{ role: string; weights: number[]; scores: number[] }> = [];
  const r32 = evalGraph(built.graph, addrBitsOf(mem, addr), {
    cache: rows,
    float32: true,
    onHead: (n, weights, scores) => heads.push({ role: n.role, weights, scores }),
  });
  expect(r32.values[built.byte], `float32 lookup of ${addr}`).toBe(r64.values[built.byte]);
  for (const h of heads) {
    const max = Math.max(...h.scores);
    const winners = h.scores.map((s, i) => (s === max ? i : -1)).filter((i) => i >= 0);
    h.weights.forEach((w, i) => {
      if (!winners.includes(i)) expect(w, `${h.role}: losing row ${i} weight`).toBe(0);
    });
    if (winners.length === 1 || h.role.endsWith('stage2')) {
      expect(winners.length, `${h.role}: a unique winner`).toBe(1);
      expect(h.weights[winners[0]], `${h.role}: winner weight`).toBe(1);
    }
  }
  expect(heads.map((h) => h.role)).toEqual(['ld.stage1', 'ld.stage2']);
  return r64.values[built.byte];
}

/** Random writes: `count` stores at increasing steps, clustered on a few addresses. */
const arbWrites = (mem: MemoryLayout, count: number, maxStep: number, minStep = 1) =>
  fc
    .array(
      fc.record({
        step: fc.integer({ min: minStep, max: maxStep }),
        store: fc.integer({ min: 0, max: mem.storeSlots - 1 }),
        addr: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: mem.memBytes - 1 })),
        value: fc.integer({ min: 1, max: 255 }),
      }),
      { minLength: 1, maxLength: count },
    )
    .map((ws) => {
      // a (step, store) pair writes each address at most once, as in the model
      const seen = new Set<string>();
      return ws.filter((w) => {
        const k = `${w.step}/${w.store}/${w.addr}`;
        return seen.has(k) ? false : (seen.add(k), true);
      });
    });

describe('stage1 → round01 → stage2 lookup', () => {
  const layouts = [memoryLayout(65536, 4), memoryLayout(16 * 65536, 1)];

  for (const mem of layouts) {
    const built = lookupGraph(mem);
    const name = `${mem.memBytes / 65536} page(s), ${mem.storeSlots} store slots`;

    it(`${name}: the latest write wins, 0 when never written (fast-check)`, () => {
      checkMagnitudes(built.graph, mem);
      fc.assert(
        fc.property(arbWrites(mem, 60, 3 * mem.ticksPerEpochSteps), fc.array(fc.integer({ min: 0, max: mem.memBytes - 1 }), { maxLength: 3 }), fc.nat(), (writes, extra, seed) => {
          // cache rows in any order (the heads must not depend on row order)
          const rows = cacheRows(mem, writes);
          const shuffled = [rows[0], ...rows.slice(1).sort((a, b) => ((a[0] * 31 + a[mem.col.tick] + seed) % 7) - ((b[0] * 31 + b[mem.col.tick] + seed) % 7))];
          const addrs = new Set([...writes.map((w) => w.addr), ...extra, 0, 1, mem.memBytes - 1]);
          for (const addr of addrs) {
            expect(lookup(mem, built, shuffled, addr), `address ${addr}`).toBe(latest(writes, addr));
          }
        }),
        { numRuns: 40 },
      );
    });

    it(`${name}: many tied writes in one epoch, newest tick wins`, () => {
      const T = mem.ticksPerEpochSteps;
      const writes: Write[] = [];
      // 200 writes to address 7 in epoch 2, and older ones in epochs 0 and 1
      for (let i = 0; i < 200; i++) writes.push({ step: 2 * T + 5 + i * 3, store: i % mem.storeSlots, addr: 7, value: 1 + (i % 250) });
      for (let i = 0; i < 30; i++) writes.push({ step: 1 + i, store: 0, addr: 7, value: 200 });
      for (let i = 0; i < 30; i++) writes.push({ step: T + i, store: 0, addr: 7, value: 201 });
      // neighbours sharing most address bits
      for (const a of [6, 5, 15, ...(mem.addrBits > 16 ? [7 + 65536] : [])]) writes.push({ step: 3 * T + 1, store: 0, addr: a, value: 99 });
      const rows = cacheRows(mem, writes);
      expect(lookup(mem, built, rows, 7)).toBe(latest(writes, 7));
      expect(latest(writes, 7)).toBe(1 + (199 % 250));
      expect(lookup(mem, built, rows, 6)).toBe(99);
      expect(lookup(mem, built, rows, 3)).toBe(0);
      // a write at the last tick of an epoch loses to the first step of the next epoch
      const edge: Write[] = [
        { step: 2 * T - 1, store: mem.storeSlots - 1, addr: 9, value: 11 },
        { step: 2 * T, store: 0, addr: 9, value: 22 },
      ];
      expect(lookup(mem, built, cacheRows(mem, edge), 9)).toBe(22);
      expect(lookup(mem, built, cacheRows(mem, edge.slice(0, 1)), 9)).toBe(11);
    });

    it(`${name}: epochs near the maximum (traces of 10^6+ steps) still pick the latest write`, () => {
      const max = mem.maxSteps;
      expect(max).toBeGreaterThanOrEqual(1_000_000);
      expect(timeOf(mem, max).epoch).toBe(255);
      fc.assert(
        fc.property(arbWrites(mem, 40, max, max - 3 * mem.ticksPerEpochSteps), arbWrites(mem, 10, 1_000_000), (late, early) => {
          const writes = [...early, ...late];
          const rows = cacheRows(mem, writes);
          for (const addr of new Set([...writes.map((w) => w.addr), 2])) expect(lookup(mem, built, rows, addr), `address ${addr}`).toBe(latest(writes, addr));
        }),
        { numRuns: 25 },
      );
      // the very last step against the step before it and against epoch 0
      const last: Write[] = [
        { step: 0, store: 0, addr: 3, value: 1 },
        { step: max - 1, store: mem.storeSlots - 1, addr: 3, value: 2 },
        { step: max, store: 0, addr: 3, value: 3 },
      ];
      expect(lookup(mem, built, cacheRows(mem, last), 3)).toBe(3);
      expect(lookup(mem, built, cacheRows(mem, last.slice(0, 2)), 3)).toBe(2);
    });

    it(`${name}: this step's pending rows (later stores) override the cache`, () => {
      const step = 2 * mem.ticksPerEpochSteps + 3;
      const cached: Write[] = [{ step: step - 1, store: 0, addr: 40, value: 5 }, { step: 1, store: 0, addr: 41, value: 6 }];
      const pending: Write[] = [{ step, store: 0, addr: 40, value: 77 }];
      if (mem.storeSlots > 1) pending.push({ step, store: 1, addr: 40, value: 78 }, { step, store: 1, addr: 42, value: 79 });
      const b = lookupGraph(mem, pending, step);
      const rows = cacheRows(mem, cached);
      expect(lookup(mem, b, rows, 40)).toBe(mem.storeSlots > 1 ? 78 : 77);
      expect(lookup(mem, b, rows, 41)).toBe(6);
      expect(lookup(mem, b, rows, 42)).toBe(mem.storeSlots > 1 ? 79 : 0);
      expect(lookup(mem, b, rows, 43)).toBe(0);
    });
  }
});

// ---------------------------------------------------------------- one-stage lookup

/** The one-stage lookup over address-bit inputs, with this step's pending stores (in store order). */
function uniqueLookupGraph(mem: MemoryLayout, pending: Write[], step: number) {
  const g = new GraphBuilder();
  const bitsV = Array.from({ length: mem.addrBits }, (_, j) => g.vreg(`q.bit${j}`, 0, 1));
  const byte = lookupByte(g, 0, 'ld', mem, bitsV.map((v) => lvar(v)), pendingRowsOf(mem, pending, step));
  return { graph: graphOf(g, bitsV), byte };
}

/** A cache as the runtime keeps it for one-stage lookups: the sink, then one row per address (its latest write). */
function uniqueRows(mem: MemoryLayout, writes: Write[]): Float32Array[] {
  const addrs = [...new Set(writes.map((w) => w.addr))];
  return [sinkRow(mem), ...addrs.map((a) => {
    const w = writes.filter((x) => x.addr === a).sort((x, y) => x.step - y.step || x.store - y.store).at(-1)!;
    const t = timeOf(mem, w.step);
    return entryRow(mem, a, t.epoch, t.tickBase + w.store, w.value);
  })];
}

/** Looks up addr in float64 and float32: one head, an exact one-hot (weight 1, every other row exactly 0). */
function uniqueLookup(mem: MemoryLayout, built: ReturnType<typeof uniqueLookupGraph>, rows: Float32Array[], addr: number): number {
  const r64 = evalGraph(built.graph, addrBitsOf(mem, addr), { cache: rows });
  const heads: Array<{ role: string; weights: number[] }> = [];
  const r32 = evalGraph(built.graph, addrBitsOf(mem, addr), { cache: rows, float32: true, onHead: (n, weights) => heads.push({ role: n.role, weights }) });
  expect(heads.map((h) => h.role)).toEqual(['ld.lookup']);
  expect(heads[0].weights.filter((w) => w !== 0), `one row of ${heads[0].weights.length} weighs, exactly 1`).toEqual([1]);
  // float64 keeps exp(−256·gap) > 0 for the losers; float32 (the model's arithmetic) is exact
  expect(Math.abs(r32.values[built.byte] - r64.values[built.byte]), `float32 lookup of ${addr}`).toBeLessThan(1e-9);
  return r32.values[built.byte];
}

describe('one-stage lookup (one cache row per address)', () => {
  for (const mem of [memoryLayout(65536, 4), memoryLayout(16 * 65536, 1), memoryLayout(16 * 65536, 64)]) {
    const name = `${mem.memBytes / 65536} page(s), ${mem.storeSlots} store slots`;

    it(`${name}: the cache row of the address, this step's newest store to it, or 0 (fast-check)`, () => {
      const step = 2 * mem.ticksPerEpochSteps + 7;
      fc.assert(
        fc.property(
          arbWrites(mem, 60, step - 1),
          // this step's stores: at most 4 bytes per store slot, often to the same few addresses
          fc.array(fc.record({ addr: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: mem.memBytes - 1 })), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 * mem.storeSlots }),
          fc.nat(),
          (writes, stores, seed) => {
            const pending: Write[] = stores.map((s, i) => ({ step, store: Math.floor(i / 4), addr: s.addr, value: s.value }));
            const built = uniqueLookupGraph(mem, pending, step);
            checkMagnitudes(built.graph, mem);
            const rows = uniqueRows(mem, writes);
            // cache rows in any order (the head must not depend on row order)
            const shuffled = [rows[0], ...rows.slice(1).sort((a, b) => ((a[0] * 31 + a[mem.col.tick] + seed) % 7) - ((b[0] * 31 + b[mem.col.tick] + seed) % 7))];
            // the newest write: this step's last store row at the address, else the cache's
            const want = (addr: number) => pending.filter((w) => w.addr === addr).at(-1)?.value ?? latest(writes, addr);
            for (const addr of new Set([...writes, ...pending].map((w) => w.addr).concat([0, 3, mem.memBytes - 1]))) {
              expect(uniqueLookup(mem, built, shuffled, addr), `address ${addr}`).toBe(want(addr));
            }
          },
        ),
        { numRuns: 30 },
      );
    });

    it(`${name}: the most pending rows a block can have still lose to nothing but a newer store`, () => {
      const step = 5;
      const P = 4 * mem.storeSlots;
      // every pending row at a neighbour of address 1 (one bit off), the last one at address 1
      const pending: Write[] = Array.from({ length: P }, (_, i) => ({ step, store: Math.floor(i / 4), addr: i === P - 1 ? 1 : 3, value: 1 + (i % 200) }));
      const built = uniqueLookupGraph(mem, pending, step);
      checkMagnitudes(built.graph, mem);
      const rows = uniqueRows(mem, [{ step: 1, store: 0, addr: 1, value: 250 }, { step: 2, store: 0, addr: 0, value: 251 }]);
      expect(uniqueLookup(mem, built, rows, 1)).toBe(pending[P - 1].value);
      expect(uniqueLookup(mem, built, rows, 0)).toBe(251);
      expect(uniqueLookup(mem, built, rows, 3)).toBe(P > 1 ? pending[P - 2].value : 0);
      expect(uniqueLookup(mem, built, rows, 2)).toBe(0);
    });
  }
});

// ---------------------------------------------------------------- checkMagnitudes

describe('checkMagnitudes', () => {
  const oneUnit = (weight: number, preCoeff = 1) => {
    const g = new GraphBuilder();
    const x = g.vreg('x', 0, LIMB - 1);
    const y = g.vreg('y', 0, 2 ** 40);
    const m = g.mlp(0, 'hand');
    m.unit(lvar(x, preCoeff), [[y, weight]]);
    return graphOf(g, [x]);
  };

  it('rejects an output accumulation of 2^24 or more', () => {
    expect(() => checkMagnitudes(oneUnit(512), null)).toThrow(/exactness: hand output y/);
    expect(() => checkMagnitudes(oneUnit(257), null)).toThrow(/2\^24/);
  });

  it('rejects a pre-activation of 2^24 or more', () => {
    expect(() => checkMagnitudes(oneUnit(1, 300), null)).toThrow(/pre-activation/);
  });

  it('rejects a sum of many small units that together exceed 2^24', () => {
    const g = new GraphBuilder();
    const x = g.vreg('x', 0, LIMB - 1);
    const y = g.vreg('y', 0, 2 ** 40);
    const m = g.mlp(0, 'many');
    for (let i = 0; i < 300; i++) m.unit(lvar(x), [[y, 1]]);
    expect(() => checkMagnitudes(graphOf(g, [x]), null)).toThrow(/exactness/);
  });

  it('accepts a node just below the bound and reports its worst sum', () => {
    const r = checkMagnitudes(oneUnit(256), null);
    expect(r.worst).toBe(256 * (LIMB - 1));
    expect(r.worst).toBeLessThan(EXACT_LIMIT);
  });

  it('accepts every gadget above', () => {
    const mem = memoryLayout(16 * 65536, 4);
    const g = new GraphBuilder();
    const ins = Array.from({ length: 16 }, (_, i) => inputValue(g, `x${i}`));
    const sum = ins.map((x) => x.v).reduce((a, b) => addLazy(a, b));
    const c = canon(g, 0, 's', sum);
    nonzero(g, 0, 'nz', c);
    valueBytes(g, 0, 'vb', c);
    const acc = decodeAccess(g, 0, 'ld', mem, c, 12, 4);
    const pend = [pendingRow(mem, acc.bits[0], Array.from({ length: EPOCH_BITS }, () => lconst(1)), lconst(65535), lconst(255))];
    const approx = stage1(g, 0, 'ld.b0', mem, acc.bits[0], pend);
    const rm = g.mlp(0, 'round');
    const ep = roundBits(g, rm, 'ld.b0', approx);
    stage2(g, 0, 'ld.b0', mem, acc.bits[0], ep, pend);
    const r = checkMagnitudes(graphOf(g, ins.flatMap((x) => [x.lo, x.hi])), mem);
    expect(r.worst).toBeLessThan(EXACT_LIMIT);
    expect(r.worst).toBeGreaterThan(0);
  });
});
