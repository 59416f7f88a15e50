// ir/parse.ts — parse the IR text form (see ir/ir.ts) back into a Module.
//
// Line oriented: `memory`, `data`, `func` headers, `blockN(...):` labels,
// instructions and terminators. Blank lines and `;` comments are ignored.
// Errors are CompileErrors of the form "IR text line N: ...". Parsing checks
// syntax and block numbering only; ir/verify.ts checks well-formedness.

import { CompileError } from '../frontend/errors.js';
import { TrapCode } from '../format/errors.js';
import { isBinaryCode, isUnaryCode } from './instructions.js';
import type { Block, BlockTarget, Func, Inst, Module, Terminator, ValueId } from './ir.js';

type Token =
  | { kind: 'word' | 'punct'; text: string }
  | { kind: 'num'; text: string; value: number }
  | { kind: 'str' | 'name'; text: string; bytes: Uint8Array };

const TOKEN = /\s*(?:(;.*)|("(?:[^"\\]|\\.)*")|\$("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.\-]+)|(-?\d+)|([A-Za-z_][A-Za-z0-9_.]*)|([(),=:\[\]]))/y;

class ParseError extends CompileError {}

function lineError(line: number, message: string): never {
  throw new ParseError(`IR text line ${line}: ${message}`);
}

function unquote(s: string, line: number): Uint8Array {
  const out: number[] = [];
  const body = new TextEncoder().encode(s.slice(1, -1));
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as number;
    if (c !== 0x5c) { out.push(c); continue; }
    const hex = String.fromCharCode(body[i + 1] ?? 0, body[i + 2] ?? 0);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) { out.push(parseInt(hex, 16)); i += 2; continue; }
    const e = String.fromCharCode(body[i + 1] ?? 0);
    const simple: Record<string, number> = { '"': 0x22, '\\': 0x5c, n: 0x0a, t: 0x09, r: 0x0d };
    if (simple[e] === undefined) lineError(line, `bad escape \\${e} in string`);
    out.push(simple[e]);
    i += 1;
  }
  return new Uint8Array(out);
}

function tokenize(text: string, line: number): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (text.slice(start).trim() === '') break;
      lineError(line, `unexpected character '${text.slice(start).trim()[0]}'`);
    }
    if (m[1] !== undefined) break;
    if (m[2] !== undefined) out.push({ kind: 'str', text: m[2], bytes: unquote(m[2], line) });
    else if (m[3] !== undefined) {
      const bytes = m[3].startsWith('"') ? unquote(m[3], line) : new TextEncoder().encode(m[3]);
      out.push({ kind: 'name', text: m[3], bytes });
    } else if (m[4] !== undefined) out.push({ kind: 'num', text: m[4], value: Number(m[4]) });
    else if (m[5] !== undefined) out.push({ kind: 'word', text: m[5] });
    else if (m[6] !== undefined) out.push({ kind: 'punct', text: m[6] });
  }
  return out;
}

/** A cursor over one line's tokens. */
class Line {
  private i = 0;
  constructor(readonly toks: Token[], readonly no: number) {}

  peek(): Token | undefined {
    return this.toks[this.i];
  }
  fail(msg: string): never {
    return lineError(this.no, msg);
  }
  private describe(t: Token | undefined): string {
    return t ? `'${t.text}'` : 'end of line';
  }
  next(what: string): Token {
    const t = this.toks[this.i++];
    if (!t) this.fail(`expected ${what}, got end of line`);
    return t;
  }
  isPunct(p: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === p;
  }
  punct(p: string): void {
    const t = this.peek();
    if (!this.isPunct(p)) this.fail(`expected '${p}', got ${this.describe(t)}`);
    this.i++;
  }
  word(w: string): void {
    const t = this.next(`'${w}'`);
    if (t.kind !== 'word' || t.text !== w) this.fail(`expected '${w}', got '${t.text}'`);
  }
  num(what: string, min: number, max: number): number {
    const t = this.next(what);
    if (t.kind !== 'num') this.fail(`expected ${what}, got '${t.text}'`);
    if (!Number.isSafeInteger(t.value) || t.value < min || t.value > max) this.fail(`${what} ${t.text} out of range`);
    return t.value;
  }
  keyed(key: string, min: number, max: number): number {
    this.word(key);
    this.punct('=');
    return this.num(key, min, max);
  }
  indexed(prefix: 'v' | 'block'): number {
    const t = this.next(prefix === 'v' ? 'a value (vN)' : 'a block (blockN)');
    const m = t.kind === 'word' ? new RegExp(`^${prefix}(\\d+)$`).exec(t.text) : null;
    if (!m) this.fail(`expected ${prefix}N, got '${t.text}'`);
    return Number(m[1]);
  }
  end(): void {
    const t = this.peek();
    if (t) this.fail(`unexpected '${t.text}' at end of line`);
  }
  /** `(v1, v2)` or nothing. */
  valueList(): ValueId[] {
    if (!this.isPunct('(')) return [];
    this.punct('(');
    const out: ValueId[] = [];
    while (!this.isPunct(')')) {
      if (out.length > 0) this.punct(',');
      out.push(this.indexed('v'));
    }
    this.punct(')');
    return out;
  }
  target(): BlockTarget {
    const block = this.indexed('block');
    return { block, args: this.valueList() };
  }
}

