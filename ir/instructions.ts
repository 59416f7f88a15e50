// ir/instructions.ts — the one table of WebAssembly instructions.
//
// Every opcode wasmformer knows is one entry here: its text name (as
// wasm-objdump prints it), its binary opcode, the format of its immediates
// (which the decoder reads, so even unsupported instructions can be skipped
// and all of them reported at once), and — for supported instructions — its
// `form`: how the validator types it and which IR instruction it lowers to.
// The pure i32 operators (unary and binary) carry their exact WebAssembly
// semantics (`evaluate`), the trap they may raise (`trap`) and whether their
// operands commute; the IR interpreter, the CSE and dead-code passes and the
// tests all read them from here.
//
// Adding an instruction = one entry in UNARY/BINARY (for a pure operator) or
// in OTHER (for a new form), plus a backend lowering rule. An i64/f32/f64
// instruction has the form `wide`: its rule in frontend/lower_words.ts
// rewrites it into i32 instructions on 32-bit words before validation.

import { TrapCode } from '../format/errors.js';

// ---------------------------------------------------------------- pure i32 operators

export type UnaryCode = 'eqz' | 'clz' | 'ctz' | 'popcnt' | 'extend8_s' | 'extend16_s';
export type BinaryCode =
  | 'add' | 'sub' | 'mul' | 'div_s' | 'div_u' | 'rem_s' | 'rem_u'
  | 'and' | 'or' | 'xor' | 'shl' | 'shr_s' | 'shr_u' | 'rotl' | 'rotr'
  | 'eq' | 'ne' | 'lt_s' | 'lt_u' | 'gt_s' | 'gt_u' | 'le_s' | 'le_u' | 'ge_s' | 'ge_u';

export interface UnaryOp {
  opcode: number;
  /** Exact wasm semantics on signed i32 inputs; returns a signed i32. */
  evaluate: (a: number) => number;
}

export interface BinaryOp {
  opcode: number;
  /** Exact wasm semantics on signed i32 inputs (never called when `trap` returns a code). */
  evaluate: (a: number, b: number) => number;
  /** The trap these operands raise, if any (only division and remainder trap). */
  trap?: (a: number, b: number) => TrapCode | null;
  commutative: boolean;
}

const u = (x: number): number => x >>> 0;
const bool = (c: boolean): number => (c ? 1 : 0);
const I32_MIN = -2147483648;

function clz(a: number): number {
  return Math.clz32(a);
}
function ctz(a: number): number {
  return a === 0 ? 32 : 31 - Math.clz32(a & -a);
}
function popcnt(a: number): number {
  let x = a >>> 0;
  let n = 0;
  while (x !== 0) { n += x & 1; x >>>= 1; }
  return n;
}

const divTrap = (_a: number, b: number): TrapCode | null => (b === 0 ? TrapCode.IntegerDivideByZero : null);
const divSTrap = (a: number, b: number): TrapCode | null =>
  b === 0 ? TrapCode.IntegerDivideByZero : a === I32_MIN && b === -1 ? TrapCode.IntegerOverflow : null;

export const UNARY: Readonly<Record<UnaryCode, UnaryOp>> = {
  eqz: { opcode: 0x45, evaluate: (a) => bool(a === 0) },
  clz: { opcode: 0x67, evaluate: clz },
  ctz: { opcode: 0x68, evaluate: ctz },
  popcnt: { opcode: 0x69, evaluate: popcnt },
  extend8_s: { opcode: 0xc0, evaluate: (a) => (a << 24) >> 24 },
  extend16_s: { opcode: 0xc1, evaluate: (a) => (a << 16) >> 16 },
};

