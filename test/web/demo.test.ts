// test/web/demo.test.ts — the browser end to end (`npm run test:web`; not part of `npm test`, which
// must pass on a machine without a browser): playwright-core drives Debian's Chromium headless
// (/usr/bin/chromium, or $CHROMIUM; `.ci/run` installs the package).
//
// 1. The demo (web/): built into a temp folder and served on localhost, it must fetch nothing
//    from elsewhere; it compiles two samples in the page's compile worker (a WAT sample, stepped and
//    then run to the end, and a C program given an input text), pasted WAT (a syntax error located
//    by line and column, then a module that compiles) and an uploaded .wasm, runs them on
//    onnxruntime-web (wasm), and each outcome must equal native execution computed here in Node
//    (harness/native.ts, harness/io.ts) as well as the page's own native column.
// 2. The inspector report (`wasmformer inspect`, run as the CLI) opened from file://, a block picked.
// 3. WebGPU, in a Chromium given SwiftShader's software adapter (Debian's package ships it): a
//    sample and a C program with memory run on it to the end, agreeing with native.
// Each page's screenshot must not be blank (many colours, no colour covering nearly everything);
// with UPDATE_SCREENSHOTS=1 they are written to docs/demo.png and docs/inspect.png (the README's).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildDemo } from '../../web/build.js';
import { serveDir } from '../../web/serve.js';
import { runNative } from '../../harness/native.js';
import { runIo } from '../../harness/io.js';
import { readInspect } from '../../format/inspect.js';
import { compile } from '../../compile.js';
import { colourStats, decodePng } from './png.js';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';

