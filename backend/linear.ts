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

export function ladd(a: LinForm, b: LinForm): LinForm {
  return lcomb([[a, 1], [b, 1]]);
}

export function lscale(a: LinForm, k: number): LinForm {
  return lcomb([[a, k]]);
}

export function lshift(a: LinForm, c: number): LinForm {
  return lcomb([[a, 1]], c);
}

export function isConst(f: LinForm): boolean {
  return f.terms.size === 0;
}

export function lvars(f: LinForm): Vreg[] {
  return [...f.terms.keys()];
}

/** Evaluate with concrete vreg values. */
export function leval(f: LinForm, val: (v: Vreg) => number): number {
  let s = f.c;
  for (const [v, k] of f.terms) s += k * val(v);
  return s;
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

export function lmin(f: LinForm, range: (v: Vreg) => readonly [number, number]): number {
  let s = f.c;
  for (const [v, k] of f.terms) {
    const [lo, hi] = range(v);
    s += k >= 0 ? k * lo : k * hi;
  }
  return s;
}
