// frontend/decode.ts — decode a .wasm binary into sections, functions and instructions.
//
// A small hand-written decoder (rather than @webassemblyjs/wasm-parser, whose
// AST lacks exact per-instruction byte offsets and drops alignment
// immediates). Every instruction is decoded through the opcode table in
// ir/instructions.ts, which knows the immediates of unsupported instructions
// too: so decoding does not stop at the first one. Each construct outside the
// supported subset (an instruction, a non-i32 type, a reference to an
// imported global or function, ...) is recorded as an `Unsupported` item
// where it appears; frontend/subset.ts decides, from what the selected
// exports reach, whether they stop the compile. Code no execution reaches
// (after br, return, unreachable... up to its block's end) is dropped when it
// holds such items, so it stops nothing. Tables are fixed by their active
// element segments when nothing can change them (no table.set, table.grow...
// anywhere, not imported); a call_indirect through such a table reaches the
// entries of its type, through another one it is unsupported. Malformed bytes
// are a CompileError at once. Semantic checks (stack types, indices, label
// depths) live in frontend/validate.ts.

import { CompileError } from './errors.js';
import {
  funcDisplayName, sameSig, type BlockSig, type FuncSig, type NumType, type WasmDataSegment, type WasmExport, type WasmFunc, type WasmInstr,
} from './module.js';
import { PREFIXES, prefixedSpecOf, specOf, type InstrSpec } from '../ir/instructions.js';
import { Reader } from './reader.js';

export interface FuncType {
  params: string[]; // value type names ("i32", "f64", ...)
  results: string[];
}

/** One construct outside the supported subset, where it appears. */
export interface Unsupported {
  what: string; // e.g. "instruction i64.const", "local.get of a local of type f32 (only i32)"
  instruction?: string;
  func?: string;
  offset: number;
}

export interface DecodedImport {
  module: string;
  field: string;
  kind: 'func' | 'table' | 'memory' | 'global' | 'tag';
  pos: number;
}

export interface DecodedGlobal {
  index: number;
  type: string;
  mutable: boolean;
  init: number | null; // null: not a single i32.const
  /** The initializer's words when it is a single i32/i64/f32/f64 constant (low word first), else null. */
  initWords: number[] | null;
  imported: DecodedImport | null;
  pos: number;
  debugName?: string; // from the name section
}

/** A constant expression (global initializer, data segment offset) and the type it must produce. */
export interface ConstExpr {
  what: string;
  pos: number;
  type: string;
  body: WasmInstr[];
  globalsBefore: number; // globals defined before it (the ones it may refer to)
}

export interface DecodedFunc {
  func: WasmFunc;
  unsupported: Unsupported[];
  calls: number[]; // function indices called directly, and those call_indirect may call
  /** Dead code dropped from `func.body` because it held unsupported items: byte range [start, end) and what it follows. */
  dropped: DeadCode[];
}

/** A run of code no execution reaches: its bytes [start, end) and the instruction it follows (e.g. "br"). */
export interface DeadCode {
  start: number;
  end: number;
  after: string;
}

/** A table (imports first) and, when nothing can change it, its entries after the element segments. */
export interface DecodedTable {
  elemType: string; // funcref or externref
  min: number;
  imported: DecodedImport | null;
  /** Function index or null (an empty entry); null when the table is not fixed, `notFixed` says why. */
  entries: Array<number | null> | null;
  notFixed: string | null;
}

/** An element segment: where it goes (active ones) and its items. */
interface DecodedElem {
  active: boolean;
  table: number;
  offset: number | null; // active: the i32.const offset (null: another constant expression)
  items: Array<number | null | undefined>; // function index, null (ref.null), undefined (another expression)
}

export interface DecodedMemory {
  pages: number;
  maxPages: number | null;
  data: WasmDataSegment[];
  imported: boolean;
  /** Byte offset of its definition (for errors about its size). */
  offset?: number;
}

export interface DecodedModule {
  types: FuncType[];
  imports: DecodedImport[];
  numImportedFuncs: number;
  funcTypes: number[]; // type index of every function index (imports first)
  funcSigs: Array<FuncSig | null>;
  typeSigs: Array<FuncSig | null>;
  outputImport: number | null;
  funcs: DecodedFunc[]; // defined functions, in index order
  tables: DecodedTable[];
  globals: DecodedGlobal[]; // every global index (imports first)
  memory: DecodedMemory | null;
  exports: WasmExport[];
  /** Module-level constructs outside the subset (start function, imported memory, ...). */
  moduleUnsupported: Unsupported[];
  constExprs: ConstExpr[];
}

const MAX_LOCALS = 50_000;
const MAX_PAGES = 65_536;

const VALTYPES: Record<number, string> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref',
};

