// frontend/decode.ts — decode a .wasm binary into the typed WasmModule.
//
// A small hand-written decoder (rather than @webassemblyjs/wasm-parser, whose
// AST lacks exact per-instruction byte offsets and drops alignment
// immediates). It walks every section, rejects any construct outside the
// supported subset at the byte offset where it appears (imports, tables,
// globals, start, element segments, non-i32 types, unsupported instructions)
// and reports malformed bytes as CompileError. Semantic checks (operand
// stack types, label depths, bounds) live in frontend/validate.ts.

import { CompileError, SUPPORTED_INSTRUCTIONS } from './errors.js';
import {
  funcDisplayName,
  type WasmDataSegment,
  type WasmExport,
  type WasmFunc,
  type WasmInstr,
  type WasmMemory,
} from './module.js';
import { opcodeName, prefixedOpcodeName } from './opcodes.js';
import { Reader } from './reader.js';

export interface FuncType {
  params: string[]; // value type names ("i32", "f64", ...)
  results: string[];
}

export interface DecodedModule {
  types: FuncType[];
  funcs: WasmFunc[];
  memory: WasmMemory | null;
  exports: WasmExport[];
}

const MAX_LOCALS = 50_000;
const MAX_PAGES = 65_536;

const VALTYPES: Record<number, string> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref',
};

// Section id → required position in the module (custom sections excluded).
const SECTION_ORDER: Record<number, number> = {
  1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12,
};

/** The list printed in every "unsupported" message. */
export function supportedList(): string {
  return [...SUPPORTED_INSTRUCTIONS, 'return'].join(', ');
}

function unsupported(what: string, offset: number, func?: string, instruction?: string): never {
  throw new CompileError(`unsupported: ${what}; wasmformer supports only ${supportedList()}`, {
    ...(instruction !== undefined ? { instruction } : {}),
    ...(func !== undefined ? { func } : {}),
    offset,
  });
}

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
    if (form !== 0x60) unsupported(`type form 0x${form.toString(16)} (only function types)`, at);
    return { params: vecOf(r, valtype), results: vecOf(r, valtype) };
  });
}

/**
 * Imports are unsupported, but with an export selection they are skipped (the selected
 * functions are checked not to use them). Returns the number of imported functions, which
 * shift the function index space.
 */
function importSection(r: Reader, selecting: boolean): number {
  const n = r.u32();
  let funcs = 0;
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const module = r.name();
    const field = r.name();
    const kind = r.u8();
    if (!selecting || kind === 2) {
      unsupported(`imports (import "${module}" "${field}"); the module must define everything it uses`, at);
    }
    if (kind === 0) {
      r.u32();
      funcs++;
    } else if (kind === 1) {
      r.u8();
      limits(r);
    } else if (kind === 3) {
      r.u8();
      r.u8();
    } else if (kind === 4) {
      r.u8();
      r.u32();
    } else r.fail(`unknown import kind ${kind}`, at);
  }
  return funcs;
}

function limits(r: Reader): void {
  const flags = r.u32();
  r.u32();
  if (flags & 1) r.u32();
}

function functionSection(r: Reader, types: FuncType[]): number[] {
  return vecOf(r, (r) => {
    const at = r.pos;
    const t = r.u32();
    if (t >= types.length) r.fail(`function type index ${t} out of range`, at);
    return t;
  });
}

function memorySection(r: Reader): WasmMemory | null {
  const n = r.u32();
  if (n === 0) return null;
  const at = r.pos;
  if (n > 1) unsupported('more than one memory', at);
  const flags = r.u32();
  if (flags > 1) unsupported(`memory flags 0x${flags.toString(16)} (shared or 64-bit memory)`, at);
  const pages = r.u32();
  const maxPages = flags === 1 ? r.u32() : null;
  if (pages > MAX_PAGES || (maxPages !== null && (maxPages > MAX_PAGES || maxPages < pages))) {
    throw new CompileError('invalid memory limits', { offset: at });
  }
  return { pages, maxPages, data: [] };
}

function exportSection(r: Reader, numFuncs: number, numMems: number, importedFuncs: number, selecting: boolean): WasmExport[] {
  const kinds = ['func', 'table', 'memory', 'global', 'tag'];
  const out: WasmExport[] = [];
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const name = r.name();
    const kindAt = r.pos;
    const k = r.u8();
    const index = r.u32();
    const kind = kinds[k];
    if (kind === undefined) r.fail(`unknown export kind ${k}`, kindAt);
    if (kind !== 'func' && kind !== 'memory') {
      if (selecting) continue;
      unsupported(`${kind} exports`, at);
    }
    const limit = kind === 'func' ? numFuncs + importedFuncs : numMems;
    if (index >= limit) throw new CompileError(`export "${name}" refers to unknown ${kind} ${index}`, { offset: at });
    // func exports of imported functions get a negative index (they cannot be compiled)
    out.push({ name, kind: kind as 'func' | 'memory', index: kind === 'func' ? index - importedFuncs : index });
  }
  return out;
}

