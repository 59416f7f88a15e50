// test/ir_cse.test.ts — block-local CSE merges duplicate pure instructions and keeps semantics.

import { describe, expect, it } from 'vitest';
import { parseIR, printModule, verifyModule, interpret } from '../ir/index.js';
import { cseModule } from '../ir/cse.js';

const SRC = `memory pages=1

func $f (export "f") params=2 results=1
block0(v0, v1):
  v2 = iconst 4
  v3 = iadd v0, v2
  v4 = iconst 4
  v5 = iadd v4, v0
  v6 = load v3 offset=0
  store v5, v1 offset=0
  v7 = load v5 offset=0
  v8 = iadd v6, v7
  br_if v8, block1(v8), block1(v5)
block1(v9):
  return v9
`;

describe('cse', () => {
  it('merges iconst/iadd duplicates (commuted operands too) but never loads', () => {
    const m = cseModule(parseIR(SRC));
    verifyModule(m);
    const text = printModule(m);
    expect(text.match(/iconst 4/g)?.length).toBe(1);
    expect(text.match(/= iadd/g)?.length).toBe(2); // v0+4 once, plus v6+v7
    expect(text.match(/= load/g)?.length).toBe(2);
    expect(text).toContain('store v3, v1');
    for (const args of [[0, 7], [100, -1], [65530, 3], [-4, 9]]) {
      const a = interpret(parseIR(SRC), 'f', args);
      const b = interpret(m, 'f', args);
      expect(b).toEqual(a);
    }
  });
});
