// frontend/lower_words.ts — i64, f32 and f64 values as 32-bit words, before validation.
//
// The rest of the compiler knows one value type, i32. This pass rewrites every
// function that touches another numeric type so that it holds only i32 words:
// an i64 or f64 value is two words (low word first, as in memory), an f32 is
// one (its bits). Params, results, locals, block types, globals and call
// signatures are counted in words; each `wide` instruction (ir/instructions.ts)
// has one rule here that pops its operands' words into scratch locals and
// pushes its results' words, computed with i32 instructions:
//
//   - exact: i64 arithmetic, bitwise, shifts and rotations (count mod 64),
//     comparisons, clz/ctz/popcnt, extensions and wrap; i64.mul from 16-bit
//     partial products; every i64/f32/f64 load and store (a wide store writes
//     its high word first, so a store that traps writes nothing, as wasm's);
//     f32/f64 constants, abs, neg, copysign and reinterpretations (bit
//     operations: wasm defines these on the bits, NaN payloads included);
//   - traps exact, value not computed: i64 div/rem trap exactly where wasm's do
//     (through an i32 division by a word that is zero, or -1 under INT_MIN,
//     exactly when the i64 one traps), their quotient is poison;
//   - poison: float arithmetic, float comparisons and int/float conversions
//     other than reinterpretation. A poison word (the pseudo-instruction
//     POISON_OP) becomes an IR `poison` value; the IR passes delete the unused
//     ones, and one the program observes is a CompileError (ir/poison.ts). So
//     a float computation whose result is dropped costs nothing and changes
//     nothing, and one whose result matters is never approximated.
//
// The rewrite types the operand stack as the spec's validation algorithm does
// (a mismatch is a located CompileError) and drops code no execution reaches
// (the engine's validator still checks the original bytes). Functions with
// only i32 values are left as they are, except for global indices when a
// wide global shifts them. Float-to-integer truncations that trap stay
// unsupported (the decoder reports them).

import { CompileError } from './errors.js';
import { formOf, POISON_OP, WIDE_INSTRUCTIONS } from '../ir/instructions.js';
import { isNumType, wordsOf, type DeadCode, type DecodedFunc, type DecodedGlobal, type DecodedModule, type FuncType } from './decode.js';
import type { BlockSig, NumType, WasmExport, WasmFunc, WasmInstr } from './module.js';

type T = NumType;

// ---------------------------------------------------------------- expressions over scratch locals

/** Straight-line i32 code: a local, a constant, an operator, a load, or a poison word. */
type Expr =
  | { l: number }
  | { k: number }
  | { op: string; args: Expr[] }
  | { load: string; offset: number; align: number; addr: Expr }
  | { poison: string };

const K = (v: number): Expr => ({ k: v | 0 });
const op = (name: string, ...args: Expr[]): Expr => ({ op: `i32.${name}`, args });
const INT_MIN = -0x80000000;

/** Emits i32 instructions for one original instruction (all located at its offset). */
class Emitter {
  private next: number;
  constructor(readonly out: WasmInstr[], readonly pos: number, private readonly firstTmp: number, private readonly onTmp: (n: number) => void) {
    this.next = firstTmp;
  }

  tmp(): number {
    const t = this.next++;
    this.onTmp(this.next - this.firstTmp);
    return t;
  }

  emit(e: Expr): void {
    const pos = this.pos;
    if ('l' in e) this.out.push({ op: 'local.get', pos, imm: 'index', index: e.l });
    else if ('k' in e) this.out.push({ op: 'i32.const', pos, imm: 'i32', value: e.k });
    else if ('op' in e) {
      e.args.forEach((a) => this.emit(a));
      this.out.push({ op: e.op, pos, imm: 'none' });
    } else if ('load' in e) {
      this.emit(e.addr);
      this.out.push({ op: e.load, pos, imm: 'memarg', align: e.align, offset: e.offset });
    } else this.out.push({ op: POISON_OP, pos, imm: 'poison', what: e.poison });
  }

  /** Evaluate `e` once into a scratch local. */
  bind(e: Expr): Expr {
    if ('l' in e || 'k' in e) return e;
    this.emit(e);
    const t = this.tmp();
    this.set(t);
    return { l: t };
  }

  set(local: number): void {
    this.out.push({ op: 'local.set', pos: this.pos, imm: 'index', index: local });
  }

  store(name: string, offset: number, align: number, addr: Expr, value: Expr): void {
    this.emit(addr);
    this.emit(value);
    this.out.push({ op: name, pos: this.pos, imm: 'memarg', align, offset });
  }

  /** Evaluate `e` for its trap only. */
  check(e: Expr): void {
    this.emit(e);
    this.out.push({ op: 'drop', pos: this.pos, imm: 'none' });
  }
}

// ---------------------------------------------------------------- the rules

