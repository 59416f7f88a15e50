// test/trace_html.test.ts — `run --trace-html` and the per-step trace data it is built from.
//
// 1. The data: run with RunOptions.traceDetail on samples and C programs, replaying an independent
//    memory image (the data segments, the input, then each step's writes) and checking every
//    lookup head against it: a one-stage head (stage 0, the default 'unique' lookups) and a
//    stage-2 head ('timed' lookups) are an exact one-hot (one row, weight exactly 1) on a
//    row at the address its query asks for, holding the byte the image has there (or the sink
//    for a never-written address, byte 0); a stage-1 head weighs only rows at its address, with
//    weights summing to 1; the replayed image ends equal to the instance's memory. The writes are
//    checked against that final memory, the reads against the writes, so neither side can be
//    trivially empty (asserted).
// 2. The CLI: the page's embedded steps equal the `--trace-json` lines for a sample and for a C
//    program with input; the page is self-contained (no URL) and escapes module-provided names;
//    --json stays clean; sampling keeps the first/last steps and an even middle; one-line errors
//    for `-`, a symbolic link, and --trace-html-steps without --trace-html; a failed run still
//    writes its trace. 3. The viewer script runs against a stub DOM: keys and controls step through.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../index.js';
import { TransformerModel, type TraceEvent } from '../runtime/transformer.js';
import { decodeBase64 } from '../format/memory.js';
import { inputImage, resolveArgs, INPUT_ARG } from '../format/io.js';
import { readWasm, type OptLevel } from '../wasm-samples/c/c_samples.js';
import { readTraceHtml, TraceSampler, traceJsonOf, type TraceStep } from '../cli/trace_html.js';
import { TRACE_VIEWER_SCRIPT } from '../cli/trace_viewer.js';
import { runTraceViewer } from './support/fake_dom.js';

import { SAMPLES, cli, expectError } from './support/cli.js';

interface Program {
  name: string;
  bytes: () => Uint8Array | string;
  invoke: string;
  args: Array<number | typeof INPUT_ARG>;
  input?: string;
  /** Expect stores that a later load of the same step reads (pending rows). */
  pendingReads?: boolean;
  frames?: boolean;
  /** The run stores nothing. */
  noWrites?: boolean;
  /** The dense form (every head of a layer runs; the unused ones have zero queries). */
  dense?: boolean;
  /** Compiled with two-stage lookups (--lookup timed): stage-1 and stage-2 heads. */
  timed?: boolean;
}

const wat = (f: string) => () => readFileSync(join(SAMPLES, f), 'utf8');
const c = (src: string, opt: OptLevel) => () => readWasm(src, opt);

const PROGRAMS: Program[] = [
  { name: 'lookup.wat', bytes: wat('lookup.wat'), invoke: 'lookup', args: [66], noWrites: true },
  { name: 'copy_loop.wat', bytes: wat('copy_loop.wat'), invoke: 'copy_loop', args: [512, 2048, 8], pendingReads: true },
  { name: 'copy_loop.wat --dense', bytes: wat('copy_loop.wat'), invoke: 'copy_loop', args: [16, 256, 3], pendingReads: true, dense: true },
  { name: 'unaligned.wat', bytes: wat('unaligned.wat'), invoke: 'unaligned', args: [287454020, 1432778632, -1719109785] },
  { name: 'bubble.O2', bytes: c('bubble.c', 'O2'), invoke: 'bubble_sort', args: [10, 3] },
  { name: 'recursive.O0', bytes: c('recursive.c', 'O0'), invoke: 'fib', args: [5], frames: true },
  { name: 'copy_loop.wat --lookup timed', bytes: wat('copy_loop.wat'), invoke: 'copy_loop', args: [512, 2048, 8], pendingReads: true, timed: true },
  { name: 'recursive.O0 --lookup timed', bytes: c('recursive.c', 'O0'), invoke: 'fib', args: [5], frames: true, timed: true },
  { name: 'hello.O2', bytes: c('showcase/hello.c', 'O2'), invoke: 'compute', args: [INPUT_ARG], input: 'transformer', noWrites: true },
];

