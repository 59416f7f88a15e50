// fuzz/minimize.ts — delta debugging of a failing differential case: the smallest WAT text and
// call list that still fail the same way.
//
// The module is a WAT S-expression tree. Candidates, tried greedily while any succeeds, largest
// first: drop calls (argument tuples); delete one child of a list (a function, data segment,
// global, statement or operand); replace a list by one of its list children (`(i32.add A B)` →
// A); splice a list's children into its parent (unwrap a block, a `then`); shrink a number
// (0, 1, then halve towards 0; immediates like `offset=N` too); shrink arguments the same way.
// A candidate counts only when it still assembles and validates in V8 and the caller's
// `interesting` test (the same kind of finding) says so. The search stops at a deadline and
// returns the smallest case found so far.

import { watToWasmBytes } from '../test/gen/random_program.js';

/** An S-expression: an atom (keyword, number, `$name`, `"string"`, `offset=4`) or a list. */
export type SExpr = string | SExpr[];

export interface MinCase {
  wat: string;
  calls: number[][];
}

export interface MinimizeOptions {
  /** Stop trying candidates after this time (performance.now() milliseconds). */
  deadline: number;
  /** The export the calls invoke: a candidate must keep it with the calls' arity. */
  exportName: string;
  /** Told each accepted candidate (for progress). */
  onAccept?: (c: MinCase, description: string) => void;
  now?: () => number;
}

export interface MinimizeResult extends MinCase {
  /** Candidates that validated and were tested. */
  tested: number;
  accepted: number;
  /** Whether the deadline cut the search short. */
  timedOut: boolean;
}

// ---------------------------------------------------------------------------
// S-expressions

/** Parses WAT text into its top-level S-expressions; throws on unbalanced parentheses. */
export function parseSExprs(text: string): SExpr[] {
  const stack: SExpr[][] = [[]];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === ';' && text[i + 1] === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '(' && text[i + 1] === ';') {
      const end = text.indexOf(';)', i + 2);
      if (end < 0) throw new Error('unterminated block comment');
      i = end + 2;
    } else if (c === '(') {
      const l: SExpr[] = [];
      (stack[stack.length - 1] as SExpr[]).push(l);
      stack.push(l);
      i++;
    } else if (c === ')') {
      if (stack.length === 1) throw new Error(`unbalanced ')' at ${i}`);
      stack.pop();
      i++;
    } else {
      let j = i;
      if (c === '"') {
        j++;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        j++;
      } else {
        while (j < text.length && !/[\s()]/.test(text[j] as string)) j++;
      }
      (stack[stack.length - 1] as SExpr[]).push(text.slice(i, j));
      i = j;
    }
  }
  if (stack.length !== 1) throw new Error('unbalanced parentheses: a list is not closed');
  return stack[0] as SExpr[];
}

function flat(e: SExpr): string {
  return typeof e === 'string' ? e : `(${e.map(flat).join(' ')})`;
}

const HEADER = new Set(['export', 'import', 'param', 'result', 'local', 'mut', 'type']);

/** Prints S-expressions readably: a list that fits in `width` on one line, otherwise one child per line. */
export function printSExprs(es: SExpr[], width = 100): string {
  const out: string[] = [];
  const emit = (e: SExpr, indent: string): void => {
    const one = flat(e);
    if (typeof e === 'string' || indent.length + one.length <= width) {
      out.push(indent + one);
      return;
    }
    // the head and what names or types it (atoms, export/param/result/local/mut) stay on the first line
    let k = 0;
    while (k < e.length && (typeof e[k] === 'string' || HEADER.has(String((e[k] as SExpr[])[0])))) k++;
    out.push(`${indent}(${e.slice(0, k).map(flat).join(' ')}`);
    for (const c of e.slice(k)) emit(c, indent + '  ');
    out[out.length - 1] += ')';
  };
  for (const e of es) emit(e, '');
  return out.join('\n') + '\n';
}

type Path = number[];

