// harness/native.ts — the native oracle: runs a .wasm on Node's own WebAssembly
// engine (V8) and reports results, traps and the final memory image in the same
// shape the transformer runtime uses, so the two can be compared directly.
//
// Results are signed i32 (`x | 0`). A WebAssembly.RuntimeError is a trap; its
// message is mapped to a TrapCode and reported with TRAP_MESSAGES (format/errors.ts),
// exhausting V8's stack (a RangeError) is CallStackExhausted; messages V8 has
// that no TrapCode covers are kept but lowercased (V8's one message for a null
// call_indirect entry and a type mismatch among them: nativeTrapAgrees). Memory and globals persist
// across invoke() calls on one instance. Modules that do not export their memory
// get an extra (hidden) memory export spliced into the binary so the memory can
// be read. Imports (e.g. the spec tests' `spectest` module) may be passed to
// create(); unless they provide one, env.output_byte is provided and collects
// the program's output bytes (see output()). call() runs an export with
// arbitrary JS values (i64 as BigInt, floats as numbers) and returns its raw
// results.

import { Reader } from '../frontend/reader.js';
import { TrapCode, trapMessage } from '../format/errors.js';

export interface NativeOutcome {
  results: number[];
  trap: string | null;
  trapCode: TrapCode | null;
  memory: Uint8Array;
  output: number[]; // bytes written with env.output_byte during this call
}

/** The raw outcome of NativeInstance.call: JS results as V8 returns them, or a trap. */
export type NativeCall = { results: unknown[]; trap: null } | { results: []; trap: string };

const HIDDEN_MEMORY_EXPORT = '__wasmformer_native_memory';

const SECTION_EXPORT = 7;
const SECTION_MEMORY = 5;
const SECTION_CUSTOM = 0;
/** Known section ids that must come after the export section. */
const AFTER_EXPORT = new Set([8, 9, 10, 11, 12]);

function writeU32Leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

interface Section {
  id: number;
  start: number; // offset of the id byte
  payloadStart: number;
  end: number; // one past the payload
}

/** The sections of a module V8 has already compiled (so well-formed). */
function parseSections(wasm: Uint8Array): Section[] {
  const r = new Reader(wasm, 8, wasm.length, 'wasm binary');
  const sections: Section[] = [];
  while (!r.atEnd()) {
    const start = r.pos;
    const id = r.u8();
    const payload = r.sub(r.u32(), `section ${id}`);
    sections.push({ id, start, payloadStart: payload.pos, end: payload.end });
  }
  return sections;
}

/** Whether the module defines a memory (imported ones are found through V8). */
function definesMemory(wasm: Uint8Array, sections: Section[]): boolean {
  const s = sections.find((x) => x.id === SECTION_MEMORY);
  return s !== undefined && new Reader(wasm, s.payloadStart, s.end, 'memory section').u32() > 0;
}

