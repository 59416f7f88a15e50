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
    throw new CompileError(`cannot assemble ${filename}: ${firstWabtError(e instanceof Error ? e.message : String(e))}`);
  } finally {
    mod?.destroy();
  }
}

/**
 * wabt reports "parseWat failed:\nfile:LINE:COL: error: ...\n<source line>\n<caret>"; people get
 * one line: "LINE:COL: error: ..." (the first error), so the CLI's one-line error rule holds.
 */
export function firstWabtError(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const hit = lines.find((l) => /:\d+:\d+: error:/.test(l));
  if (!hit) return lines.join(' ');
  const m = /:(\d+):(\d+): error: (.*)$/.exec(hit);
  return m ? `line ${m[1]}, column ${m[2]}: ${m[3]}` : hit;
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
