// test/ir_cse.test.ts — block-local CSE merges duplicate pure instructions and keeps semantics.

import { describe, expect, it } from 'vitest';
import { parseIR, printModule, verifyModule, interpret } from '../ir/index.js';
import { cseModule } from '../ir/cse.js';

const SRC = `memory pages=1

func $f (export "f") params=2 results=1
block0(v0, v1):
  v2 = iconst 4
  v3 = add v0, v2
  v4 = iconst 4
  v5 = add v4, v0
  v6 = load v3 offset=0
  store v5, v1 offset=0
  v7 = load v5 offset=0
  v8 = add v6, v7
  br_if v8, block1(v8), block1(v5)
block1(v9):
  return v9
`;

const OPS = `func $g (export "g") params=2 results=1
block0(v0, v1):
  v2 = sub v0, v1
  v3 = sub v1, v0
  v4 = sub v0, v1
  v5 = xor v1, v0
  v6 = xor v0, v1
  v7 = eqz v2
  v8 = eqz v4
  v9 = select v7, v5, v3
  v10 = select v8, v6, v3
  v11 = div_s v0, v1
  v12 = div_s v0, v1
  v13 = global_get 0
  global_set 0, v2
  v14 = global_get 0
  v15 = add v9, v10
  v16 = add v15, v11
  v17 = add v16, v12
  v18 = add v17, v13
  v19 = add v18, v14
  return v19
`;

describe('cse', () => {
  it('merges operators by the table (commuted only where they commute), select and div, never global_get', () => {
    const src = `global mut=1 init=3\n\n${OPS}`;
    const m = cseModule(parseIR(src));
    verifyModule(m);
    const text = printModule(m);
    expect(text.match(/= sub/g)?.length).toBe(2); // v0-v1 and v1-v0 differ
    expect(text.match(/= xor/g)?.length).toBe(1);
    expect(text.match(/= eqz/g)?.length).toBe(1);
    expect(text.match(/= select/g)?.length).toBe(1);
    expect(text.match(/= div_s/g)?.length).toBe(1);
    expect(text.match(/= global_get/g)?.length).toBe(2);
    for (const args of [[0, 7], [100, -1], [-2147483648, -1], [5, 0]]) {
      expect(interpret(m, 'g', args)).toEqual(interpret(parseIR(src), 'g', args));
    }
  });

  it('merges iconst/add duplicates (commuted operands too) but never loads', () => {
    const m = cseModule(parseIR(SRC));
    verifyModule(m);
    const text = printModule(m);
    expect(text.match(/iconst 4/g)?.length).toBe(1);
    expect(text.match(/= add/g)?.length).toBe(2); // v0+4 once, plus v6+v7
    expect(text.match(/= load/g)?.length).toBe(2);
    expect(text).toContain('store v3, v1');
    for (const args of [[0, 7], [100, -1], [65530, 3], [-4, 9]]) {
      const a = interpret(parseIR(SRC), 'f', args);
      const b = interpret(m, 'f', args);
      expect(b).toEqual(a);
    }
  });
});
