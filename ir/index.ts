// ir/index.ts — public entry point of the IR layer (types, passes, tools).

export * from './ir.js';
export * from './instructions.js';
export { lowerFunc, lowerModule, irFuncName, type LowerOptions } from './wasm_to_ir.js';
export { simplifyFunc, simplifyModule, removeUnreachable, renumberValues, reversePostorder } from './simplify.js';
export { printModule, printFunc, printInst, printTerm } from './print.js';
export { parseModule, parseModule as parseIR } from './parse.js';
export { verifyModule, dominators } from './verify.js';
export {
  interpret, findFunc, IRInstance, DEFAULT_MAX_STEPS, DEFAULT_MAX_CALL_DEPTH, TRAP_OOB,
  type InterpOptions, type InterpResult, type IRState,
} from './interp.js';
