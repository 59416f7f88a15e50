// test/format.test.ts — the model format: layout validation and loading edited models.
//
// validateLayout (format/layout.ts) accepts every real layout (both routing forms, with
// and without memory) and rejects edited ones with a one-line RunError that names the
// field. TransformerModel.load on a model whose metadata was edited (the ONNX ModelProto
// re-encoded with onnx-proto, metadata_props changed) throws RunError, never aborts.
// The token codec (format/token.ts) round-trips.

import { beforeAll, describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { loadSamples, sampleWasm } from '../wasm-samples/samples.js';
import { compile, type CompiledModel } from '../index.js';
import { FORMAT_VERSION, LAYOUT_KEY, validateLayout } from '../format/layout.js';
import { OUTPUTS_PER_STEP, decodeToken, encodeToken, joinI32, splitI32, tokenLayout } from '../format/token.js';
import { tokenShape, type ModelLayout } from '../format/layout.js';
import { encodeBase64 } from '../format/memory.js';
import { readModelFile } from '../format/model_file.js';
import { RunError } from '../format/errors.js';
import { TransformerModel } from '../runtime/transformer.js';

const { onnx } = onnxProto;
const samples = loadSamples();

const models = new Map<string, CompiledModel>();
beforeAll(async () => {
  for (const s of samples) {
    models.set(`${s.name}/gather`, await compile(sampleWasm(s), { filename: s.file, routing: 'gather' }));
    models.set(`${s.name}/onehot`, await compile(sampleWasm(s), { filename: s.file, routing: 'onehot' }));
  }
});

/** The layout JSON embedded in a model (what the runtime reads). */
function embedded(m: CompiledModel): Record<string, unknown> {
  const proto = onnx.ModelProto.decode(m.onnx);
  const e = (proto.metadataProps ?? []).find((p) => p.key === LAYOUT_KEY)!;
  return JSON.parse(e.value!) as Record<string, unknown>;
}

const withMemory = () => embedded(models.get('data_segments/gather')!);
const noMemory = () => embedded(models.get('add_chain/gather')!);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test-local edits of untyped JSON

/** validateLayout's error for an edited copy of `base` (fails the test if it is accepted). */
function rejection(base: Record<string, unknown>, edit: (l: Json) => void): RunError {
  const l = structuredClone(base) as Json;
  edit(l);
  let err: unknown = null;
  try {
    validateLayout(l, 'model.onnx');
  } catch (e) {
    err = e;
  }
  expect(err, 'the edited layout is rejected').toBeInstanceOf(RunError);
  const msg = (err as Error).message;
  expect(msg.includes('\n'), `one line: ${msg}`).toBe(false);
  expect(msg.startsWith('model.onnx: '), msg).toBe(true);
  expect(msg.length, msg).toBeLessThan(300);
  return err as RunError;
}

describe('validateLayout', () => {
  it('accepts every real layout and returns it unchanged', () => {
    expect(models.size).toBe(2 * samples.length);
    for (const [name, m] of models) {
      const raw = embedded(m);
      const v = validateLayout(raw, name);
      expect(JSON.parse(JSON.stringify(v)), name).toEqual(raw);
      expect(v.format).toBe(FORMAT_VERSION);
      expect(readModelFile(m.onnx, name).layout, name).toEqual(v);
      // the token layout is the one format/token.ts derives
      expect(tokenLayout(tokenShape(v))).toEqual({ tokenIn: v.tokenIn, tokenOut: v.tokenOut });
    }
    expect(withMemory().memory).not.toBeNull();
    expect(noMemory().memory).toBeNull();
  });

  const cases: Array<{ what: string; field: RegExp; edit: (l: Json) => void; base?: () => Record<string, unknown> }> = [
    { what: 'maxArgs 1e9', field: /'maxArgs'.*1000000000/, edit: (l) => (l.maxArgs = 1e9) },
    { what: 'maxArgs fractional', field: /'maxArgs' must be an integer/, edit: (l) => (l.maxArgs = 1.5) },
    { what: 'maxArgs a string', field: /'maxArgs' must be an integer/, edit: (l) => (l.maxArgs = '2') },
    { what: 'maxArgs raised (token layout no longer matches)', field: /'tokenIn'/, edit: (l) => (l.maxArgs += 1) },
    { what: 'negative storePorts', field: /'storePorts'.*-1/, edit: (l) => (l.storePorts = -1) },
    { what: 'storePorts without memory', field: /'storePorts'/, edit: (l) => (l.storePorts = 1), base: noMemory },
    { what: 'negative expert params', field: /'experts\[0\]\.params'/, edit: (l) => (l.experts[0].params = -1) },
    { what: 'expert params over maxArgs', field: /'experts\[0\]\.params'.*maxArgs/, edit: (l) => (l.experts[0].params = l.maxArgs + 1) },
    { what: 'negative block', field: /'experts\[0\]\.block'/, edit: (l) => (l.experts[0].block = -3) },
    { what: 'negative stats.layers', field: /'stats\.layers'/, edit: (l) => (l.stats.layers = -1) },
    { what: 'stats.dModel a string', field: /'stats\.dModel' must be an integer/, edit: (l) => (l.stats.dModel = '64') },
    { what: 'experts not an array', field: /'experts' must be an array/, edit: (l) => (l.experts = { 0: l.experts[0] }) },
    { what: 'no experts', field: /'experts' is empty/, edit: (l) => (l.experts = []) },
    { what: 'expert func a number', field: /'experts\[0\]\.func' must be a string/, edit: (l) => (l.experts[0].func = 7) },
    { what: 'entry name null', field: /'entries\[0\]\.name' must be a string/, edit: (l) => (l.entries[0].name = null) },
    { what: 'routing unknown', field: /'routing'/, edit: (l) => (l.routing = 'sparse') },
    { what: 'layout an array', field: /'<root>' must be an object/, edit: () => undefined, base: () => [] as unknown as Record<string, unknown> },
    { what: 'missing entries', field: /'entries' must be an array/, edit: (l) => delete l.entries },
    { what: 'missing maxArgs', field: /'maxArgs' must be an integer/, edit: (l) => delete l.maxArgs },
    { what: 'missing stats', field: /'stats' must be an object/, edit: (l) => delete l.stats },
    { what: 'missing tokenIn', field: /'tokenIn'/, edit: (l) => delete l.tokenIn },
    { what: 'missing memory.data', field: /'memory\.data' must be an array/, edit: (l) => delete l.memory.data },
    { what: 'missing stats field', field: /'stats\.nonzeros'/, edit: (l) => delete l.stats.nonzeros },
    { what: 'format version wasmformer/1', field: /'format'.*wasmformer\/1.*recompile/, edit: (l) => (l.format = 'wasmformer/1') },
    { what: 'no format', field: /'format'/, edit: (l) => delete l.format },
    { what: 'memory.features inconsistent', field: /'memory\.features'/, edit: (l) => (l.memory.features += 1) },
    { what: 'memory.col.pad moved', field: /'memory\.col'/, edit: (l) => (l.memory.col.pad = 0) },
    { what: 'memory.addrBits inconsistent', field: /'memory\.addrBits'/, edit: (l) => (l.memory.addrBits -= 1) },
    { what: 'memory.memBytes negative', field: /'memory\.memBytes'/, edit: (l) => (l.memory.memBytes = -65536) },
    { what: 'memory.storeSlots 0', field: /'memory\.storeSlots'/, edit: (l) => (l.memory.storeSlots = 0) },
    {
      what: 'data segment past memory',
      field: /'memory\.data\[0\]'.*past the memory size/,
      edit: (l) => (l.memory.data[0] = { offset: l.memory.memBytes - 2, base64: encodeBase64(new Uint8Array([1, 2, 3, 4])) }),
    },
    { what: 'data segment offset past memory', field: /'memory\.data\[0\]\.offset'/, edit: (l) => (l.memory.data[0].offset = l.memory.memBytes + 1) },
    { what: 'data segment not base64', field: /'memory\.data\[0\]\.base64' is not base64/, edit: (l) => (l.memory.data[0].base64 = '*not base64*') },
    { what: 'tokenIn.args moved', field: /'tokenIn'/, edit: (l) => (l.tokenIn.args = 2) },
    { what: 'tokenIn.width edited', field: /'tokenIn'/, edit: (l) => (l.tokenIn.width += 1) },
    { what: 'tokenIn.one moved', field: /'tokenIn'/, edit: (l) => (l.tokenIn.one = 1) },
    { what: 'tokenOut.pc moved', field: /'tokenOut'/, edit: (l) => (l.tokenOut.pc = 1) },
    { what: 'tokenIn without memory features on a memory model', field: /'tokenIn'/, edit: (l) => (l.tokenIn = tokenLayout({ ...tokenShape(l as unknown as ModelLayout), hasMemory: false }).tokenIn) },
    { what: 'entries pc = number of experts (HALT)', field: /'entries\[0\]\.pc'/, edit: (l) => (l.entries[0].pc = l.experts.length) },
    { what: 'entries pc negative', field: /'entries\[0\]\.pc'/, edit: (l) => (l.entries[0].pc = -1) },
    { what: 'entries pc huge', field: /'entries\[0\]\.pc'/, edit: (l) => (l.entries[0].pc = 2 ** 40) },
    { what: 'entry params over maxArgs', field: /'entries\[0\]\.params'/, edit: (l) => (l.entries[0].params = l.maxArgs + 1) },
  ];
  for (const c of cases) {
    it(`rejects ${c.what} with a one-line RunError naming the field`, () => {
      const err = rejection((c.base ?? withMemory)(), c.edit);
      expect(err.message).toMatch(c.field);
    });
  }

  it('rejects huge arrays by their length, before reading them', () => {
    const l = withMemory() as Json;
    l.experts = { length: 2 ** 30 } as unknown;
    expect(() => validateLayout(l)).toThrow(RunError);
    const big = withMemory() as Json;
    big.entries = new Array(2 ** 20 + 1).fill(big.entries[0]);
    expect(() => validateLayout(big)).toThrow(/'entries' has 1048577 entries, more than the limit/);
  });
});

// ---------------------------------------------------------------- loading edited model files

/** The model's bytes with its layout metadata replaced (or removed with null). */
function withMetadata(m: CompiledModel, value: string | null, key = LAYOUT_KEY): Uint8Array {
  const proto = onnx.ModelProto.decode(m.onnx);
  const rest = (proto.metadataProps ?? []).filter((p) => p.key !== LAYOUT_KEY);
  proto.metadataProps = value === null ? rest : [...rest, onnx.StringStringEntryProto.create({ key, value })];
  return onnx.ModelProto.encode(proto).finish();
}

async function loadError(bytes: Uint8Array): Promise<RunError> {
  const err = await TransformerModel.load(bytes).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the edited model is refused').toBeInstanceOf(RunError);
  const msg = (err as Error).message;
  expect(msg.includes('\n'), `one line: ${msg}`).toBe(false);
  return err as RunError;
}

describe('TransformerModel.load on edited model files', () => {
  it('loads the re-encoded unedited model (the edit machinery changes nothing else)', async () => {
    const m = models.get('data_segments/gather')!;
    const same = withMetadata(m, JSON.stringify(embedded(m)));
    const model = await TransformerModel.load(same);
    const o = (await model.runBatch('peek_sum', [[3]], [model.newMemory()]))[0];
    const ref = await TransformerModel.load(m.onnx);
    expect(o).toEqual((await ref.runBatch('peek_sum', [[3]], [ref.newMemory()]))[0]);
  });

  const edits: Array<{ what: string; sample: string; field: RegExp; edit: (l: Json) => void }> = [
    { what: 'maxArgs 1e9', sample: 'data_segments/gather', field: /'maxArgs'/, edit: (l) => (l.maxArgs = 1e9) },
    { what: 'negative storePorts', sample: 'data_segments/gather', field: /'storePorts'/, edit: (l) => (l.storePorts = -4) },
    { what: 'format version', sample: 'add_chain/gather', field: /'format'/, edit: (l) => (l.format = 'wasmformer/1') },
    { what: 'memory.features', sample: 'data_segments/onehot', field: /'memory\.features'/, edit: (l) => (l.memory.features = 3) },
    { what: 'data segment past memory', sample: 'data_segments/gather', field: /'memory\.data\[0\]'/, edit: (l) => (l.memory.data[0].offset = l.memory.memBytes - 1) },
    { what: 'tokenIn offsets', sample: 'add_chain/onehot', field: /'tokenIn'/, edit: (l) => (l.tokenIn.tick = 0) },
    { what: 'entries pc out of range', sample: 'add_chain/gather', field: /'entries\[0\]\.pc'/, edit: (l) => (l.entries[0].pc = 1e6) },
    { what: 'experts missing', sample: 'add_chain/gather', field: /'experts'/, edit: (l) => delete l.experts },
    // consistent layout, but the graph's inputs do not match it
    { what: 'routing flipped', sample: 'add_chain/gather', field: /model inputs are \[pc, token\], expected \[route, token\]/, edit: (l) => (l.routing = 'onehot') },
    { what: 'attention layer past the layers', sample: 'data_segments/gather', field: /'attention\[\d+\]\.layer'.*stats.layers/, edit: (l) => (l.attention[l.attention.length - 1].layer = 999) },
    { what: 'attention layers out of order', sample: 'data_segments/gather', field: /'attention\[1\]\.layer'/, edit: (l) => (l.attention[1].layer = l.attention[0].layer) },
    // the trace outputs are part of the graph's contract: a layout that lists other ones is refused
    { what: 'a traced attention layer dropped', sample: 'data_segments/gather', field: /model outputs are \[.*layer\d+\.attn\.softmax/, edit: (l) => l.attention.pop() },
    {
      what: 'memory removed from a memory model',
      sample: 'data_segments/gather',
      field: /model inputs are \[pc, token, cache_keys, cache_values\], expected \[pc, token\]/,
      edit: (l) => {
        l.memory = null;
        l.storePorts = 0;
        l.attention = [];
        Object.assign(l, tokenLayout({ ...tokenShape(l as unknown as ModelLayout), hasMemory: false }));
      },
    },
  ];
  for (const c of edits) {
    it(`refuses a model with edited ${c.what} (RunError)`, async () => {
      const m = models.get(c.sample)!;
      const l = structuredClone(embedded(m)) as Json;
      c.edit(l);
      const err = await loadError(withMetadata(m, JSON.stringify(l)));
      expect(err.message).toMatch(c.field);
    });
  }

  it('refuses a model without layout metadata, with non-JSON metadata, and bytes that are not ONNX', async () => {
    const m = models.get('add_chain/gather')!;
    expect((await loadError(withMetadata(m, null))).message).toMatch(/not produced by wasmformer/);
    expect((await loadError(withMetadata(m, '{"format": "wasmformer/4",'))).message).toMatch(/not valid JSON/);
    expect((await loadError(withMetadata(m, 'null'))).message).toMatch(/'<root>' must be an object/);
    expect((await loadError(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]))).message).toMatch(/not an ONNX model|not produced by wasmformer/);
  });
});