/** A copy of `wasm` whose export section also exports memory 0 under HIDDEN_MEMORY_EXPORT. */
function withMemoryExport(wasm: Uint8Array, sections: Section[]): Uint8Array<ArrayBuffer> {
  const name = new TextEncoder().encode(HIDDEN_MEMORY_EXPORT);
  const entry = [...writeU32Leb(name.length), ...name, 0x02, 0x00];
  const existing = sections.find((s) => s.id === SECTION_EXPORT);
  const parts: Uint8Array[] = [];
  if (existing) {
    const r = new Reader(wasm, existing.payloadStart, existing.end, 'export section');
    const count = r.u32();
    const payload = [
      ...writeU32Leb(count + 1),
      ...wasm.subarray(r.pos, existing.end),
      ...entry,
    ];
    parts.push(wasm.subarray(0, existing.start));
    parts.push(Uint8Array.from([SECTION_EXPORT, ...writeU32Leb(payload.length), ...payload]));
    parts.push(wasm.subarray(existing.end));
  } else {
    const payload = [...writeU32Leb(1), ...entry];
    const section = Uint8Array.from([SECTION_EXPORT, ...writeU32Leb(payload.length), ...payload]);
    const after = sections.find((s) => s.id !== SECTION_CUSTOM && AFTER_EXPORT.has(s.id));
    const at = after ? after.start : wasm.length;
    parts.push(wasm.subarray(0, at), section, wasm.subarray(at));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The TrapCode of a V8 trap message (null if no code covers it). */
export function trapCodeOfNative(message: string): TrapCode | null {
  const m = message.toLowerCase().trim();
  if (m.includes('memory access out of bounds') || m.includes('out of bounds memory access')) return TrapCode.OutOfBounds;
  if (m.includes('divide by zero') || m.includes('division by zero') || m.includes('remainder by zero')) {
    return TrapCode.IntegerDivideByZero;
  }
  if (m.includes('divide result unrepresentable') || m.includes('integer overflow')) return TrapCode.IntegerOverflow;
  if (m === 'unreachable' || m.includes('unreachable executed') || m.includes('unreachable code')) return TrapCode.Unreachable;
  if (m.includes('call stack') || m.includes('stack overflow')) return TrapCode.CallStackExhausted;
  if (m.includes('table index is out of bounds')) return TrapCode.UndefinedElement;
  return null;
}

/** V8's one message for two call_indirect traps: a null entry and an entry of another type. */
export const NATIVE_NULL_OR_MISMATCH = 'null function or function signature mismatch';

/**
 * Whether a native trap message (normalised) agrees with `message`: equal, or V8's joint
 * message against either trap it stands for.
 */
export function nativeTrapAgrees(native: string, message: string): boolean {
  if (native === message) return true;
  return native === NATIVE_NULL_OR_MISMATCH &&
    (message === trapMessage(TrapCode.UninitializedElement) || message === trapMessage(TrapCode.IndirectCallTypeMismatch));
}

/** Normalise a V8 trap message to the spec wording (TRAP_MESSAGES); unknown ones are lowercased. */
export function normalizeTrapMessage(message: string): string {
  const code = trapCodeOfNative(message);
  return code !== null ? trapMessage(code) : message.toLowerCase().trim();
}

/** A thrown value as a trap, or null if it is not one (RangeError: V8's stack is exhausted). */
function asTrap(e: unknown): { trap: string; trapCode: TrapCode | null } | null {
  if (e instanceof WebAssembly.RuntimeError) return { trap: normalizeTrapMessage(e.message), trapCode: trapCodeOfNative(e.message) };
  if (e instanceof RangeError) return { trap: trapMessage(TrapCode.CallStackExhausted), trapCode: TrapCode.CallStackExhausted };
  return null;
}

/** Imports with env.output_byte writing into `sink` (the caller's own imports win). */
function withOutput(imports: WebAssembly.Imports, sink: number[]): WebAssembly.Imports {
  const env = { ...(imports['env'] ?? {}) } as Record<string, WebAssembly.ImportValue>;
  if (!('output_byte' in env)) env['output_byte'] = (b: number): void => { sink.push(b & 0xff); };
  return { ...imports, env };
}

type ExportedFunction = ((...args: number[]) => unknown) & { length: number };

export class NativeInstance {
  private readonly instance: WebAssembly.Instance;
  private readonly mem: WebAssembly.Memory | null;
  private readonly funcNames: string[];
  private readonly sink: number[];

  private constructor(instance: WebAssembly.Instance, mem: WebAssembly.Memory | null, funcNames: string[], sink: number[]) {
    this.instance = instance;
    this.mem = mem;
    this.funcNames = funcNames;
    this.sink = sink;
  }

  /** Compile and instantiate `wasm` with `imports` (none by default). */
  static async create(wasm: Uint8Array, imports: WebAssembly.Imports = {}): Promise<NativeInstance> {
    const bytes = new Uint8Array(wasm); // own copy, backed by a plain ArrayBuffer
    const original = await WebAssembly.compile(bytes);
    const descriptors = WebAssembly.Module.exports(original);
    const memExport = descriptors.find((d) => d.kind === 'memory');
    const funcNames = descriptors.filter((d) => d.kind === 'function').map((d) => d.name);
    let module = original;
    let memName: string | null = memExport ? memExport.name : null;
    if (!memExport) {
      const sections = parseSections(bytes);
      const imported = WebAssembly.Module.imports(original).some((d) => d.kind === 'memory');
      if (imported || definesMemory(bytes, sections)) {
        module = await WebAssembly.compile(withMemoryExport(bytes, sections));
        memName = HIDDEN_MEMORY_EXPORT;
      }
    }
    const sink: number[] = [];
    const needsOutput = WebAssembly.Module.imports(module).some((d) => d.module === 'env' && d.name === 'output_byte');
    const instance = await WebAssembly.instantiate(module, needsOutput ? withOutput(imports, sink) : imports);
    let mem: WebAssembly.Memory | null = null;
    if (memName !== null) {
      const m = instance.exports[memName];
      if (m instanceof WebAssembly.Memory) mem = m;
    }
    return new NativeInstance(instance, mem, funcNames, sink);
  }

  /** Every byte written with env.output_byte so far (all calls). */
  output(): number[] {
    return [...this.sink];
  }

  /** The value of an exported global (undefined if not exported or not a number). */
  global(name: string): number | undefined {
    const g = this.instance.exports[name];
    return g instanceof WebAssembly.Global && typeof g.value === 'number' ? g.value | 0 : undefined;
  }

  /** Names of the exported functions, in export order. */
  exports(): string[] {
    return [...this.funcNames];
  }

  /** The instance's exports (without the hidden memory export), e.g. to import them elsewhere. */
  exportValues(): Record<string, WebAssembly.ExportValue> {
    const out: Record<string, WebAssembly.ExportValue> = {};
    for (const [k, v] of Object.entries(this.instance.exports)) if (k !== HIDDEN_MEMORY_EXPORT) out[k] = v;
    return out;
  }

  /** Number of parameters of an exported function. */
  paramCount(name: string): number {
    return this.func(name).length;
  }

  /** A copy of the current linear memory (empty if the module has none). */
  memory(): Uint8Array {
    return this.mem ? new Uint8Array(this.mem.buffer).slice() : new Uint8Array(0);
  }

  /** Call an exported function; a trap is reported, not thrown. */
  invoke(name: string, args: number[]): NativeOutcome {
    const fn = this.func(name);
    if (args.length !== fn.length) {
      throw new Error(`native: export "${name}" takes ${fn.length} argument(s), got ${args.length}`);
    }
    const coerced = args.map((a) => a | 0);
    const before = this.sink.length;
    let raw: unknown;
    try {
      raw = fn(...coerced);
    } catch (e) {
      const t = asTrap(e);
      if (!t) throw e;
      return { results: [], ...t, memory: this.memory(), output: this.sink.slice(before) };
    }
    return { results: toResults(raw), trap: null, trapCode: null, memory: this.memory(), output: this.sink.slice(before) };
  }

  /**
   * Call an exported function with JS values as given (no arity check or coercion);
   * results come back raw. A trap, or exhausting the call stack ("call stack
   * exhausted"), is reported, not thrown.
   */
  call(name: string, args: unknown[]): NativeCall {
    const fn = this.func(name) as (...a: unknown[]) => unknown;
    try {
      const raw = fn(...args);
      return { results: raw === undefined ? [] : Array.isArray(raw) ? raw : [raw], trap: null };
    } catch (e) {
      const t = asTrap(e);
      if (!t) throw e;
      return { results: [], trap: t.trap };
    }
  }

  private func(name: string): ExportedFunction {
    if (!this.funcNames.includes(name)) {
      throw new Error(`native: no exported function "${name}" (exports: ${this.funcNames.join(', ') || 'none'})`);
    }
    const f = this.instance.exports[name];
    if (typeof f !== 'function') throw new Error(`native: export "${name}" is not a function`);
    return f as ExportedFunction;
  }
}

function toResults(raw: unknown): number[] {
  if (raw === undefined) return [];
  if (typeof raw === 'number') return [raw | 0];
  if (Array.isArray(raw)) return raw.map((v) => Number(v) | 0);
  throw new Error(`native: unexpected result ${String(raw)} (only i32 results are supported)`);
}

/** One-shot: instantiate `wasm` fresh and invoke `name` once. */
export async function runNative(wasm: Uint8Array, name: string, args: number[]): Promise<NativeOutcome> {
  const inst = await NativeInstance.create(wasm);
  return inst.invoke(name, args);
}