/** A rule: from the operands' words (scratch locals, low word first) to the results' words. */
type Body = (e: Emitter, x: Expr[][], ins: WasmInstr) => Expr[];

interface Rule {
  ins: T[];
  outs: T[];
  body: Body;
}

const memargOf = (ins: WasmInstr): { offset: number; align: number } =>
  ins.imm === 'memarg' ? { offset: ins.offset, align: ins.align } : { offset: 0, align: 0 };

/** An operand's words: [lo, hi]. */
const w2 = (x: Expr[] | undefined): [Expr, Expr] => [x?.[0] as Expr, x?.[1] as Expr];
const w1 = (x: Expr[] | undefined): Expr => x?.[0] as Expr;

const sel = (a: Expr, b: Expr, c: Expr): Expr => ({ op: 'select', args: [a, b, c] });

function add64(e: Emitter, [a, b]: Expr[][]): Expr[] {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  const lo = e.bind(op('add', al, bl));
  return [lo, op('add', op('add', ah, bh), op('lt_u', lo, al))];
}

function sub64(_e: Emitter, [a, b]: Expr[][]): Expr[] {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  return [op('sub', al, bl), op('sub', op('sub', ah, bh), op('lt_u', al, bl))];
}

/** The high word of the 64-bit product of two unsigned words, from 16-bit halves (each partial product < 2^32). */
function mulhu(e: Emitter, a: Expr, b: Expr): { hi: Expr; lo: Expr } {
  const a0 = e.bind(op('and', a, K(0xffff))); const a1 = e.bind(op('shr_u', a, K(16)));
  const b0 = e.bind(op('and', b, K(0xffff))); const b1 = e.bind(op('shr_u', b, K(16)));
  const p00 = e.bind(op('mul', a0, b0)); const p01 = e.bind(op('mul', a0, b1));
  const p10 = e.bind(op('mul', a1, b0)); const p11 = op('mul', a1, b1);
  const mid = e.bind(op('add', op('add', op('shr_u', p00, K(16)), op('and', p01, K(0xffff))), op('and', p10, K(0xffff))));
  const hi = op('add', op('add', op('add', p11, op('shr_u', p01, K(16))), op('shr_u', p10, K(16))), op('shr_u', mid, K(16)));
  const lo = op('or', op('shl', mid, K(16)), op('and', p00, K(0xffff)));
  return { hi, lo };
}

function mul64(e: Emitter, [a, b]: Expr[][]): Expr[] {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  const p = mulhu(e, al, bl);
  const lo = e.bind(p.lo);
  return [lo, op('add', op('add', p.hi, op('mul', al, bh)), op('mul', ah, bl))];
}

const bitwise = (name: string): Body => (_e, [a, b]) => {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  return [op(name, al, bl), op(name, ah, bh)];
};

/** i32 shifts take their count mod 32, so `n` serves as k = n mod 32 and `n ^ 31` as 31 − k; `n & 32` picks the word-crossing case. */
function shl64(e: Emitter, [a, b]: Expr[][]): Expr[] {
  const [al, ah] = w2(a); const n = e.bind(w1(b));
  const big = e.bind(op('and', n, K(32)));
  const t = e.bind(op('shl', al, n));
  const hiSmall = op('or', op('shl', ah, n), op('shr_u', op('shr_u', al, K(1)), op('xor', n, K(31))));
  return [sel(K(0), t, big), sel(t, hiSmall, big)];
}

function shr64(signed: boolean): Body {
  return (e, [a, b]) => {
    const [al, ah] = w2(a); const n = e.bind(w1(b));
    const big = e.bind(op('and', n, K(32)));
    const t = e.bind(op(signed ? 'shr_s' : 'shr_u', ah, n));
    const loSmall = op('or', op('shr_u', al, n), op('shl', op('shl', ah, K(1)), op('xor', n, K(31))));
    return [sel(t, loSmall, big), sel(signed ? op('shr_s', ah, K(31)) : K(0), t, big)];
  };
}

/** Rotate by n mod 64: swap the words when n & 32, then rotate the pair by n mod 32. */
function rot64(left: boolean): Body {
  return (e, [a, b]) => {
    const [al, ah] = w2(a); const n = e.bind(w1(b));
    const big = e.bind(op('and', n, K(32)));
    const x = e.bind(sel(al, ah, big)); // the high word after the swap
    const y = e.bind(sel(ah, al, big)); // the low word
    const r = e.bind(op('xor', n, K(31)));
    if (left) {
      return [op('or', op('shl', y, n), op('shr_u', op('shr_u', x, K(1)), r)), op('or', op('shl', x, n), op('shr_u', op('shr_u', y, K(1)), r))];
    }
    return [op('or', op('shr_u', y, n), op('shl', op('shl', x, K(1)), r)), op('or', op('shr_u', x, n), op('shl', op('shl', y, K(1)), r))];
  };
}

