// frontend/wat.ts — turn the user's input (.wasm bytes or .wat text) into wasm bytes.
//
// WAT text is assembled with the npm `wabt` package (async). Input is treated
// as text when it is a string, when the filename ends in .wat/.wast, or when
// it is bytes that do not start with the \0asm magic and no .wasm filename
// says otherwise. wabt failures become WatError (a CompileError with the line
// and column). wabt.js is compiled with a small fixed stack and no stack
// checks: past about 170 nested blocks (about 145 folded) its parser overruns
// the stack and then loops forever or throws "memory access out of bounds", so
// text nested deeper than MAX_WAT_NESTING is refused before wabt sees it.

import { CompileError } from './errors.js';
import { lineColumn, locateInstruction, nestingDepth, tokenize } from './wat_source.js';

/** Deepest nesting (parentheses plus block/loop/if ... end) accepted in WAT text; see the header. */
export const MAX_WAT_NESTING = 100;

/** A CompileError at a place in WAT text (1-based line and column); `reason` is the message without the place. */
export class WatError extends CompileError {
  constructor(
    readonly filename: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`cannot assemble ${filename}: line ${line}, column ${column}: ${reason}`);
  }
}

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

/** Refuses text nested deeper than wabt's parser survives (see the header). */
function checkNesting(text: string, filename: string): void {
  const { depth, at } = nestingDepth(tokenize(text), MAX_WAT_NESTING);
  if (depth <= MAX_WAT_NESTING) return;
  const { line, column } = lineColumn(text, at);
  throw new WatError(filename, line, column, `nesting depth ${depth} exceeds the WAT parser's limit of ${MAX_WAT_NESTING}; assemble it with wat2wasm and compile the .wasm`);
}

/** Assemble WAT text (wabt); `log` also returns wabt's binary-writer log (for locateWatOffset). */
async function assemble(text: string, filename: string, log: boolean): Promise<{ wasm: Uint8Array; log: string }> {
  checkNesting(text, filename);
  const wabt = await getWabt();
  let mod: ReturnType<typeof wabt.parseWat> | undefined;
  try {
    mod = wabt.parseWat(filename, text);
    mod.resolveNames();
    const out = mod.toBinary({ log });
    return { wasm: new Uint8Array(out.buffer), log: out.log };
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      wabtInstance = null; // its memory may be corrupt: the next call gets a fresh instance
      throw new CompileError(`cannot assemble ${filename}: the WAT parser (wabt) failed (${e.message})`);
    }
    const message = e instanceof Error ? e.message : String(e);
    const m = /:(\d+):(\d+): error: (.*)/.exec(message);
    if (m) throw new WatError(filename, Number(m[1]), Number(m[2]), m[3].trim());
    throw new CompileError(`cannot assemble ${filename}: ${firstWabtError(message)}`);
  } finally {
    try {
      mod?.destroy();
    } catch {
      // a crashed instance; already dropped above
    }
  }
}

/** Assemble WAT text into a wasm binary. */
export async function watToWasm(text: string, filename = 'input.wat'): Promise<Uint8Array> {
  return (await assemble(text, filename, false)).wasm;
}

/**
 * Line and column in `text` of the instruction at byte `offset` of the binary that watToWasm
 * makes from it (as a CompileError's info.offset names it), or null when the offset is not
 * inside a function body.
 */
export async function locateWatOffset(text: string, offset: number, filename = 'input.wat'): Promise<{ line: number; column: number; lineText: string } | null> {
  try {
    const { wasm, log } = await assemble(text, filename, true);
    const at = locateInstruction(text, wasm, log, offset);
    return at === null ? null : lineColumn(text, at);
  } catch {
    return null;
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
