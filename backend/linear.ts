// backend/linear.ts — affine forms over virtual registers.
//
// Every scalar the transformer computes lives in a virtual register (vreg),
// later assigned to one residual-stream dimension (a "slot"). A LinForm is
// c + Σ coeff·vreg. Linear arithmetic (i32.add before carries, concatenating
// bytes into limbs, gate arithmetic) is *free*: it folds into the weights of
// whichever sublayer reads the form, because every sublayer starts with a
// linear map of the residual stream.

export type Vreg = number;

export interface LinForm {
  readonly terms: ReadonlyMap<Vreg, number>;
  readonly c: number;
}

export function lconst(c: number): LinForm {
  return { terms: new Map(), c };
}

export function lvar(v: Vreg, coeff = 1): LinForm {
  return { terms: new Map([[v, coeff]]), c: 0 };
}

/** Σ k_i · f_i + c */
export function lcomb(parts: ReadonlyArray<readonly [LinForm, number]>, c = 0): LinForm {
  const terms = new Map<Vreg, number>();
  let cc = c;
  for (const [f, k] of parts) {
    if (k === 0) continue;
    cc += k * f.c;
    for (const [v, a] of f.terms) {
      const s = (terms.get(v) ?? 0) + k * a;
      if (s === 0) terms.delete(v);
      else terms.set(v, s);
    }
  }
  return { terms, c: cc };
}

export function isConst(f: LinForm): boolean {
  return f.terms.size === 0;
}

export function lvars(f: LinForm): Vreg[] {
  return [...f.terms.keys()];
}

/** Upper bound of a form given per-vreg [min,max] ranges. */
export function lmax(f: LinForm, range: (v: Vreg) => readonly [number, number]): number {
  let s = f.c;
  for (const [v, k] of f.terms) {
    const [lo, hi] = range(v);
    s += k >= 0 ? k * hi : k * lo;
  }
  return s;
}

/**
 * Σ|k|·max(|lo|,|hi|) + |c|: the largest magnitude any partial sum of f can reach, in any
 * order of accumulation (the quantity the exactness rule bounds, DESIGN.md §3).
 */
export function lmagnitude(f: LinForm, range: (v: Vreg) => readonly [number, number]): number {
  return Math.abs(f.c) + termsMagnitude(f.terms, range);
}

/** Σ|k|·max(|lo|,|hi|) over the terms alone (lmagnitude without the constant). */
export function termsMagnitude(terms: ReadonlyMap<Vreg, number>, range: (v: Vreg) => readonly [number, number]): number {
  let s = 0;
  terms.forEach((k, v) => {
    const r = range(v);
    s += Math.abs(k) * Math.max(Math.abs(r[0]), Math.abs(r[1]));
  });
  return s;
}
