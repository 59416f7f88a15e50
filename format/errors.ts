// format/errors.ts — the errors and trap codes every part of wasmformer shares.
//
// This is the one home of the diagnostics vocabulary: the compiler (frontend/, ir/,
// backend/), the model format and the runtime all import it from here, and nothing else
// defines a trap message. A trap is a *result* of running a program (like WebAssembly's
// own traps), not an error of wasmformer; CompileError and RunError are errors. None of
// them ever carries a stack trace to the user: the CLI prints `error: <message>`.
//
// TrapCode values are part of the model format: the transformer's readout emits the
// code of the trap it raised (0 = none), and the runtime turns it back into a Trap.

/** Why an execution stopped abnormally. Values are stable (they appear in model outputs). */
export enum TrapCode {
  Unreachable = 1,
  IntegerDivideByZero = 2,
  IntegerOverflow = 3,
  OutOfBounds = 4,
  CallStackExhausted = 5,
  /** call_indirect: the index is past the end of the table. */
  UndefinedElement = 6,
  /** call_indirect: the table entry is null. */
  UninitializedElement = 7,
  /** call_indirect: the entry's function has another type than the instruction names. */
  IndirectCallTypeMismatch = 8,
}

/** The messages, as the WebAssembly spec tests (and `run --json`'s "trap") spell them. */
export const TRAP_MESSAGES: Readonly<Record<TrapCode, string>> = {
  [TrapCode.Unreachable]: 'unreachable',
  [TrapCode.IntegerDivideByZero]: 'integer divide by zero',
  [TrapCode.IntegerOverflow]: 'integer overflow',
  [TrapCode.OutOfBounds]: 'out of bounds memory access',
  [TrapCode.CallStackExhausted]: 'call stack exhausted',
  [TrapCode.UndefinedElement]: 'undefined element',
  [TrapCode.UninitializedElement]: 'uninitialized element',
  [TrapCode.IndirectCallTypeMismatch]: 'indirect call type mismatch',
};

export function trapMessage(code: TrapCode): string {
  return TRAP_MESSAGES[code];
}

/** The code of a message produced by trapMessage (null for anything else). */
export function trapCodeOf(message: string): TrapCode | null {
  for (const [k, v] of Object.entries(TRAP_MESSAGES)) if (v === message) return Number(k) as TrapCode;
  return null;
}

/** A WebAssembly trap raised by a program (thrown by the library's invoke, reported by the CLI). */
export class Trap extends Error {
  readonly code: TrapCode;
  constructor(code: TrapCode) {
    super(trapMessage(code));
    this.name = 'Trap';
    this.code = code;
  }
}

export interface CompileErrorInfo {
  instruction?: string; // e.g. "i32.mul"
  func?: string; // function name or "func[3]"
  offset?: number; // byte offset in the .wasm file
}

/** The input cannot be compiled (malformed, invalid, or outside what wasmformer supports). */
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

/** A model could not be run (bad model file, unknown export, step limit, bad arguments). */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}
