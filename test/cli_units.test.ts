// test/cli_units.test.ts — the CLI's pure parts in-process: WAT offset → line:column (frontend/wat_source.ts via
// locateWatOffset), the WAT nesting bound, escaping of module text, error formatting, the progress line, ranges.

import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { CompileError } from '../format/errors.js';
import { MAX_WAT_NESTING, WatError, locateWatOffset } from '../frontend/wat.js';
import { nestingDepth, tokenize } from '../frontend/wat_source.js';
import { escapeText, formatText, jsonText, messageWithoutOffset } from '../cli/diagnostics.js';
import { progress } from '../cli/progress.js';
import { parseRange, parseSamples } from '../cli/args.js';
import { rangeOf } from '../harness/check.js';

/** Where compile's CompileError for `wat` points, as "line:column". */
async function where(wat: string): Promise<string> {
  const e = await compile(wat, { filename: 't.wat' }).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CompileError);
  const off = (e as CompileError).info.offset;
  expect(off).toBeDefined();
  const at = await locateWatOffset(wat, off!);
  return at ? `${at.line}:${at.column}` : 'none';
}

/** line:column (1-based) of the first occurrence of `needle` in `text`. */
function at(text: string, needle: string): string {
  const i = text.indexOf(needle);
  const before = text.slice(0, i).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

describe('WAT locations', () => {
  it('folded operands come before their operator; flat code, blocks and the implicit end are mapped', async () => {
    // the error points at the first unsupported instruction in binary order (a folded operand first)
    const folded = '(module (func (result i32)\n  (i32.add (i32.const 1) (i32.trunc_f32_s (f32.const 3)))))';
    expect(await where(folded)).toBe(at(folded, 'i32.trunc_f32_s'));
    const flat = '(module\n (func (param i32) (result i32)\n  local.get 0\n  block (result i32)\n   i32.const 2\n  end\n  i32.add\n  f32.convert_i32_u\n  i32.trunc_f32_u))';
    expect(await where(flat)).toBe(at(flat, 'i32.trunc_f32_u'));
    const blocks = '(module (func (export "a") (param i32))\n (func (export "b") (result i32)\n  (block (result i32) (i32.const 1) (i32.trunc_f32_s (f32.const 2)) (drop))))';
    expect(await where(blocks)).toBe(at(blocks, 'i32.trunc_f32_s'));
    // a type error at the function's end points at its closing parenthesis
    expect(await where('(module (func (result i32) (i32.const 1) (i32.const 2)))')).toBe('1:55');
  });

  it('comments and strings do not confuse the tokenizer; an error outside code has no line', async () => {
    const wat = '(module\n ;; (func (i32.trunc_f32_s (f32.const 1)))\n (func (export "x;(") (; (i32.trunc_f32_s (f32.const 2)) ;) (result i32)\n  (i32.trunc_f32_s (f32.const 1))))';
    expect(await where(wat)).toBe('4:4');
    expect(await where('(module (import "m" "mem" (memory 1)) (func))')).toBe('none'); // imported memory is unsupported
  });

  it('nesting past MAX_WAT_NESTING is a WatError at the first level too deep', async () => {
    const deep = `(module (func ${'block '.repeat(MAX_WAT_NESTING + 5)}${'end '.repeat(MAX_WAT_NESTING + 5)}))`;
    const d = nestingDepth(tokenize(deep), MAX_WAT_NESTING);
    expect(d.depth).toBe(MAX_WAT_NESTING + 7);
    const e = await compile(deep, { filename: 'deep.wat' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WatError);
    expect((e as WatError).reason).toContain(`limit of ${MAX_WAT_NESTING}`);
    expect((e as WatError).column).toBe(d.at + 1);
    expect(deep.slice(d.at, d.at + 5)).toBe('block');
    const ok = `(module (func ${'(block '.repeat(MAX_WAT_NESTING - 3)}${')'.repeat(MAX_WAT_NESTING - 3)}))`;
    expect((await compile(ok, { filename: 'ok.wat' })).stats.layers).toBeGreaterThan(0);
  });
});

describe('diagnostics', () => {
  it('escapes controls, escape sequences and bidi marks; JSON stays parseable and terminal-safe', () => {
    const evil = 'a\nb\x1b[31mc\u202ed\u0085e\tf';
    expect(escapeText(evil)).toBe('a\\nb\\x1b[31mc\\u{202e}d\\x85e\\tf');
    const j = jsonText({ name: evil });
    expect(j).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(JSON.parse(j)).toEqual({ name: evil });
  });

  it('formats FILE:LINE:COL with the source line and caret, FILE:0xOFF, and hint lines', () => {
    expect(formatText({ kind: 'compile', message: 'bad', file: 'x.wat', line: 2, column: 4, source: '\t  (i32.mul)' })).toBe('x.wat:2:4: error: bad\n\t  (i32.mul)\n\t  ^\n');
    expect(formatText({ kind: 'compile', message: 'bad', file: 'x.wasm', offset: 26 })).toBe('x.wasm:0x1a: error: bad\n');
    expect(formatText({ kind: 'usage', message: 'no', hint: 'try this' })).toBe('error: no\nhint: try this\n');
    const e = new CompileError('unsupported: x', { instruction: 'i32.mul', func: 'f', offset: 9 });
    expect(messageWithoutOffset(e)).toBe('unsupported: x (instruction i32.mul, function f)');
  });
});

describe('progress', () => {
  it('draws on a TTY only, not when quiet, not before its delay; erases itself', () => {
    let t = 0;
    const now = () => t;
    const writes: string[] = [];
    const tty = { isTTY: true, write: (s: string) => (writes.push(s), true) };
    const p = progress(tty, { unit: 'cases', now, delayMs: 1000 });
    t = 500;
    p.update(5, 100);
    expect(writes).toEqual([]);
    t = 2000;
    p.update(50, 100);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^\r\x1b\[K\[#{10}\.{10}\] 50\/100 cases · 25 cases\/s · ETA 2s$/);
    p.done();
    expect(writes.at(-1)).toBe('\r\x1b[K');
    const piped: string[] = [];
    const q = progress({ isTTY: false, write: (s: string) => (piped.push(s), true) }, { unit: 'x', now });
    const quiet = progress(tty, { unit: 'x', now, quiet: true });
    t = 5000;
    q.update(1, 2);
    q.done();
    const before = writes.length;
    quiet.update(1, 2);
    quiet.done();
    expect(piped).toEqual([]);
    expect(writes).toHaveLength(before);
  });
});

describe('check ranges and samples', () => {
  it('--range LO:HI parses; later parameters use the last range', () => {
    expect(parseRange('0:1000')).toEqual([0, 1000]);
    expect(parseRange('-5:-1')).toEqual([-5, -1]);
    expect(() => parseRange('3:1')).toThrow(/LO is greater than HI/);
    expect(() => parseRange('0:4294967295')).toThrow(/not a signed 32-bit/);
    expect(rangeOf([[0, 9], [1, 2]], 0)).toEqual([0, 9]);
    expect(rangeOf([[0, 9], [1, 2]], 5)).toEqual([1, 2]);
    expect(rangeOf(undefined, 0)).toEqual([-2147483648, 2147483647]);
  });

  it('samples files: ARG... or EXPORT: ARG..., comments and blank lines skipped, errors name the line', () => {
    expect(parseSamples('# cases\n1 2\n\nf: 3, -1  # trailing\n', 's.txt')).toEqual([
      { export: null, args: [1, 2] },
      { export: 'f', args: [3, -1] },
    ]);
    expect(() => parseSamples('1\nx\n', 's.txt')).toThrow(/^s\.txt:2: argument 'x'/);
  });
});