const U32_MAX = 0xffffffff;
const UTF8 = new TextDecoder();

interface State {
  mod: Module;
  func: Func | null;
  block: Block | null; // open block (no terminator yet)
}

const ACCESS = /^(load|store)(8|16)?(?:_([su]))?$/;

/** `load8_s` → { bytes: 1, signed: true } (null for other words). */
function accessOf(word: string, kind: 'load' | 'store'): { bytes: 1 | 2 | 4; signed: boolean } | null {
  const m = ACCESS.exec(word);
  if (!m || m[1] !== kind) return null;
  const bytes = m[2] === '8' ? 1 : m[2] === '16' ? 2 : 4;
  if ((kind === 'load' && bytes !== 4) !== (m[3] !== undefined)) return null;
  return { bytes, signed: m[3] === 's' };
}

function operands(L: Line, n: number): ValueId[] {
  const out: ValueId[] = [];
  for (let k = 0; k < n; k++) {
    if (k > 0) L.punct(',');
    out.push(L.indexed('v'));
  }
  return out;
}

function parseInst(L: Line, dst: ValueId): Inst {
  L.punct('=');
  const op = L.next('an instruction');
  const w = op.text;
  if (w === 'iconst') return { op: 'iconst', dst, value: L.num('constant', -0x80000000, U32_MAX) | 0 };
  if (isUnaryCode(w)) return { op: 'unary', code: w, dst, a: L.indexed('v') };
  if (isBinaryCode(w)) {
    const [a, b] = operands(L, 2) as [ValueId, ValueId];
    return { op: 'binary', code: w, dst, a, b };
  }
  if (w === 'select') {
    const [cond, a, b] = operands(L, 3) as [ValueId, ValueId, ValueId];
    return { op: 'select', dst, cond, a, b };
  }
  const load = accessOf(w, 'load');
  if (load) {
    const addr = L.indexed('v');
    return { op: 'load', dst, addr, offset: L.keyed('offset', 0, U32_MAX), ...load };
  }
  if (w === 'global_get') return { op: 'global_get', dst, index: L.num('global index', 0, U32_MAX) };
  if (w === 'memory_size') return { op: 'memory_size', dst };
  if (w === 'memory_grow') return { op: 'memory_grow', dst, delta: L.indexed('v') };
  if (w === 'poison') {
    const what = L.next('the poisoned instruction, quoted').text;
    if (!/^"[^"]*"$/.test(what)) return L.fail(`poison expects a quoted instruction name, got ${what}`);
    return { op: 'poison', dst, what: what.slice(1, -1), offset: L.num('byte offset', 0, U32_MAX) };
  }
  return L.fail(`unknown instruction '${w}'`);
}

/** An access or output with its optional trailing `if vN` guard. */
function guarded(L: Line, i: Inst): Inst {
  const t = L.peek();
  if (!(t?.kind === 'word' && t.text === 'if')) return i;
  if (i.op !== 'load' && i.op !== 'store' && i.op !== 'output') return L.fail(`only loads, stores and outputs take a guard ('if vN')`);
  L.word('if');
  return { ...i, guard: L.indexed('v') };
}

/** Statements without a result: stores, global_set, output. */
function parseEffect(L: Line, word: string): Inst | null {
  const store = accessOf(word, 'store');
  if (store) {
    const [addr, value] = operands(L, 2) as [ValueId, ValueId];
    return { op: 'store', addr, value, offset: L.keyed('offset', 0, U32_MAX), bytes: store.bytes };
  }
  if (word === 'global_set') {
    const index = L.num('global index', 0, U32_MAX);
    L.punct(',');
    return { op: 'global_set', index, value: L.indexed('v') };
  }
  if (word === 'output') return { op: 'output', value: L.indexed('v') };
  return null;
}

const TERMINATORS = new Set(['jump', 'br_if', 'br_table', 'return', 'trap', 'call']);

