// frontend/errors.ts — the errors wasmformer reports to people.
//
// CompileError: the input cannot be compiled (malformed bytes, failed
// validation, or a WebAssembly feature outside the supported subset). Its
// message names the instruction, the function (name or index) and the byte
// offset where known. RunError: a model could not be run (bad model file,
// unknown export, step limit exceeded). Neither ever carries a stack trace
// to the user: the CLI prints `error: <message>` and exits non-zero.

export interface CompileErrorInfo {
  instruction?: string; // e.g. "i32.mul"
  func?: string; // function name or "func[3]"
  offset?: number; // byte offset in the .wasm file
}

export const SUPPORTED_INSTRUCTIONS = [
  'i32.const', 'i32.add', 'i32.load', 'i32.store',
  'local.get', 'local.set', 'local.tee',
  'block', 'loop', 'br', 'br_if', 'nop', 'drop', 'end',
] as const;

export class CompileError extends Error {
  readonly info: CompileErrorInfo;
  constructor(message: string, info: CompileErrorInfo = {}) {
    const where: string[] = [];
    if (info.instruction !== undefined) where.push(`instruction ${info.instruction}`);
    if (info.func !== undefined) where.push(`function ${info.func}`);
    if (info.offset !== undefined) where.push(`byte offset 0x${info.offset.toString(16)}`);
    super(where.length ? `${message} (${where.join(', ')})` : message);
    this.name = 'CompileError';
    this.info = info;
  }
}

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}
