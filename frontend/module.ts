// frontend/module.ts — the typed WebAssembly module produced by the frontend.
//
// Only the supported subset is representable: i32-only functions, one defined
// linear memory with active data segments at constant offsets, and a flat
// instruction list per function (block/loop/end kept as markers). Every
// instruction carries `pos`, its byte offset in the .wasm file (the same
// offset wasm-objdump -d prints), for error messages.

export type WasmInstr =
  | { op: 'i32.const'; pos: number; value: number }
  | { op: 'i32.add' | 'drop' | 'nop' | 'end' | 'return'; pos: number }
  | { op: 'i32.load' | 'i32.store'; pos: number; align: number; offset: number }
  | { op: 'local.get' | 'local.set' | 'local.tee'; pos: number; index: number }
  | { op: 'block' | 'loop'; pos: number; results: 0 | 1 }
  | { op: 'br' | 'br_if'; pos: number; depth: number };

export interface WasmFunc {
  index: number; // function index in the module
  name: string; // first export name, or `func[index]` (for messages)
  exportNames: string[];
  numParams: number; // all i32
  numResults: 0 | 1; // i32 result or none
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
}

export interface WasmExport {
  name: string;
  kind: 'func' | 'memory';
  index: number;
}

export interface WasmModule {
  funcs: WasmFunc[];
  memory: WasmMemory | null;
  exports: WasmExport[];
}

/** Display name of function `index`: its first export name, else `func[index]`. */
export function funcDisplayName(index: number, exportNames: string[]): string {
  return exportNames[0] ?? `func[${index}]`;
}
