;; nested.wat — nested loops and blocks: multiplication by repeated addition,
;; with a branch from the inner loop to the outer block.
(module
  ;; mul(a, b) for b >= 0: outer loop runs b times, inner loop adds 1 a times.
  (func (export "mul") (param $a i32) (param $b i32) (result i32)
    (local $acc i32) (local $k i32)
    (block $out
      (block $bnz (br_if $bnz (local.get $b)) (br $out))
      (loop $outer
        (local.set $k (local.get $a))
        (block $inner_done
          (block $knz (br_if $knz (local.get $k)) (br $inner_done))
          (loop $inner
            (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
            (local.set $k (i32.add (local.get $k) (i32.const -1)))
            (br_if $inner (local.get $k))))
        (local.set $b (i32.add (local.get $b) (i32.const -1)))
        (br_if $outer (local.get $b))))
    (local.get $acc))
  ;; escape(n, limit): count down n, but leave both loops once limit hits 0.
  (func (export "escape") (param $n i32) (param $limit i32) (result i32)
    (local $steps i32)
    (block $exit
      (loop $a
        (loop $b
          (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
          (local.set $limit (i32.add (local.get $limit) (i32.const -1)))
          (block $go (br_if $go (local.get $limit)) (br $exit))
          (local.set $n (i32.add (local.get $n) (i32.const -1)))
          (br_if $b (local.get $n)))))
    (local.get $steps)))