/** Whether a value type is one the compiler keeps as 32-bit words (i32, i64, f32, f64). */
export function isNumType(t: string): t is NumType {
  return t === 'i32' || t === 'i64' || t === 'f32' || t === 'f64';
}

/** How many 32-bit words a numeric value type takes. */
export function wordsOf(t: NumType): number {
  return t === 'i64' || t === 'f64' ? 2 : 1;
}

// Section id → required position in the module (custom sections excluded); 13 = tags.
const SECTION_ORDER: Record<number, number> = {
  1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13,
};

function valtype(r: Reader): string {
  const at = r.pos;
  const b = r.u8();
  const t = VALTYPES[b];
  if (t === undefined) r.fail(`unknown value type 0x${b.toString(16)}`, at);
  return t;
}

function vecOf<T>(r: Reader, item: (r: Reader) => T): T[] {
  const n = r.u32();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item(r));
  return out;
}

function typeSection(r: Reader): FuncType[] {
  return vecOf(r, (r) => {
    const at = r.pos;
    const form = r.u8();
    if (form !== 0x60) r.fail(`type form 0x${form.toString(16)} is not a function type`, at);
    return { params: vecOf(r, valtype), results: vecOf(r, valtype) };
  });
}

/** Limits: a flags byte (not a LEB128: the spec requires one byte), min, optional max. */
function limits(r: Reader, what: string): { flags: number; min: number; max: number | null } {
  const at = r.pos;
  const flags = r.u8();
  if (flags > 7) r.fail(`${what} limits flags 0x${flags.toString(16)} are invalid`, at);
  const min = r.u32();
  const max = flags & 1 ? r.u32() : null;
  return { flags, min, max };
}

function tableType(r: Reader, imported: DecodedImport | null): DecodedTable {
  const at = r.pos;
  const t = r.u8();
  if (t !== 0x70 && t !== 0x6f) r.fail(`unknown table element type 0x${t.toString(16)}`, at);
  const { min } = limits(r, 'table');
  return { elemType: t === 0x70 ? 'funcref' : 'externref', min, imported, entries: null, notFixed: null };
}

function importSection(r: Reader, s: SectionState): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const pos = r.pos;
    const module = r.name();
    const field = r.name();
    const kindAt = r.pos;
    const k = r.u8();
    const kind = (['func', 'table', 'memory', 'global', 'tag'] as const)[k];
    if (kind === undefined) r.fail(`unknown import kind ${k}`, kindAt);
    const imp: DecodedImport = { module, field, kind, pos };
    s.imports.push(imp);
    if (kind === 'func') {
      const tAt = r.pos;
      const t = r.u32();
      if (t >= s.types.length) r.fail(`imported function type index ${t} out of range`, tAt);
      s.funcTypes.push(t);
      s.importedFuncs.push(imp);
    } else if (kind === 'table') s.tables.push(tableType(r, imp));
    else if (kind === 'memory') {
      limits(r, 'memory');
      s.memoryCount++;
      s.moduleUnsupported.push({ what: `imported memory (import "${module}" "${field}"); the module must define its memory`, offset: pos });
    } else if (kind === 'global') {
      const type = valtype(r);
      const mAt = r.pos;
      const m = r.u8();
      if (m > 1) r.fail(`global mutability ${m} is invalid`, mAt);
      s.globals.push({ index: s.globals.length, type, mutable: m === 1, init: null, initWords: null, imported: imp, pos });
    } else {
      r.u8();
      r.u32();
    }
  }
}

function functionSection(r: Reader, s: SectionState): void {
  s.definedTypes = vecOf(r, (r) => {
    const at = r.pos;
    const t = r.u32();
    if (t >= s.types.length) r.fail(`function type index ${t} out of range`, at);
    return t;
  });
  s.funcTypes.push(...s.definedTypes);
}

function memorySection(r: Reader, s: SectionState): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const { flags, min, max } = limits(r, 'memory');
    s.memoryCount++;
    if (s.memoryCount > 1) {
      s.moduleUnsupported.push({ what: 'more than one memory', offset: at });
      continue;
    }
    if (flags > 1) {
      s.moduleUnsupported.push({ what: `memory flags 0x${flags.toString(16)} (shared or 64-bit memory)`, offset: at });
    }
    if (min > MAX_PAGES || (max !== null && (max > MAX_PAGES || max < min))) {
      throw new CompileError('invalid memory limits', { offset: at });
    }
    s.memory = { pages: min, maxPages: max, data: [], imported: false, offset: at };
  }
}

/**
 * A constant expression: its words when it is a single i32/i64/f32/f64 constant, else null. Its
 * instructions are kept for validation (frontend/validate.ts) with the type it must have.
 */