function at(root: SExpr[], path: Path): SExpr {
  let e: SExpr = root;
  for (const k of path) e = (e as SExpr[])[k] as SExpr;
  return e;
}

/** Paths of every list, outermost first (pre-order). */
function listPaths(root: SExpr[]): Path[] {
  const out: Path[] = [];
  const walk = (l: SExpr[], path: Path): void => {
    l.forEach((c, k) => {
      if (typeof c !== 'string') {
        out.push([...path, k]);
        walk(c, [...path, k]);
      }
    });
  };
  walk(root, []);
  return out;
}

/** A copy of `root` with the list at `path` (its parent's child) replaced by `with_` (spliced in). */
function replaceAt(root: SExpr[], path: Path, with_: SExpr[]): SExpr[] {
  const copy = structuredClone(root);
  const parent = at(copy, path.slice(0, -1)) as SExpr[];
  parent.splice(path[path.length - 1] as number, 1, ...with_);
  return copy;
}

// ---------------------------------------------------------------------------
// Candidates

interface Candidate {
  description: string;
  make: () => MinCase;
}

/** Smaller values to try for an integer, the most drastic first. */
export function smallerInts(v: number): number[] {
  const out: number[] = [];
  const push = (x: number) => {
    if (Math.abs(x) < Math.abs(v) && !out.includes(x)) out.push(x);
  };
  push(0);
  push(v < 0 ? -1 : 1);
  push(Math.trunc(v / 2));
  return out;
}

const INT = /^(-?)(0x[0-9a-fA-F]+|\d+)$/;

function parseInt32(atom: string): number | null {
  const m = INT.exec(atom);
  if (!m) return null;
  const v = Number(m[2]) * (m[1] ? -1 : 1);
  return Number.isSafeInteger(v) ? v : null;
}

/** Every candidate of one kind for `c`, in order. */
function candidates(kind: number, c: MinCase, tree: SExpr[]): Candidate[] {
  const out: Candidate[] = [];
  const printed = (t: SExpr[]) => (): MinCase => ({ wat: printSExprs(t), calls: c.calls });
  switch (kind) {
    case 0: // drop calls (the last one first: earlier calls set up state)
      for (let k = c.calls.length - 1; k >= 0 && c.calls.length > 1; k--) {
        out.push({ description: `drop call ${k}`, make: () => ({ wat: c.wat, calls: c.calls.filter((_, j) => j !== k) }) });
      }
      break;
    case 1: // delete one child of a list
      for (const p of listPaths(tree)) {
        const l = at(tree, p) as SExpr[];
        // (module ...) itself stays; so does each list's head keyword
        if (p.length === 1 && l[0] === 'module') continue;
        out.push({ description: `delete ${flat(l).slice(0, 60)}`, make: () => printed(replaceAt(tree, p, []))() });
      }
      for (const p of [[], ...listPaths(tree)]) {
        const l = at(tree, p) as SExpr[];
        l.forEach((a, k) => {
          if (typeof a === 'string' && k > 0 && !a.startsWith('"')) {
            out.push({ description: `delete atom ${a}`, make: () => printed(replaceAt(tree, [...p, k], []))() });
          }
        });
      }
      break;
    case 2: // replace a list by one of its list children, or an expression by a constant or the first parameter
      for (const p of listPaths(tree)) {
        const l = at(tree, p) as SExpr[];
        l.forEach((child, k) => {
          if (typeof child !== 'string') out.push({ description: `hoist ${flat(child).slice(0, 60)}`, make: () => printed(replaceAt(tree, p, [at(tree, [...p, k])]))() });
        });
        if (typeof l[0] === 'string' && /^(i32\.|select|block|loop|if|call|global\.get|memory\.)/.test(l[0]) && l[0] !== 'i32.const') {
          for (const leaf of [['i32.const', '0'], ['local.get', '0']]) {
            out.push({ description: `${flat(l).slice(0, 60)} → (${leaf.join(' ')})`, make: () => printed(replaceAt(tree, p, [leaf]))() });
          }
        }
      }
      break;
    case 3: // splice a list's children (without its head keyword) into its parent
      for (const p of listPaths(tree)) {
        const l = at(tree, p) as SExpr[];
        if (p.length === 1) continue;
        const rest = typeof l[0] === 'string' ? l.slice(1) : l;
        out.push({ description: `unwrap ${flat(l).slice(0, 60)}`, make: () => printed(replaceAt(tree, p, rest))() });
      }
      break;
    case 4: // shrink numbers in the text
      for (const p of [[], ...listPaths(tree)]) {
        const l = at(tree, p) as SExpr[];
        l.forEach((a, k) => {
          if (typeof a !== 'string') return;
          const eq = a.indexOf('=');
          const prefix = eq >= 0 ? a.slice(0, eq + 1) : '';
          const v = parseInt32(a.slice(prefix.length));
          if (v === null) return;
          for (const w of smallerInts(v)) {
            out.push({ description: `${a} → ${prefix}${w}`, make: () => printed(replaceAt(tree, [...p, k], [`${prefix}${w}`]))() });
          }
        });
      }
      break;
    default: // shrink arguments
      c.calls.forEach((args, k) => {
        args.forEach((v, j) => {
          for (const w of smallerInts(v)) {
            out.push({ description: `argument ${j} of call ${k}: ${v} → ${w}`, make: () => ({ wat: c.wat, calls: c.calls.map((a, kk) => (kk === k ? a.map((x, jj) => (jj === j ? w : x)) : a)) }) });
          }
        });
      });
  }
  return out;
}