/** A 64-bit comparison: the high words decide (`hi`, strict), equal high words leave it to the low words (`lo`, unsigned). */
const compare64 = (lo: string, hi: string): Body => (_e, [a, b]) => {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  return [sel(op(lo, al, bl), op(hi, ah, bh), op('eq', ah, bh))];
};

const eq64: Body = (_e, [a, b]) => {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  return [op('eqz', op('or', op('xor', al, bl), op('xor', ah, bh)))];
};

const ne64: Body = (_e, [a, b]) => {
  const [al, ah] = w2(a); const [bl, bh] = w2(b);
  return [op('ne', op('or', op('xor', al, bl), op('xor', ah, bh)), K(0))];
};

/** i64 division and remainder: the traps exactly, the value not computed (poison). */
function divide64(signed: boolean, rem: boolean): Body {
  return (e, [a, b]) => {
    const [al, ah] = w2(a); const [bl, bh] = w2(b);
    e.check(op('div_u', K(1), op('or', bl, bh))); // traps "integer divide by zero" exactly when b = 0
    if (signed && !rem) {
      // INT64_MIN / -1 overflows: INT32_MIN / -1 traps "integer overflow" exactly then
      const overflow = op('and', op('and', op('eqz', al), op('eq', ah, K(INT_MIN))), op('eq', op('and', bl, bh), K(-1)));
      e.check(op('div_s', K(INT_MIN), sel(K(-1), K(1), overflow)));
    }
    const name = `i64.${rem ? 'rem' : 'div'}_${signed ? 's' : 'u'}`;
    return [{ poison: name }, { poison: name }];
  };
}

const lowHigh = (lo: (x: Expr) => Expr, hi: (e: Emitter, lo: Expr) => Expr): Body => (e, [x]) => {
  const l = e.bind(lo(w1(x)));
  return [l, hi(e, l)];
};
const signWord = (_e: Emitter, lo: Expr): Expr => op('shr_s', lo, K(31));
const zeroWord = (): Expr => K(0);

function load64(_e: Emitter, [p]: Expr[][], ins: WasmInstr): Expr[] {
  const { offset, align } = memargOf(ins);
  const addr = w1(p);
  const a = Math.min(align, 2);
  // a load has no effect: if the high word traps, the low word read first does not matter
  return [{ load: 'i32.load', offset, align: a, addr }, { load: 'i32.load', offset: offset + 4, align: a, addr }];
}

function store64(e: Emitter, [p, v]: Expr[][], ins: WasmInstr): Expr[] {
  const { offset, align } = memargOf(ins);
  const addr = w1(p); const [lo, hi] = w2(v);
  const a = Math.min(align, 2);
  // the high word first: if it traps (ea + 8 > size), nothing was written; if not, the low word fits
  e.store('i32.store', offset + 4, a, addr, hi);
  e.store('i32.store', offset, a, addr, lo);
  return [];
}

const narrowLoad = (name: string, bytes: 1 | 2 | 4, signed: boolean): Body => (e, [p], ins) => {
  const { offset, align } = memargOf(ins);
  const lo = e.bind({ load: name, offset, align: Math.min(align, Math.log2(bytes)), addr: w1(p) });
  return [lo, signed ? signWord(e, lo) : K(0)];
};

const narrowStore = (name: string, bytes: 1 | 2 | 4): Body => (e, [p, v], ins) => {
  const { offset, align } = memargOf(ins);
  e.store(name, offset, Math.min(align, Math.log2(bytes)), w1(p), w1(v));
  return [];
};

const constWords: Body = (_e, _x, ins) => (ins.imm === 'words' ? ins.words.map(K) : []);
const identity: Body = (_e, x) => x.flat();
const SIGN = INT_MIN;
const ABS_MASK = 0x7fffffff;
/** abs/neg/copysign act on the sign bit only: the high word's for f64 (`w` = the word holding it). */
const signBitOp = (kind: 'abs' | 'neg' | 'copysign', w: 0 | 1): Body => (_e, [a, b]) => {
  const words = [...(a as Expr[])];
  const s = words[w] as Expr;
  words[w] = kind === 'abs' ? op('and', s, K(ABS_MASK))
    : kind === 'neg' ? op('xor', s, K(SIGN))
    : op('or', op('and', s, K(ABS_MASK)), op('and', (b as Expr[])[w] as Expr, K(SIGN)));
  return words;
};

const parse = (sig: string): [T[], T[]] => {
  const [i, o] = sig.split('->').map((s) => s.trim().split(/\s+/).filter(Boolean) as T[]);
  return [i ?? [], o ?? []];
};
const rule = (sig: string, body: Body): Rule => {
  const [ins, outs] = parse(sig);
  return { ins, outs, body };
};
/** A value the compiler does not compute: one poison word per result word. */
const poison = (sig: string, name: string): Rule => {
  const [ins, outs] = parse(sig);
  return { ins, outs, body: () => outs.flatMap((t) => Array.from({ length: wordsOf(t) }, (): Expr => ({ poison: name }))) };
};

