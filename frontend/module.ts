// frontend/module.ts — the typed WebAssembly module produced by the frontend.
//
// Only the supported subset is representable: i32-only functions (params,
// results, locals), i32 globals (frontend/lower_words.ts first rewrites i64,
// f32 and f64 values as 32-bit words, so what the decoder reads with `types`
// attached leaves it without), one defined linear memory with active data
// segments at constant offsets, the env.output_byte import, tables whose
// entries the element segments fix (for call_indirect), and a flat
// instruction list per function (block/loop/if/else/end kept as markers).
// Every instruction carries `pos`, its byte offset in the .wasm file (the same
// offset wasm-objdump -d prints), for error messages; `op` is its text name
// and ir/instructions.ts (specOf) says what it does.

/** A value type the compiler lowers to words: i32 and f32 are one 32-bit word, i64 and f64 two (low word first). */
export type NumType = 'i32' | 'i64' | 'f32' | 'f64';

/** Value types, where some are not i32 (as decoded; lower_words.ts turns them into word counts). */
export interface WideTypes {
  params: NumType[];
  results: NumType[];
}

/** A block type: how many i32 values the block takes and leaves. */
export interface BlockSig {
  params: number;
  results: number;
  /** As decoded, when a type is not i32 (counts are then values, not words). */
  types?: WideTypes;
}

export type WasmInstr =
  | { op: string; pos: number; imm: 'none' }
  | { op: string; pos: number; imm: 'i32'; value: number }
  | { op: string; pos: number; imm: 'words'; words: number[] } // i64/f32/f64.const: the bits, low word first
  | { op: string; pos: number; imm: 'poison'; what: string } // lower_words.ts: a float value not computed
  | { op: string; pos: number; imm: 'memarg'; align: number; offset: number }
  | { op: string; pos: number; imm: 'index'; index: number } // local, global, function or label depth
  | { op: string; pos: number; imm: 'block'; sig: BlockSig }
  | { op: string; pos: number; imm: 'br_table'; targets: number[]; default: number }
  | { op: string; pos: number; imm: 'call_indirect'; type: number; table: number };

export interface WasmFunc {
  index: number; // function index in the module (imported functions first)
  name: string; // first export name, or `func[index]` (for messages)
  exportNames: string[];
  numParams: number; // all i32
  numResults: number; // all i32
  numLocals: number; // declared locals (i32), excluding params
  body: WasmInstr[]; // ends with the function's final `end`
  pos: number; // byte offset of the function body
  /** As decoded, when a param, result or local is not i32: the types of params, results and declared locals. */
  types?: WideTypes & { locals: NumType[] };
}

export interface WasmDataSegment {
  offset: number; // memory address (unsigned)
  bytes: Uint8Array;
  pos: number; // byte offset of the segment in the file
}

export interface WasmMemory {
  pages: number; // initial size in 64 KiB pages
  maxPages: number | null;
  data: WasmDataSegment[];
  /** Byte offset of its definition (for errors about its size). */
  offset?: number;
}

export interface WasmGlobal {
  index: number; // global index (imported globals first)
  mutable: boolean;
  init: number; // signed i32
  name?: string; // export name if exported, else the name section's
}

export interface WasmExport {
  name: string;
  kind: 'func' | 'table' | 'memory' | 'global' | 'tag';
  index: number;
}

/** A function signature in 32-bit words (i64 and f64 are two); `types` tells (i64) from (i32 i32). */
export interface FuncSig {
  params: number;
  results: number;
  /** The value types ("i64 f32 -> i32"), when one is not i32. */
  types?: string;
}

/** Whether two signatures are the same function type (call_indirect's check). */
export function sameSig(a: FuncSig, b: FuncSig): boolean {
  return a.params === b.params && a.results === b.results && a.types === b.types;
}

/**
 * A table as call_indirect sees it: defined by the module and changed by nothing after its
 * active element segments filled it, so its entries are known when compiling: a function
 * index, or null for an empty (null) entry.
 */
export interface WasmTable {
  entries: Array<number | null>;
}

export interface WasmModule {
  funcs: WasmFunc[]; // the decoded (selected) defined functions
  /** Signatures of every function index (imports included), in words; null where a type is not numeric (v128, references). */
  funcSigs: Array<FuncSig | null>;
  /** Signatures of every type index (for call_indirect), in words; null where a type is not numeric. */
  typeSigs: Array<FuncSig | null>;
  /** Every table index: its fixed entries, or null when call_indirect cannot use it (the frontend rejects that use). */
  tables: Array<WasmTable | null>;
  /** Function index of the env.output_byte import, if imported. */
  outputImport: number | null;
  globals: WasmGlobal[]; // the defined i32 globals (and the words of i64/f32/f64 ones)
  memory: WasmMemory | null;
  exports: WasmExport[];
}

/** Display name of function `index`: its first export name, else `func[index]`. */
export function funcDisplayName(index: number, exportNames: string[]): string {
  return exportNames[0] ?? `func[${index}]`;
}