function constWords(r: Reader, s: SectionState, what: string, type: string): number[] | null {
  const ctx = bodyContext(s, what);
  const pos = r.pos;
  const body: WasmInstr[] = [];
  for (;;) {
    const at = r.pos;
    let ins: WasmInstr;
    try {
      ins = instruction(r, ctx);
    } catch (e) {
      // an instruction this decoder cannot follow (a function body skips to its end; here there is no end to skip to)
      if (e instanceof StopDecoding) throw new CompileError(`${what}: the constant expression holds an instruction that cannot be decoded (opcode 0x${(r.bytes[at] ?? 0).toString(16)})`, { offset: at });
      throw e;
    }
    body.push(ins);
    if (ins.op === 'end') break;
  }
  s.constExprs.push({ what, pos, type, body, globalsBefore: s.globals.length });
  const first = body[0];
  if (body.length !== 2 || first === undefined) return null;
  if (first.imm === 'i32' && first.op === 'i32.const') return [first.value];
  return first.imm === 'words' ? first.words : null;
}

/** A constant expression's value when it is a single i32.const, else null. */
function constExpr(r: Reader, s: SectionState, what: string, type: string): number | null {
  const w = constWords(r, s, what, type);
  return w !== null && w.length === 1 && type === 'i32' ? (w[0] as number) : null;
}

function globalSection(r: Reader, s: SectionState): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const pos = r.pos;
    const type = valtype(r);
    const mAt = r.pos;
    const m = r.u8();
    if (m > 1) r.fail(`global mutability ${m} is invalid`, mAt);
    const initWords = constWords(r, s, `the initializer of global ${s.globals.length}`, type);
    const init = type === 'i32' && initWords !== null && initWords.length === 1 ? (initWords[0] as number) : null;
    s.globals.push({ index: s.globals.length, type, mutable: m === 1, init, initWords, imported: null, pos });
  }
}

/** One item of an element segment given as an expression: ref.func's index, null for ref.null, else undefined. */
function elemExpr(r: Reader, s: SectionState): number | null | undefined {
  const ctx = bodyContext(s, 'an element segment');
  const body: WasmInstr[] = [];
  for (;;) {
    const ins = instruction(r, ctx);
    body.push(ins);
    if (ins.op === 'end') break;
  }
  const first = body[0];
  if (body.length !== 2 || first === undefined) return undefined;
  if (first.op === 'ref.func' && first.imm === 'index') return first.index;
  return first.op === 'ref.null' ? null : undefined;
}

/** Element segments (all eight encodings); the engine validates their types and indices. */
function elementSection(r: Reader, s: SectionState): void {
  s.elems = vecOf(r, (r): DecodedElem => {
    const at = r.pos;
    const flags = r.u32();
    if (flags > 7) r.fail(`unknown element segment flags ${flags}`, at);
    const active = (flags & 1) === 0;
    const table = active && (flags & 2) !== 0 ? r.u32() : 0;
    const offset = active ? constExpr(r, s, 'an element segment offset', 'i32') : null;
    const exprs = (flags & 4) !== 0;
    if ((flags & 3) !== 0) {
      const kindAt = r.pos;
      const kind = r.u8();
      if (exprs ? kind !== 0x70 && kind !== 0x6f : kind !== 0x00) r.fail(`unknown element kind 0x${kind.toString(16)}`, kindAt);
    }
    const items = vecOf(r, (x): number | null | undefined => (exprs ? elemExpr(x, s) : x.u32()));
    return { active, table, offset, items };
  });
}

function exportSection(r: Reader, s: SectionState): void {
  const kinds = ['func', 'table', 'memory', 'global', 'tag'] as const;
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const name = r.name();
    const kindAt = r.pos;
    const k = r.u8();
    const index = r.u32();
    const kind = kinds[k];
    if (kind === undefined) r.fail(`unknown export kind ${k}`, kindAt);
    const limit = kind === 'func' ? s.funcTypes.length : kind === 'memory' ? s.memoryCount : kind === 'global' ? s.globals.length : Infinity;
    if (index >= limit) throw new CompileError(`export "${name}" refers to unknown ${kind} ${index}`, { offset: at });
    s.exports.push({ name, kind, index });
  }
}

function dataSection(r: Reader, s: SectionState): void {
  s.data = vecOf(r, (r) => {
    const at = r.pos;
    const flags = r.u32();
    if (flags > 2) r.fail(`unknown data segment flags ${flags}`, at);
    if (flags === 2) {
      const mem = r.u32();
      if (mem !== 0) throw new CompileError(`data segment refers to unknown memory ${mem}`, { offset: at });
    }
    const offAt = r.pos;
    const offset = flags === 1 ? 0 : constExpr(r, s, 'a data segment offset', 'i32');
    const bytes = r.take(r.u32());
    if (flags === 1) return null; // passive: only memory.init (unsupported) could use it
    if (offset === null) {
      s.moduleUnsupported.push({ what: 'data segment offset other than an i32.const', offset: offAt });
      return null;
    }
    return { offset: offset >>> 0, bytes, pos: at };
  }).filter((d): d is WasmDataSegment => d !== null);
}

