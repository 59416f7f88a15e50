// test/regressions.test.ts — every saved differential case (test/regressions/, written by
// `npm run fuzz -- diff`) through native V8, the IR interpreter and the transformer.
//
// A closed case ("open": false) must agree in all three and native must still give the saved
// expectation; an open one (a known, unfixed bug) must still fail the same way, and when it does
// not, the test asks for it to be closed. The directory must exist (an empty corpus passes, a
// missing one does not), and every module needs its expectation file and vice versa.

import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runDiff } from '../fuzz/diff.js';
import { nativeExpectations } from '../fuzz/diff_fuzz.js';
import { loadRegressions, REGRESSIONS_DIR } from '../fuzz/regressions.js';

describe('saved regressions: native = IR interpreter = transformer', () => {
  it('the corpus directory exists and every case loads (module beside its expectation)', async () => {
    expect(existsSync(REGRESSIONS_DIR), `${REGRESSIONS_DIR} is missing`).toBe(true);
    const cases = await loadRegressions();
    const modules = readdirSync(REGRESSIONS_DIR).filter((f) => /\.(wat|wasm)$/.test(f));
    expect(cases.map((c) => c.name).sort()).toEqual(modules.map((f) => f.replace(/\.(wat|wasm)$/, '')).sort());
  });

  it('every case behaves as saved', { timeout: 900_000 }, async () => {
    const problems: string[] = [];
    for (const c of await loadRegressions()) {
      const native = await nativeExpectations(c.wasm, c.export, c.calls);
      if (JSON.stringify(native) !== JSON.stringify(c.expect)) {
        problems.push(`${c.name}: native V8 now gives ${JSON.stringify(native)}, the case expects ${JSON.stringify(c.expect)}`);
        continue;
      }
      const f = await runDiff({ wasm: c.wasm, exportName: c.export, calls: c.calls, callDepth: c.callDepth });
      if (c.open) {
        if (f === null) problems.push(`${c.name}: all three oracles agree now; if the bug is fixed, set "open": false in ${c.name}.json`);
        else if (f.kind !== c.finding.kind || f.signature !== c.finding.signature) {
          problems.push(`${c.name}: open case now fails differently: ${f.kind} (${f.detail.split('\n')[0]}), saved as ${c.finding.kind}`);
        }
      } else if (f !== null) {
        problems.push(`${c.name}: ${f.kind}: ${f.detail.split('\n')[0]}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