interface Traced {
  model: TransformerModel;
  events: TraceEvent[];
  memory: Uint8Array;
  results: number[];
  output: string;
}

async function traced(p: Program): Promise<Traced> {
  const src = p.bytes();
  const m = await compile(src, { filename: p.name, routing: p.dense ? 'onehot' : 'gather', lookup: p.timed ? 'timed' : 'unique' });
  expect(m.layout.routing).toBe(p.dense ? 'onehot' : 'gather');
  const model = await TransformerModel.load(m.onnx);
  const mem = model.newMemory();
  const at = model.inputAddress();
  if (p.input !== undefined) mem.write(model.layout.memory!, at!, inputImage(p.input));
  const args = resolveArgs(p.args, at, p.invoke);
  const events: TraceEvent[] = [];
  const [o] = await model.runBatch(p.invoke, [args], [mem], { traceDetail: true, trace: (ev) => events.push(ev) });
  const { decodeMemory } = await import('../runtime/transformer.js');
  return { model, events, memory: decodeMemory(model.layout.memory!, mem), results: o.results, output: new TextDecoder().decode(o.output) };
}

describe('trace detail: writes and lookup heads against a replayed memory image', () => {
  for (const p of PROGRAMS) {
    it(`${p.name} ${p.invoke}(${p.args.join(', ')})`, async () => {
      const t = await traced(p);
      const L = t.model.layout;
      const mem = L.memory!;
      expect(L.attention.length, 'the model exposes its attention layers').toBeGreaterThan(0);
      // the image: data segments, the input, then each step's writes (frames live above memBytes)
      const image = new Map<number, number>();
      for (const seg of mem.data) decodeBase64(seg.base64).forEach((b, i) => image.set(seg.offset + i, b));
      if (p.input !== undefined) inputImage(p.input).forEach((b, i) => image.set(t.model.inputAddress()! + i, b));
      let stage2 = 0;
      let hits = 0;
      let pendingHits = 0;
      let frameReads = 0;
      let writes = 0;
      for (const ev of t.events) {
        const d = ev.detail!;
        expect(d, `step ${ev.step} has its detail`).toBeDefined();
        // a load sees the stores of its own block made before it: apply them in store order as
        // the pending rows the heads read (their bytes are this step's writes)
        const thisStep = new Map<number, number[]>();
        for (const [a, b] of d.writes) thisStep.set(a, [...(thisStep.get(a) ?? []), b]);
        for (const r of d.reads) {
          const at = `step ${ev.step} ${ev.block} layer ${r.layer} head ${r.head}`;
          expect(r.stage === 0, `${at}: one-stage heads exactly in a 'unique' model`).toBe(!p.timed);
          expect(r.addr, at).toBeGreaterThanOrEqual(0);
          expect(r.rows.length, `${at}: some row has weight`).toBeGreaterThan(0);
          if (r.stage === 0 || r.stage === 2) {
            stage2++;
            // exactly one row, weight exactly 1 (every other of r.cols rows exactly 0)
            expect(r.rows.length, at).toBe(1);
            const [src, , w, addr, value] = r.rows[0];
            expect(w, at).toBe(1);
            if (src === 's') {
              expect(image.has(r.addr) && image.get(r.addr) !== 0, `${at}: the sink is picked only for a never-written (or zero) address`).toBe(false);
              expect(value).toBe(0);
            } else {
              expect(addr, `${at}: the row picked holds the address read`).toBe(r.addr);
              if (src === 'p') {
                pendingHits++;
                expect(thisStep.get(addr), `${at}: a pending row is a store of this step`).toContain(value);
                expect(r.rows[0][5], `${at}: written at this step's position`).toBe(d.pos);
              } else {
                expect(value, `${at}: the byte the memory holds there`).toBe(image.get(addr) ?? 0);
              }
              hits++;
            }
            if (r.addr >= mem.memBytes) frameReads++;
          } else {
            const sum = r.rows.reduce((s, x) => s + x[2], 0);
            expect(Math.abs(sum - 1), `${at}: weights sum to 1`).toBeLessThan(1e-6);
            for (const x of r.rows) if (x[0] !== 's') expect(x[3], `${at}: stage 1 weighs rows at its address only`).toBe(r.addr);
          }
        }
        for (const [a, b] of d.writes) image.set(a, b);
        writes += d.writes.length;
      }
      expect(stage2, 'the run reads memory').toBeGreaterThan(0);
      expect(hits, 'some read finds a written row').toBeGreaterThan(0);
      if (p.pendingReads) expect(pendingHits, 'a load reads a store of its own step').toBeGreaterThan(0);
      if (p.frames) expect(frameReads, 'returns read call frames').toBeGreaterThan(0);
      // the replayed image is the instance's memory
      const mine = new Uint8Array(mem.memBytes);
      for (const [a, b] of image) if (a < mem.memBytes) mine[a] = b;
      expect(Buffer.from(mine).equals(Buffer.from(t.memory)), 'replayed writes give the final memory').toBe(true);
      if (!p.noWrites) expect(writes, 'the run writes memory').toBeGreaterThan(0);
      // next pc chains the steps, the last one halts
      t.events.forEach((ev, i) => {
        if (i + 1 < t.events.length) expect(ev.detail!.next).toBe(t.events[i + 1].pc);
      });
      expect(t.events.at(-1)!.detail!.next).toBe(L.experts.length);
      if (p.input !== undefined) expect(t.events.map((e) => e.detail!.out).flat().map((x) => String.fromCharCode(x)).join('')).toBe(t.output);
    }, 120_000);
  }
});