function constOffset(r: Reader): number {
  const at = r.pos;
  const op = r.u8();
  if (op !== 0x41) {
    const name = opcodeName(op) ?? `0x${op.toString(16)}`;
    unsupported(`data segment offset expression ${name} (only i32.const)`, at, undefined, name);
  }
  const value = r.s32();
  const endAt = r.pos;
  if (r.u8() !== 0x0b) unsupported('data segment offset expression (only a single i32.const)', endAt);
  return value >>> 0;
}

function dataSection(r: Reader): WasmDataSegment[] {
  return vecOf(r, (r) => {
    const at = r.pos;
    const flags = r.u32();
    if (flags === 1) unsupported('passive data segments', at);
    if (flags !== 0 && flags !== 2) r.fail(`unknown data segment flags ${flags}`, at);
    if (flags === 2) {
      const mem = r.u32();
      if (mem !== 0) throw new CompileError(`data segment refers to unknown memory ${mem}`, { offset: at });
    }
    const offset = constOffset(r);
    const bytes = r.take(r.u32());
    return { offset, bytes, pos: at };
  });
}

interface BodyContext {
  types: FuncType[];
  func: string;
}

function blockType(r: Reader, ctx: BodyContext, pos: number, op: string): 0 | 1 {
  const b = r.bytes[r.pos];
  if (b === 0x40) return (r.pos++, 0);
  if (b === 0x7f) return (r.pos++, 1);
  if (b !== undefined && VALTYPES[b] !== undefined) {
    unsupported(`${op} with result type ${VALTYPES[b]}`, pos, ctx.func, op);
  }
  const idx = r.signed(33);
  const t = idx >= 0 ? ctx.types[idx] : undefined;
  if (t === undefined) r.fail(`invalid block type ${idx}`, pos);
  const ok = t.params.length === 0 && t.results.length <= 1 && t.results.every((x) => x === 'i32');
  if (!ok) unsupported(`${op} with parameters or multiple/non-i32 results`, pos, ctx.func, op);
  return t.results.length === 1 ? 1 : 0;
}

function memarg(r: Reader, ctx: BodyContext, pos: number, op: string): { align: number; offset: number } {
  const align = r.u32();
  if (align >= 64) unsupported(`${op} with a memory index (multi-memory)`, pos, ctx.func, op);
  return { align, offset: r.u32() };
}

function unsupportedOpcode(r: Reader, ctx: BodyContext, pos: number, op: number): never {
  let name = opcodeName(op);
  if (op === 0xfc || op === 0xfd || op === 0xfe) name = prefixedOpcodeName(op, r.u32());
  if (name === null) {
    throw new CompileError(`malformed module: unknown opcode 0x${op.toString(16)}`, {
      instruction: `0x${op.toString(16)}`, func: ctx.func, offset: pos,
    });
  }
  return unsupported(`instruction ${name}`, pos, ctx.func, name);
}

/** Decode one instruction starting at r.pos. */
function instruction(r: Reader, ctx: BodyContext): WasmInstr {
  const pos = r.pos;
  const op = r.u8();
  switch (op) {
    case 0x01: return { op: 'nop', pos };
    case 0x0b: return { op: 'end', pos };
    case 0x0f: return { op: 'return', pos };
    case 0x1a: return { op: 'drop', pos };
    case 0x6a: return { op: 'i32.add', pos };
    case 0x41: return { op: 'i32.const', pos, value: r.s32() };
    case 0x02: return { op: 'block', pos, results: blockType(r, ctx, pos, 'block') };
    case 0x03: return { op: 'loop', pos, results: blockType(r, ctx, pos, 'loop') };
    case 0x0c: return { op: 'br', pos, depth: r.u32() };
    case 0x0d: return { op: 'br_if', pos, depth: r.u32() };
    case 0x20: return { op: 'local.get', pos, index: r.u32() };
    case 0x21: return { op: 'local.set', pos, index: r.u32() };
    case 0x22: return { op: 'local.tee', pos, index: r.u32() };
    case 0x28: return { op: 'i32.load', pos, ...memarg(r, ctx, pos, 'i32.load') };
    case 0x36: return { op: 'i32.store', pos, ...memarg(r, ctx, pos, 'i32.store') };
    default: return unsupportedOpcode(r, ctx, pos, op);
  }
}

function localDecls(r: Reader, func: string): number {
  let total = 0;
  const groups = r.u32();
  for (let i = 0; i < groups; i++) {
    const at = r.pos;
    const count = r.u32();
    const t = valtype(r);
    if (t !== 'i32') unsupported(`locals of type ${t} (only i32)`, at, func, t);
    total += count;
    if (total > MAX_LOCALS) unsupported(`more than ${MAX_LOCALS} locals`, at, func);
  }
  return total;
}

