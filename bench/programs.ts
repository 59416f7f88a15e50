// bench/programs.ts — generated WebAssembly programs for the scaling benchmark and tests.
//
//   chainedLoops(K, kind): one export `run(n)` (n >= 1) that runs K do-while loops one after
//     the other, each counting n down to 0. kind 'memory': every iteration loads a word, adds the counter and
//     stores it back (one load and one store per loop body, at the loop's own address);
//     kind 'alu': the body only adds (no memory). About K + 1 basic blocks.
//   manyExports(N): N exported identity functions (N one-block experts).
//   straightStores(N): one export `fill(x)` with N stores (addresses 4·i) of x + i, then
//     returns the sum of the first and last word loaded back: one long basic block.
// All are WAT text (compile() accepts it) using only the instructions every sample uses.

export type LoopKind = 'memory' | 'alu';

export function chainedLoops(K: number, kind: LoopKind): string {
  const lines = ['(module', kind === 'memory' ? '  (memory 1)' : '', '  (func (export "run") (param $n i32) (result i32)', '    (local $i i32) (local $acc i32)'];
  for (let k = 0; k < K; k++) {
    const addr = (4 * k) % 65532;
    lines.push('    (local.set $i (local.get $n))');
    lines.push(`    (loop $l${k}`);
    if (kind === 'memory') {
      lines.push(`      (i32.store (i32.const ${addr}) (i32.add (i32.load (i32.const ${addr})) (local.get $i)))`);
      lines.push(`      (local.set $acc (i32.add (local.get $acc) (i32.const ${k + 1})))`);
    } else {
      lines.push(`      (local.set $acc (i32.add (i32.add (local.get $acc) (local.get $i)) (i32.const ${k + 1})))`);
    }
    lines.push('      (local.set $i (i32.add (local.get $i) (i32.const -1)))');
    lines.push(`      (br_if $l${k} (local.get $i)))`);
  }
  lines.push('    (local.get $acc))', ')');
  return lines.filter((l) => l !== '').join('\n');
}

export function manyExports(N: number): string {
  const lines = ['(module'];
  for (let i = 0; i < N; i++) lines.push(`  (func (export "f${i}") (param i32) (result i32) (local.get 0))`);
  lines.push(')');
  return lines.join('\n');
}

export function straightStores(N: number): string {
  const pages = Math.max(1, Math.ceil((4 * N + 4) / 65536));
  const lines = ['(module', `  (memory ${pages})`, '  (func (export "fill") (param $x i32) (result i32)'];
  for (let i = 0; i < N; i++) lines.push(`    (i32.store (i32.const ${4 * i}) (i32.add (local.get $x) (i32.const ${i})))`);
  lines.push(`    (i32.add (i32.load (i32.const 0)) (i32.load (i32.const ${4 * (N - 1)}))))`, ')');
  return lines.join('\n');
}
