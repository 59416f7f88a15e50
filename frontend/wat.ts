// frontend/wat.ts — turn the user's input (.wasm bytes or .wat text) into wasm bytes.
//
// WAT text is assembled with the npm `wabt` package (async). Input is treated
// as text when it is a string, when the filename ends in .wat/.wast, or when
// it is bytes that do not start with the \0asm magic and no .wasm filename
// says otherwise. wabt failures become CompileError.

import { CompileError } from './errors.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

function hasMagic(data: Uint8Array): boolean {
  return MAGIC.every((b, i) => data[i] === b);
}

function isTextInput(data: Uint8Array | string, filename?: string): boolean {
  if (typeof data === 'string') return true;
  const name = filename?.toLowerCase() ?? '';
  if (name.endsWith('.wat') || name.endsWith('.wast')) return true;
  if (name.endsWith('.wasm')) return false;
  return !hasMagic(data);
}

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;
let wabtInstance: Promise<Wabt> | null = null;

/** The wabt module, instantiated once per process. */
function getWabt(): Promise<Wabt> {
  wabtInstance ??= import('wabt').then((m) => m.default());
  return wabtInstance;
}

/** Assemble WAT text into a wasm binary. */
export async function watToWasm(text: string, filename = 'input.wat'): Promise<Uint8Array> {
  const wabt = await getWabt();
  let mod: ReturnType<typeof wabt.parseWat> | undefined;
  try {
    mod = wabt.parseWat(filename, text);
    mod.resolveNames();
    return new Uint8Array(mod.toBinary({}).buffer);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new CompileError(`cannot assemble ${filename}: ${msg.trim()}`);
  } finally {
    mod?.destroy();
  }
}

/** Wasm bytes for the input, assembling it first if it is WAT text. */
export async function loadInput(data: Uint8Array | string, filename?: string): Promise<Uint8Array> {
  if (!isTextInput(data, filename)) return data as Uint8Array;
  let text: string;
  try {
    text = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new CompileError(`${filename ?? 'input'} is neither a WebAssembly binary nor UTF-8 WAT text`);
  }
  return watToWasm(text, filename);
}
