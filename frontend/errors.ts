// frontend/errors.ts — the errors wasmformer reports to people.
//
// CompileError: the input cannot be compiled (malformed bytes, failed
// validation, or a WebAssembly feature outside the supported subset). Its
// message names the instruction, the function (name or index) and the byte
// offset where known. RunError: a model could not be run (bad model file,
// unknown export, step limit exceeded). Neither ever carries a stack trace
// to the user: the CLI prints `error: <message>` and exits non-zero.
// SUPPORTED_INSTRUCTIONS (every instruction with a form in the opcode table)
// is the list printed in every "unsupported" message.

export { CompileError, RunError, type CompileErrorInfo } from '../format/errors.js';
export { SUPPORTED_INSTRUCTIONS } from '../ir/instructions.js';