let tmp: string;
let server: Server;
let url: string;
let browser: Browser;
const external: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM=/path/to/chromium)`);
  tmp = mkdtempSync(join(tmpdir(), 'wasmformer-web-'));
  await buildDemo({ outdir: join(tmp, 'dist') });
  ({ url, server } = await serveDir(join(tmp, 'dist'), 0));
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function newPage(on: Browser = browser): Promise<Page> {
  const page = await on.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(url) && !/^(blob|data|file):/.test(u)) external.push(u);
  });
  return page;
}

interface LastRun {
  sample: string;
  export: string;
  provider: string;
  transformer: { results: number[]; trap: string | null; steps: number; output: number[] } | null;
  native: { results: number[]; trap: string | null; output: number[] } | null;
  agree: boolean | null;
  error: string | null;
  fallback: string | null;
}

async function settle(page: Page, states: string[], timeout = 120_000): Promise<string> {
  await page.waitForSelector(states.map((s) => `body[data-state=${s}]`).join(', '), { timeout });
  return (await page.getAttribute('body', 'data-state')) ?? '';
}

async function compileIn(page: Page): Promise<void> {
  await page.click('#compile');
  const s = await settle(page, ['compiled', 'error']);
  expect(s, (await page.textContent('#status')) ?? '').toBe('compiled');
}

async function runToEnd(page: Page): Promise<LastRun> {
  await page.click('#run');
  const s = await settle(page, ['done', 'error']);
  const last = await page.evaluate(() => window.wfDemo.last as unknown);
  expect(s, JSON.stringify(last)).toBe('done');
  return last as LastRun;
}

function expectNotBlank(png: Uint8Array, what: string): void {
  const img = decodePng(png);
  const { colours, commonest } = colourStats(img);
  expect(colours, `${what}: distinct colours`).toBeGreaterThan(64);
  expect(commonest, `${what}: share of the commonest colour`).toBeLessThan(0.95);
}

function saveScreenshot(png: Uint8Array, name: string): void {
  if (!UPDATE) return;
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeFileSync(join(ROOT, 'docs', name), png);
}

describe('the browser demo', () => {
  it('compiles and runs samples in the page, step by step, agreeing with native execution in Node', async () => {
    const page = await newPage();
    await page.goto(url);
    await settle(page, ['ready'], 60_000);

    // a WAT sample: three single steps, then the rest
    await page.selectOption('#sample', 'wat/sum_to_n');
    await compileIn(page);
    await page.fill('#args', '10');
    for (let k = 1; k <= 3; k++) {
      await page.click('#step');
      await settle(page, ['paused']);
      await page.waitForFunction((n) => document.querySelectorAll('#trace tbody tr').length === n, k);
    }
    expect(await page.evaluate(() => window.wfDemo.compiledIn)).toBe('worker');
    expect(await page.textContent('#trace tbody tr:nth-child(1) td:nth-child(3)')).toBe('sum_to_n:block0');
    const stepped = await runToEnd(page);
    const sumNative = await runNative(new Uint8Array(readFileSync(join(ROOT, 'wasm-samples/sum_to_n.wasm'))), 'sum_to_n', [10]);
    expect(stepped.transformer).toMatchObject({ results: sumNative.results, trap: null });
    expect(sumNative.results).toEqual([55]);
    expect(stepped.native?.results).toEqual(sumNative.results);
    expect(stepped.agree).toBe(true);
    expect(await page.locator('#trace tbody tr').count()).toBe(stepped.transformer!.steps);

    // pasted WAT with a syntax error: a one-line error at its line and column
    await page.fill('#wat', '(module\n  (func (export "f") (result i32)\n    (i32.const 1))');
    await page.click('#compile');
    expect(await settle(page, ['compiled', 'error'])).toBe('error');
    expect(await page.textContent('#status')).toMatch(/^cannot assemble sum_to_n\.wat: line 3, column \d+: /);
    // pasted WAT that compiles
    await page.fill('#wat', '(module (func (export "twice") (param i32) (result i32) (i32.add (local.get 0) (local.get 0))))');
    await compileIn(page);
    await page.fill('#args', '-21');
    expect((await runToEnd(page)).transformer).toMatchObject({ results: [-42], trap: null });

    // a C program (clang -O2 binary) reading an input text and printing
    await page.selectOption('#sample', 'c/bigadd.O2');
    await compileIn(page);
    await page.fill('#args', '@input');
    await page.fill('#input', '99999999999999999999+1');
    const big = await runToEnd(page);
    const bigNative = await runIo(new Uint8Array(readFileSync(join(ROOT, 'wasm-samples/c/showcase/bigadd.O2.wasm'))), { invoke: 'compute', args: ['@input'], input: '99999999999999999999+1' });
    expect(bigNative.text).toBe('100000000000000000000\n');
    expect(big.transformer?.trap).toBeNull();
    expect(Buffer.from(big.transformer!.output).toString()).toBe(bigNative.text);
    expect(big.native?.output).toEqual(Array.from(bigNative.output));
    expect(big.agree).toBe(true);
    expect(big.provider).toBe('wasm');

    // an uploaded .wasm (compiled on upload), a trapping call
    await page.setInputFiles('#upload', join(ROOT, 'wasm-samples/oob.wasm'));
    await settle(page, ['compiled', 'error']);
    await page.selectOption('#export', 'load_at');
    await page.fill('#args', '131072');
    const oob = await runToEnd(page);
    const oobNative = await runNative(new Uint8Array(readFileSync(join(ROOT, 'wasm-samples/oob.wasm'))), 'load_at', [131072]);
    expect(oobNative.trap).toBe('out of bounds memory access');
    expect(oob.transformer?.trap).toBe(oobNative.trap);
    expect(oob.agree).toBe(true);

    // the picture: the C program again, after a run, a step of the trace picked
    await page.selectOption('#sample', 'c/hello.O2');
    await compileIn(page);
    // the model compiled in the page opens in the inspector (a blob: page, rendered in the page)
    const [report] = await Promise.all([page.context().waitForEvent('page'), page.click('#inspect')]);
    await report.waitForSelector('#list li');
    // one entry per expert of the model compiled in Node from the same module
    const hello = await compile(new Uint8Array(readFileSync(join(ROOT, 'wasm-samples/c/showcase/hello.O2.wasm'))), { filename: 'hello.O2.wasm' });
    expect(hello.layout.experts.length).toBeGreaterThan(3);
    expect(await report.locator('#list li').count()).toBe(hello.layout.experts.length);
    await report.close();
    await runToEnd(page);
    await page.click('#trace tbody tr:nth-child(6)');
    const shot = await page.screenshot();
    expectNotBlank(shot, 'demo');
    saveScreenshot(shot, 'demo.png');

    expect(pageErrors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
  });
});

describe('the inspector report', () => {
  it('opens from file:// and draws a block', async () => {
    const model = join(tmp, 'bigadd.onnx');
    const report = join(tmp, 'bigadd.html');
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'bin.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    cli('compile', join(ROOT, 'wasm-samples/c/showcase/bigadd.O2.wasm'), '-o', model);
    cli('inspect', model, '-o', report);
    const { info } = readInspect(new Uint8Array(readFileSync(model)));
    // the block with the most values in its slot chart
    const pc = info.experts.reduce((best, e) => (e.values.length > info.experts[best].values.length ? e.pc : best), 0);
    const page = await newPage();
    await page.goto(`${pathToFileURL(report).href}#pc${pc}`);
    await page.waitForSelector('#block svg', { timeout: 30_000 });
    expect(await page.locator('#list li').count()).toBe(info.experts.length);
    const shot = await page.screenshot();
    expectNotBlank(shot, 'inspector');
    saveScreenshot(shot, 'inspect.png');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

describe('WebGPU where the browser has it', () => {
  it("runs a sample and a C program with memory on WebGPU (SwiftShader's software adapter) to the end, agreeing with native", async () => {
    const gpu = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'] });
    try {
      const page = await newPage(gpu);
      await page.goto(url);
      await settle(page, ['ready'], 60_000);
      // Debian's chromium ships SwiftShader (/usr/lib/chromium/libvk_swiftshader.so): the adapter is there
      expect(await page.locator('#provider option[value=webgpu]').isDisabled(), 'WebGPU adapter (SwiftShader)').toBe(false);
      await page.selectOption('#sample', 'wat/sum_to_n');
      await page.selectOption('#provider', 'webgpu');
      await compileIn(page);
      const sum = await runToEnd(page);
      expect(sum).toMatchObject({ provider: 'webgpu', agree: true, fallback: null, transformer: { results: [55], trap: null } });
      // a model with memory runs on WebGPU too: onnxruntime-web 1.30's WebGPU Softmax refuses an
      // empty tensor, so an expert without heads in a layer keeps one zero-query head (emit_onnx.ts)
      await page.selectOption('#sample', 'c/bigadd.O2');
      await page.selectOption('#provider', 'webgpu');
      await compileIn(page);
      const big = await runToEnd(page);
      expect(big.agree).toBe(true);
      expect(Buffer.from(big.transformer!.output).toString()).toBe('19134\n');
      expect(big.provider).toBe('webgpu');
      expect(big.fallback).toBeNull();
      expect(pageErrors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await gpu.close();
    }
  });
});
