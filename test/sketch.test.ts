// test/sketch.test.ts — sketches (graph.ts MlpBuilder) measure exactly what their full graphs measure.
//
// The block splitter and the step merger (backend/index.ts fitBlocks) decide on sketches: a
// graph with every vreg, node, input and output of the full one but one unit per distinct
// input map. Here, for every block a model of some real programs runs (split and merged), in both bit forms: the sketch has the
// full graph's vregs, nodes (kind, role, inputs, outputs, whether it has units), readout, memory
// rows, schedule and slot allocation; it chooses the same small decompositions (bit_slack.ts);
// and fullGraph of it is, unit for unit, the full graph.

import { describe, expect, it } from 'vitest';
import { compileToIR } from '../frontend/index.js';
import { fullGraph, lowerBlockFast, programContext, withSmallBits, type BlockGraph } from '../backend/ir_to_graph.js';
import { compileIR, DEFAULT_MAX_STORES } from '../backend/index.js';
import { nodeInputs } from '../backend/graph.js';
import { schedule } from '../backend/schedule.js';
import { allocate } from '../backend/allocate.js';
import { readWasm } from '../wasm-samples/c/c_samples.js';
import { MAX_GROW_PAGES } from '../compile.js';

/** What a measure may read of a graph: everything but the units' contents. */
function measured(e: BlockGraph) {
  const g = e.graph;
  const sched = schedule(g);
  const alloc = allocate(g, sched);
  return {
    vregs: g.vregs,
    nodes: g.nodes.map((n) => ({ kind: n.kind, role: n.role, inputs: [...nodeInputs(n)].sort((a, b) => a - b), outputs: n.outputs, units: n.kind === 'mlp' ? n.units.length > 0 : null })),
    embed: g.embed,
    readout: g.readout,
    ports: g.ports,
    exits: e.exits,
    sched,
    dModel: alloc.dModel,
    slots: alloc.slot,
  };
}

const PROGRAMS = [
  ['showcase/sudoku.c', 'O2'],
  ['showcase/hungarian.c', 'O2'],
  ['showcase/bigadd.c', 'O0'],
  ['crc32.c', 'O2'],
  ['memops.c', 'O2'],
] as const;

describe('sketches measure what full graphs measure', () => {
  for (const [source, opt] of PROGRAMS) {
    it(`every block of ${source}.${opt}, fast and small bit forms`, async () => {
      const { ir } = await compileToIR(readWasm(source, opt), { maxMemoryPages: MAX_GROW_PAGES });
      // the blocks the model runs (split and merged) and, before that, the localized ones that fit
      const mod = compileIR(ir).ir;
      const ctx = programContext(mod, DEFAULT_MAX_STORES);
      let blocks = 0;
      let smaller = 0;
      for (const f of mod.funcs) {
        f.blocks.forEach((b, bi) => {
          const sketch = lowerBlockFast(f, bi, b, ctx, true);
          const full = lowerBlockFast(f, bi, b, ctx);
          expect(sketch.sketch && !full.sketch).toBe(true);
          const where = `${source} ${f.name} block ${bi}`;
          expect(measured(sketch), where).toEqual(measured(full));
          const units = (e: BlockGraph) => e.graph.nodes.reduce((s, n) => s + (n.kind === 'mlp' ? n.units.length : 0), 0);
          expect(units(sketch), where).toBeLessThanOrEqual(units(full));
          const smallSketch = withSmallBits(f, bi, b, ctx, sketch);
          const small = withSmallBits(f, bi, b, ctx, full);
          expect([...smallSketch.bits], where).toEqual([...small.bits]);
          expect(measured(smallSketch), where).toEqual(measured(small));
          expect(fullGraph(f, bi, b, ctx, smallSketch).graph, where).toEqual(small.graph);
          blocks++;
          if (small.bits.size > 0) smaller++;
        });
      }
      expect(blocks).toBeGreaterThan(5);
      if (source === 'showcase/sudoku.c') expect(smaller).toBeGreaterThan(0); // the small form is exercised
    });
  }
});
