// frontend/opcodes.ts — WebAssembly opcode → text-format name table.
//
// Used only to name instructions in error messages: the decoder stops at the
// first instruction outside the supported subset and reports it by its wasm
// text name (e.g. "i32.mul"), as wasm-objdump would print it.

const SINGLE: Record<number, string> = {
  0x00: 'unreachable', 0x01: 'nop', 0x02: 'block', 0x03: 'loop', 0x04: 'if', 0x05: 'else',
  0x06: 'try', 0x07: 'catch', 0x08: 'throw', 0x09: 'rethrow', 0x0a: 'throw_ref',
  0x0b: 'end', 0x0c: 'br', 0x0d: 'br_if', 0x0e: 'br_table', 0x0f: 'return',
  0x10: 'call', 0x11: 'call_indirect', 0x12: 'return_call', 0x13: 'return_call_indirect',
  0x14: 'call_ref', 0x15: 'return_call_ref', 0x18: 'delegate', 0x19: 'catch_all',
  0x1a: 'drop', 0x1b: 'select', 0x1c: 'select', 0x1f: 'try_table',
  0x20: 'local.get', 0x21: 'local.set', 0x22: 'local.tee', 0x23: 'global.get', 0x24: 'global.set',
  0x25: 'table.get', 0x26: 'table.set',
  0x3f: 'memory.size', 0x40: 'memory.grow',
  0x41: 'i32.const', 0x42: 'i64.const', 0x43: 'f32.const', 0x44: 'f64.const',
  0xd0: 'ref.null', 0xd1: 'ref.is_null', 0xd2: 'ref.func', 0xd3: 'ref.eq', 0xd4: 'ref.as_non_null',
  0xd5: 'br_on_null', 0xd6: 'br_on_non_null',
};

const MEMORY_OPS = [
  'i32.load', 'i64.load', 'f32.load', 'f64.load',
  'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u',
  'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u',
  'i32.store', 'i64.store', 'f32.store', 'f64.store',
  'i32.store8', 'i32.store16', 'i64.store8', 'i64.store16', 'i64.store32',
]; // 0x28 .. 0x3e

const CMP_INT = ['eqz', 'eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const CMP_FLOAT = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
const ARITH_INT = ['clz', 'ctz', 'popcnt', 'add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u',
  'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const ARITH_FLOAT = ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt', 'add', 'sub', 'mul',
  'div', 'min', 'max', 'copysign'];
const CONVERSIONS = [
  'i32.wrap_i64', 'i32.trunc_f32_s', 'i32.trunc_f32_u', 'i32.trunc_f64_s', 'i32.trunc_f64_u',
  'i64.extend_i32_s', 'i64.extend_i32_u', 'i64.trunc_f32_s', 'i64.trunc_f32_u', 'i64.trunc_f64_s',
  'i64.trunc_f64_u', 'f32.convert_i32_s', 'f32.convert_i32_u', 'f32.convert_i64_s',
  'f32.convert_i64_u', 'f32.demote_f64', 'f64.convert_i32_s', 'f64.convert_i32_u',
  'f64.convert_i64_s', 'f64.convert_i64_u', 'f64.promote_f32', 'i32.reinterpret_f32',
  'i64.reinterpret_f64', 'f32.reinterpret_i32', 'f64.reinterpret_i64',
  'i32.extend8_s', 'i32.extend16_s', 'i64.extend8_s', 'i64.extend16_s', 'i64.extend32_s',
]; // 0xa7 .. 0xc4

const PREFIX_FC = [
  'i32.trunc_sat_f32_s', 'i32.trunc_sat_f32_u', 'i32.trunc_sat_f64_s', 'i32.trunc_sat_f64_u',
  'i64.trunc_sat_f32_s', 'i64.trunc_sat_f32_u', 'i64.trunc_sat_f64_s', 'i64.trunc_sat_f64_u',
  'memory.init', 'data.drop', 'memory.copy', 'memory.fill',
  'table.init', 'elem.drop', 'table.copy', 'table.grow', 'table.size', 'table.fill',
];

function buildTable(): Map<number, string> {
  const t = new Map<number, string>();
  for (const [k, v] of Object.entries(SINGLE)) t.set(Number(k), v);
  MEMORY_OPS.forEach((n, i) => t.set(0x28 + i, n));
  let op = 0x45;
  const family = (prefix: string, names: string[]): void => {
    for (const n of names) t.set(op++, `${prefix}.${n}`);
  };
  family('i32', CMP_INT);
  family('i64', CMP_INT);
  family('f32', CMP_FLOAT);
  family('f64', CMP_FLOAT);
  family('i32', ARITH_INT);
  family('i64', ARITH_INT);
  family('f32', ARITH_FLOAT);
  family('f64', ARITH_FLOAT);
  CONVERSIONS.forEach((n, i) => t.set(0xa7 + i, n));
  return t;
}

const TABLE = buildTable();

/** Text name of a single-byte opcode, or null if unknown. */
export function opcodeName(op: number): string | null {
  return TABLE.get(op) ?? null;
}

/** Text name of a prefixed opcode (0xfc/0xfd/0xfe prefixes). */
export function prefixedOpcodeName(prefix: number, sub: number): string {
  if (prefix === 0xfc && sub < PREFIX_FC.length) return PREFIX_FC[sub] as string;
  if (prefix === 0xfd) return `simd opcode 0xfd ${sub}`;
  if (prefix === 0xfe) return `atomic opcode 0xfe ${sub}`;
  return `opcode 0x${prefix.toString(16)} ${sub}`;
}
