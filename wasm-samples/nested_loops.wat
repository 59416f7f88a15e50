;; nested_loops.wat — two nested countdown loops: nested(a, b, x) adds x to an
;; accumulator a*b times, i.e. returns a*b*x mod 2^32 (x is any i32, so it wraps).
;; a = 0 or b = 0 skip the loops and return 0. Keep a, b in 0..10 (<= 100 inner
;; iterations).
(module
  (func $nested (export "nested") (param $a i32) (param $b i32) (param $x i32) (result i32)
    (local $acc i32) (local $j i32)
    (block $done
      (block $run_a
        (br_if $run_a (local.get $a))
        (br $done))
      (block $run_b
        (br_if $run_b (local.get $b))
        (br $done))
      (loop $outer
        (local.set $j (local.get $b))
        (loop $inner
          (local.set $acc (i32.add (local.get $acc) (local.get $x)))
          (local.set $j (i32.add (local.get $j) (i32.const -1)))
          (br_if $inner (local.get $j)))
        (local.set $a (i32.add (local.get $a) (i32.const -1)))
        (br_if $outer (local.get $a))))
    (local.get $acc)))