// ---------------------------------------------------------------- function bodies

interface BodyContext {
  s: SectionState;
  func: string;
  unsupported: Unsupported[];
  calls: number[];
  /** The function's declared locals of a type that is not numeric: index -> type (an access is unsupported). */
  otherLocals: Map<number, string>;
  /** The types of the declared locals that are numeric (others are listed as i32: their accesses are unsupported). */
  localTypes: NumType[];
}

function bodyContext(s: SectionState, func: string): BodyContext {
  return { s, func, unsupported: [], calls: [], otherLocals: new Map(), localTypes: [] };
}

/** Thrown when an instruction's immediates cannot be decoded (SIMD, atomics...): the rest of the body is skipped. */
class StopDecoding extends Error {}

function note(ctx: BodyContext, what: string, offset: number, instruction?: string): void {
  ctx.unsupported.push({ what, ...(instruction !== undefined ? { instruction } : {}), func: ctx.func, offset });
}

/** A block type; one with i64/f32/f64 values carries them (`types`), one with others is noted. */
function blockSig(r: Reader, ctx: BodyContext, pos: number, op: string): BlockSig {
  const b = r.bytes[r.pos];
  if (b === 0x40) return (r.pos++, { params: 0, results: 0 });
  const typed = (params: string[], results: string[]): BlockSig => {
    const sig = { params: params.length, results: results.length };
    if ([...params, ...results].every((x) => x === 'i32')) return sig;
    return { ...sig, types: { params: params.map(asNum), results: results.map(asNum) } };
  };
  if (b !== undefined && VALTYPES[b] !== undefined) {
    r.pos++;
    const t = VALTYPES[b] as string;
    if (!isNumType(t)) note(ctx, `${op} with result type ${t}`, pos, op);
    return typed([], [t]);
  }
  const idx = r.signed(33);
  const t = idx >= 0 ? ctx.s.types[idx] : undefined;
  if (t === undefined) {
    throw new CompileError(`validation failed: block type index ${idx} out of range`, { instruction: op, func: ctx.func, offset: pos });
  }
  const bad = [...t.params, ...t.results].find((x) => !isNumType(x));
  if (bad !== undefined) note(ctx, `${op} with a type of ${bad} values`, pos, op);
  return typed(t.params, t.results);
}

/** A numeric type as itself; another (already noted as unsupported) as i32, so counts stay right. */
function asNum(t: string): NumType {
  return isNumType(t) ? t : 'i32';
}

function immediates(r: Reader, spec: InstrSpec, ctx: BodyContext, pos: number): WasmInstr {
  const op = spec.name;
  switch (spec.imm) {
    case 'none': return { op, pos, imm: 'none' };
    case 'i32': return { op, pos, imm: 'i32', value: r.s32() };
    case 'i64': return { op, pos, imm: 'words', words: r.s64Words() };
    case 'f32': return { op, pos, imm: 'words', words: r.words(1) };
    case 'f64': return { op, pos, imm: 'words', words: r.words(2) };
    case 'memarg': {
      const align = r.u32();
      if (align & 0x40) {
        r.u32();
        note(ctx, `${op} with a memory index (multi-memory)`, pos, op);
      }
      return { op, pos, imm: 'memarg', align: align & ~0x40, offset: r.u32() };
    }
    case 'block': return { op, pos, imm: 'block', sig: blockSig(r, ctx, pos, op) };
    case 'index': return { op, pos, imm: 'index', index: r.u32() };
    case 'br_table': {
      const targets = vecOf(r, (x) => x.u32());
      return { op, pos, imm: 'br_table', targets, default: r.u32() };
    }
    case 'zero_byte': {
      const at = r.pos;
      if (r.u8() !== 0) r.fail(`${op} expects a zero byte (memory index 0)`, at);
      return { op, pos, imm: 'none' };
    }
    case 'select_t': {
      const at = r.pos;
      const types = vecOf(r, valtype);
      if (types.length !== 1) r.fail(`typed select must have exactly one type, has ${types.length}`, at);
      if (!isNumType(types[0] as string)) note(ctx, `select of type ${types[0]}`, pos, op);
      return { op, pos, imm: 'none' };
    }
    case 'call_indirect': return { op, pos, imm: 'call_indirect', type: r.u32(), table: r.u32() };
    case 'index2': r.u32(); r.u32(); return { op, pos, imm: 'none' };
    case 'index_byte': r.u32(); r.u8(); return { op, pos, imm: 'none' };
    case 'byte2': r.u8(); r.u8(); return { op, pos, imm: 'none' };
    case 'reftype': r.u8(); return { op, pos, imm: 'none' };
    case 'undecodable': throw new StopDecoding();
  }
}

