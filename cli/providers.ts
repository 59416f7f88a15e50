// cli/providers.ts — is an ONNX Runtime execution provider usable here? Checked before loading a model,
// so a missing CUDA provider is one clear error instead of ONNX Runtime's own coloured log lines.
//
// onnxruntime-node ships the CPU provider; on Linux x64 the CUDA/TensorRT providers are separate
// libraries that its postinstall downloads only on request (CPU is wasmformer's default, see
// scripts/preinstall.cjs, which may leave small text placeholders in their place).

import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HintedRunError } from './args.js';

export const CUDA_INSTALL_HINT = 'install them with: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (needs CUDA 12 and access to api.nuget.org)';

/** The provider libraries onnxruntime-node loads for `provider` on this platform (empty when built in). */
function providerLibraries(provider: string): string[] {
  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const platform = `${process.platform}/${process.arch}`;
  const dir = join(ortDir, 'bin', 'napi-v6', platform);
  if (platform !== 'linux/x64') return [];
  if (provider === 'cuda') return ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].map((f) => join(dir, f));
  if (provider === 'tensorrt') return ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'].map((f) => join(dir, f));
  return [];
}

function isSharedLibrary(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // ELF
  } finally {
    closeSync(fd);
  }
}

/** Throws a RunError with the install command when `provider`'s libraries are not installed. */
export function checkProvider(provider: string): void {
  let libs: string[];
  try {
    libs = providerLibraries(provider.toLowerCase());
  } catch {
    return; // onnxruntime-node not found this way: let ONNX Runtime report it
  }
  const missing = libs.filter((f) => !isSharedLibrary(f));
  if (missing.length === 0) return;
  throw new HintedRunError(`--provider ${provider}: ONNX Runtime's ${provider.toUpperCase()} provider is not installed (wasmformer installs the CPU provider only)`, CUDA_INSTALL_HINT);
}
