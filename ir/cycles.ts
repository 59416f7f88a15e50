// ir/cycles.ts — which blocks of a function lie on a cycle of its control-flow graph (a loop
// body, run many times a call): strongly connected components by an iterative Tarjan walk.

import { termTargets, type Block, type BlockId } from './ir.js';

/** The blocks on some cycle: members of a strongly connected component of two or more blocks, or with an edge to themselves. */
export function blocksOnCycles(blocks: readonly Block[]): Set<BlockId> {
  const succ = blocks.map((b) => termTargets(b.term).map((t) => t.block));
  const index = new Array<number>(blocks.length).fill(-1);
  const low = new Array<number>(blocks.length).fill(0);
  const onStack = new Array<boolean>(blocks.length).fill(false);
  const stack: BlockId[] = [];
  const out = new Set<BlockId>();
  let next = 0;
  for (let root = 0; root < blocks.length; root++) {
    if (index[root] !== -1) continue;
    const work: Array<{ v: BlockId; i: number }> = [{ v: root, i: 0 }];
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const top = work[work.length - 1] as { v: BlockId; i: number };
      const ws = succ[top.v] as BlockId[];
      if (top.i < ws.length) {
        const w = ws[top.i++] as BlockId;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = true;
          work.push({ v: w, i: 0 });
        } else if (onStack[w]) low[top.v] = Math.min(low[top.v] as number, index[w] as number);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.v] = Math.min(low[parent.v] as number, low[top.v] as number);
      if (low[top.v] !== index[top.v]) continue;
      const scc: BlockId[] = [];
      for (;;) {
        const w = stack.pop() as BlockId;
        onStack[w] = false;
        scc.push(w);
        if (w === top.v) break;
      }
      if (scc.length > 1 || ws.includes(top.v)) for (const w of scc) out.add(w);
    }
  }
  return out;
}