function parseTerm(L: Line, op: string): Terminator {
  if (op === 'jump') return { op: 'jump', target: L.target() };
  if (op === 'br_if') {
    const cond = L.indexed('v');
    L.punct(',');
    const then = L.target();
    L.punct(',');
    return { op: 'br_if', cond, then, else: L.target() };
  }
  if (op === 'br_table') {
    const index = L.indexed('v');
    L.punct(',');
    L.punct('[');
    const targets: BlockTarget[] = [];
    while (!L.isPunct(']')) {
      if (targets.length > 0) L.punct(',');
      targets.push(L.target());
    }
    L.punct(']');
    L.punct(',');
    return { op: 'br_table', index, targets, default: L.target() };
  }
  if (op === 'trap') {
    const t = L.next('a trap code');
    const code = (TrapCode as unknown as Record<string, number | undefined>)[t.text];
    if (typeof code !== 'number') L.fail(`unknown trap code '${t.text}'`);
    return { op: 'trap', code: code as TrapCode };
  }
  if (op === 'call') {
    const n = L.next('a function name ($name)');
    if (n.kind !== 'name') L.fail(`expected a function name ($name), got '${n.text}'`);
    const args = L.valueList();
    L.punct(',');
    return { op: 'call', func: UTF8.decode(n.bytes), args, cont: L.target() };
  }
  const values: ValueId[] = [];
  while (L.peek()) {
    if (values.length > 0) L.punct(',');
    values.push(L.indexed('v'));
  }
  return { op: 'return', values };
}

function parseFuncHeader(L: Line): Func {
  const n = L.next('a function name ($name)');
  if (n.kind !== 'name') L.fail(`expected a function name ($name), got '${n.text}'`);
  const exportNames: string[] = [];
  while (L.isPunct('(')) {
    L.punct('(');
    L.word('export');
    const s = L.next('an export name string');
    if (s.kind !== 'str') L.fail(`expected an export name string, got '${s.text}'`);
    exportNames.push(UTF8.decode(s.bytes));
    L.punct(')');
  }
  const numParams = L.keyed('params', 0, 1_000_000);
  const numResults = L.keyed('results', 0, 1_000_000);
  return { name: UTF8.decode(n.bytes), exportNames, numParams, numResults, blocks: [] };
}

function closeFunc(st: State, line: number): void {
  if (!st.func) return;
  if (st.block) lineError(line, `block${st.func.blocks.length - 1} of $${st.func.name} has no terminator`);
  if (st.func.blocks.length === 0) lineError(line, `function $${st.func.name} has no blocks`);
  st.func = null;
}

function parseLine(st: State, L: Line): void {
  const first = L.next('a statement');
  const word = first.kind === 'word' ? first.text : '';
  if (word === 'memory') {
    if (st.mod.memory) L.fail('duplicate memory');
    const pages = L.keyed('pages', 0, 65536);
    const maxPages = L.peek() ? L.keyed('max', 0, 65536) : 65536;
    st.mod.memory = { pages, maxPages, data: [] };
  } else if (word === 'global') {
    const mutable = L.keyed('mut', 0, 1) === 1;
    const init = L.keyed('init', -0x80000000, 0x7fffffff);
    let name: string | undefined;
    if (L.peek()) {
      L.word('name');
      const s = L.next('a global name string');
      if (s.kind !== 'str') L.fail(`expected a global name string, got '${s.text}'`);
      name = UTF8.decode(s.bytes);
    }
    st.mod.globals.push({ mutable, init, ...(name !== undefined ? { name } : {}) });
  } else if (word === 'data') {
    if (!st.mod.memory) L.fail('data before memory');
    const offset = L.num('data offset', 0, U32_MAX);
    const s = L.next('a data string');
    if (s.kind !== 'str') L.fail(`expected a data string, got '${s.text}'`);
    st.mod.memory.data.push({ offset, bytes: s.bytes });
  } else if (word === 'func') {
    closeFunc(st, L.no);
    st.func = parseFuncHeader(L);
    st.mod.funcs.push(st.func);
  } else if (/^block\d+$/.test(word)) {
    if (!st.func) L.fail('block outside a function');
    if (st.block) L.fail(`block${st.func.blocks.length - 1} has no terminator`);
    const id = Number(word.slice(5));
    if (id !== st.func.blocks.length) L.fail(`expected block${st.func.blocks.length}, got ${word}`);
    const params = L.valueList();
    L.punct(':');
    st.block = { params, insts: [], term: { op: 'return', values: [] } };
    st.func.blocks.push(st.block);
  } else {
    if (!st.block) L.fail(`'${first.text}' outside a block`);
    if (/^v\d+$/.test(word)) st.block.insts.push(guarded(L, parseInst(L, Number(word.slice(1)))));
    else if (TERMINATORS.has(word)) {
      st.block.term = parseTerm(L, word);
      st.block = null;
    } else {
      const inst = parseEffect(L, word);
      if (!inst) L.fail(`unknown statement '${first.text}'`);
      st.block.insts.push(guarded(L, inst));
    }
  }
  L.end();
}

/** Parse IR text into a Module (not verified: call verifyModule). */
export function parseModule(text: string): Module {
  const st: State = { mod: { funcs: [], globals: [], memory: null }, func: null, block: null };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const toks = tokenize(raw, i + 1);
    if (toks.length > 0) parseLine(st, new Line(toks, i + 1));
  });
  closeFunc(st, lines.length);
  return st.mod;
}
