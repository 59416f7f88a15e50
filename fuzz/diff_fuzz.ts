// fuzz/diff_fuzz.ts — `npm run fuzz -- diff`: random programs through native V8, the IR
// interpreter and the transformer (fuzz/diff.ts), each finding minimized (fuzz/minimize.ts) and
// saved under test/regressions/ (fuzz/regressions.ts).
//
// Case `index` of seed S is a pure function of (S, index): a choice sequence for the extended
// random-program generator (test/gen/random_program.ts: every supported i32 instruction, select,
// if/else, br_table with and without values, block parameters, return, globals, calls, bounded
// recursion and call-stack exhaustion, 8/16/32-bit loads and stores, memory.size/grow, data
// segments, traps; no env.output_byte, which the transformer backend does not compile) and
// CALLS_PER_CASE argument tuples, invoked in order on one instance of each oracle. Programs run
// at most `stepLimit` blocks per call by the generator's cost model; the size of the choice
// sequence bounds the program's size, and so its compile time.

import { TrapCode, trapCodeOf } from '../format/errors.js';
import { NativeInstance } from '../harness/native.js';
import { generateProgram, watToWasmBytes, type GenProgram } from '../test/gen/random_program.js';
import { prng } from '../harness/check.js';
import { sameKind, type DiffCase, type DiffFinding } from './diff.js';
import { DiffPool } from './diff_pool.js';
import { minimize } from './minimize.js';
import { REGRESSIONS_DIR, saveRegression, type Expected } from './regressions.js';

/** The call depth of every diff case: traps "call stack exhausted" after 15 nested calls. */
export const DIFF_CALL_DEPTH = 16;
export const CALLS_PER_CASE = 3;

export interface DiffSize {
  /** The longest choice sequence (0..maxChoices, uniform): the program's size. */
  maxChoices: number;
  /** The generator's bound on blocks executed per call. */
  stepLimit: number;
}

/** The defaults: small programs that compile in well under a second each on an idle core. */
export const DEFAULT_SIZE: DiffSize = { maxChoices: 400, stepLimit: 60 };

export interface GeneratedCase extends DiffCase {
  wat: string;
  program: GenProgram;
}

const PAGE = 65536;
const EDGES = [0, 1, -1, -2147483648, 2147483647, 2, 3, 4];

/** One i32 argument, biased like the tests' arbI32: edge values, small values, page edges. */
function drawArg(r: () => number): number {
  const w = r() % 12;
  if (w < 3) return EDGES[r() % EDGES.length] as number;
  if (w < 7) return r() % 257;
  if (w < 8) return PAGE - 40 + (r() % 45);
  if (w < 9) return 2 * PAGE - 40 + (r() % 45);
  return r() | 0;
}

/** Case `index` of `seed` (deterministic). */
export async function generateCase(seed: number, index: number, size: DiffSize = DEFAULT_SIZE): Promise<GeneratedCase> {
  const r = prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const n = r() % (size.maxChoices + 1);
  const choices = Array.from({ length: n }, () => r() & 0xffff);
  const program = generateProgram(choices, { extended: true, outputs: false, callDepth: DIFF_CALL_DEPTH, stepLimit: size.stepLimit });
  const calls = Array.from({ length: CALLS_PER_CASE }, () => Array.from({ length: program.params }, () => drawArg(r)));
  const wasm = await watToWasmBytes(program.wat);
  return { wat: program.wat, program, wasm, exportName: program.exportName, calls, callDepth: DIFF_CALL_DEPTH };
}

/** Native V8's outcome of each call on one instance (the saved expectation). */
export async function nativeExpectations(wasm: Uint8Array, exportName: string, calls: number[][]): Promise<Expected[]> {
  const inst = await NativeInstance.create(wasm);
  return calls.map((args) => {
    const o = inst.invoke(exportName, args);
    return { results: o.results, trap: o.trap };
  });
}

export interface SavedFinding {
  index: number;
  finding: DiffFinding;
  /** The minimized case's .wat (null when an earlier finding of the same kind was saved). */
  path: string | null;
  /** For a finding not saved: the path of the earlier one of its kind. */
  sameAs: string | null;
  minimized: { tested: number; accepted: number; timedOut: boolean; bytes: number } | null;
}

export interface DiffFuzzOptions {
  seed: number;
  /** Run this many cases ... */
  count?: number;
  /** ... or as many as fit in this many minutes (not counting minimization). */
  minutes?: number;
  size?: DiffSize;
  /** Time the delta debugger may spend on each finding (default 300 s). */
  minimizeSeconds?: number;
  /** Where findings are saved (default test/regressions/). */
  outDir?: string;
  /** Wall-clock limit per case (fuzz/diff_pool.ts; default 120 s): past it, a `hang` finding. */
  timeLimitMs?: number;
  /** Stop after this many findings (default: never; the CLI says 5). */
  maxFindings?: number;
  onProgress?: (done: number, total: number | undefined, elapsedMs: number) => void;
  /** Told about each finding as it is found and as its minimization ends (for people). */
  log?: (line: string) => void;
  now?: () => number;
}

export interface DiffFuzzReport {
  seed: number;
  cases: number;
  agreed: number;
  findings: SavedFinding[];
  /** Calls by outcome over all cases that agreed: "ok" or the trap's name. */
  outcomes: Record<string, number>;
  elapsedMs: number;
  /** Whether maxFindings stopped the run before `count` cases. */
  stoppedEarly: boolean;
}

