// backend/explain.ts — a human-readable account of a compiled model, expert by expert.
//
// For `wasmformer compile --explain`: the model's shared dimensions, then for every expert
// (basic block) which gadgets sit in each attention and MLP sublayer (with hidden-unit and
// head counts) and how many residual slots are live there, so a reader can follow the
// schedule and the allocation without opening Netron.

import type { BackendResult } from './index.js';
import type { PlacedExpert } from './assemble_weights.js';

function explainExpert(p: PlacedExpert): string[] {
  const { graph: g, sched, alloc } = p;
  const live = (pt: number) => g.vregs.filter((v) => alloc.slot[v.id] >= 0 && sched.defPoint[v.id] <= pt && (alloc.lastRead[v.id] ?? -1) >= pt).length;
  const lines: string[] = [];
  for (let l = 0; l < sched.layers; l++) {
    for (const [kind, point] of [['attn', 2 * l], ['mlp', 2 * l + 1]] as const) {
      const nodes = g.nodes.filter((n, i) => n.kind === kind && sched.nodePoint[i] === point);
      const clears = alloc.clears.get(point)?.length ?? 0;
      if (!nodes.length && !clears) continue;
      const size = kind === 'attn' ? `${nodes.length} heads` : `${nodes.reduce((s, n) => s + (n.kind === 'mlp' ? n.units.length : 0), 0) + 2 * clears} units`;
      const items = nodes.map((n) => {
        const role = n.role.replace(/^b\d+\./, '');
        return n.kind === 'mlp' ? `${role} [${n.units.length}]` : role;
      });
      lines.push(`    layer ${l} ${kind} (${size}, ${live(point)} slots live${clears ? `, ${clears} cleared` : ''}): ${items.join(', ')}`);
    }
  }
  return lines;
}

export function explainModel(r: BackendResult): string {
  const { stats, weights, program, placed } = r;
  const d = weights.dims;
  const lines: string[] = [];
  lines.push(`model: ${stats.experts} experts (one per basic block), ${d.layers} layers, dModel ${d.d} (widest expert's maxLive ${stats.maxLive}), ${r.layout.routing} routing`);
  lines.push(`embedding: ${d.tokenIn} token features (${program.maxArgs} argument(s) as 2 limbs each${program.memory ? ', time features' : ''}) in slots 0..${d.tokenIn - 1}`);
  lines.push(`per layer (widest expert): heads [${d.heads.join(' ')}], pending rows [${d.pendingRows.join(' ')}], MLP units [${d.hidden.join(' ')}]`);
  program.experts.forEach((e, i) => {
    const p = placed[i];
    lines.push(`expert ${e.pc} = ${e.func}:block${e.block} (${e.params} params): ${p.sched.layers} layers, ${p.alloc.dModel} slots, maxLive ${p.alloc.maxLive}`);
    lines.push(...explainExpert(p));
    lines.push(`    readout: next token (${e.graph.readout.length} features)${e.graph.ports.length ? ` and ${e.graph.ports.length} memory rows` : ''}`);
  });
  return lines.join('\n');
}
