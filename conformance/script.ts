// conformance/script.ts — reading WebAssembly spec test scripts as wast2json writes them.
//
// wast2json turns NAME.wast into NAME.json (the list of commands: module, register,
// assert_return, assert_trap, assert_invalid, ...) plus NAME.K.wasm / NAME.K.wat files
// for the modules the commands name. Two directory layouts are accepted: one folder per
// script (DIR/NAME/NAME.json, the layout of ../shared/spec-tests/json) or all scripts
// side by side (DIR/NAME.json). Values are unsigned decimal strings (an i32 -1 is
// "4294967295"); expected float results may be "nan:canonical" / "nan:arithmetic".

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface SpecValue {
  type: string;
  value?: string | string[];
}

export interface SpecAction {
  type: 'invoke' | 'get';
  module?: string;
  field: string;
  args?: SpecValue[];
}

export interface SpecCommand {
  type: string;
  line: number;
  filename?: string;
  name?: string;
  as?: string;
  module_type?: 'binary' | 'text';
  text?: string;
  action?: SpecAction;
  expected?: SpecValue[];
}

/** One script: its name, the folder its module files live in, and its commands. */
export interface SpecScript {
  name: string;
  dir: string;
  commands: SpecCommand[];
}

/** Where a script's json lives. */
export interface ScriptRef {
  name: string;
  dir: string;
  jsonPath: string;
}

/**
 * The directory of wast2json output to read: DIR itself, or DIR/json when DIR is a
 * spec-tests checkout (the .wast files with a json/ folder beside them). An Error
 * (one line, for people) when there is nothing to read.
 */
export function resolveSuiteDir(dir: string): string | Error {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return new Error(`spec tests not found: ${dir} is not a directory (expected wast2json output; see README "Conformance")`);
  }
  if (listScripts(dir).length > 0) return dir;
  const nested = join(dir, 'json');
  if (existsSync(nested) && listScripts(nested).length > 0) return nested;
  return new Error(`spec tests not found: no NAME.json or NAME/NAME.json in ${dir} (expected wast2json output; see README "Conformance")`);
}

/** The scripts in a wast2json output directory, sorted by name. */
export function listScripts(dir: string): ScriptRef[] {
  const refs: ScriptRef[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) {
      const jsonPath = join(dir, d.name, `${d.name}.json`);
      if (existsSync(jsonPath)) refs.push({ name: d.name, dir: join(dir, d.name), jsonPath });
    } else if (d.isFile() && d.name.endsWith('.json')) {
      refs.push({ name: d.name.slice(0, -'.json'.length), dir, jsonPath: join(dir, d.name) });
    }
  }
  return refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Parse one script's json; an Error (one line) when it is not wast2json output. */
export function loadScript(ref: ScriptRef): SpecScript | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(ref.jsonPath, 'utf8'));
  } catch (e) {
    return new Error(`${ref.jsonPath}: not readable JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const commands = (parsed as { commands?: unknown }).commands;
  if (!Array.isArray(commands)) return new Error(`${ref.jsonPath}: no "commands" list (not wast2json output)`);
  return { name: ref.name, dir: ref.dir, commands: commands as SpecCommand[] };
}

// ---------------------------------------------------------------------------
// Values

/** An i32 value with a concrete number (not a result pattern). */
export function isI32(v: SpecValue): boolean {
  return v.type === 'i32' && typeof v.value === 'string' && /^\d+$/.test(v.value);
}

/** A spec i32 (unsigned decimal) as a signed number. */
export function i32Of(v: SpecValue): number {
  return Number(v.value as string) | 0;
}

/**
 * Why an action's signature is outside the i32 subset the transformer runs, or null when
 * every argument and every expected result is an i32. Expected values of assert_trap /
 * assert_exhaustion carry only types, so there only the type counts.
 */
export function nonI32Signature(args: SpecValue[], expected: SpecValue[], typesOnly: boolean): string | null {
  const bad = new Set<string>();
  for (const a of args) if (!isI32(a)) bad.add(a.type);
  for (const r of expected) if (typesOnly ? r.type !== 'i32' : !isI32(r)) bad.add(r.type);
  if (bad.size === 0) return null;
  return `non-i32 signature (${[...bad].sort().join(', ')})`;
}

/** What a reference argument `ref.extern N` is on the JS side: one object per N, so that V8 can hand it back. */
export type ExternRefs = Map<string, object>;

/**
 * A spec value as a JS value for V8, or null when it cannot be passed (a v128, a non-null
 * funcref, a NaN pattern). `ref.null` is JS null; `ref.extern N` is the same object for the
 * same N within `externs` (one map per script).
 */
export function toNative(v: SpecValue, externs: ExternRefs): { value: unknown } | null {
  const s = typeof v.value === 'string' ? v.value : null;
  if ((v.type === 'externref' || v.type === 'funcref') && s === 'null') return { value: null };
  if (v.type === 'externref' && s !== null && /^\d+$/.test(s)) {
    let o = externs.get(s);
    if (o === undefined) externs.set(s, (o = { externref: Number(s) }));
    return { value: o };
  }
  if (s === null || !/^\d+$/.test(s)) return null;
  const dv = new DataView(new ArrayBuffer(8));
  switch (v.type) {
    case 'i32':
      return { value: Number(s) | 0 };
    case 'i64':
      return { value: BigInt.asIntN(64, BigInt(s)) };
    case 'f32':
      dv.setUint32(0, Number(s));
      return { value: dv.getFloat32(0) };
    case 'f64':
      dv.setBigUint64(0, BigInt(s));
      return { value: dv.getFloat64(0) };
    default:
      return null;
  }
}