export const BINARY: Readonly<Record<BinaryCode, BinaryOp>> = {
  eq: { opcode: 0x46, evaluate: (a, b) => bool(a === b), commutative: true },
  ne: { opcode: 0x47, evaluate: (a, b) => bool(a !== b), commutative: true },
  lt_s: { opcode: 0x48, evaluate: (a, b) => bool(a < b), commutative: false },
  lt_u: { opcode: 0x49, evaluate: (a, b) => bool(u(a) < u(b)), commutative: false },
  gt_s: { opcode: 0x4a, evaluate: (a, b) => bool(a > b), commutative: false },
  gt_u: { opcode: 0x4b, evaluate: (a, b) => bool(u(a) > u(b)), commutative: false },
  le_s: { opcode: 0x4c, evaluate: (a, b) => bool(a <= b), commutative: false },
  le_u: { opcode: 0x4d, evaluate: (a, b) => bool(u(a) <= u(b)), commutative: false },
  ge_s: { opcode: 0x4e, evaluate: (a, b) => bool(a >= b), commutative: false },
  ge_u: { opcode: 0x4f, evaluate: (a, b) => bool(u(a) >= u(b)), commutative: false },
  add: { opcode: 0x6a, evaluate: (a, b) => (a + b) | 0, commutative: true },
  sub: { opcode: 0x6b, evaluate: (a, b) => (a - b) | 0, commutative: false },
  mul: { opcode: 0x6c, evaluate: (a, b) => Math.imul(a, b), commutative: true },
  div_s: { opcode: 0x6d, evaluate: (a, b) => (a / b) | 0, trap: divSTrap, commutative: false },
  div_u: { opcode: 0x6e, evaluate: (a, b) => (u(a) / u(b)) | 0, trap: divTrap, commutative: false },
  // JS % truncates like wasm rem_s; INT_MIN rem_s -1 is 0 in wasm (and -0 | 0 = 0 in JS)
  rem_s: { opcode: 0x6f, evaluate: (a, b) => (a % b) | 0, trap: divTrap, commutative: false },
  rem_u: { opcode: 0x70, evaluate: (a, b) => (u(a) % u(b)) | 0, trap: divTrap, commutative: false },
  and: { opcode: 0x71, evaluate: (a, b) => a & b, commutative: true },
  or: { opcode: 0x72, evaluate: (a, b) => a | b, commutative: true },
  xor: { opcode: 0x73, evaluate: (a, b) => a ^ b, commutative: true },
  shl: { opcode: 0x74, evaluate: (a, b) => a << (b & 31), commutative: false },
  shr_s: { opcode: 0x75, evaluate: (a, b) => a >> (b & 31), commutative: false },
  shr_u: { opcode: 0x76, evaluate: (a, b) => (a >>> (b & 31)) | 0, commutative: false },
  rotl: { opcode: 0x77, evaluate: (a, b) => ((a << (b & 31)) | (a >>> ((32 - (b & 31)) & 31))) | 0, commutative: false },
  rotr: { opcode: 0x78, evaluate: (a, b) => ((a >>> (b & 31)) | (a << ((32 - (b & 31)) & 31))) | 0, commutative: false },
};

export const UNARY_CODES = Object.keys(UNARY) as UnaryCode[];
export const BINARY_CODES = Object.keys(BINARY) as BinaryCode[];

export function isUnaryCode(s: string): s is UnaryCode {
  return Object.prototype.hasOwnProperty.call(UNARY, s);
}
export function isBinaryCode(s: string): s is BinaryCode {
  return Object.prototype.hasOwnProperty.call(BINARY, s);
}

/** A binary operator's result, or the trap it raises. */
export function evalBinary(code: BinaryCode, a: number, b: number): { value: number } | { trap: TrapCode } {
  const op = BINARY[code];
  const t = op.trap?.(a, b) ?? null;
  return t !== null ? { trap: t } : { value: op.evaluate(a | 0, b | 0) | 0 };
}

export function evalUnary(code: UnaryCode, a: number): number {
  return UNARY[code].evaluate(a | 0) | 0;
}

/** Whether removing or merging an unused instance can change behaviour (it may trap). */
export function binaryMayTrap(code: BinaryCode): boolean {
  return BINARY[code].trap !== undefined;
}

// ---------------------------------------------------------------- the opcode table

/** How an instruction's immediates are encoded. */
export type ImmFormat =
  | 'none' | 'i32' | 'i64' | 'f32' | 'f64' | 'memarg' | 'block' | 'index' | 'br_table'
  | 'zero_byte' // memory.size / memory.grow: a reserved 0x00 byte (a memory index with multi-memory)
  | 'select_t' | 'call_indirect' | 'index2' | 'reftype' | 'index_byte' | 'byte2' | 'undecodable';

