// frontend/errors.ts — the errors wasmformer reports to people.
//
// CompileError: the input cannot be compiled (malformed bytes, failed
// validation, or a WebAssembly feature outside the supported subset). Its
// message names the instruction, the function (name or index) and the byte
// offset where known. RunError: a model could not be run (bad model file,
// unknown export, step limit exceeded). Neither ever carries a stack trace
// to the user: the CLI prints `error: <message>` and exits non-zero.

export { CompileError, RunError, type CompileErrorInfo } from '../format/errors.js';

export const SUPPORTED_INSTRUCTIONS = [
  'i32.const', 'i32.add', 'i32.load', 'i32.store',
  'local.get', 'local.set', 'local.tee',
  'block', 'loop', 'br', 'br_if', 'nop', 'drop', 'end',
] as const;
