// test/inspect.test.ts — the inspect metadata (backend/describe.ts, format/inspect.ts) and page (cli/inspect_*.ts).
//
// The slot chart must be the allocation checker's view: replaying the residual stream the way
// backend/check_allocation.ts does (definitions from node outputs at their points, clears from
// the allocation) gives, at every sublayer point, exactly the (slot, value) pairs the chart
// draws. IR links must say what the names say; roles follow the documented name rules; grids
// round-trip; validation errors are one line naming the field; the entry rides in the model
// without changing how it runs; the page holds every block's name, its static HTML is balanced,
// its JSON is the model's entry, and its viewer script runs (against test/support/fake_dom.ts)
// and draws one bar per value for every block. `wasmformer inspect` runs on every .wat sample
// and a few C samples (in-process: cli/main.ts's main()).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import { compile, instantiate } from '../index.js';
import { compileToIR } from '../frontend/index.js';
import { compileIR, type BackendResult } from '../backend/index.js';
import { describe as describeModel, densityGrid, densityLevel, stripTag, valueRole } from '../backend/describe.js';
import { nodeInputs } from '../backend/graph.js';
import type { PlacedExpert } from '../backend/assemble_weights.js';
import { attachInspect, decodeCells, decodeInspect, encodeCells, encodeInspect, encodeSparseCells, INSPECT_KEY, readInspect, validateInspect, VALUE_ROLES, type InspectInfo } from '../format/inspect.js';
import { LAYOUT_KEY } from '../format/layout.js';
import { RunError } from '../format/errors.js';
import { renderInspectHtml, blockName } from '../cli/inspect_html.js';
import { VIEWER_SCRIPT } from '../cli/inspect_viewer.js';
import { main } from '../cli/main.js';
import { SAMPLES_DIR } from '../wasm-samples/samples.js';
import { runViewer } from './support/fake_dom.js';

const { onnx } = onnxProto;
const C_SAMPLES = ['collatz.O2', 'recursive.O2', 'sieve.O2'];
const WAT_SAMPLES = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.wat')).sort();

async function backend(file: string): Promise<BackendResult> {
  const { ir } = await compileToIR(new Uint8Array(readFileSync(file)), { filename: file, maxMemoryPages: 240 });
  return compileIR(ir);
}

/** The checker's residual stream: at each point, slot → vreg after that point's definitions land, before its clears. */
function checkerOccupancy(p: PlacedExpert): Map<number, Map<number, number>> {
  const { graph, sched, alloc } = p;
  const defsAt = new Map<number, number[]>();
  const addDef = (pt: number, v: number) => defsAt.set(pt, [...(defsAt.get(pt) ?? []), v]);
  graph.embed.forEach((v) => addDef(-1, v));
  graph.nodes.forEach((n, i) => n.outputs.forEach((v) => addDef(sched.nodePoint[i], v)));
  const holder = new Map<number, number>();
  const out = new Map<number, Map<number, number>>();
  for (let pt = -1; pt <= sched.readoutPoint; pt++) {
    for (const v of defsAt.get(pt) ?? []) if (alloc.slot[v] >= 0) holder.set(alloc.slot[v], v);
    out.set(pt, new Map(holder));
    for (const v of alloc.clears.get(pt) ?? []) holder.delete(alloc.slot[v]);
  }
  return out;
}

function chartOccupancy(values: InspectInfo['experts'][number]['values'], readout: number): Map<number, Map<number, string>> {
  const out = new Map<number, Map<number, string>>();
  for (let pt = -1; pt <= readout; pt++) out.set(pt, new Map(values.filter((v) => v[3] <= pt && pt <= v[4]).map((v) => [v[2], v[0]])));
  return out;
}

const results = new Map<string, BackendResult>();
const infos = new Map<string, InspectInfo>();
const SLOT_SAMPLES = ['sum_to_n.wat', 'lookup.wat', 'array_sum.wat', 'unaligned.wat', 'fib.wat', 'block_results.wat'];

