// conformance/run.ts — `npm run conformance [-- DIR] [--only a,b] [--max-steps N]`.
//
// Runs every WebAssembly spec test script in DIR (wast2json output; default
// ../shared/spec-tests/json relative to the repository root) through wasmformer
// (conformance/spec.ts) and prints conformance/report.ts's table; the last line is
// "N passed, M failed, K unsupported". Exit status: 0 when nothing failed, 1 when
// something did, 2 when there is nothing to run. Progress goes to stderr on a terminal
// only, so piped output is just the report.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listScripts, loadScript, resolveSuiteDir } from './script.js';
import { DEFAULT_MAX_STEPS, runScript, type ScriptReport } from './spec.js';
import { formatReport } from './report.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SUITE = resolve(REPO_ROOT, '../shared/spec-tests/json');

interface Args {
  dir: string;
  only: Set<string> | null;
  maxSteps: number;
  /** per script */
  timeBudgetMs: number | undefined;
}

const USAGE = 'usage: npm run conformance [-- DIR] [--only NAME,NAME] [--max-steps N] [--time-budget SECONDS]';

function parseArgs(argv: string[]): Args | Error {
  // npm runs scripts in the package root; a relative DIR means the caller's directory.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const args: Args = { dir: DEFAULT_SUITE, only: null, maxSteps: DEFAULT_MAX_STEPS, timeBudgetMs: undefined };
  let dirGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--time-budget') {
      const v = Number(argv[++i]);
      if (!(v > 0)) return new Error(`--time-budget must be a positive number of seconds, got "${argv[i]}"`);
      args.timeBudgetMs = v * 1000;
      continue;
    }
    if (a === '--only' || a === '--max-steps') {
      const v = argv[++i];
      if (v === undefined) return new Error(`${a} needs a value; ${USAGE}`);
      if (a === '--only') args.only = new Set(v.split(',').filter(Boolean));
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) return new Error(`--max-steps must be a positive integer, got "${v}"`);
        args.maxSteps = n;
      }
    } else if (a === '-h' || a === '--help') {
      return new Error(USAGE);
    } else if (a.startsWith('-') || dirGiven) {
      return new Error(`unexpected argument "${a}"; ${USAGE}`);
    } else {
      args.dir = resolve(cwd, a);
      dirGiven = true;
    }
  }
  return args;
}

function progress(enabled: boolean): { show: (text: string) => void; clear: () => void } {
  if (!enabled) return { show: () => {}, clear: () => {} };
  let last = 0;
  return {
    show: (text) => {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      process.stderr.write(`\r\x1b[K${text}`);
    },
    clear: () => process.stderr.write('\r\x1b[K'),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args instanceof Error) {
    console.error(`error: ${args.message}`);
    return 2;
  }
  const dir = resolveSuiteDir(args.dir);
  if (dir instanceof Error) {
    console.error(`error: ${dir.message}`);
    return 2;
  }
  const refs = listScripts(dir).filter((r) => !args.only || args.only.has(r.name));
  if (refs.length === 0) {
    console.error(`error: no scripts${args.only ? ` named ${[...args.only].join(', ')}` : ''} in ${dir}`);
    return 2;
  }
  const bar = progress(process.stderr.isTTY === true);
  const reports: ScriptReport[] = [];
  for (const [k, ref] of refs.entries()) {
    const tag = `[${k + 1}/${refs.length}] ${ref.name}`;
    bar.show(tag);
    const script = loadScript(ref);
    const empty = (detail: string): ScriptReport => ({
      script: ref.name, passed: 0, failed: 1, unsupported: 0, unsupportedI32: 0, rejectChecks: 0, rejectPassed: 0, reasons: new Map(), reasonsI32: new Map(),
      failures: [`${ref.name}: ${detail}`], oracleNotes: [], memoryCopies: 0, invokes: 0, steps: 0, ms: 0,
    });
    if (script instanceof Error) {
      reports.push(empty(script.message));
      continue;
    }
    try {
      reports.push(await runScript(script, { maxSteps: args.maxSteps, timeBudgetMs: args.timeBudgetMs, onCommand: (d, n) => bar.show(`${tag} ${d}/${n}`) }));
    } catch (e) {
      // A bug of this runner, not of the compiler; still a failure, and the other scripts run.
      reports.push(empty(`conformance runner crashed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`));
    }
  }
  bar.clear();
  console.log(formatReport(reports));
  return reports.some((r) => r.failed > 0) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    process.exitCode = 2;
  },
);
