// harness/wasm_count.ts — instruction statistics of a .wasm, for measuring programs natively.
//
// scanCode() lists every instruction of every defined function (name, byte offset) by
// walking the code section; staticStats() turns that into an opcode histogram and a count
// of straight-line segments (a new one starts after every control instruction).
// instrumentCounting() returns a copy of the module in which every instruction is preceded
// by `global.get $c; i32.const 1; i32.add; global.set $c` for a fresh mutable i32 global $c
// per distinct opcode, exported as `__wf_count_<i>` (COUNT_EXPORT_PREFIX); the original code
// is untouched otherwise (no index shifts: globals and exports are appended), so running
// the copy natively and reading the globals gives the exact dynamic histogram: how many
// times each opcode was executed: reached by control flow, with a `loop` counted on entry
// and on every branch back to it (as the spec's reduction re-executes it); an `end` reached
// by a branch is not counted, one reached by falling through is. Handles the MVP instruction set plus
// sign extension, select t and the 0xFC prefix; 0xFD (SIMD) is rejected.

import { prefixedSpecOf, specOf } from '../ir/instructions.js';

export interface Instr {
  name: string; // text name, e.g. "i32.add"; prefixed ops by their full name
  key: number; // opcode, or 0xfc00 + sub for 0xFC-prefixed ones
  start: number; // byte offset in the module
  end: number; // one past its immediates
}

export interface FuncCode {
  index: number; // function index (imports first)
  bodyStart: number; // offset of the local declarations
  localsEnd: number; // offset where instructions begin
  bodyEnd: number;
  instrs: Instr[];
}

export interface StaticStats {
  functions: number;
  instructions: number;
  /** Straight-line segments: split after block, loop, if, else, end, br, br_if, br_table, return, unreachable. */
  segments: number;
  histogram: Record<string, number>;
}

export const COUNT_EXPORT_PREFIX = '__wf_count_';

