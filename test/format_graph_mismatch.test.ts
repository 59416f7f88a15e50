// test/format_graph_mismatch.test.ts — a layout that validates but does not describe its graph.
//
// validateLayout checks a layout against itself (every derived field recomputed), but an
// edited model can carry a self-consistent layout that does not match the ONNX graph:
// a different maxArgs (token width), expert count, memory size (cache features) or number
// of store ports. Loading and running such a model must give a one-line RunError — not an
// ONNX Runtime error, a TypeError, or (for too few store ports) silently wrong memory.
// Expected to FAIL until TransformerModel.load compares the graph's input/output shapes
// (and expert tables) with the layout: see the report of branch h-tests.

import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { loadSamples, sampleWasm } from '../wasm-samples/samples.js';
import { compile } from '../index.js';
import { LAYOUT_KEY } from '../format/layout.js';
import { tokenLayout } from '../format/token.js';
import { tokenShape, type ModelLayout } from '../format/layout.js';
import { memoryLayout } from '../format/memory.js';
import { RunError } from '../format/errors.js';
import { TransformerModel } from '../runtime/transformer.js';
import type { Routing } from '../format/layout.js';

const { onnx } = onnxProto;
const samples = loadSamples();

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test-local edits of untyped JSON

function edited(bytes: Uint8Array, edit: (l: Json) => void): Uint8Array {
  const proto = onnx.ModelProto.decode(bytes);
  const e = (proto.metadataProps ?? []).find((p) => p.key === LAYOUT_KEY)!;
  const l = JSON.parse(e.value!) as Json;
  edit(l);
  e.value = JSON.stringify(l);
  return onnx.ModelProto.encode(proto).finish();
}

/** Loads the model and runs `name` on each argument tuple in turn, on one memory. */
async function loadAndRun(bytes: Uint8Array, name: string, args: number[][]): Promise<number[][]> {
  const model = await TransformerModel.load(bytes);
  const mem = model.newMemory();
  const out: number[][] = [];
  for (const a of args) out.push((await model.runBatch(name, [a], [mem]))[0].results);
  return out;
}

async function refused(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'a RunError').toBeInstanceOf(RunError);
  expect((err as Error).message.includes('\n'), (err as Error).message).toBe(false);
}

const sample = (n: string) => samples.find((s) => s.name === n)!;

describe('a self-consistent layout that does not match the graph is refused', () => {
  for (const routing of ['gather', 'onehot'] as Routing[]) {
    it(`${routing}: maxArgs raised (token width no longer the graph's)`, async () => {
      const m = await compile(sampleWasm(sample('data_segments')), { routing });
      const bad = edited(m.onnx, (l) => {
        l.maxArgs += 1;
        Object.assign(l, tokenLayout(tokenShape(l as unknown as ModelLayout)));
      });
      await refused(loadAndRun(bad, 'peek_sum', [[3]]));
    });

    it(`${routing}: one expert more than the graph has`, async () => {
      const m = await compile(sampleWasm(sample('data_segments')), { routing });
      const bad = edited(m.onnx, (l) => {
        l.experts.push({ ...l.experts[0] });
        l.entries[0].pc = l.experts.length - 1;
      });
      await refused(loadAndRun(bad, m.layout.entries[0].name, [new Array(m.layout.entries[0].params).fill(1)]));
    });

    it(`${routing}: a larger memory (more cache features than the graph's)`, async () => {
      const m = await compile(sampleWasm(sample('data_segments')), { routing });
      const bad = edited(m.onnx, (l) => {
        const data = l.memory.data;
        l.memory = { ...memoryLayout(l.memory.memBytes * 4, l.memory.storeSlots), data };
      });
      await refused(loadAndRun(bad, 'peek_sum', [[3]]));
    });

    it(`${routing}: store ports claimed where the graph has none`, async () => {
      const m = await compile(sampleWasm(sample('data_segments')), { routing });
      expect(m.layout.storePorts).toBe(0);
      await refused(loadAndRun(edited(m.onnx, (l) => (l.storePorts = 3)), 'peek_sum', [[3]]));
    });

    it(`${routing}: fewer store ports than the graph emits (stores would be dropped silently)`, async () => {
      const m = await compile(sampleWasm(sample('multi_export')), { routing });
      expect(m.layout.storePorts).toBeGreaterThan(1);
      // unedited: poke then peek reads the word back
      expect(await loadAndRun(m.onnx, 'poke', [[100, 0x12345678]])).toEqual([[]]);
      const bad = edited(m.onnx, (l) => (l.storePorts = 1));
      await refused(loadAndRun(bad, 'poke', [[100, 0x12345678]]));
    });
  }
});
