// frontend/module.ts — the typed WebAssembly module produced by the frontend.
//
// Only the supported subset is representable: i32-only functions (params,
// results, locals), i32 globals, one defined linear memory with active data
// segments at constant offsets, the env.output_byte import, tables whose
// entries the element segments fix (for call_indirect), and a flat
// instruction list per function (block/loop/if/else/end kept as markers).
// Every instruction carries `pos`, its byte offset in the .wasm file (the same
// offset wasm-objdump -d prints), for error messages; `op` is its text name
// and ir/instructions.ts (specOf) says what it does.

/** A block type: how many i32 values the block takes and leaves. */
export interface BlockSig {
  params: number;
  results: number;
}

export type WasmInstr =
  | { op: string; pos: number; imm: 'none' }
  | { op: string; pos: number; imm: 'i32'; value: number }
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

/** A function signature (all i32: counts suffice). */
export interface FuncSig {
  params: number;
  results: number;
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
  /** Signatures of every function index (imports included); null where not all-i32. */
  funcSigs: Array<FuncSig | null>;
  /** Signatures of every type index (for call_indirect); null where not all-i32. */
  typeSigs: Array<FuncSig | null>;
  /** Every table index: its fixed entries, or null when call_indirect cannot use it (the frontend rejects that use). */
  tables: Array<WasmTable | null>;
  /** Function index of the env.output_byte import, if imported. */
  outputImport: number | null;
  globals: WasmGlobal[]; // the defined i32 globals
  memory: WasmMemory | null;
  exports: WasmExport[];
}

/** Display name of function `index`: its first export name, else `func[index]`. */
export function funcDisplayName(index: number, exportNames: string[]): string {
  return exportNames[0] ?? `func[${index}]`;
}