beforeAll(async () => {
  for (const s of SLOT_SAMPLES) {
    const r = await backend(join(SAMPLES_DIR, s));
    results.set(s, r);
    infos.set(s, describeModel(r));
  }
  const r = await backend(join(SAMPLES_DIR, 'c', 'recursive.O2.wasm'));
  results.set('recursive.O2', r);
  infos.set('recursive.O2', describeModel(r));
});

describe('slot chart', () => {
  it("equals the allocation checker's per-sublayer slot occupancy", () => {
    for (const [s, r] of results) {
      const info = infos.get(s)!;
      r.placed.forEach((p, i) => {
        const e = info.experts[i];
        expect(e.layers, s).toBe(p.sched.layers);
        const want = checkerOccupancy(p);
        const got = chartOccupancy(e.values, p.sched.readoutPoint);
        for (let pt = -1; pt <= p.sched.readoutPoint; pt++) {
          const w = [...want.get(pt)!].map(([slot, v]) => [slot, stripTag(p.graph.vregs[v].name, e.block)]).sort((a, b) => Number(a[0]) - Number(b[0]));
          const g = [...got.get(pt)!].sort((a, b) => a[0] - b[0]);
          expect(g, `${s} expert ${i} point ${pt}`).toEqual(w);
        }
      });
    }
  });

  it('has every value a node reads in its slot at the point that reads it', () => {
    for (const [s, r] of results) {
      r.placed.forEach((p, i) => {
        const occ = chartOccupancy(infos.get(s)!.experts[i].values, p.sched.readoutPoint);
        p.graph.nodes.forEach((n, k) => {
          for (const v of nodeInputs(n)) {
            const name = stripTag(p.graph.vregs[v].name, infos.get(s)!.experts[i].block);
            expect(occ.get(p.sched.nodePoint[k])!.get(p.alloc.slot[v]), `${s} ${n.role} reads ${name}`).toBe(name);
          }
        });
      });
    }
  });

  it('validates, and keeps widths, layers and lower bounds of the allocation', () => {
    for (const [s, r] of results) {
      const info = validateInspect(JSON.parse(JSON.stringify(infos.get(s))), s);
      info.experts.forEach((e, i) => {
        expect(e.dModel).toBe(r.placed[i].alloc.dModel);
        expect(e.maxLive).toBe(r.placed[i].alloc.maxLive);
        expect(e.criticalPath).toBeLessThanOrEqual(e.layers);
        expect(e.nodes.length).toBe(r.placed[i].graph.nodes.length);
        expect(blockName(e)).toBe(`${r.layout.experts[i].func}:block${r.layout.experts[i].block}`);
      });
    }
  });
});