const RULES = new Map<string, Rule>();
function define(name: string, r: Rule): void {
  RULES.set(name, r);
}

define('i64.const', rule('-> i64', constWords));
define('f32.const', rule('-> f32', constWords));
define('f64.const', rule('-> f64', constWords));
define('i64.add', rule('i64 i64 -> i64', add64));
define('i64.sub', rule('i64 i64 -> i64', sub64));
define('i64.mul', rule('i64 i64 -> i64', mul64));
for (const [name, s, r] of [['div_s', true, false], ['div_u', false, false], ['rem_s', true, true], ['rem_u', false, true]] as const) {
  define(`i64.${name}`, rule('i64 i64 -> i64', divide64(s, r)));
}
for (const name of ['and', 'or', 'xor']) define(`i64.${name}`, rule('i64 i64 -> i64', bitwise(name)));
define('i64.shl', rule('i64 i64 -> i64', shl64));
define('i64.shr_u', rule('i64 i64 -> i64', shr64(false)));
define('i64.shr_s', rule('i64 i64 -> i64', shr64(true)));
define('i64.rotl', rule('i64 i64 -> i64', rot64(true)));
define('i64.rotr', rule('i64 i64 -> i64', rot64(false)));
define('i64.eqz', rule('i64 -> i32', (_e, [a]) => { const [l, h] = w2(a); return [op('eqz', op('or', l, h))]; }));
define('i64.eq', rule('i64 i64 -> i32', eq64));
define('i64.ne', rule('i64 i64 -> i32', ne64));
for (const [rel, strict] of [['lt', 'lt'], ['gt', 'gt'], ['le', 'lt'], ['ge', 'gt']] as const) {
  for (const sgn of ['s', 'u'] as const) define(`i64.${rel}_${sgn}`, rule('i64 i64 -> i32', compare64(`${rel}_u`, `${strict}_${sgn}`)));
}
define('i64.clz', rule('i64 -> i64', (_e, [a]) => { const [l, h] = w2(a); return [sel(op('clz', h), op('add', op('clz', l), K(32)), h), K(0)]; }));
define('i64.ctz', rule('i64 -> i64', (_e, [a]) => { const [l, h] = w2(a); return [sel(op('ctz', l), op('add', op('ctz', h), K(32)), l), K(0)]; }));
define('i64.popcnt', rule('i64 -> i64', (_e, [a]) => { const [l, h] = w2(a); return [op('add', op('popcnt', l), op('popcnt', h)), K(0)]; }));
define('i64.extend8_s', rule('i64 -> i64', lowHigh((x) => op('extend8_s', x), signWord)));
define('i64.extend16_s', rule('i64 -> i64', lowHigh((x) => op('extend16_s', x), signWord)));
define('i64.extend32_s', rule('i64 -> i64', lowHigh((x) => x, signWord)));
define('i64.extend_i32_s', rule('i32 -> i64', lowHigh((x) => x, signWord)));
define('i64.extend_i32_u', rule('i32 -> i64', lowHigh((x) => x, zeroWord)));
define('i32.wrap_i64', rule('i64 -> i32', (_e, [a]) => [w1(a)]));
define('i64.load', rule('i32 -> i64', load64));
define('f64.load', rule('i32 -> f64', load64));
define('f32.load', rule('i32 -> f32', (_e, [p], ins) => [{ load: 'i32.load', ...memargOf(ins), align: Math.min(memargOf(ins).align, 2), addr: w1(p) }]));
for (const [bits, name] of [[8, 'i32.load8'], [16, 'i32.load16'], [32, 'i32.load']] as const) {
  const bytes = (bits / 8) as 1 | 2 | 4;
  define(`i64.load${bits}_s`, rule('i32 -> i64', narrowLoad(bits === 32 ? name : `${name}_s`, bytes, true)));
  define(`i64.load${bits}_u`, rule('i32 -> i64', narrowLoad(bits === 32 ? name : `${name}_u`, bytes, false)));
}
define('i64.store', rule('i32 i64 ->', store64));
define('f64.store', rule('i32 f64 ->', store64));
define('f32.store', rule('i32 f32 ->', narrowStore('i32.store', 4)));
define('i64.store8', rule('i32 i64 ->', narrowStore('i32.store8', 1)));
define('i64.store16', rule('i32 i64 ->', narrowStore('i32.store16', 2)));
define('i64.store32', rule('i32 i64 ->', narrowStore('i32.store', 4)));
define('i32.reinterpret_f32', rule('f32 -> i32', identity));
define('f32.reinterpret_i32', rule('i32 -> f32', identity));
define('i64.reinterpret_f64', rule('f64 -> i64', identity));
define('f64.reinterpret_i64', rule('i64 -> f64', identity));
for (const [t, w] of [['f32', 0], ['f64', 1]] as const) {
  define(`${t}.abs`, rule(`${t} -> ${t}`, signBitOp('abs', w)));
  define(`${t}.neg`, rule(`${t} -> ${t}`, signBitOp('neg', w)));
  define(`${t}.copysign`, rule(`${t} ${t} -> ${t}`, signBitOp('copysign', w)));
  for (const name of ['ceil', 'floor', 'trunc', 'nearest', 'sqrt']) define(`${t}.${name}`, poison(`${t} -> ${t}`, `${t}.${name}`));
  for (const name of ['add', 'sub', 'mul', 'div', 'min', 'max']) define(`${t}.${name}`, poison(`${t} ${t} -> ${t}`, `${t}.${name}`));
  for (const name of ['eq', 'ne', 'lt', 'gt', 'le', 'ge']) define(`${t}.${name}`, poison(`${t} ${t} -> i32`, `${t}.${name}`));
  for (const src of ['i32', 'i64'] as const) {
    for (const s of ['s', 'u']) {
      define(`${t}.convert_${src}_${s}`, poison(`${src} -> ${t}`, `${t}.convert_${src}_${s}`));
      define(`${src}.trunc_sat_${t}_${s}`, poison(`${t} -> ${src}`, `${src}.trunc_sat_${t}_${s}`));
    }
  }
}
define('f32.demote_f64', poison('f64 -> f32', 'f32.demote_f64'));
define('f64.promote_f32', poison('f32 -> f64', 'f64.promote_f32'));

