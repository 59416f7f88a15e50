// test/package.test.ts — the library as a user imports it, and the packed tarball as a user installs it.
//
// 1. Resolves the package's own entry (package.json "exports" → dist/, built by `npm install`'s prepare
//    step) and checks the documented flow: compile WAT text, instantiate on ONNX Runtime, invoke twice
//    with memory kept across calls, and a trap reported as a result.
// 2. `npm pack`, then `npm install ./wasmformer-VERSION.tgz` in a fresh directory with default npm
//    settings (no ONNXRUNTIME_NODE_INSTALL, no npm_config_* from the calling npm): the install must
//    not try to download CUDA binaries (scripts/preinstall.cjs), print no warning about the project's
//    config, ship no tests/benchmarks/CI files, and `npx wasmformer --version`, a compile and a run
//    must work from the installed copy (bin → dist/).

import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

const WAT = `(module (memory 1)
  (func (export "bump") (param $a i32) (result i32)
    (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
    (i32.load (local.get $a))))`;

describe('package entry', () => {
  it('compiles, instantiates and keeps memory across invoke calls', async () => {
    const { compile, instantiate, CompileError } = await import('wasmformer');
    const model = await compile(WAT, { filename: 'bump.wat' });
    expect(model.stats.layers).toBeGreaterThan(0);
    const inst = await instantiate(model);
    expect(await inst.invoke('bump', [100])).toMatchObject({ results: [1], trap: null });
    expect(await inst.invoke('bump', [100])).toMatchObject({ results: [2], trap: null });
    expect(await inst.invoke('bump', [200])).toMatchObject({ results: [1], trap: null });
    expect((await inst.invoke('bump', [65535])).trap).toBe('out of bounds memory access');
    expect(inst.memory()[100]).toBe(2);
    await expect(compile('(module (func (export "m") (result i32) (i32.trunc_f32_s (f32.const 3))))', { filename: 'm.wat' })).rejects.toBeInstanceOf(CompileError);
  });
});

/** The environment of a user's shell: nothing from the npm running these tests, no onnxruntime-node flags. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || /^ONNXRUNTIME_NODE_INSTALL/.test(k) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return env;
}

function sh(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: userEnv(), maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('packed tarball', () => {
  it('installs in a clean directory with default npm settings, and its bin compiles and runs', { timeout: 600_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'wasmformer-pack-'));
    try {
      const pack = await sh('npm', ['pack', '--json', '--pack-destination', work], ROOT);
      expect(pack.code, pack.stderr).toBe(0);
      expect(pack.stderr).not.toMatch(/Unknown (project|user|cli) config/);
      const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
      const files = info.files.map((f) => f.path);
      expect(files).toContain('bin/wasmformer.mjs');
      expect(files).toContain('dist/cli/bin.js');
      expect(files).toContain('dist/index.js');
      expect(files).toContain('scripts/preinstall.cjs');
      expect(files.filter((f) => /^(test|bench|\.ci|wasm-samples|dist\/test|dist\/bench)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);

      const proj = join(work, 'proj');
      mkdirSync(proj);
      writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
      const install = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, info.filename)], proj);
      expect(install.code, install.stderr).toBe(0);
      expect(install.stderr).not.toMatch(/nuget|ENOTFOUND|Unknown (project|user|cli) config/);
      const installed = JSON.parse(readFileSync(join(proj, 'node_modules', 'wasmformer', 'package.json'), 'utf8')) as { version: string };

      const version = await sh('npx', ['--no-install', 'wasmformer', '--version'], proj);
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout.trim()).toBe(`wasmformer ${installed.version}`);

      writeFileSync(join(proj, 'add.wat'), '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))');
      const comp = await sh('npx', ['--no-install', 'wasmformer', 'compile', 'add.wat', '-o', 'add.onnx', '--json'], proj);
      expect(comp.code, comp.stderr).toBe(0);
      expect(JSON.parse(comp.stdout).layers).toBeGreaterThan(0);
      const run = await sh('npx', ['--no-install', 'wasmformer', 'run', 'add.onnx', '--invoke', 'add', '--json', '--', '40', '2'], proj);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ results: [42], trap: null });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