describe('TraceSampler', () => {
  const step = (n: number): TraceStep => ({ step: n, pc: n % 3, block: 'b', args: [n] });
  it('keeps a run of at most `limit` steps whole', () => {
    const s = new TraceSampler(100, 3);
    for (let i = 1; i <= 100; i++) s.add(step(i));
    const r = s.result();
    expect(r.steps.map((x) => x.step)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(r.stride).toBe(0);
  });
  it('keeps the first half, the last quarter and an even sample in between', () => {
    const s = new TraceSampler(100, 3);
    const N = 100_003;
    for (let i = 1; i <= N; i++) s.add(step(i));
    const r = s.result();
    const kept = r.steps.map((x) => x.step);
    expect(r.total).toBe(N);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(kept.slice(-25)).toEqual(Array.from({ length: 25 }, (_, i) => N - 24 + i));
    const mid = kept.slice(50, -25);
    expect(mid.length).toBeGreaterThan(10);
    const gaps = new Set(mid.slice(1).map((x, i) => x - mid[i]));
    expect([...gaps]).toEqual([r.stride]);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(r.visits.reduce((a, b) => a + b, 0)).toBe(N);
    expect(r.visits[1]).toBe(Math.floor((N - 1) / 3) + 1);
  });
});



let dir = '';
const tmp = (name: string) => join(dir, name);
const jsonLines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceStep);

// a module whose names would break the page if they were not escaped
const HOSTILE = `(module
  (memory 1)
  (func (export "</script><img src=x onerror=alert(1)>") (param i32) (result i32)
    (i32.store (i32.const 8) (local.get 0))
    (i32.load (i32.const 8))))`;