/** Minimizes `f` (found on `c`) and saves it; returns the saved path and the minimizer's account. */
export async function minimizeAndSave(c: DiffCase & { wat: string }, f: DiffFinding, origin: string, opts: { pool: DiffPool; minimizeSeconds: number; outDir: string; now?: () => number; log?: (line: string) => void }): Promise<Pick<SavedFinding, 'path' | 'minimized'>> {
  const now = opts.now ?? (() => performance.now());
  const diff = (wasm: Uint8Array, calls: number[][]) => opts.pool.run({ wasm, exportName: c.exportName, calls, callDepth: c.callDepth });
  const m = await minimize(
    { wat: c.wat, calls: c.calls },
    async (cand, wasm) => sameKind(await diff(wasm, cand.calls), f),
    { deadline: now() + opts.minimizeSeconds * 1000, exportName: c.exportName, now, onAccept: (m, what) => opts.log?.(`  minimizing: ${what} (${m.wat.length} bytes, ${m.calls.length} calls)`) },
  );
  const wasm = await watToWasmBytes(m.wat);
  const last = (await diff(wasm, m.calls)) ?? f;
  const path = saveRegression(opts.outDir, m.wat, {
    export: c.exportName,
    calls: m.calls,
    callDepth: c.callDepth,
    expect: await nativeExpectations(wasm, c.exportName, m.calls),
    finding: { kind: last.kind, signature: last.signature, detail: last.detail },
    open: true,
    origin: `${origin}${m.accepted > 0 ? ', minimized' : ''}`,
  });
  opts.log?.(`  minimized in ${m.accepted} steps (${m.tested} candidates tested${m.timedOut ? ', stopped at the time limit' : ''}) to ${m.wat.length} bytes of WAT and ${m.calls.length} call(s)`);
  return { path, minimized: { tested: m.tested, accepted: m.accepted, timedOut: m.timedOut, bytes: m.wat.length } };
}

function outcomeName(trap: string | null): string {
  if (trap === null) return 'ok';
  const code = trapCodeOf(trap);
  return code === null ? trap : TrapCode[code];
}

/** Runs cases until `count` or `minutes`; every finding is minimized and saved (one per kind). */
export async function fuzzDiff(opts: DiffFuzzOptions): Promise<DiffFuzzReport> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const size = opts.size ?? DEFAULT_SIZE;
  const outDir = opts.outDir ?? REGRESSIONS_DIR;
  const deadline = opts.minutes !== undefined ? started + opts.minutes * 60_000 : Infinity;
  const count = opts.count ?? (opts.minutes !== undefined ? Infinity : 100);
  const findings: SavedFinding[] = [];
  const outcomes: Record<string, number> = {};
  let spentMinimizing = 0;
  let cases = 0;
  let agreed = 0;
  const pool = new DiffPool({ timeLimitMs: opts.timeLimitMs });
  try {
    const maxFindings = opts.maxFindings ?? Infinity;
    for (let index = 0; index < count && now() - spentMinimizing < deadline && findings.length < maxFindings; index++) {
      const c = await generateCase(opts.seed, index, size);
      const f = await pool.run({ wasm: c.wasm, exportName: c.exportName, calls: c.calls, callDepth: c.callDepth });
      cases++;
      if (f === null) {
        agreed++;
        for (const e of await nativeExpectations(c.wasm, c.exportName, c.calls)) {
          const k = outcomeName(e.trap);
          outcomes[k] = (outcomes[k] ?? 0) + 1;
        }
      } else {
        opts.log?.(`case ${index} (seed ${opts.seed}): ${f.kind}: ${f.detail.split('\n')[0]}`);
        const earlier = findings.find((x) => x.path !== null && sameKind(f, x.finding));
        if (earlier) {
          findings.push({ index, finding: f, path: null, sameAs: earlier.path, minimized: null });
        } else {
          const t = now();
          // a hang is minimized with a quarter of the limit (every candidate that still hangs costs it)
          const hangPool = f.kind.startsWith('hang:') ? new DiffPool({ timeLimitMs: Math.max(15_000, pool.timeLimitMs / 4) }) : null;
          const saved = await minimizeAndSave(c, f, `npm run fuzz -- diff --seed ${opts.seed} (case ${index}, maxChoices ${size.maxChoices}, stepLimit ${size.stepLimit})`, {
            pool: hangPool ?? pool, minimizeSeconds: opts.minimizeSeconds ?? 300, outDir, now, log: opts.log,
          }).finally(() => hangPool?.close());
          spentMinimizing += now() - t;
          findings.push({ index, finding: f, sameAs: null, ...saved });
        }
      }
      const elapsed = now() - started - spentMinimizing;
      const total = Number.isFinite(count) ? count : Math.max(cases, Math.round((cases * (deadline - started)) / Math.max(1, elapsed)));
      opts.onProgress?.(cases, total, elapsed);
    }
  } finally {
    await pool.close();
  }
  return { seed: opts.seed, cases, agreed, findings, outcomes, elapsedMs: now() - started, stoppedEarly: findings.length >= (opts.maxFindings ?? Infinity) && cases < count };
}
