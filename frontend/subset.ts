// frontend/subset.ts — which functions get compiled, and whether they stay inside the subset.
//
// The compiled functions are those the roots reach through calls (direct
// ones, and the table entries of its type a call_indirect may call: the
// decoder lists both): the selected exports (`--export`), or every defined
// function when none are selected. Every Unsupported item the decoder recorded in a compiled
// function, plus the module-level ones, goes into ONE CompileError that
// lists each kind with its count and first location, and says which exports
// `--export` could compile instead when some avoid all of them. Unsupported
// code in functions nothing compiled reaches does not matter.

import { CompileError, SUPPORTED_INSTRUCTIONS } from './errors.js';
import type { DecodedFunc, DecodedModule, Unsupported } from './decode.js';

/** The list printed in every "unsupported" message. */
export function supportedList(): string {
  return SUPPORTED_INSTRUCTIONS.join(', ');
}

/** Defined functions reachable from `roots` (function indices) through calls (direct and call_indirect). */
export function reachable(m: DecodedModule, roots: readonly number[]): DecodedFunc[] {
  const byIndex = new Map(m.funcs.map((f) => [f.func.index, f]));
  const seen = new Set<number>();
  const work = [...roots];
  while (work.length > 0) {
    const i = work.pop() as number;
    if (seen.has(i)) continue;
    const f = byIndex.get(i);
    if (!f) continue; // an import (or an index the validator rejects)
    seen.add(i);
    work.push(...f.calls);
  }
  return m.funcs.filter((f) => seen.has(f.func.index));
}

function where(u: Unsupported): string {
  return [u.func !== undefined ? `function ${u.func}` : null, `byte offset 0x${u.offset.toString(16)}`].filter(Boolean).join(', ');
}

/** One line for every kind of unsupported item: "i64.const (3 times, first in function f, byte offset 0x2a)". */
function summarize(items: readonly Unsupported[]): string {
  const groups = new Map<string, Unsupported[]>();
  for (const u of items) groups.set(u.what, [...(groups.get(u.what) ?? []), u]);
  return [...groups.entries()]
    .map(([what, us]) => {
      const first = us[0] as Unsupported;
      const times = us.length === 1 ? '' : `${us.length} times, first `;
      return `${what} (${times}at ${where(first)})`;
    })
    .join('; ');
}

/** Export names (of defined functions) whose reachable code is free of unsupported items. */
export function cleanExports(m: DecodedModule): string[] {
  const out: string[] = [];
  for (const e of m.exports) {
    if (e.kind !== 'func' || e.index < m.numImportedFuncs || boundaryType(m, e.index) !== null) continue;
    if (reachable(m, [e.index]).every((f) => f.unsupported.length === 0)) out.push(e.name);
  }
  return out;
}

/** The first type other than i32 in an exported function's signature (inside, lower_words.ts makes words of them; at the boundary callers pass i32). */
function boundaryType(m: DecodedModule, index: number): string | null {
  const t = m.types[m.funcTypes[index] as number];
  return t === undefined ? null : [...t.params, ...t.results].find((x) => x !== 'i32') ?? null;
}

/** The compiled roots that are exported with a signature other than all-i32. */
function boundaryItems(m: DecodedModule, roots: readonly number[]): Unsupported[] {
  return m.funcs.flatMap((f) => {
    const bad = roots.includes(f.func.index) && f.func.exportNames.length > 0 ? boundaryType(m, f.func.index) : null;
    return bad === null ? [] : [{ what: `exported function with ${bad} in its signature (only i32 values are passed in and out)`, func: f.func.name, offset: f.func.pos }];
  });
}

/** Throws one CompileError listing everything outside the subset in `funcs` (and the module) and at the roots' boundary. */
export function checkSubset(m: DecodedModule, funcs: readonly DecodedFunc[], roots: readonly number[] = []): void {
  const items = [...m.moduleUnsupported, ...boundaryItems(m, roots), ...funcs.flatMap((f) => f.unsupported)];
  if (items.length === 0) return;
  const first = items[0] as Unsupported;
  const kinds = new Set(items.map((u) => u.what)).size;
  const hintable = m.moduleUnsupported.length === 0 ? cleanExports(m) : [];
  const hint = hintable.length > 0
    ? `; only some functions use them: --export ${hintable.join(',')} would compile without them`
    : '';
  const info = {
    ...(first.instruction !== undefined ? { instruction: first.instruction } : {}),
    ...(first.func !== undefined ? { func: first.func } : {}),
    offset: first.offset,
  };
  const what = items.length === 1 ? first.what : `${items.length} uses of ${kinds} unsupported feature(s): ${summarize(items)}`;
  throw new CompileError(`unsupported: ${what}${hint}; wasmformer supports only ${supportedList()}`, info);
}
