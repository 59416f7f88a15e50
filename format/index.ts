// format/index.ts — the model format: the one module the backend writes and the runtime reads.
//
//   layout.ts      the layout schema (ModelLayout) and validateLayout()
//   token.ts       the state token: tokenLayout(), encodeToken(), decodeToken()
//   memory.ts      KV-cache rows, time features, data segments
//   model_file.ts  the layout inside an .onnx file
//   errors.ts      CompileError, RunError, Trap and TrapCode
//   checker.ts     field-by-field checks of untrusted metadata JSON (layout, inspect entry)

export * from './errors.js';
export * from './layout.js';
export * from './token.js';
export * from './memory.js';
export * from './model_file.js';