/** Record references the subset cannot follow (imported or non-i32 globals, imported functions). */
function checkReferences(ctx: BodyContext, ins: WasmInstr): void {
  if (ins.imm !== 'index') return;
  const s = ctx.s;
  if (ins.op === 'local.get' || ins.op === 'local.set' || ins.op === 'local.tee') {
    const t = ctx.otherLocals.get(ins.index);
    if (t !== undefined) note(ctx, `${ins.op} of a local of type ${t} (only i32, i64, f32, f64)`, ins.pos, ins.op);
  } else if (ins.op === 'global.get' || ins.op === 'global.set') {
    const g = s.globals[ins.index];
    if (!g) return; // the validator reports it
    if (g.imported) note(ctx, `${ins.op} of an imported global (import "${g.imported.module}" "${g.imported.field}")`, ins.pos, ins.op);
    else if (!isNumType(g.type)) note(ctx, `${ins.op} of a global of type ${g.type}`, ins.pos, ins.op);
    else if (g.initWords === null) note(ctx, `${ins.op} of a global whose initializer is not a constant`, ins.pos, ins.op);
  } else if (ins.op === 'call') {
    ctx.calls.push(ins.index);
    const imp = s.importedFuncs[ins.index];
    if (imp && ins.index !== s.outputImport) {
      note(ctx, `call to the imported function "${imp.module}" "${imp.field}" (only "env" "output_byte" (i32) is supported)`, ins.pos, 'call');
    }
  }
}

/** Decode one instruction starting at r.pos (its immediates always; unsupported ones are noted). */
function instruction(r: Reader, ctx: BodyContext): WasmInstr {
  const pos = r.pos;
  const op = r.u8();
  const spec = PREFIXES.has(op) ? prefixedSpecOf(op, r.u32()) : specOf(op);
  if (spec === undefined) {
    throw new CompileError(`malformed module: unknown opcode 0x${op.toString(16)}`, {
      instruction: `0x${op.toString(16)}`, func: ctx.func, offset: pos,
    });
  }
  if (spec.form === null) note(ctx, `instruction ${spec.name}`, pos, spec.name);
  const ins = immediates(r, spec, ctx, pos);
  checkReferences(ctx, ins);
  return ins;
}

/** The declared locals (after `numParams` params); one of a non-numeric type is noted only where code accesses it. */
function localDecls(r: Reader, ctx: BodyContext, numParams: number): number {
  let total = 0;
  const groups = r.u32();
  for (let i = 0; i < groups; i++) {
    const at = r.pos;
    const count = r.u32();
    const t = valtype(r);
    if (total + count > MAX_LOCALS) {
      note(ctx, `more than ${MAX_LOCALS} locals`, at);
      throw new StopDecoding();
    }
    if (!isNumType(t)) for (let k = 0; k < count; k++) ctx.otherLocals.set(numParams + total + k, t);
    if (t !== 'i32' || ctx.localTypes.length > 0) {
      while (ctx.localTypes.length < total) ctx.localTypes.push('i32');
      for (let k = 0; k < count; k++) ctx.localTypes.push(asNum(t));
    }
    total += count;
  }
  return total;
}

const OPENS = new Set(['block', 'loop', 'if', 'try']);
const CLOSES = new Set(['end', 'delegate']);
/** Where a block's next arm starts (live again after dead code). */
const ARMS = new Set(['else', 'catch', 'catch_all']);
/** Instructions after which the rest of the block is dead. */
const NEVER_FALLS_THROUGH = new Set([
  'br', 'br_table', 'return', 'unreachable', 'throw', 'rethrow', 'throw_ref', 'return_call', 'return_call_indirect', 'return_call_ref',
]);

interface DeadRegion {
  after: string;
  instrs: WasmInstr[];
  end: number; // byte offset of the end/else that closes it
}

/**
 * The runs of instructions no execution reaches: from after an instruction that never falls
 * through to the end (or next arm) of its block, nested blocks included.
 */