const OP_LOOP = 0x03;
const SEC_IMPORT = 2;
const SEC_GLOBAL = 6;
const SEC_EXPORT = 7;
const SEC_CODE = 10;
/** Section order of the ids that may precede the global section. */
const BEFORE_GLOBAL = new Set([1, 2, 3, 4, 5, 13]);

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}
  u8(): number {
    if (this.pos >= this.bytes.length) throw new Error(`wasm_count: unexpected end of module at ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  leb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return result;
    }
  }
  skipLeb(): void {
    while (this.u8() & 0x80);
  }
}

interface Section {
  id: number;
  start: number;
  payload: number;
  end: number;
}

function sections(wasm: Uint8Array): Section[] {
  const c = new Cursor(wasm, 8);
  const out: Section[] = [];
  while (c.pos < wasm.length) {
    const start = c.pos;
    const id = c.u8();
    const len = c.leb();
    out.push({ id, start, payload: c.pos, end: c.pos + len });
    c.pos += len;
  }
  return out;
}

function importCounts(wasm: Uint8Array, secs: Section[]): { funcs: number; globals: number } {
  const s = secs.find((x) => x.id === SEC_IMPORT);
  let funcs = 0;
  let globals = 0;
  if (!s) return { funcs, globals };
  const c = new Cursor(wasm, s.payload);
  for (let n = c.leb(); n > 0; n--) {
    for (let k = 0; k < 2; k++) {
      const len = c.leb(); // module, then field name
      c.pos += len;
    }
    const kind = c.u8();
    if (kind === 0) {
      funcs++;
      c.skipLeb();
    } else if (kind === 1) {
      c.u8();
      limits(c);
    } else if (kind === 2) {
      limits(c);
    } else if (kind === 3) {
      globals++;
      c.u8();
      c.u8();
    } else {
      c.skipLeb(); // tag
      c.skipLeb();
    }
  }
  return { funcs, globals };
}

function limits(c: Cursor): void {
  const flags = c.u8();
  c.skipLeb();
  if (flags & 1) c.skipLeb();
}

function instrName(key: number): string {
  if (key >= 0xfc00) return prefixedSpecOf(0xfc, key - 0xfc00)?.name ?? `opcode 0xfc ${key - 0xfc00}`;
  return specOf(key)?.name ?? `opcode 0x${key.toString(16)}`;
}

function skipImmediates(c: Cursor, op: number): number {
  if (op === 0x02 || op === 0x03 || op === 0x04) {
    const b = c.bytes[c.pos]!;
    if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) c.pos++;
    else c.skipLeb(); // type index (s33)
  } else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x26) || op === 0x41 || op === 0x42) {
    c.skipLeb();
  } else if (op === 0x0e) {
    for (let n = c.leb() + 1; n > 0; n--) c.skipLeb();
  } else if (op === 0x11) {
    c.skipLeb();
    c.skipLeb();
  } else if (op >= 0x28 && op <= 0x3e) {
    c.skipLeb();
    c.skipLeb();
  } else if (op === 0x3f || op === 0x40) {
    c.u8();
  } else if (op === 0x43) {
    c.pos += 4;
  } else if (op === 0x44) {
    c.pos += 8;
  } else if (op === 0x1c) {
    for (let n = c.leb(); n > 0; n--) c.u8();
  } else if (op === 0xfc) {
    const sub = c.leb();
    if (sub === 8) (c.skipLeb(), c.u8());
    else if (sub === 9 || sub === 13 || sub === 15 || sub === 16 || sub === 17) c.skipLeb();
    else if (sub === 10 || sub === 12 || sub === 14) (c.skipLeb(), c.skipLeb());
    else if (sub === 11) c.u8();
    return 0xfc00 + sub;
  } else if (op === 0xfd || op === 0xfe) {
    throw new Error(`wasm_count: ${op === 0xfd ? 'SIMD' : 'atomic'} instruction at offset ${c.pos - 1} is not supported`);
  }
  return op;
}

/** Every defined function's instructions, in order. */
export function scanCode(wasm: Uint8Array): FuncCode[] {
  const secs = sections(wasm);
  const code = secs.find((s) => s.id === SEC_CODE);
  if (!code) return [];
  const firstIndex = importCounts(wasm, secs).funcs;
  const c = new Cursor(wasm, code.payload);
  const out: FuncCode[] = [];
  const count = c.leb();
  for (let f = 0; f < count; f++) {
    const size = c.leb();
    const bodyStart = c.pos;
    const bodyEnd = bodyStart + size;
    for (let groups = c.leb(); groups > 0; groups--) {
      c.skipLeb();
      c.u8();
    }
    const localsEnd = c.pos;
    const instrs: Instr[] = [];
    while (c.pos < bodyEnd) {
      const start = c.pos;
      const op = c.u8();
      const key = skipImmediates(c, op);
      instrs.push({ name: instrName(key), key, start, end: c.pos });
    }
    out.push({ index: firstIndex + f, bodyStart, localsEnd, bodyEnd, instrs });
  }
  return out;
}

const SEGMENT_ENDERS = new Set([0x00, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);

/** Function names from the "name" custom section (empty if there is none). */
export function functionNames(wasm: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  for (const s of sections(wasm)) {
    if (s.id !== 0) continue;
    const c = new Cursor(wasm, s.payload);
    const len = c.leb();
    if (new TextDecoder().decode(wasm.subarray(c.pos, c.pos + len)) !== 'name') continue;
    c.pos += len;
    while (c.pos < s.end) {
      const sub = c.u8();
      const size = c.leb();
      const next = c.pos + size;
      if (sub === 1) {
        for (let n = c.leb(); n > 0; n--) {
          const index = c.leb();
          const nameLen = c.leb();
          names.set(index, new TextDecoder().decode(wasm.subarray(c.pos, c.pos + nameLen)));
          c.pos += nameLen;
        }
      }
      c.pos = next;
    }
  }
  return names;
}

/** Static opcode histogram, instruction and straight-line segment counts. */
export function staticStats(wasm: Uint8Array): StaticStats {
  const funcs = scanCode(wasm);
  const histogram: Record<string, number> = {};
  let instructions = 0;
  let segments = 0;
  for (const f of funcs) {
    let open = false;
    for (const ins of f.instrs) {
      histogram[ins.name] = (histogram[ins.name] ?? 0) + 1;
      instructions++;
      if (!open) {
        segments++;
        open = true;
      }
      if (SEGMENT_ENDERS.has(ins.key)) open = false;
    }
  }
  return { functions: funcs.length, instructions, segments, histogram: sortedHistogram(histogram) };
}

/** A histogram with its entries in descending count order (ties by name). */
export function sortedHistogram(h: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(h).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) out[k] = v;
  return out;
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function section(id: number, payload: number[]): number[] {
  return [id, ...leb(payload.length), ...payload];
}

export interface Instrumented {
  wasm: Uint8Array;
  /** Export name of the counter of each instruction name. */
  counters: Record<string, string>;
}

/**
 * The module with one execution counter per distinct opcode (see the header), or with
 * `perFunction`, one per defined function (named "func[<index>]"): instructions executed in it.
 */
export function instrumentCounting(wasm: Uint8Array, opts: { perFunction?: boolean } = {}): Instrumented {
  const secs = sections(wasm);
  const funcs = scanCode(wasm);
  const keyOf = (f: FuncCode, i: Instr): number => (opts.perFunction ? f.index : i.key);
  const nameOf = (k: number): string => (opts.perFunction ? `func[${k}]` : instrName(k));
  const keys = [...new Set(funcs.flatMap((f) => f.instrs.map((i) => keyOf(f, i))))].sort((a, b) => a - b);
  const globalBase = importCounts(wasm, secs).globals + definedGlobals(wasm, secs);
  const globalOf = new Map(keys.map((k, i) => [k, globalBase + i]));
  const counters: Record<string, string> = {};
  keys.forEach((k, i) => (counters[nameOf(k)] = `${COUNT_EXPORT_PREFIX}${i}`));

  const newGlobals = keys.flatMap(() => [0x7f, 0x01, 0x41, 0x00, 0x0b]);
  const newExports = keys.flatMap((_, i) => {
    const name = [...new TextEncoder().encode(`${COUNT_EXPORT_PREFIX}${i}`)];
    return [...leb(name.length), ...name, 0x03, ...leb(globalBase + i)];
  });

  const parts: number[][] = [[...wasm.subarray(0, 8)]];
  const hasGlobal = secs.some((s) => s.id === SEC_GLOBAL);
  const hasExport = secs.some((s) => s.id === SEC_EXPORT);
  let globalsDone = hasGlobal;
  let exportsDone = hasExport;
  const late = (id: number): boolean => id !== 0 && !BEFORE_GLOBAL.has(id); // a section after the global section's place
  for (const s of secs) {
    if (late(s.id) && !globalsDone) {
      parts.push(section(SEC_GLOBAL, [...leb(keys.length), ...newGlobals]));
      globalsDone = true;
    }
    if (late(s.id) && s.id !== SEC_GLOBAL && s.id !== SEC_EXPORT && !exportsDone) {
      parts.push(section(SEC_EXPORT, [...leb(keys.length), ...newExports]));
      exportsDone = true;
    }
    if (s.id === SEC_GLOBAL) parts.push(section(SEC_GLOBAL, appendVec(wasm, s, keys.length, newGlobals)));
    else if (s.id === SEC_EXPORT) parts.push(section(SEC_EXPORT, appendVec(wasm, s, keys.length, newExports)));
    else if (s.id === SEC_CODE) parts.push(section(SEC_CODE, instrumentedCode(wasm, funcs, (f, i) => globalOf.get(keyOf(f, i))!)));
    else parts.push([...wasm.subarray(s.start, s.end)]);
  }
  if (!globalsDone) parts.push(section(SEC_GLOBAL, [...leb(keys.length), ...newGlobals]));
  if (!exportsDone) parts.push(section(SEC_EXPORT, [...leb(keys.length), ...newExports]));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { wasm: out, counters };
}

function definedGlobals(wasm: Uint8Array, secs: Section[]): number {
  const s = secs.find((x) => x.id === SEC_GLOBAL);
  return s ? new Cursor(wasm, s.payload).leb() : 0;
}

/** A vector section's payload with `extra` entries (encoded in `bytes`) appended. */
function appendVec(wasm: Uint8Array, s: Section, extra: number, bytes: number[]): number[] {
  const c = new Cursor(wasm, s.payload);
  const n = c.leb();
  return [...leb(n + extra), ...wasm.subarray(c.pos, s.end), ...bytes];
}

function instrumentedCode(wasm: Uint8Array, funcs: FuncCode[], counterOf: (f: FuncCode, i: Instr) => number): number[] {
  const payload: number[] = [...leb(funcs.length)];
  for (const f of funcs) {
    const body: number[] = [...wasm.subarray(f.bodyStart, f.localsEnd)];
    for (const ins of f.instrs) {
      const g = leb(counterOf(f, ins));
      const bump = [0x23, ...g, 0x41, 0x01, 0x6a, 0x24, ...g];
      const original = [...wasm.subarray(ins.start, ins.end)];
      // A branch to a loop re-enters it at its label (spec semantics: `loop` runs again),
      // so a loop's counter sits inside it and counts every iteration.
      body.push(...(ins.key === OP_LOOP ? [...original, ...bump] : [...bump, ...original]));
    }
    payload.push(...leb(body.length), ...body);
  }
  return payload;
}
