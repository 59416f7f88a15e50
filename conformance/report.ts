// conformance/report.ts — the text `npm run conformance` prints from the script reports.
//
// A table (one row per script: passed, failed, unsupported, how many of the unsupported
// have an i32 signature, assert_invalid/assert_malformed rejected of checked (these are
// part of passed/failed), seconds, transformer invocations, the script's most common
// unsupported reason), the most common unsupported reasons over all scripts, those of the
// i32-signature asserts alone (with the scripts they come from), the top three of each
// script, every failure (one line each), the i32 coverage ("i32-signature asserts: N, ran R,
// unsupported K (x%)"), and a last line that is exactly "N passed, M failed, K unsupported".

import type { ScriptReport } from './spec.js';

/** The counts a report sums over scripts. */
export type Totals = Pick<ScriptReport, 'passed' | 'failed' | 'unsupported' | 'unsupportedI32' | 'rejectChecks' | 'rejectPassed'>;

export function totals(reports: readonly ScriptReport[]): Totals {
  const t: Totals = { passed: 0, failed: 0, unsupported: 0, unsupportedI32: 0, rejectChecks: 0, rejectPassed: 0 };
  for (const r of reports) {
    t.rejectChecks += r.rejectChecks;
    t.rejectPassed += r.rejectPassed;
    t.passed += r.passed;
    t.failed += r.failed;
    t.unsupported += r.unsupported;
    t.unsupportedI32 += r.unsupportedI32;
  }
  return t;
}

/** Reasons summed over reports (all of them, or only the i32-signature asserts'), most common first (ties by name). */
export function topReasons(reports: readonly ScriptReport[], n: number, of: 'reasons' | 'reasonsI32' = 'reasons'): Array<[string, number]> {
  const all = new Map<string, number>();
  for (const r of reports) for (const [k, c] of r[of]) all.set(k, (all.get(k) ?? 0) + c);
  return [...all].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}

/** The last line: "N passed, M failed" and ", K unsupported". */
export function finalLine(t: Totals): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.unsupported} unsupported`;
}

function table(head: string[], rows: string[][], leftCols: ReadonlySet<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (leftCols.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function scriptTable(reports: readonly ScriptReport[]): string {
  const head = ['script', 'passed', 'failed', 'unsupported', 'of which i32', 'rejects ok', 'seconds', 'invokes', 'top unsupported reason'];
  const row = (name: string, r: Totals, ms: number, invokes: number, top: string) => [
    name, String(r.passed), String(r.failed), String(r.unsupported), String(r.unsupportedI32),
    `${r.rejectPassed}/${r.rejectChecks}`, (ms / 1000).toFixed(1), String(invokes), top,
  ];
  const rows = reports.map((r) => {
    const [top] = topReasons([r], 1);
    return row(r.script, r, r.ms, r.invokes, top ? `${top[1]}x ${top[0]}` : '');
  });
  const ms = reports.reduce((s, r) => s + r.ms, 0);
  const invokes = reports.reduce((s, r) => s + r.invokes, 0);
  rows.push(row('TOTAL', totals(reports), ms, invokes, ''));
  return table(head, rows, new Set([0, head.length - 1]));
}

export function formatReport(reports: readonly ScriptReport[], opts: { maxFailures?: number; topReasons?: number; topReasonsI32?: number } = {}): string {
  const out: string[] = [scriptTable(reports), ''];
  const top = topReasons(reports, opts.topReasons ?? 12);
  if (top.length) {
    out.push('most common unsupported reasons:');
    for (const [k, n] of top) out.push(`  ${String(n).padStart(5)}  ${k}`);
    out.push('');
  }
  const topI32 = topReasons(reports, opts.topReasonsI32 ?? 40, 'reasonsI32');
  if (topI32.length) {
    out.push('unsupported reasons of i32-signature asserts (script: count):');
    for (const [k, n] of topI32) {
      const where = reports.filter((r) => r.reasonsI32.has(k)).map((r) => `${r.script}: ${r.reasonsI32.get(k)}`).join(', ');
      out.push(`  ${String(n).padStart(5)}  ${k} (${where})`);
    }
    out.push('');
  }
  const perScript = reports.filter((r) => r.reasons.size > 1);
  if (perScript.length) {
    out.push('top unsupported reasons per script:');
    for (const r of perScript) {
      out.push(`  ${r.script}: ${topReasons([r], 3).map(([k, n]) => `${n}x ${k}`).join(' | ')}`);
    }
    out.push('');
  }
  const failures = reports.flatMap((r) => r.failures);
  if (failures.length) {
    const max = opts.maxFailures ?? 100;
    out.push(`failures (${failures.length}):`);
    for (const f of failures.slice(0, max)) out.push(`  ${f}`);
    if (failures.length > max) out.push(`  ... and ${failures.length - max} more`);
    out.push('');
  }
  const notes = reports.flatMap((r) => r.oracleNotes);
  if (notes.length) {
    out.push(`V8 disagrees with the script (${notes.length}; not counted, check the runner):`);
    for (const n of notes.slice(0, 20)) out.push(`  ${n}`);
    out.push('');
  }
  const t = totals(reports);
  // Asserts of i32 signature: what the compiler is meant to cover (rejects counted apart).
  const ran = t.passed + t.failed - t.rejectChecks;
  const i32 = ran + t.unsupportedI32;
  const pct = i32 === 0 ? 0 : (100 * t.unsupportedI32) / i32;
  out.push(`assert_invalid/assert_malformed rejected: ${t.rejectPassed} of ${t.rejectChecks}`);
  const copies = reports.reduce((s, r) => s + r.memoryCopies, 0);
  if (copies > 0) out.push(`memory copied from V8 into the transformer after ${copies} call(s) it could not run`);
  out.push(`i32-signature asserts: ${i32}, ran ${ran}, unsupported ${t.unsupportedI32} (${pct.toFixed(1)}%)`);
  out.push(finalLine(t));
  return out.join('\n');
}
