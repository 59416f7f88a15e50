// runtime/transformer.ts — the runtime for Node: runtime/core.ts with onnxruntime-node as its
// default ONNX Runtime binding. A browser imports runtime/core.ts and passes onnxruntime-web.
import * as ort from 'onnxruntime-node';
import { useOnnxRuntime } from './core.js';

useOnnxRuntime(ort);

export * from './core.js';
