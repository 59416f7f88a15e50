// backend/explain.ts — a human-readable account of a compiled model, layer by layer.
//
// For `wasmformer compile --explain`: which gadgets sit in each attention and MLP sublayer
// (grouped by block, with hidden-unit and head counts), and how many residual slots are
// live there, so a reader can follow the schedule and the allocation without opening Netron.

import type { BackendResult } from './index.js';

export function explainModel(r: BackendResult): string {
  const { program, sched, alloc, weights } = r;
  const g = program.graph;
  const blockName = (b: number | null) => (b === null ? 'readout' : `${program.blocks[b].func}:block${program.blocks[b].block}`);
  const live = (p: number) =>
    g.vregs.filter((v) => alloc.slot[v.id] >= 0 && sched.defPoint[v.id] <= p && (alloc.lastRead[v.id] ?? -1) >= p).length;
  const lines: string[] = [];
  lines.push(`model: ${sched.layers} layers, dModel ${alloc.dModel} (maxLive ${alloc.maxLive}, naive ${alloc.naiveSlots})`);
  lines.push(`embedding: ${g.embed.length} token features (${program.blocks.length} block gates, ${program.maxArgs} argument(s) as 2 limbs each${program.memory ? ', time features' : ''})`);
  for (let l = 0; l < sched.layers; l++) {
    lines.push(`layer ${l}`);
    for (const [kind, point] of [['attn', 2 * l], ['mlp', 2 * l + 1]] as const) {
      const nodes = g.nodes.filter((n, i) => n.kind === kind && sched.nodePoint[i] === point);
      const clears = alloc.clears.get(point)?.length ?? 0;
      if (!nodes.length && !clears) continue;
      const w = weights.layers[l][kind];
      const size = kind === 'attn' ? `${w && 'heads' in w ? w.heads : 0} heads` : `${w && 'hidden' in w ? w.hidden : 0} units`;
      lines.push(`  ${kind} (${size}, ${live(point)} slots live${clears ? `, ${clears} cleared` : ''})`);
      const byBlock = new Map<string, string[]>();
      for (const n of nodes) {
        const key = blockName(n.block);
        const role = n.role.replace(/^b\d+\./, '');
        const item = n.kind === 'mlp' ? `${role} [${n.units.length}]` : role;
        byBlock.set(key, [...(byBlock.get(key) ?? []), item]);
      }
      for (const [b, items] of byBlock) lines.push(`    ${b}: ${items.join(', ')}`);
    }
  }
  lines.push(`readout: next token (${g.readout.length} features)${g.ports.length ? ` and ${g.ports.length} memory rows` : ''}`);
  return lines.join('\n');
}