const missing = WIDE_INSTRUCTIONS.filter((n) => !RULES.has(n));
if (missing.length > 0) throw new Error(`lower_words: no rule for ${missing.join(', ')}`);

/** The rule of a wide instruction (for tests and messages). */
export function wideRule(name: string): { ins: readonly T[]; outs: readonly T[] } | undefined {
  return RULES.get(name);
}

// ---------------------------------------------------------------- the typed walk

interface Frame {
  kind: 'func' | 'block' | 'loop' | 'if' | 'else';
  params: T[];
  results: T[];
  height: number;
  unreachable: boolean;
}

interface Walk {
  fn: WasmFunc;
  m: DecodedModule;
  globals: GlobalMap;
  localWord: number[]; // original local index -> its first word
  localType: T[];
  firstTmp: number;
  tmps: number;
  stack: T[];
  frames: Frame[];
  out: WasmInstr[];
}

const words = (ts: readonly T[]): number => ts.reduce((n, t) => n + wordsOf(t), 0);
const i32s = (n: number): T[] => new Array<T>(n).fill('i32');

function fail(w: Walk, ins: WasmInstr, message: string): never {
  throw new CompileError(`validation failed: ${message}`, { instruction: ins.op, func: w.fn.name, offset: ins.pos });
}

function top(w: Walk): Frame {
  return w.frames[w.frames.length - 1] as Frame;
}

function pop(w: Walk, ins: WasmInstr, expect?: T): T {
  const f = top(w);
  if (w.stack.length <= f.height) fail(w, ins, `type mismatch: expected ${expect ?? 'an'} operand but the stack is empty`);
  const t = w.stack.pop() as T;
  if (expect !== undefined && t !== expect) fail(w, ins, `type mismatch: expected ${expect}, found ${t}`);
  return t;
}

function popAll(w: Walk, ins: WasmInstr, ts: readonly T[]): void {
  for (let i = ts.length - 1; i >= 0; i--) pop(w, ins, ts[i]);
}

/** The values on top of the stack must be `ts` (a branch carries them; they stay). */
function expectTop(w: Walk, ins: WasmInstr, ts: readonly T[]): void {
  const f = top(w);
  const have = w.stack.slice(Math.max(f.height, w.stack.length - ts.length));
  if (have.length !== ts.length || have.some((t, i) => t !== ts[i])) {
    fail(w, ins, `type mismatch: expected [${ts.join(' ')}] on the stack, found [${have.join(' ')}]`);
  }
}

function label(w: Walk, ins: WasmInstr, depth: number): T[] {
  const f = w.frames[w.frames.length - 1 - depth];
  if (f === undefined) fail(w, ins, `branch depth ${depth} exceeds the ${w.frames.length} enclosing labels`);
  return f.kind === 'loop' ? f.params : f.results;
}

function sigTypes(sig: BlockSig): { params: T[]; results: T[] } {
  return sig.types ?? { params: i32s(sig.params), results: i32s(sig.results) };
}

function funcType(m: DecodedModule, index: number): FuncType | undefined {
  const t = m.funcTypes[index];
  return t === undefined ? undefined : m.types[t];
}

const numeric = (ts: readonly string[]): T[] => ts.map((t) => (isNumType(t) ? t : 'i32'));