describe('IR links and roles', () => {
  it('links a value named after an instruction to that instruction', () => {
    let checked = 0;
    for (const info of infos.values()) {
      for (const e of info.experts) {
        for (const [name, , , , , line] of [...e.values, ...e.nodes.map((n) => [n[2], 0, 0, 0, 0, n[4]] as const)]) {
          const op = /^([a-z0-9_]+?)_v(\d+)_v(\d+)(\.|$)/.exec(name);
          const val = /^v(\d+)(\.|$)/.exec(name);
          if (op) {
            expect(e.ir[line], name).toMatch(new RegExp(`= ${op[1]} v${op[2]}, v${op[3]}$`));
            checked++;
          } else if (val) {
            expect(e.ir[line], name).toMatch(new RegExp(`^(v${val[1]} =|block\\d+\\(.*\\bv${val[1]}\\b)`));
            checked++;
          } else if (/^(next|readout|br_if)\./.test(name)) {
            expect(line, name).toBe(e.ir.length - 1);
          } else if (/^(one|time\.|global\d|depth$)/.test(name)) expect(line, name).toBe(-1);
          else if (/^arg\d+\./.test(name)) expect(line, name).toBe(0);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('links loads and stores by result and by order', () => {
    const e = infos.get('unaligned.wat')!.experts.find((x) => x.ir.some((l) => / = load/.test(l)) && x.ir.some((l) => /^store/.test(l)))!;
    const loads = e.values.filter((v) => /^load_v\d+\./.test(v[0]));
    const stores = e.values.filter((v) => /^store\d+\./.test(v[0]));
    expect(loads.length).toBeGreaterThan(0);
    expect(stores.length).toBeGreaterThan(0);
    for (const v of loads) expect(e.ir[v[5]]).toMatch(new RegExp(`^v${/^load_v(\d+)/.exec(v[0])![1]} = load`));
    const storeLines = e.ir.map((l, i) => [l, i] as const).filter(([l]) => /^store/.test(l)).map(([, i]) => i);
    for (const v of stores) expect(v[5]).toBe(storeLines[Number(/^store(\d+)/.exec(v[0])![1])]);
  });

  it('colours values by the documented name rules', () => {
    const cases: Array<[string, (typeof VALUE_ROLES)[number]]> = [
      ['one', 'constant one'], ['arg0.lo', 'argument'], ['arg12.hi', 'argument'], ['global0.hi', 'global'], ['depth', 'global'],
      ['time.epoch3', 'time'], ['time.tick', 'time'], ['next.arg1.lo', 'next token'], ['v17.carry', 'carry'], ['v4.wrap', 'carry'],
      ['v17.lo_sum', 'limb'], ['and_v1_v2.a.lo.bit7', 'bit'], ['load_v5.a0.bit12', 'address bit'], ['store0.a1.q8', 'address bit'],
      ['load_v5.byte0.byte', 'byte'], ['store2.value.limb0.q12', 'byte'], ['load_v5.byte1.epoch_avg3', 'memory read'],
      ['load_v5.byte1.epoch3', 'memory read'], ['lt_u_v3_v4.lt', 'gate'], ['br_if.cond', 'gate'], ['select_v9.sel1', 'gate'],
      ['store0.valid', 'gate'], ['load_v13.guarded', 'gate'], ['cond_v9.both', 'gate'], ['trap1.first', 'gate'], ['br_table.leaf1', 'gate'], ['output.valid', 'gate'], ['shl_v1_v2.hi.copy', 'limb'], ['div_u_v1_v2.sd2.q5', 'bit'],
      ['div_u_v1_v2.st3.c7_3', 'carry'], ['weird', 'other'],
    ];
    for (const [name, role] of cases) expect(valueRole(name), name).toBe(role);
  });

  it("leaves no sample value uncoloured ('other') except the documented few", () => {
    for (const info of infos.values()) for (const e of info.experts) for (const v of e.values) if (VALUE_ROLES[v[1]] === 'other') expect(v[0]).toMatch(/(st\d+\.s?\d*|\.g\d+|count_is)/);
  });
});

describe('density grids', () => {
  it('round-trips cell encodings and grows runs past one letter', () => {
    const levels = [0, 0, 0, 15, 1, ...new Array<number>(45).fill(0), 7];
    const text = encodeCells(levels);
    expect(text).toBe('if1zzk7'); // 3 empty, 15, 1, 20 + 20 + 5 empty, 7
    expect(decodeCells(text)).toEqual(levels);
    expect(encodeSparseCells(levels.length, [3, 4, 50], (k) => levels[k])).toBe(text);
    expect(() => encodeSparseCells(4, [2, 1], () => 1)).toThrow(/out of order/);
    expect(decodeCells('0')).toBeNull();
    expect(decodeCells('g!')).toBeNull();
    expect(() => encodeCells([16])).toThrow(/outside/);
  });

  it('bins a map by its bounding box with log levels', () => {
    expect(densityLevel(0, 4)).toBe(0);
    expect(densityLevel(4, 4)).toBe(15);
    expect(densityLevel(1, 10_000)).toBe(1);
    const diag = { src: [0, 1, 2, 3, 4, 5, 6, 7], dst: [0, 1, 2, 3, 4, 5, 6, 7] };
    const full = densityGrid(diag, 8);
    expect([full.nIn, full.nOut, full.rows, full.cols]).toEqual([8, 8, 8, 8]);
    expect(decodeCells(full.cells)!.filter((l) => l > 0)).toHaveLength(8);
    const coarse = densityGrid(diag, 2);
    expect(decodeCells(coarse.cells)).toEqual([densityLevel(4, 16), 0, 0, densityLevel(4, 16)]);
  });

  it('covers every nonempty map of a sample and coarsens under a small budget', () => {
    const r = results.get('lookup.wat')!;
    const fine = describeModel(r, { maxBytes: 10 ** 9 });
    expect(fine.gridSide).toBe(32);
    expect(fine.experts[0].maps.map((m) => m[1])).toEqual(expect.arrayContaining(['q', 'out', 'up', 'down', 'next']));
    const budget = encodeInspect(fine).length - 1;
    const some = describeModel(r, { maxBytes: budget });
    expect(some.gridSide).toBe(8);
    expect(encodeInspect(some).length).toBeLessThanOrEqual(budget);
    expect(some.experts[0].maps.every((m) => m[5] <= 8 && m[6] <= 8)).toBe(true);
    const none = describeModel(r, { maxBytes: 1 });
    expect(none.gridSide).toBe(0);
    expect(none.experts[0].maps).toEqual([]);
    expect(none.experts[0].values).toEqual(fine.experts[0].values); // the charts are always kept
  });
});

describe('format validation', () => {
  const info = () => JSON.parse(JSON.stringify(infos.get('sum_to_n.wat'))) as InspectInfo;
  const fails = (mutate: (i: InspectInfo) => void, field: RegExp) => {
    const x = info();
    mutate(x);
    let err: unknown;
    try {
      validateInspect(x, 'm.onnx');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^m\.onnx: inspect field '/);
    expect(msg).toMatch(field);
  };

  it('names the field in one line', () => {
    fails((i) => ((i as { format: string }).format = 'x'), /'format' .*wasmformer-inspect\/1/);
    // a slot past the expert's width (its dModel)
    fails((i) => (i.experts[1].values[2][2] = 99), new RegExp(`'experts\\[1\\]\\.values\\[2\\]\\[2\\]' is 99, outside \\[0, ${info().experts[1].dModel - 1}\\]`));
    fails((i) => (i.experts[1].values[2][4] = -1), /'experts\[1\]\.values\[2\]\[4\]'/);
    fails((i) => (i.experts[1].values[2][1] = VALUE_ROLES.length), /values\[2\]\[1\]/);
    fails((i) => (i.experts[1].values[1] = ['x', 0, 2, -1, 1, 0]), /'experts\[1\]\.values' puts two values in slot 2/);
    fails((i) => (i.experts[1].nodes[0][0] = 2), /'experts\[1\]\.nodes\[0\]\[0\]' is 2: an MLP node sits at an odd point/);
    fails((i) => (i.experts[1].maps[0][7] = 'zz'), /maps\[0\]\[7\]' has 40 cells/);
    fails((i) => (i.experts[1].maps[0][7] = 'A'), /maps\[0\]\[7\]' must be density levels/);
    fails((i) => (i.experts[1].maps[0][1] = 'next'), /maps\[0\]\[0\]' is 1, not the readout point/);
    fails((i) => (i.experts[2].pc = 5), /'experts\[2\]\.pc' is 5, expected 2/);
    fails((i) => ((i.experts[0] as unknown as { ir: unknown }).ir = 'text'), /'experts\[0\]\.ir' must be an array/);
    fails((i) => (i.experts[0].values[0] = [1, 2, 3] as unknown as InspectInfo['experts'][0]['values'][0]), /values\[0\]' must have 6 entries/);
  });

  it('reads the entry beside the layout and refuses a missing, doubled or foreign one', async () => {
    const m = await compile(readFileSync(join(SAMPLES_DIR, 'sum_to_n.wat'), 'utf8'), { filename: 'sum_to_n.wat' });
    const { info, layout, entryBytes } = readInspect(m.onnx, 'sum.onnx');
    expect(info.experts).toHaveLength(layout.experts.length);
    expect(entryBytes).toBeGreaterThan(100);
    const bare = await compile(readFileSync(join(SAMPLES_DIR, 'sum_to_n.wat'), 'utf8'), { filename: 'sum_to_n.wat', inspectInfo: false });
    expect(() => readInspect(bare.onnx, 'bare.onnx')).toThrow(/^bare\.onnx has no wasmformer\.inspect metadata \(compiled with --no-inspect-info\?\)/);
    expect(() => readInspect(attachInspect(m.onnx, info), 'twice.onnx')).toThrow(/holds 2 wasmformer\.inspect metadata entries/);
    const proto = onnx.ModelProto.decode(m.onnx);
    const withValue = (value: string) => {
      proto.metadataProps = proto.metadataProps.map((p) => (p.key === INSPECT_KEY ? { key: INSPECT_KEY, value } : p));
      return onnx.ModelProto.encode(proto).finish();
    };
    expect(() => readInspect(withValue('{not json'), 'bad.onnx')).toThrow(/^bad\.onnx: the wasmformer\.inspect metadata is not base64 \(of deflated JSON\)$/);
    expect(() => readInspect(withValue('AAAA'), 'bad.onnx')).toThrow(/^bad\.onnx: the wasmformer\.inspect metadata is not deflated JSON$/);
    expect(() => readInspect(withValue(deflateRawSync(Buffer.from('{oops')).toString('base64')), 'bad.onnx')).toThrow(/^bad\.onnx: the wasmformer\.inspect metadata is not valid JSON$/);
    expect(JSON.parse(decodeInspect(encodeInspect(info)))).toEqual(info);
    // the entry is fflate's raw DEFLATE; entries node:zlib wrote (models compiled before) read the same
    expect(JSON.parse(decodeInspect(deflateRawSync(Buffer.from(JSON.stringify(info))).toString('base64')))).toEqual(info);
    expect(inflateRawSync(Buffer.from(encodeInspect(info), 'base64')).toString('utf8')).toBe(JSON.stringify(info));
    const other = JSON.parse(JSON.stringify(info)) as InspectInfo;
    other.experts[0].func = 'elsewhere';
    expect(() => readInspect(attachInspect(bare.onnx, other), 'o.onnx')).toThrow(/^o\.onnx: inspect field 'experts\[0\]' is elsewhere:block0; the layout says sum_to_n:block0$/);
    expect(() => readInspect(new Uint8Array([1, 2, 3]), 'x.onnx')).toThrow(/^x\.onnx is not an ONNX model/);
  });
});

describe('the entry in the model', () => {
  it('is appended to the bare model, leaves it runnable, and --no-inspect-info leaves it out', async () => {
    const src = readFileSync(join(SAMPLES_DIR, 'sum_to_n.wat'), 'utf8');
    const [withInfo, bare] = await Promise.all([compile(src, { filename: 'sum_to_n.wat' }), compile(src, { filename: 'sum_to_n.wat', inspectInfo: false })]);
    expect(Buffer.from(withInfo.onnx.subarray(0, bare.onnx.length)).equals(Buffer.from(bare.onnx))).toBe(true);
    const keys = onnx.ModelProto.decode(withInfo.onnx).metadataProps.map((p) => p.key);
    expect(keys.sort()).toEqual([INSPECT_KEY, LAYOUT_KEY].sort());
    expect(onnx.ModelProto.decode(bare.onnx).metadataProps.map((p) => p.key)).toEqual([LAYOUT_KEY]);
    const inst = await instantiate(withInfo);
    expect((await inst.invoke('sum_to_n', [10])).results).toEqual([55]);
    const dense = await compile(src, { filename: 'sum_to_n.wat', routing: 'onehot' });
    expect(readInspect(dense.onnx).info.experts.map((e) => e.values)).toEqual(readInspect(withInfo.onnx).info.experts.map((e) => e.values));
    expect((await (await instantiate(dense)).invoke('sum_to_n', [10])).results).toEqual([55]);
  });

  it('is deterministic: compiling twice gives the same bytes, entry included', async () => {
    for (const s of ['lookup.wat', 'block_results.wat']) {
      const src = readFileSync(join(SAMPLES_DIR, s));
      const [a, b] = await Promise.all([compile(new Uint8Array(src), { filename: s }), compile(new Uint8Array(src), { filename: s })]);
      expect(Buffer.compare(Buffer.from(a.onnx), Buffer.from(b.onnx)), s).toBe(0);
      expect(encodeInspect(readInspect(a.onnx).info)).toBe(encodeInspect(infos.get(s)!));
    }
  });

  it('adds at most 15% to the sample models (the budget caps the grids)', () => {
    for (const [s, r] of results) expect(encodeInspect(infos.get(s)!).length / r.onnx.length, s).toBeLessThanOrEqual(0.15);
  });
});

describe('the page', () => {
  const page = (s: string) => {
    const r = results.get(s)!;
    const info = infos.get(s)!;
    return renderInspectHtml({ title: `${s}.onnx`, modelBytes: r.onnx.length, inspectBytes: JSON.stringify(info).length, layout: r.layout, info });
  };

  it('names every block and embeds the entry as parseable JSON', () => {
    for (const s of results.keys()) {
      const html = page(s);
      const info = infos.get(s)!;
      for (const e of info.experts) expect(html).toContain(`${e.pc}  ${blockName(e)}`);
      const json = /<script type="application\/json" id="wf-data">([^<]*)<\/script>/.exec(html);
      expect(json, s).not.toBeNull();
      expect((JSON.parse(json![1]) as { info: unknown }).info).toEqual(info);
      // nothing fetched from the network: the one URL is the SVG namespace name
      expect([...new Set(html.match(/https?:\/\/[^\s'"]*/g))]).toEqual(['http://www.w3.org/2000/svg']);
    }
  });

  it('has balanced static markup and a script that parses', () => {
    const html = page('array_sum.wat');
    const staticPart = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '').replace(/<style>[\s\S]*?<\/style>/, '');
    const voids = new Set(['meta', 'input', 'br', 'img', 'link']);
    const stack: string[] = [];
    for (const m of staticPart.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>/g)) {
      const tag = m[2].toLowerCase();
      if (voids.has(tag)) continue;
      if (m[1]) expect(stack.pop(), `closing </${tag}>`).toBe(tag);
      else stack.push(tag);
    }
    expect(stack).toEqual([]);
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(() => new Script(VIEWER_SCRIPT)).not.toThrow();
  });

  it('escapes names from the module', () => {
    const r = results.get('sum_to_n.wat')!;
    const info = JSON.parse(JSON.stringify(infos.get('sum_to_n.wat'))) as InspectInfo;
    info.experts[0].func = '</script><b>x';
    const html = renderInspectHtml({ title: '<i>t', modelBytes: 1, inspectBytes: 1, layout: r.layout, info });
    expect(html).not.toContain('</script><b>');
    expect(html).not.toContain('<i>t');
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;x:block0');
  });

  it('draws every block in the viewer: one bar per value, the IR, the sublayers and, when opened, the grids', () => {
    for (const s of ['array_sum.wat', 'recursive.O2']) {
      const info = infos.get(s)!;
      const json = /id="wf-data">([^<]*)</.exec(page(s))![1];
      const p = runViewer(VIEWER_SCRIPT, json, info.experts.length, '#pc1');
      const block = p.byId.get('block')!;
      expect(block.textContent).toContain(`${blockName(info.experts[1])}  (pc 1)`);
      for (const e of info.experts) {
        expect(p.window.wfInspect!.select(e.pc)).toBe(true);
        expect(p.location.hash).toBe(`#pc${e.pc}`);
        expect(block.find((x) => x.tagName === 'h2')[0].textContent).toBe(`${blockName(e)}  (pc ${e.pc})`);
        expect(block.find((x) => x.tagName === 'rect' && x.getAttribute('class') === 'v')).toHaveLength(e.values.length);
        const lines = block.find((x) => x.tagName === 'pre')[0].children;
        expect(lines.map((l) => l.textContent.replace(/ {3}; .*$/, ''))).toEqual(e.ir);
        e.ir.forEach((_, i) => {
          const n = e.values.filter((x) => x[5] === i).length;
          if (n) expect(lines[i].textContent).toMatch(new RegExp(`; ${n} values? in \\d+ slots?$`));
          if (e.nodes.some((x) => x[4] === i)) expect(lines[i].textContent).toMatch(/ {3}; at (L\d+ (mlp|attn)(, )?)+/);
        });
        for (const n of e.nodes) expect(block.textContent).toContain(n[2]);
        const details = block.find((x) => x.tagName === 'details');
        expect(details.length).toBe(new Set(e.maps.map((m) => m[0])).size);
        for (const d of details) {
          d.open = true;
          d.dispatch('toggle');
        }
        const drawn = block.find((x) => x.tagName === 'figure').map((f) => f.find((x) => x.tagName === 'rect').length);
        expect(drawn).toEqual(e.maps.map((m) => decodeCells(m[7])!.filter((l) => l > 0).length));
      }
      // clicking a bar highlights its IR line
      const v = info.experts[1].values.findIndex((x) => x[5] >= 0);
      p.window.wfInspect!.select(1);
      const bars = block.find((x) => x.tagName === 'rect' && x.getAttribute('class')?.startsWith('v') === true);
      bars[v].dispatch('click');
      const lines = block.find((x) => x.tagName === 'pre')[0].children;
      expect(lines[info.experts[1].values[v][5]].classList.contains('hl')).toBe(true);
      expect(bars[v].classList.contains('hl')).toBe(true);
      expect(p.window.wfInspect!.select(info.experts.length)).toBe(false);
    }
  });

  it('filters the block list by pc, name and IR text', () => {
    const info = infos.get('block_results.wat')!;
    const p = runViewer(VIEWER_SCRIPT, /id="wf-data">([^<]*)</.exec(page('block_results.wat'))![1], info.experts.length);
    const items = p.byId.get('list')!.children;
    const shown = () => items.filter((li) => li.style.display !== 'none').length;
    expect(p.window.wfInspect!.filter('')).toBe(info.experts.length);
    const withBrIf = info.experts.filter((e) => e.ir.some((l) => l.includes('br_if'))).length;
    expect(p.window.wfInspect!.filter('BR_IF')).toBe(withBrIf);
    expect(shown()).toBe(withBrIf);
    expect(p.byId.get('count')!.textContent).toBe(`${withBrIf} of ${info.experts.length} blocks`);
    expect(p.window.wfInspect!.filter('no such text anywhere')).toBe(0);
    const input = p.byId.get('filter')!;
    input.value = ':block3';
    input.dispatch('input');
    expect(shown()).toBe(info.experts.filter((e) => `${e.pc} ${blockName(e)}`.includes(':block3')).length);
    items[2].dispatch('click');
    p.byId.get('list')!.dispatch('click', { target: items[2] });
    expect(p.location.hash).toBe('#pc2');
    expect(items[2].classList.contains('sel')).toBe(true);
  });
});

describe('wasmformer inspect on the samples', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wasmformer-inspect-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const samples = [...WAT_SAMPLES.map((f) => join(SAMPLES_DIR, f)), ...C_SAMPLES.map((n) => join(SAMPLES_DIR, 'c', `${n}.wasm`))];
  it(`writes a page naming every block for each of ${samples.length} samples`, async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const file of samples) {
        const base = file.split('/').pop()!.replace(/\.(wat|wasm)$/, '');
        const m = await compile(new Uint8Array(readFileSync(file)), { filename: file });
        const model = join(dir, `${base}.onnx`);
        writeFileSync(model, m.onnx);
        const out = join(dir, `${base}.html`);
        expect(await main(['inspect', model, '-o', out, '--quiet']), base).toBe(0);
        const html = readFileSync(out, 'utf8');
        expect(html.startsWith('<!doctype html>')).toBe(true);
        for (const e of m.layout.experts) expect(html, base).toContain(`${e.func}:block${e.block}`);
        expect(html).toContain(`<title>wasmformer inspect: ${base}.onnx</title>`);
        expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      }
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(existsSync(join(dir, 'sum_to_n.html'))).toBe(true);
  });
});