const HOSTILE_NAME = '</script><img src=x onerror=alert(1)>';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmformer-trace-'));
  writeFileSync(tmp('hostile.wat'), HOSTILE);
  writeFileSync(tmp('bigadd.wasm'), readWasm('showcase/bigadd.c', 'O2'));
  const rs = await Promise.all([
    cli('compile', join(SAMPLES, 'lookup.wat'), '-o', tmp('lookup.onnx'), '--quiet'),
    cli('compile', tmp('bigadd.wasm'), '-o', tmp('bigadd.onnx'), '--quiet'),
    cli('compile', tmp('hostile.wat'), '-o', tmp('hostile.onnx'), '--quiet'),
  ]);
  for (const r of rs) expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('wasmformer run --trace-html', () => {
  it('a sample: the page embeds exactly the --trace-json steps; --json stays clean', async () => {
    const [j, h] = await Promise.all([
      cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--trace-json', '--', '66'),
      cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--json', '--trace-html', tmp('lookup.html'), '--', '66'),
    ]);
    expect(j.code, j.stderr).toBe(0);
    expect(h.code, h.stderr).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual({ results: [6], steps: 1, trap: null });
    expect(h.stderr).toBe('');
    const lines = jsonLines(j.stderr);
    const page = readTraceHtml(readFileSync(tmp('lookup.html'), 'utf8'));
    expect(page.steps).toEqual(lines);
    expect(page.total).toBe(1);
    // lookup(66) reads the table word at 4·66 = 264: its low byte (5) is a data-segment row
    // both at once: stderr stays pure JSON Lines, and the page holds the same steps
    const both = await cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--trace-json', '--trace-html', tmp('both.html'), '--', '66');
    expect(both.code, both.stderr).toBe(0);
    expect(jsonLines(both.stderr)).toEqual(lines);
    expect(readTraceHtml(readFileSync(tmp('both.html'), 'utf8')).steps).toEqual(lines);
    const byte0 = lines[0].reads as Array<{ stage: number; addr: number; rows: unknown[][] }>;
    const s2 = byte0.find((r) => r.stage === 0 && r.addr === 264)!;
    expect(s2.rows).toEqual([['c', s2.rows[0][1], 1, 264, 5, 0]]);
  }, 120_000);

  it('a C program with input: the same steps as --trace-json, output and memory writes included', async () => {
    const args = ['run', tmp('bigadd.onnx'), '--invoke', 'compute', '--input', '12345+6789'];
    const [j, h] = await Promise.all([cli(...args, '--trace-json', '--', '@input'), cli(...args, '--trace-html', tmp('bigadd.html'), '--', '@input')]);
    expect(j.code, j.stderr).toBe(0);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toBe('19134\n');
    expect(h.stderr).toMatch(/wrote .*bigadd\.html: (\d+) of \1 steps, \d+ bytes/);
    const lines = jsonLines(j.stderr.split('\n').filter((l) => l.startsWith('{')).join('\n'));
    const html = readFileSync(tmp('bigadd.html'), 'utf8');
    const page = readTraceHtml(html);
    expect(page.steps.length).toBeGreaterThan(30);
    expect(page.steps).toEqual(lines);
    expect(page.input).toBe('12345+6789');
    expect(page.outcome.output).toBe('19134\n');
    expect(lines.map((l) => l.out as number[]).flat().map((x) => String.fromCharCode(x)).join('')).toBe('19134\n');
    expect(lines.some((l) => (l.writes as unknown[]).length > 0)).toBe(true);
    // the heads are named from the inspect metadata, and the IR is there
    const b = Object.values(page.blocks).find((x) => Object.keys(x.heads).length > 0)!;
    expect(Object.values(b.heads)[0][0]).toMatch(/\.lookup$/);
    expect(b.ir!.length).toBeGreaterThan(0);
    // self-contained: no URL at all, no external script or style
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script[^>]+src=|<link /);
  }, 120_000);

  it('escapes module-provided names and keeps them intact in the data', async () => {
    const r = await cli('run', tmp('hostile.onnx'), '--invoke', HOSTILE_NAME, '--trace-html', tmp('hostile.html'), '--', '7');
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(tmp('hostile.html'), 'utf8');
    expect(html).not.toContain('<img');
    expect(html.match(/<\/script>/g)!.length).toBe(2); // the data's and the viewer's own
    const page = readTraceHtml(html);
    expect(page.invoke).toBe(HOSTILE_NAME);
    expect(page.steps[0].block.startsWith(HOSTILE_NAME)).toBe(true);
    expect(page.outcome.results).toEqual([7]);
  }, 60_000);

  it('samples long runs: the first and last steps and an even middle, each equal to its --trace-json line', async () => {
    const model = tmp('bigadd.onnx');
    const run = ['run', model, '--invoke', 'compute', '--input', '9'.repeat(60) + '+1'];
    const [j, h] = await Promise.all([cli(...run, '--trace-json', '--', '@input'), cli(...run, '--trace-html', tmp('long.html'), '--trace-html-steps', '40', '--quiet', '--', '@input')]);
    expect(h.code, h.stderr).toBe(0);
    const lines = jsonLines(j.stderr.split('\n').filter((l) => l.startsWith('{')).join('\n'));
    const page = readTraceHtml(readFileSync(tmp('long.html'), 'utf8'));
    expect(page.total).toBe(lines.length);
    expect(lines.length).toBeGreaterThan(200);
    expect(page.steps.length).toBeLessThanOrEqual(40);
    expect(page.steps.slice(0, 20)).toEqual(lines.slice(0, 20));
    expect(page.steps.slice(-10)).toEqual(lines.slice(-10));
    for (const s of page.steps) expect(s).toEqual(lines[s.step - 1]);
    expect(page.stride).toBeGreaterThan(1);
    expect(page.visits.reduce((a, b) => a + b, 0)).toBe(lines.length);
  }, 120_000);

  it('refuses - and symbolic links, and a failed run still writes its trace', async () => {
    symlinkSync(tmp('target.html'), tmp('link.html'));
    const [dash, link, lonely, limit, dev] = await Promise.all([
      cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--trace-html', '-', '--', '66'),
      cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--trace-html', tmp('link.html'), '--', '66'),
      cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--trace-html-steps', '10', '--', '66'),
      cli('run', tmp('bigadd.onnx'), '--invoke', 'compute', '--input', '1+1', '--max-steps', '5', '--trace-html', tmp('limit.html'), '--', '@input'),
      cli('run', tmp('lookup.onnx'), '--invoke', 'lookup', '--trace-html', '/dev/null', '--', '66'),
    ]);
    expectError(dev, /refusing to write '\/dev\/null': it is not a regular file \(a device, FIFO or socket\)$/);
    expectError(dash, /--trace-html needs a file name/, true);
    expectError(link, /refusing to write .*link\.html': it is a symbolic link \(give the real path\)$/);
    expect(existsSync(tmp('target.html'))).toBe(false);
    expectError(lonely, /--trace-html-steps needs --trace-html/, true);
    expectError(limit, /step limit exceeded/);
    const page = readTraceHtml(readFileSync(tmp('limit.html'), 'utf8'));
    expect(page.steps.length).toBe(5);
    expect(page.outcome.error).toMatch(/step limit exceeded/);
  }, 120_000);
});