/** Push an instruction through unchanged (located where it was). */
const keep = (w: Walk, ins: WasmInstr): void => void w.out.push(ins);

/**
 * local/global get, set or tee of a value of type `t` whose words start at `base`: one access per
 * word (low word first on the stack, so a set stores the high word first).
 */
function wordAccess(w: Walk, ins: WasmInstr, base: number, t: T): void {
  const [space, access] = ins.op.split('.') as [string, 'get' | 'set' | 'tee'];
  const n = wordsOf(t);
  const at = (k: number, a: string): WasmInstr => ({ op: `${space}.${a}`, pos: ins.pos, imm: 'index', index: base + k });
  if (access === 'get') {
    for (let k = 0; k < n; k++) w.out.push(at(k, 'get'));
    w.stack.push(t);
    return;
  }
  pop(w, ins, t);
  for (let k = n - 1; k >= 1; k--) w.out.push(at(k, 'set'));
  w.out.push(at(0, access));
  if (access === 'tee') {
    for (let k = 1; k < n; k++) w.out.push(at(k, 'get'));
    w.stack.push(t);
  }
}

function localAccess(w: Walk, ins: WasmInstr): void {
  const i = ins.imm === 'index' ? ins.index : -1;
  const t = w.localType[i];
  const base = w.localWord[i];
  if (t === undefined || base === undefined) fail(w, ins, `local index ${i} out of range (function has ${w.localType.length} locals)`);
  wordAccess(w, ins, base, t);
}

function globalAccess(w: Walk, ins: WasmInstr): void {
  const i = ins.imm === 'index' ? ins.index : -1;
  const g = w.m.globals[i];
  const base = w.globals.word[i];
  if (g === undefined || base === undefined) fail(w, ins, `global index ${i} out of range (the module has ${w.m.globals.length} globals)`);
  wordAccess(w, ins, base, isNumType(g.type) ? g.type : 'i32');
}

function wide(w: Walk, ins: WasmInstr, r: Rule): void {
  popAll(w, ins, r.ins);
  const e = new Emitter(w.out, ins.pos, w.firstTmp, (n) => { w.tmps = Math.max(w.tmps, n); });
  const x: Expr[][] = r.ins.map((t) => Array.from({ length: wordsOf(t) }, (): Expr => ({ l: -1 })));
  for (let k = x.length - 1; k >= 0; k--) {
    const ws = x[k] as Expr[];
    for (let j = ws.length - 1; j >= 0; j--) {
      const t = e.tmp();
      e.set(t);
      ws[j] = { l: t };
    }
  }
  for (const res of r.body(e, x, ins)) e.emit(res);
  w.stack.push(...r.outs);
}

function select(w: Walk, ins: WasmInstr): void {
  pop(w, ins, 'i32');
  const b = pop(w, ins);
  const a = pop(w, ins, b);
  if (wordsOf(a) === 1) {
    w.out.push({ op: 'select', pos: ins.pos, imm: 'none' });
    w.stack.push(a);
    return;
  }
  const r = rule(`${a} ${a} i32 -> ${a}`, (_e, [p, q, c]) => [sel(w1(p), w1(q), w1(c)), sel(w2(p)[1], w2(q)[1], w1(c))]);
  w.stack.push(a, a, 'i32');
  wide(w, ins, r);
}

function drop(w: Walk, ins: WasmInstr): void {
  const t = pop(w, ins);
  for (let k = 0; k < wordsOf(t); k++) w.out.push({ op: 'drop', pos: ins.pos, imm: 'none' });
}

function open(w: Walk, ins: WasmInstr, kind: 'block' | 'loop' | 'if'): void {
  const sig: BlockSig = ins.imm === 'block' ? ins.sig : { params: 0, results: 0 };
  const ts = sigTypes(sig);
  if (kind === 'if') pop(w, ins, 'i32');
  popAll(w, ins, ts.params);
  w.frames.push({ kind, params: ts.params, results: ts.results, height: w.stack.length, unreachable: false });
  w.stack.push(...ts.params);
  w.out.push({ op: ins.op, pos: ins.pos, imm: 'block', sig: { params: words(ts.params), results: words(ts.results) } });
}

function endArm(w: Walk, ins: WasmInstr, f: Frame): void {
  if (f.unreachable) return;
  const have = w.stack.slice(f.height);
  if (have.length !== f.results.length || have.some((t, i) => t !== f.results[i])) {
    fail(w, ins, `type mismatch: the ${f.kind === 'func' ? 'function body' : f.kind} must end with [${f.results.join(' ')}], found [${have.join(' ')}]`);
  }
}

/** Mark the rest of the current block unreachable; returns true (the walk then skips it). */
function never(w: Walk): true {
  const f = top(w);
  w.stack.length = f.height;
  f.unreachable = true;
  return true;
}

