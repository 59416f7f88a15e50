// cli/args.ts — command-line parsing for the `wasmformer` command: flags, integers, i32 arguments, ranges.

import { RunError } from '../format/errors.js';

/** A mistake in how the command was called (exit status 2). `hint` is an optional second line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A RunError the CLI reports with a `hint:` line (what to do instead). */
export class HintedRunError extends RunError {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export type FlagSpec = Record<string, 'bool' | 'value'>;

export interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
  /** Everything after `--`. */
  rest: string[];
  /** Whether `--` was given. */
  dashdash: boolean;
}

/** Splits argv into positionals, flags (`--k v`, `--k=v`, `-o v`) and what follows `--`. `-` is a positional. */
export function parseArgs(argv: readonly string[], spec: FlagSpec): Parsed {
  const out: Parsed = { positional: [], flags: new Map(), rest: [], dashdash: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.rest = argv.slice(i + 1);
      out.dashdash = true;
      break;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const eq = a.indexOf('=');
      const k = eq > 0 ? a.slice(0, eq) : a;
      const inline = eq > 0 ? a.slice(eq + 1) : undefined;
      const kind = spec[k];
      if (!kind) throw new UsageError(`unknown option ${k}`);
      const list = out.flags.get(k) ?? [];
      if (kind === 'bool') {
        if (inline !== undefined) throw new UsageError(`${k} takes no value`);
        list.push('true');
      } else {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new UsageError(`${k} needs a value`);
        list.push(v);
      }
      out.flags.set(k, list);
    } else out.positional.push(a);
  }
  return out;
}

export const flag = (p: Parsed, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = p.flags.get(n)?.at(-1);
    if (v !== undefined) return v;
  }
  return undefined;
};

export function intFlag(p: Parsed, k: string, def: number, min = 0): number {
  const v = flag(p, k);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new UsageError(`${k} expects an integer >= ${min}, got '${v}'`);
  return Number(v);
}

export function secondsFlag(p: Parsed, k: string, def: number): number {
  const v = flag(p, k);
  if (v === undefined) return def;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new UsageError(`${k} expects a number of seconds > 0, got '${v}'`);
  return Number(v);
}

/** An i32 argument: decimal, signed or unsigned (-1 and 4294967295 are the same value). */
export function parseI32(s: string): number {
  if (!/^[-+]?\d+$/.test(s)) throw new UsageError(`argument '${s}' is not a decimal integer`);
  const n = Number(s);
  if (n < -2147483648 || n > 4294967295) throw new UsageError(`argument '${s}' does not fit in 32 bits`);
  return n | 0;
}

/** `LO:HI` (inclusive, signed i32) for `check --range`. */
export function parseRange(s: string): [number, number] {
  const m = /^([-+]?\d+):([-+]?\d+)$/.exec(s);
  if (!m) throw new UsageError(`--range expects LO:HI (e.g. 0:1000), got '${s}'`);
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  for (const v of [lo, hi]) if (v < -2147483648 || v > 2147483647) throw new UsageError(`--range bound ${v} is not a signed 32-bit integer`);
  if (lo > hi) throw new UsageError(`--range ${s}: LO is greater than HI`);
  return [lo, hi];
}

/**
 * Argument tuples from a samples file: one case per line, `ARG...` or `EXPORT: ARG...`;
 * blank lines and `#` comments are skipped.
 */
export function parseSamples(text: string, file: string): Array<{ export: string | null; args: number[] }> {
  const out: Array<{ export: string | null; args: number[] }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const m = /^([^\s:]+):\s*(.*)$/.exec(line);
    const words = (m ? m[2] : line).split(/[\s,]+/).filter(Boolean);
    try {
      out.push({ export: m ? m[1] : null, args: words.map(parseI32) });
    } catch (e) {
      throw new UsageError(`${file}:${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}