function deadRegions(body: readonly WasmInstr[]): DeadRegion[] {
  const regions: DeadRegion[] = [];
  let depth = 0;
  let dead: DeadRegion | null = null;
  let deadDepth = 0;
  for (const ins of body) {
    if (dead !== null) {
      if ((CLOSES.has(ins.op) || ARMS.has(ins.op)) && depth === deadDepth) {
        dead.end = ins.pos;
        if (dead.instrs.length > 0) regions.push(dead);
        dead = null;
      } else {
        dead.instrs.push(ins);
        if (OPENS.has(ins.op)) depth++;
        if (CLOSES.has(ins.op)) depth--;
        continue;
      }
    }
    if (OPENS.has(ins.op)) depth++;
    if (CLOSES.has(ins.op)) depth--;
    if (NEVER_FALLS_THROUGH.has(ins.op)) {
      dead = { after: ins.op, instrs: [], end: -1 };
      deadDepth = depth;
    }
  }
  return regions; // a region still open has no closing end: instructions() would have failed
}

/**
 * Drop the dead regions that hold unsupported items (with those items): code that never runs
 * does not stop a compile. Dead code inside the subset stays, for the validator to check; the
 * dropped regions are listed for locating an invalid one (frontend/validate.ts).
 */
function dropDeadUnsupported(body: WasmInstr[], ctx: BodyContext, dropped: DeadCode[]): WasmInstr[] {
  const noted = new Set(ctx.unsupported.map((u) => u.offset));
  const regions = deadRegions(body).filter((reg) => reg.instrs.some((i) => noted.has(i.pos)));
  if (regions.length === 0) return body;
  const drop = new Set(regions.flatMap((reg) => reg.instrs));
  const at = new Set([...drop].map((i) => i.pos));
  ctx.unsupported = ctx.unsupported.filter((u) => !at.has(u.offset));
  for (const reg of regions) dropped.push({ start: (reg.instrs[0] as WasmInstr).pos, end: reg.end, after: reg.after });
  const kept = body.filter((i) => !drop.has(i));
  ctx.calls = kept.flatMap((i) => (i.op === 'call' && i.imm === 'index' ? [i.index] : []));
  return kept;
}

function instructions(r: Reader, ctx: BodyContext): WasmInstr[] {
  const body: WasmInstr[] = [];
  let depth = 1;
  while (depth > 0) {
    const ins = instruction(r, ctx);
    body.push(ins);
    if (OPENS.has(ins.op)) depth++;
    if (ins.op === 'end' || ins.op === 'delegate') depth--; // delegate closes a try (exception handling)
  }
  if (!r.atEnd()) r.fail('function body has bytes after its final end');
  return body;
}

/** A function type in words (null when a type is not numeric); `types` keeps (i64) apart from (i32 i32). */
function signature(t: FuncType): FuncSig | null {
  const all = [...t.params, ...t.results];
  if (!all.every(isNumType)) return null;
  const words = (ts: string[]): number => ts.reduce((n, x) => n + wordsOf(x as NumType), 0);
  const sig = { params: words(t.params), results: words(t.results) };
  return all.every((x) => x === 'i32') ? sig : { ...sig, types: `${t.params.join(' ')} -> ${t.results.join(' ')}` };
}

function codeSection(r: Reader, s: SectionState): void {
  const at = r.pos;
  const n = r.u32();
  if (n !== s.definedTypes.length) r.fail(`code section has ${n} bodies but ${s.definedTypes.length} functions are declared`, at);
  const base = s.importedFuncs.length;
  s.funcs = [];
  for (let k = 0; k < n; k++) {
    const index = base + k;
    const exportNames = s.exports.filter((e) => e.kind === 'func' && e.index === index).map((e) => e.name);
    const name = funcDisplayName(index, exportNames);
    const size = r.u32();
    const pos = r.pos;
    const br = r.sub(size, 'function body', name);
    const t = s.types[s.definedTypes[k] as number] as FuncType;
    const ctx = bodyContext(s, name);
    const bad = [...t.params, ...t.results].find((x) => !isNumType(x));
    if (bad !== undefined) note(ctx, `function signature with type ${bad} (only i32, i64, f32, f64)`, pos);
    let numLocals = 0;
    let body: WasmInstr[] = [];
    const dropped: DeadCode[] = [];
    try {
      numLocals = localDecls(br, ctx, t.params.length);
      body = dropDeadUnsupported(instructions(br, ctx), ctx, dropped);
    } catch (e) {
      if (!(e instanceof StopDecoding)) throw e;
      br.pos = br.end; // the rest is not decodable here; the function is unsupported anyway
    }
    while (ctx.localTypes.length > 0 && ctx.localTypes.length < numLocals) ctx.localTypes.push('i32');
    const wide = ctx.localTypes.length > 0 || [...t.params, ...t.results].some((x) => x !== 'i32');
    const types = wide ? { types: { params: t.params.map(asNum), results: t.results.map(asNum), locals: ctx.localTypes.length > 0 ? ctx.localTypes : new Array<NumType>(numLocals).fill('i32') } } : {};
    s.funcs.push({
      func: { index, name, exportNames, numParams: t.params.length, numResults: t.results.length, numLocals, body, pos, ...types },
      unsupported: ctx.unsupported,
      calls: ctx.calls,
      dropped,
    });
  }
}