/** One instruction; returns true when the code after it is unreachable. */
function step(w: Walk, ins: WasmInstr): boolean {
  const form = formOf(ins.op);
  if (form === undefined || form.kind === 'poison') fail(w, ins, `${ins.op} is outside the subset`);
  switch (form.kind) {
    case 'wide': wide(w, ins, RULES.get(ins.op) as Rule); return false;
    case 'const': w.stack.push('i32'); keep(w, ins); return false;
    case 'unary': case 'load': pop(w, ins, 'i32'); w.stack.push('i32'); keep(w, ins); return false;
    case 'binary': pop(w, ins, 'i32'); pop(w, ins, 'i32'); w.stack.push('i32'); keep(w, ins); return false;
    case 'store': pop(w, ins, 'i32'); pop(w, ins, 'i32'); keep(w, ins); return false;
    case 'memory_size': w.stack.push('i32'); keep(w, ins); return false;
    case 'memory_grow': pop(w, ins, 'i32'); w.stack.push('i32'); keep(w, ins); return false;
    case 'select': select(w, ins); return false;
    case 'local': localAccess(w, ins); return false;
    case 'global': globalAccess(w, ins); return false;
    case 'control': break;
  }
  switch (ins.op) {
    case 'nop': keep(w, ins); return false;
    case 'drop': drop(w, ins); return false;
    case 'unreachable': keep(w, ins); return never(w);
    case 'block': case 'loop': case 'if': open(w, ins, ins.op); return false;
    case 'else': {
      const f = top(w);
      if (f.kind !== 'if') fail(w, ins, 'else without a matching if');
      endArm(w, ins, f);
      f.kind = 'else';
      f.unreachable = false;
      w.stack.length = f.height;
      w.stack.push(...f.params);
      keep(w, ins);
      return false;
    }
    case 'end': {
      const f = top(w);
      endArm(w, ins, f);
      if (f.kind === 'if' && f.params.join(' ') !== f.results.join(' ')) fail(w, ins, 'type mismatch: an if without else must leave what it takes');
      w.frames.pop();
      w.stack.length = f.height;
      w.stack.push(...f.results);
      keep(w, ins);
      return false;
    }
    case 'br': expectTop(w, ins, label(w, ins, ins.imm === 'index' ? ins.index : 0)); keep(w, ins); return never(w);
    case 'br_if': pop(w, ins, 'i32'); expectTop(w, ins, label(w, ins, ins.imm === 'index' ? ins.index : 0)); keep(w, ins); return false;
    case 'br_table': {
      pop(w, ins, 'i32');
      if (ins.imm === 'br_table') for (const d of [...ins.targets, ins.default]) expectTop(w, ins, label(w, ins, d));
      keep(w, ins);
      return never(w);
    }
    case 'return': expectTop(w, ins, (w.frames[0] as Frame).results); keep(w, ins); return never(w);
    case 'call': {
      const t = funcType(w.m, ins.imm === 'index' ? ins.index : -1);
      if (t === undefined) fail(w, ins, 'call to an unknown function');
      popAll(w, ins, numeric(t.params));
      w.stack.push(...numeric(t.results));
      keep(w, ins);
      return false;
    }
    case 'call_indirect': {
      const t = ins.imm === 'call_indirect' ? w.m.types[ins.type] : undefined;
      if (t === undefined) fail(w, ins, 'call_indirect of an unknown type');
      pop(w, ins, 'i32');
      popAll(w, ins, numeric(t.params));
      w.stack.push(...numeric(t.results));
      keep(w, ins);
      return false;
    }
    default: return fail(w, ins, `${ins.op} is outside the subset`);
  }
}

const OPENS = new Set(['block', 'loop', 'if']);

/** The function with its values as words (see the header), and the runs of unreachable code it dropped. */
function lowerFunc(fn: WasmFunc, m: DecodedModule, globals: GlobalMap): { func: WasmFunc; dropped: DeadCode[] } {
  const types = fn.types ?? { params: i32s(fn.numParams), results: i32s(fn.numResults), locals: i32s(fn.numLocals) };
  const localType = [...types.params, ...types.locals];
  const localWord: number[] = [];
  let nw = 0;
  for (const t of localType) { localWord.push(nw); nw += wordsOf(t); }
  const w: Walk = {
    fn, m, globals, localWord, localType, firstTmp: nw, tmps: 0, stack: [], out: [],
    frames: [{ kind: 'func', params: [], results: types.results, height: 0, unreachable: false }],
  };
  const dropped: DeadCode[] = [];
  let skipping: DeadCode | null = null;
  let depth = 0;
  for (const ins of fn.body) {
    if (w.frames.length === 0) fail(w, ins, 'instruction after the final end');
    if (skipping !== null) {
      // code no execution reaches: dropped up to its block's end or else (listed, for locating it if invalid)
      if (skipping.start < 0) skipping.start = ins.pos;
      if (OPENS.has(ins.op)) { depth++; continue; }
      if (depth > 0) { if (ins.op === 'end') depth--; continue; }
      if (ins.op !== 'end' && ins.op !== 'else') continue;
      if (skipping.start !== ins.pos) dropped.push({ ...skipping, end: ins.pos });
      skipping = null;
    }
    if (step(w, ins)) skipping = { start: -1, end: -1, after: ins.op };
  }
  const params = words(types.params);
  const func = {
    index: fn.index, name: fn.name, exportNames: fn.exportNames, pos: fn.pos, body: w.out,
    numParams: params, numResults: words(types.results), numLocals: nw - params + w.tmps,
  };
  return { func, dropped };
}