export type ControlKind =
  | 'nop' | 'unreachable' | 'block' | 'loop' | 'if' | 'else' | 'end' | 'br' | 'br_if' | 'br_table' | 'return' | 'call'
  | 'call_indirect' | 'drop';

/** What a supported instruction does (validation typing and IR lowering follow from it). */
export type Form =
  | { kind: 'unary'; code: UnaryCode }
  | { kind: 'binary'; code: BinaryCode }
  | { kind: 'const' }
  | { kind: 'load'; bytes: 1 | 2 | 4; signed: boolean }
  | { kind: 'store'; bytes: 1 | 2 | 4 }
  | { kind: 'select' }
  | { kind: 'local'; access: 'get' | 'set' | 'tee' }
  | { kind: 'global'; access: 'get' | 'set' }
  | { kind: 'memory_size' }
  | { kind: 'memory_grow' }
  | { kind: 'control'; control: ControlKind }
  /** An i64, f32 or f64 instruction: frontend/lower_words.ts rewrites it into i32 instructions on words. */
  | { kind: 'wide' }
  /** What lower_words.ts leaves for a float value it cannot compute: pushes one word the program must not observe. */
  | { kind: 'poison' };

export interface InstrSpec {
  name: string;
  opcode: number;
  prefix?: number; // 0xfc etc.
  imm: ImmFormat;
  form: Form | null; // null: decoded, then reported as unsupported
}

const SPECS: InstrSpec[] = [];
const add = (name: string, opcode: number, imm: ImmFormat, form: Form | null, prefix?: number): void => {
  SPECS.push({ name, opcode, imm, form, ...(prefix !== undefined ? { prefix } : {}) });
};
const ctl = (control: ControlKind): Form => ({ kind: 'control', control });