// ---------------------------------------------------------------- the token codec

describe('format/token.ts', () => {
  it('encodes the constant 1, argument limbs and time; decodes next pc, trap and signed args', () => {
    for (const [mem, hasOutput] of [[false, false], [true, false], [true, true]]) {
      const shape = { maxArgs: 3, hasMemory: mem, globals: 0, hasCalls: false, hasOutput };
      const { tokenIn, tokenOut } = tokenLayout(shape);
      expect(tokenIn.one).toBe(0);
      const buf = new Float32Array(2 * tokenIn.width).fill(-7);
      encodeToken(tokenIn, shape, buf, tokenIn.width, { args: [-1, 0x12345678], globals: [], depth: 0 }, mem ? { epoch: 0b10100101, tickBase: 12 } : null);
      const row = [...buf.subarray(tokenIn.width)];
      expect(row[tokenIn.one]).toBe(1);
      expect(row.slice(tokenIn.args, tokenIn.args + 6)).toEqual([0xffff, 0xffff, 0x5678, 0x1234, 0, 0]);
      if (mem) {
        expect(row.slice(tokenIn.epoch, tokenIn.epoch + 8)).toEqual([1, 0, 1, 0, 0, 1, 0, 1]);
        expect(row[tokenIn.tick]).toBe(12);
      }
      expect([...buf.subarray(0, tokenIn.width)].every((x) => x === -7), 'writes only its own row').toBe(true);
      const out = new Float32Array(tokenOut.width);
      out[tokenOut.pc] = 17;
      out[tokenOut.trap] = 4;
      if (hasOutput) out[tokenOut.out] = 66; // 'A' + 1, then no second byte (0)
      [...splitI32(-123456), ...splitI32(2147483647), ...splitI32(-2147483648)].forEach((x, i) => (out[tokenOut.args + i] = x));
      const state = { args: [0, 0, 0], globals: [], depth: 0 };
      expect(decodeToken(tokenOut, shape, out, 0, state)).toEqual({ pc: 17, trap: 4, out: hasOutput ? [65] : [] });
      if (hasOutput) {
        expect(tokenOut.out).toBe(2);
        expect(tokenOut.globals).toBe(2 + OUTPUTS_PER_STEP);
        out[tokenOut.out + 1] = 67; // a second byte, 'B'
        expect(decodeToken(tokenOut, shape, out, 0, state).out).toEqual([65, 66]);
        out[tokenOut.out] = 0; // only the second field: its byte alone
        expect(decodeToken(tokenOut, shape, out, 0, state).out).toEqual([66]);
      }
      expect(state.args).toEqual([-123456, 2147483647, -2147483648]);
    }
    expect(joinI32(65535 + 65536, 0)).toBe(65535); // limbs are taken mod 2^16
  });
});