function instructions(r: Reader, ctx: BodyContext): WasmInstr[] {
  const body: WasmInstr[] = [];
  let depth = 1;
  while (depth > 0) {
    const ins = instruction(r, ctx);
    body.push(ins);
    if (ins.op === 'block' || ins.op === 'loop') depth++;
    if (ins.op === 'end') depth--;
  }
  if (!r.atEnd()) r.fail('function body has bytes after its final end');
  return body;
}

function checkSignature(t: FuncType, func: string, pos: number): void {
  const bad = [...t.params, ...t.results].find((x) => x !== 'i32');
  if (bad !== undefined) unsupported(`function signature with type ${bad} (only i32)`, pos, func);
  if (t.results.length > 1) unsupported('functions with more than one result (multi-value)', pos, func);
}

function codeSection(r: Reader, types: FuncType[], funcTypes: number[], exports: WasmExport[], select: ReadonlySet<string> | null): WasmFunc[] {
  const at = r.pos;
  const n = r.u32();
  if (n !== funcTypes.length) r.fail(`code section has ${n} bodies but ${funcTypes.length} functions are declared`, at);
  const funcs: WasmFunc[] = [];
  for (let index = 0; index < n; index++) {
    const exportNames = exports.filter((e) => e.kind === 'func' && e.index === index).map((e) => e.name);
    const name = funcDisplayName(index, exportNames);
    const size = r.u32();
    const pos = r.pos;
    const br = r.sub(size, 'function body', name);
    if (select && !exportNames.some((e) => select.has(e))) {
      br.pos = br.end; // not selected: not compiled, so not checked against the subset
      continue;
    }
    const t = types[funcTypes[index] as number] as FuncType;
    checkSignature(t, name, pos);
    const numLocals = localDecls(br, name);
    const body = instructions(br, { types, func: name });
    funcs.push({
      index, name, exportNames, numParams: t.params.length, numResults: t.results.length === 1 ? 1 : 0,
      numLocals, body, pos,
    });
  }
  return funcs;
}

interface SectionState {
  select: ReadonlySet<string> | null;
  importedFuncs: number;
  types: FuncType[];
  funcTypes: number[];
  memory: WasmMemory | null;
  exports: WasmExport[];
  funcs: WasmFunc[] | null;
  data: WasmDataSegment[];
}

function section(id: number, r: Reader, s: SectionState, at: number): void {
  switch (id) {
    case 0: r.name(); r.pos = r.end; return; // custom: ignored
    case 1: s.types = typeSection(r); return;
    case 2: s.importedFuncs = importSection(r, s.select !== null); return;
    case 3: s.funcTypes = functionSection(r, s.types); return;
    case 4: if (s.select) r.pos = r.end; else if (r.u32() > 0) unsupported('tables', at); return;
    case 5: s.memory = memorySection(r); return;
    case 6: if (s.select) r.pos = r.end; else if (r.u32() > 0) unsupported('globals', at); return;
    case 7: s.exports = exportSection(r, s.funcTypes.length, s.memory ? 1 : 0, s.importedFuncs, s.select !== null); return;
    case 8: unsupported('start function', at); break;
    case 9: if (s.select) r.pos = r.end; else if (r.u32() > 0) unsupported('element segments (tables)', at); return;
    case 10: s.funcs = codeSection(r, s.types, s.funcTypes, s.exports, s.select); return;
    case 11: s.data = dataSection(r); return;
    case 12: r.u32(); return; // data count
    default: r.fail(`unknown section id ${id}`, at);
  }
}

function decodeSections(bytes: Uint8Array, select: ReadonlySet<string> | null): DecodedModule {
  const file = new Reader(bytes, 0, bytes.length, 'file');
  const magic = file.take(Math.min(4, bytes.length));
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
    file.fail('not a WebAssembly binary (missing \\0asm magic)', 0);
  }
  const version = file.take(4);
  if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) {
    file.fail('unsupported binary version (expected 1)', 4);
  }
  const s: SectionState = { select, importedFuncs: 0, types: [], funcTypes: [], memory: null, exports: [], funcs: null, data: [] };
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
  if (s.funcs === null && s.funcTypes.length > 0) file.fail('function section without code section');
  if (s.data.length > 0 && s.memory === null) {
    throw new CompileError('data segment but the module defines no memory', { offset: (s.data[0] as WasmDataSegment).pos });
  }
  if (s.memory) s.memory.data = s.data;
  return { types: s.types, funcs: s.funcs ?? [], memory: s.memory, exports: s.exports };
}

/**
 * Decode wasm bytes; every failure (including internal ones) is a CompileError. With
 * `select` (export names), only those functions are decoded and held to the subset, and
 * module features they cannot use (imports of functions or globals, tables, globals,
 * element segments, other export kinds) are skipped instead of rejected.
 */
export function decodeWasm(bytes: Uint8Array, select?: readonly string[]): DecodedModule {
  try {
    return decodeSections(bytes, select ? new Set(select) : null);
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(`malformed module: ${e instanceof Error ? e.message : String(e)}`);
  }
}