const KINDS = 6;

/** The module of `c` when it assembles, validates in V8 and still exports `name` with the calls' arity. */
export async function validCandidate(c: MinCase, exportName: string): Promise<Uint8Array | null> {
  let wasm: Uint8Array<ArrayBuffer>;
  try {
    wasm = await watToWasmBytes(c.wat);
  } catch {
    return null;
  }
  if (!WebAssembly.validate(wasm)) return null;
  try {
    const mod = new WebAssembly.Module(wasm);
    if (!WebAssembly.Module.exports(mod).some((d) => d.kind === 'function' && d.name === exportName)) return null;
    const imports = WebAssembly.Module.imports(mod);
    if (imports.length > 0) return null;
    const f = new WebAssembly.Instance(mod, {}).exports[exportName];
    if (typeof f !== 'function' || c.calls.some((a) => a.length !== f.length)) return null;
  } catch {
    return null; // e.g. a data segment out of bounds after a shrink
  }
  return wasm;
}

/**
 * Greedy delta debugging: repeatedly applies the first candidate that still validates and is
 * `interesting`, until no candidate of any kind is, or the deadline.
 */
export async function minimize(start: MinCase, interesting: (c: MinCase, wasm: Uint8Array) => Promise<boolean>, opts: MinimizeOptions): Promise<MinimizeResult> {
  const now = opts.now ?? (() => performance.now());
  let cur: MinCase = { wat: printSExprs(parseSExprs(start.wat)), calls: start.calls.map((a) => [...a]) };
  const seen = new Set<string>();
  let tested = 0;
  let accepted = 0;
  let progress = true;
  while (progress) {
    progress = false;
    for (let kind = 0; kind < KINDS; kind++) {
      // walk this kind's candidates; after an accepted one, continue at the same position of the new list
      for (let pos = 0; ; pos++) {
        if (now() >= opts.deadline) return { ...cur, tested, accepted, timedOut: true };
        const list = candidates(kind, cur, parseSExprs(cur.wat));
        if (pos >= list.length) break;
        const cand = list[pos] as Candidate;
        const next = cand.make();
        const key = `${next.wat}\u0000${JSON.stringify(next.calls)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const wasm = await validCandidate(next, opts.exportName);
        if (!wasm) continue;
        tested++;
        if (await interesting(next, wasm)) {
          cur = next;
          accepted++;
          progress = true;
          opts.onAccept?.(cur, cand.description);
          pos--;
        }
      }
    }
  }
  return { ...cur, tested, accepted, timedOut: false };
}
