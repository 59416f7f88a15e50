// test/web_bundle.test.ts — the browser demo's bundle builds on any machine (no browser needed; the
// end to end in a browser is test/web/, `npm run test:web`): esbuild for platform 'browser' fails
// on any node: import, so the compiler, the runtime core, the native harness and the inspector page
// stay free of Node-only code; and the Node binding (onnxruntime-node) stays out of the bundle.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo, demoSamples, ORT_WASM_FILES } from '../web/build.js';

describe('the browser demo bundle', () => {
  it('builds for the browser, with the samples embedded and onnxruntime-web beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmformer-bundle-'));
    try {
      const r = await buildDemo({ outdir: join(dir, 'dist') });
      for (const f of ['main.js', 'index.html', ...ORT_WASM_FILES]) expect(r.files[f], f).toBeGreaterThan(0);
      const js = Object.keys(r.files).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(r.outdir, f), 'utf8')).join('\n');
      expect(js).not.toMatch(/onnxruntime-node|from\s*["']node:/);
      expect(js).toContain('sum_to_n');
      const samples = await demoSamples();
      expect(samples.map((s) => s.id)).toEqual(expect.arrayContaining(['wat/sum_to_n', 'c/hello.O2', 'c/bigadd.O2']));
      for (const s of samples) expect(s.calls.length, s.id).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
