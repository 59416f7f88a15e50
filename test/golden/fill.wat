;; fill.wat — memory loops: fill n words with a value, then sum them back.
(module
  (memory (export "mem") 1)
  (data (i32.const 1024) "\ff\ff\ff\ff")
  ;; fill(base, n, v): mem[base + 4k] = v + k for k < n (n >= 1)
  (func (export "fill") (param $base i32) (param $n i32) (param $v i32)
    (loop $l
      (i32.store (local.get $base) (local.get $v))
      (local.set $base (i32.add (local.get $base) (i32.const 4)))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1))))))
  ;; total(base, n): sum of n words starting at base (n >= 1)
  (func (export "total") (param $base i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $base))))
      (local.set $base (i32.add (local.get $base) (i32.const 4)))
      (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1)))))
    (local.get $s)))