// control and parametric
add('unreachable', 0x00, 'none', ctl('unreachable'));
add('nop', 0x01, 'none', ctl('nop'));
add('block', 0x02, 'block', ctl('block'));
add('loop', 0x03, 'block', ctl('loop'));
add('if', 0x04, 'block', ctl('if'));
add('else', 0x05, 'none', ctl('else'));
add('try', 0x06, 'block', null);
add('catch', 0x07, 'index', null);
add('throw', 0x08, 'index', null);
add('rethrow', 0x09, 'index', null);
add('throw_ref', 0x0a, 'none', null);
add('end', 0x0b, 'none', ctl('end'));
add('br', 0x0c, 'index', ctl('br'));
add('br_if', 0x0d, 'index', ctl('br_if'));
add('br_table', 0x0e, 'br_table', ctl('br_table'));
add('return', 0x0f, 'none', ctl('return'));
add('call', 0x10, 'index', ctl('call'));
add('call_indirect', 0x11, 'call_indirect', ctl('call_indirect')); // through a table fixed by its element segments
add('return_call', 0x12, 'index', null);
add('return_call_indirect', 0x13, 'call_indirect', null);
add('call_ref', 0x14, 'index', null);
add('return_call_ref', 0x15, 'index', null);
add('delegate', 0x18, 'index', null);
add('catch_all', 0x19, 'none', null);
add('drop', 0x1a, 'none', ctl('drop'));
add('select', 0x1b, 'none', { kind: 'select' });
add('select', 0x1c, 'select_t', { kind: 'select' });
add('try_table', 0x1f, 'undecodable', null);
// variables
add('local.get', 0x20, 'index', { kind: 'local', access: 'get' });
add('local.set', 0x21, 'index', { kind: 'local', access: 'set' });
add('local.tee', 0x22, 'index', { kind: 'local', access: 'tee' });
add('global.get', 0x23, 'index', { kind: 'global', access: 'get' });
add('global.set', 0x24, 'index', { kind: 'global', access: 'set' });
add('table.get', 0x25, 'index', null);
add('table.set', 0x26, 'index', null);
// memory
const WIDE: Form = { kind: 'wide' };
const MEMORY_OPS: Array<[string, Form | null]> = [
  ['i32.load', { kind: 'load', bytes: 4, signed: false }], ['i64.load', WIDE], ['f32.load', WIDE], ['f64.load', WIDE],
  ['i32.load8_s', { kind: 'load', bytes: 1, signed: true }], ['i32.load8_u', { kind: 'load', bytes: 1, signed: false }],
  ['i32.load16_s', { kind: 'load', bytes: 2, signed: true }], ['i32.load16_u', { kind: 'load', bytes: 2, signed: false }],
  ['i64.load8_s', WIDE], ['i64.load8_u', WIDE], ['i64.load16_s', WIDE], ['i64.load16_u', WIDE],
  ['i64.load32_s', WIDE], ['i64.load32_u', WIDE],
  ['i32.store', { kind: 'store', bytes: 4 }], ['i64.store', WIDE], ['f32.store', WIDE], ['f64.store', WIDE],
  ['i32.store8', { kind: 'store', bytes: 1 }], ['i32.store16', { kind: 'store', bytes: 2 }],
  ['i64.store8', WIDE], ['i64.store16', WIDE], ['i64.store32', WIDE],
];
MEMORY_OPS.forEach(([name, form], i) => add(name, 0x28 + i, 'memarg', form));
add('memory.size', 0x3f, 'zero_byte', { kind: 'memory_size' });
add('memory.grow', 0x40, 'zero_byte', { kind: 'memory_grow' });
add('i32.const', 0x41, 'i32', { kind: 'const' });
add('i64.const', 0x42, 'i64', WIDE);
add('f32.const', 0x43, 'f32', WIDE);
add('f64.const', 0x44, 'f64', WIDE);
// numeric: i32 operators come from UNARY/BINARY; the i64/f32/f64 ones are `wide` (lowered to
// words by frontend/lower_words.ts), except the float-to-integer truncations that trap
for (const code of UNARY_CODES) add(`i32.${code}`, UNARY[code].opcode, 'none', { kind: 'unary', code });
for (const code of BINARY_CODES) add(`i32.${code}`, BINARY[code].opcode, 'none', { kind: 'binary', code });
const CMP_INT = ['eqz', 'eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const CMP_FLOAT = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
const ARITH_INT = ['clz', 'ctz', 'popcnt', 'add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u',
  'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const ARITH_FLOAT = ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt', 'add', 'sub', 'mul',
  'div', 'min', 'max', 'copysign'];
/** Conversions that trap on NaN or out-of-range floats: they stay unsupported. */
const TRAPPING_TRUNC = /^i(32|64)\.trunc_f(32|64)_[su]$/;
const wideForm = (name: string): Form | null => (TRAPPING_TRUNC.test(name) ? null : WIDE);
const family = (first: number, prefix: string, names: string[]): void => {
  names.forEach((n, i) => add(`${prefix}.${n}`, first + i, 'none', wideForm(`${prefix}.${n}`)));
};
family(0x50, 'i64', CMP_INT);
family(0x5b, 'f32', CMP_FLOAT);
family(0x61, 'f64', CMP_FLOAT);
family(0x79, 'i64', ARITH_INT);
family(0x8b, 'f32', ARITH_FLOAT);
family(0x99, 'f64', ARITH_FLOAT);
const CONVERSIONS = [
  'i32.wrap_i64', 'i32.trunc_f32_s', 'i32.trunc_f32_u', 'i32.trunc_f64_s', 'i32.trunc_f64_u',
  'i64.extend_i32_s', 'i64.extend_i32_u', 'i64.trunc_f32_s', 'i64.trunc_f32_u', 'i64.trunc_f64_s',
  'i64.trunc_f64_u', 'f32.convert_i32_s', 'f32.convert_i32_u', 'f32.convert_i64_s',
  'f32.convert_i64_u', 'f32.demote_f64', 'f64.convert_i32_s', 'f64.convert_i32_u',
  'f64.convert_i64_s', 'f64.convert_i64_u', 'f64.promote_f32', 'i32.reinterpret_f32',
  'i64.reinterpret_f64', 'f32.reinterpret_i32', 'f64.reinterpret_i64',
]; // 0xa7 .. 0xbf
CONVERSIONS.forEach((n, i) => add(n, 0xa7 + i, 'none', wideForm(n)));
['i64.extend8_s', 'i64.extend16_s', 'i64.extend32_s'].forEach((n, i) => add(n, 0xc2 + i, 'none', WIDE));
add('ref.null', 0xd0, 'reftype', null);
add('ref.is_null', 0xd1, 'none', null);
add('ref.func', 0xd2, 'index', null);
add('ref.eq', 0xd3, 'none', null);
add('ref.as_non_null', 0xd4, 'none', null);
add('br_on_null', 0xd5, 'index', null);
add('br_on_non_null', 0xd6, 'index', null);
// 0xfc prefix
const FC: Array<[string, ImmFormat]> = [
  ['i32.trunc_sat_f32_s', 'none'], ['i32.trunc_sat_f32_u', 'none'], ['i32.trunc_sat_f64_s', 'none'],
  ['i32.trunc_sat_f64_u', 'none'], ['i64.trunc_sat_f32_s', 'none'], ['i64.trunc_sat_f32_u', 'none'],
  ['i64.trunc_sat_f64_s', 'none'], ['i64.trunc_sat_f64_u', 'none'],
  ['memory.init', 'index_byte'], ['data.drop', 'index'], ['memory.copy', 'byte2'], ['memory.fill', 'zero_byte'],
  ['table.init', 'index2'], ['elem.drop', 'index'], ['table.copy', 'index2'], ['table.grow', 'index'],
  ['table.size', 'index'], ['table.fill', 'index'],
];
FC.forEach(([name, imm], i) => add(name, i, imm, name.includes('trunc_sat') ? WIDE : null, 0xfc));

const SINGLE = new Map<number, InstrSpec>();
const PREFIXED = new Map<string, InstrSpec>();
for (const s of SPECS) {
  if (s.prefix === undefined) SINGLE.set(s.opcode, s);
  else PREFIXED.set(`${s.prefix}:${s.opcode}`, s);
}

export const PREFIXES: ReadonlySet<number> = new Set([0xfb, 0xfc, 0xfd, 0xfe]);

/** The entry for a single-byte opcode (undefined if unknown or a prefix). */
export function specOf(opcode: number): InstrSpec | undefined {
  return SINGLE.get(opcode);
}

/** The entry for a prefixed opcode; unknown SIMD/atomic/GC ones get a placeholder that cannot be decoded further. */
export function prefixedSpecOf(prefix: number, sub: number): InstrSpec | undefined {
  const s = PREFIXED.get(`${prefix}:${sub}`);
  if (s) return s;
  const family = prefix === 0xfd ? 'simd' : prefix === 0xfe ? 'atomic' : prefix === 0xfb ? 'gc' : null;
  if (family === null) return undefined;
  return { name: `${family} instruction 0x${prefix.toString(16)} ${sub}`, opcode: sub, prefix, imm: 'undecodable', form: null };
}

/** Text name of a single-byte opcode, or null if unknown. */
export function opcodeName(op: number): string | null {
  return SINGLE.get(op)?.name ?? null;
}

/** Every supported instruction name, in table order (for error messages). */
export const SUPPORTED_INSTRUCTIONS: readonly string[] = [...new Set(SPECS.filter((s) => s.form !== null).map((s) => s.name))];

/** The names of the `wide` instructions (each has a rule in frontend/lower_words.ts). */
export const WIDE_INSTRUCTIONS: readonly string[] = [...new Set(SPECS.filter((s) => s.form?.kind === 'wide').map((s) => s.name))];

/** The pseudo-instruction lower_words.ts emits for a float value it cannot compute (never decoded). */
export const POISON_OP = 'wasmformer.poison';

const BY_NAME = new Map<string, InstrSpec>();
for (const s of SPECS) if (!BY_NAME.has(s.name)) BY_NAME.set(s.name, s);
BY_NAME.set(POISON_OP, { name: POISON_OP, opcode: -1, imm: 'none', form: { kind: 'poison' } });

/** The form of a decoded instruction by its text name (undefined: unknown or unsupported). */
export function formOf(name: string): Form | undefined {
  return BY_NAME.get(name)?.form ?? undefined;
}