describe('the trace viewer (stub DOM)', () => {
  it('steps through with keys and controls and shows the one-hot of each lookup', async () => {
    const t = await traced(PROGRAMS[1]);
    const { renderTraceHtml } = await import('../cli/trace_html.js');
    const s = new TraceSampler(1000, t.model.layout.experts.length);
    for (const ev of t.events) s.add(traceJsonOf(ev));
    const html = renderTraceHtml({ title: 'copy_loop.onnx', invoke: 'copy_loop', args: [512, 2048, 8], layout: t.model.layout, inspect: null, sample: s.result(), outcome: { results: t.results, trap: null, steps: t.events.length, output: '' } });
    const json = /id="wf-trace">([^<]*)</.exec(html)![1];
    const p = runTraceViewer(TRACE_VIEWER_SCRIPT, json, '#step3');
    const cur = () => p.window.wfTrace!.current().step;
    expect(cur()).toBe(3);
    p.key('ArrowRight');
    expect(cur()).toBe(4);
    p.key('ArrowLeft');
    p.key('ArrowLeft');
    expect(cur()).toBe(2);
    expect(p.location.hash).toBe('#step2');
    const text = p.byId.get('step')!.textContent;
    expect(text).toContain('copy_loop:block1');
    expect(text).toContain('memory writes (4)');
    expect(text).toContain('one-hot: weight 1 on 1 row');
    expect(text).toContain('pending 0 (this step)');
    // the strip lights exactly the picked row of each head: 2 word loads, one head a byte
    const on = p.byId.get('step')!.find((e) => e.tagName === 'i' && e.className === 'on');
    expect(on.length).toBe(8);
    p.key('End');
    expect(cur()).toBe(t.events.length);
    p.byId.get('first')!.dispatch('click');
    expect(cur()).toBe(1);
    expect(p.byId.get('list')!.children.length).toBe(t.events.length);
  }, 120_000);
});