// ---------------------------------------------------------------- sections

interface SectionState {
  types: FuncType[];
  imports: DecodedImport[];
  importedFuncs: DecodedImport[];
  outputImport: number | null;
  funcTypes: number[];
  definedTypes: number[];
  memoryCount: number;
  memory: DecodedMemory | null;
  globals: DecodedGlobal[];
  exports: WasmExport[];
  funcs: DecodedFunc[] | null;
  tables: DecodedTable[];
  elems: DecodedElem[];
  data: WasmDataSegment[];
  moduleUnsupported: Unsupported[];
  globalNames: Map<number, string>;
  constExprs: ConstExpr[];
}

function findOutputImport(s: SectionState): number | null {
  const i = s.importedFuncs.findIndex((imp, k) => {
    const t = s.types[s.funcTypes[k] as number];
    return imp.module === 'env' && imp.field === 'output_byte' && t !== undefined &&
      t.params.length === 1 && t.params[0] === 'i32' && t.results.length === 0;
  });
  return i < 0 ? null : i;
}

/** Custom sections are ignored, except the global names of a "name" section (errors in it are ignored too, as engines do). */
function customSection(r: Reader, s: SectionState): void {
  const name = r.name();
  const start = r.pos;
  r.pos = r.end;
  if (name !== 'name') return;
  try {
    const n = new Reader(r.bytes, start, r.end, 'name section');
    while (!n.atEnd()) {
      const id = n.u8();
      const sub = n.sub(n.u32(), 'name subsection');
      if (id !== 7) continue;
      const count = sub.u32();
      for (let i = 0; i < count; i++) s.globalNames.set(sub.u32(), sub.name());
    }
  } catch {
    // a malformed name section does not make the module invalid
  }
}

function section(id: number, r: Reader, s: SectionState, at: number): void {
  switch (id) {
    case 0: customSection(r, s); return;
    case 1: s.types = typeSection(r); return;
    case 2: importSection(r, s); s.outputImport = findOutputImport(s); return;
    case 3: functionSection(r, s); return;
    case 4: s.tables.push(...vecOf(r, (x) => tableType(x, null))); return;
    case 5: memorySection(r, s); return;
    case 13: r.pos = r.end; return; // tags: only exception handling (unsupported) uses them
    case 6: globalSection(r, s); return;
    case 7: exportSection(r, s); return;
    case 8: s.moduleUnsupported.push({ what: 'start function', offset: at }); r.pos = r.end; return;
    case 9: elementSection(r, s); return;
    case 10: codeSection(r, s); return;
    case 11: dataSection(r, s); return;
    case 12: r.u32(); return; // data count
    default: r.fail(`unknown section id ${id}`, at);
  }
}

// ---------------------------------------------------------------- tables and call_indirect

const TABLE_WRITERS = new Set(['table.set', 'table.grow', 'table.fill', 'table.copy', 'table.init']);
/** Tables larger than this are not fixed (their entries would be listed one by one). */
const MAX_FIXED_TABLE = 65_536;

/** Fill each table whose entries nothing can change from the active element segments. */
function fixTables(s: SectionState, funcs: readonly DecodedFunc[]): void {
  // a body that could not be decoded in full might change a table in the part not read
  const writer = funcs.find((f) => f.func.body.length === 0 || f.func.body.some((i) => TABLE_WRITERS.has(i.op)));
  const writes = writer === undefined ? null
    : writer.func.body.length === 0 ? `function ${writer.func.name} could not be decoded in full and might change it`
    : `${writer.func.body.find((i) => TABLE_WRITERS.has(i.op))?.op} in function ${writer.func.name} may change it`;
  s.tables.forEach((t, index) => {
    t.notFixed = t.imported ? `it is imported (import "${t.imported.module}" "${t.imported.field}")`
      : t.elemType !== 'funcref' ? `it holds ${t.elemType} values`
      : writes ?? (t.min > MAX_FIXED_TABLE ? `it has more than ${MAX_FIXED_TABLE} entries` : null);
    if (t.notFixed !== null) return;
    const entries: Array<number | null> = new Array<number | null>(t.min).fill(null);
    for (const e of s.elems) {
      if (!e.active || e.table !== index) continue;
      const at = e.offset === null ? null : e.offset >>> 0;
      if (at === null) t.notFixed = 'an element segment offset is not an i32.const';
      else if (at + e.items.length > t.min) t.notFixed = `an element segment of ${e.items.length} entries at ${at} does not fit its ${t.min} entries (instantiation fails)`;
      else if (e.items.some((x) => x === undefined)) t.notFixed = 'an element segment entry is neither ref.func nor ref.null';
      else e.items.forEach((x, k) => { entries[(at as number) + k] = x ?? null; });
      if (t.notFixed !== null) return;
    }
    t.entries = entries;
  });
}