// ---------------------------------------------------------------- globals

/** Where each original global's words start in the lowered index space. */
interface GlobalMap {
  word: number[];
  identity: boolean;
}

function globalWords(g: DecodedGlobal): number {
  return !g.imported && isNumType(g.type) && g.initWords !== null ? wordsOf(g.type) : 1;
}

function mapGlobals(m: DecodedModule): GlobalMap {
  const word: number[] = [];
  let n = 0;
  for (const g of m.globals) { word.push(n); n += globalWords(g); }
  return { word, identity: n === m.globals.length };
}

/** The lowered globals: an i64/f64 global is two i32 words (named NAME.lo and NAME.hi), an f32 one word. */
function lowerGlobals(m: DecodedModule, map: GlobalMap): DecodedGlobal[] {
  const out: DecodedGlobal[] = [];
  m.globals.forEach((g, i) => {
    const n = globalWords(g);
    const name = m.exports.find((e) => e.kind === 'global' && e.index === i)?.name ?? g.debugName;
    const base = map.word[i] as number;
    if (n === 1) {
      out.push({ ...g, index: base, ...(g.type === 'f32' && g.initWords ? { type: 'i32', init: g.initWords[0] as number } : {}) });
      return;
    }
    const ws = g.initWords as number[];
    for (let k = 0; k < n; k++) {
      const wordName = name === undefined ? {} : { debugName: `${name}.${k === 0 ? 'lo' : 'hi'}` };
      out.push({ index: base + k, type: 'i32', mutable: g.mutable, init: ws[k] as number, initWords: [ws[k] as number], imported: null, pos: g.pos, ...wordName });
    }
  });
  return out;
}

/** Exports with global indices moved; an exported i64/f64 global is known by its words' names instead. */
function lowerExports(m: DecodedModule, map: GlobalMap): WasmExport[] {
  return m.exports.flatMap((e) => {
    if (e.kind !== 'global') return [e];
    const g = m.globals[e.index];
    if (g !== undefined && globalWords(g) === 2) return [];
    return [{ ...e, index: map.word[e.index] ?? e.index }];
  });
}

function renumberGlobals(fn: WasmFunc, map: GlobalMap): WasmFunc {
  const body = fn.body.map((ins): WasmInstr =>
    (ins.op === 'global.get' || ins.op === 'global.set') && ins.imm === 'index' ? { ...ins, index: map.word[ins.index] ?? ins.index } : ins);
  return { ...fn, body };
}

// ---------------------------------------------------------------- the module

/** Whether a function has a value that is not i32 (so it needs the rewrite). */
function isWide(f: DecodedFunc, m: DecodedModule): boolean {
  if (f.func.types !== undefined) return true;
  return f.func.body.some((ins) => {
    if (formOf(ins.op)?.kind === 'wide') return true;
    if (ins.imm === 'block') return ins.sig.types !== undefined;
    if (ins.imm === 'call_indirect') return m.typeSigs[ins.type]?.types !== undefined;
    if (ins.imm !== 'index') return false;
    if (ins.op === 'call') return m.funcSigs[ins.index]?.types !== undefined;
    if (ins.op === 'global.get' || ins.op === 'global.set') {
      const g = m.globals[ins.index];
      return g !== undefined && g.type !== 'i32' && isNumType(g.type);
    }
    return false;
  });
}

/** The module with every i64/f32/f64 value as i32 words (see the header); an all-i32 module is returned as it is. */
export function lowerWords(m: DecodedModule): DecodedModule {
  const map = mapGlobals(m);
  const wideFuncs = new Set(m.funcs.filter((f) => f.unsupported.length === 0 && isWide(f, m)));
  if (wideFuncs.size === 0 && map.identity) return m;
  const funcs = m.funcs.map((f): DecodedFunc => {
    if (wideFuncs.has(f)) {
      const { func, dropped } = lowerFunc(f.func, m, map);
      return { ...f, func, dropped: [...f.dropped, ...dropped] };
    }
    if (f.unsupported.length > 0 || map.identity) return f;
    return { ...f, func: renumberGlobals(f.func, map) };
  });
  return { ...m, funcs, globals: lowerGlobals(m, map), exports: lowerExports(m, map) };
}