/**
 * Each call_indirect (in code that stays) through a fixed table may call the entries whose
 * type is the instruction's: they join the function's calls, so reaching it reaches them.
 * Through a table that is not fixed, of a non-i32 type or possibly calling an import, it is
 * unsupported.
 */
function resolveIndirectCalls(s: SectionState, funcs: readonly DecodedFunc[], funcSigs: ReadonlyArray<FuncSig | null>): void {
  for (const f of funcs) {
    for (const ins of f.func.body) {
      if (ins.op !== 'call_indirect' || ins.imm !== 'call_indirect') continue;
      const t = s.tables[ins.table];
      const type = s.types[ins.type];
      if (t === undefined || type === undefined) continue; // the validator reports it
      const unsupported = (what: string) => f.unsupported.push({ what, instruction: ins.op, func: f.func.name, offset: ins.pos });
      const sig = signature(type);
      const bad = [...type.params, ...type.results].find((x) => !isNumType(x));
      if (sig === null) unsupported(`call_indirect of a type with ${bad ?? 'non-numeric'} values`);
      else if (t.entries === null) unsupported(`call_indirect through table ${ins.table}, which is not fixed by its element segments: ${t.notFixed ?? 'unknown'}`);
      else {
        for (const e of new Set(t.entries)) {
          const es = e === null ? null : funcSigs[e];
          if (e === null || es === undefined || es === null || !sameSig(es, sig)) continue; // traps
          const imp = s.importedFuncs[e];
          if (imp) unsupported(`call_indirect that may call the imported function "${imp.module}" "${imp.field}"`);
          else f.calls.push(e);
        }
      }
    }
  }
}

function decodeSections(bytes: Uint8Array): DecodedModule {
  const file = new Reader(bytes, 0, bytes.length, 'file');
  const magic = file.take(Math.min(4, bytes.length));
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
    file.fail('not a WebAssembly binary (missing \\0asm magic)', 0);
  }
  const version = file.take(4);
  if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) {
    file.fail('unsupported binary version (expected 1)', 4);
  }
  const s: SectionState = {
    types: [], imports: [], importedFuncs: [], outputImport: null, funcTypes: [], definedTypes: [], memoryCount: 0,
    memory: null, globals: [], exports: [], funcs: null, tables: [], elems: [], data: [], moduleUnsupported: [], globalNames: new Map(), constExprs: [],
  };
  let last = 0;
  while (!file.atEnd()) {
    const at = file.pos;
    const id = file.u8();
    const size = file.u32();
    const r = file.sub(size, `section ${id}`);
    const rank = SECTION_ORDER[id];
    if (id !== 0 && rank === undefined) file.fail(`unknown section id ${id}`, at);
    if (rank !== undefined) {
      if (rank <= last) file.fail(`section ${id} out of order or duplicated`, at);
      last = rank;
    }
    section(id, r, s, at);
    if (!r.atEnd()) r.fail(`section ${id} size mismatch`, r.pos);
  }
  if (s.funcs === null && s.definedTypes.length > 0) file.fail('function section without code section');
  if (s.data.length > 0 && s.memoryCount === 0) {
    throw new CompileError('data segment but the module defines no memory', { offset: (s.data[0] as WasmDataSegment).pos });
  }
  if (s.memory) s.memory.data = s.data;
  for (const [i, name] of s.globalNames) {
    const g = s.globals[i];
    if (g) g.debugName = name;
  }
  const funcs = s.funcs ?? [];
  fixTables(s, funcs);
  const funcSigs = s.funcTypes.map((t) => signature(s.types[t] as FuncType));
  resolveIndirectCalls(s, funcs, funcSigs);
  return {
    types: s.types, imports: s.imports, numImportedFuncs: s.importedFuncs.length, funcTypes: s.funcTypes,
    funcSigs, typeSigs: s.types.map(signature), outputImport: s.outputImport,
    funcs, tables: s.tables, globals: s.globals, memory: s.memory, exports: s.exports, moduleUnsupported: s.moduleUnsupported,
    constExprs: s.constExprs,
  };
}

/** Decode wasm bytes; every failure (including internal ones) is a CompileError. */
export function decodeWasm(bytes: Uint8Array): DecodedModule {
  try {
    return decodeSections(bytes);
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(`malformed module: ${e instanceof Error ? e.message : String(e)}`);
  }
}
