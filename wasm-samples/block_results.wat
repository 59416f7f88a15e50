;; block_results.wat — blocks that yield values and br/br_if that carry them.
;;   select(c, a, b)       : c != 0 ? a : b, via (br_if $b a c) out of a result block
;;   classify(x, y)        : x != 0 -> 100; else y != 0 -> 201; else 301
;;                           (nested result blocks, br_if with values, an add after)
;;   first_nonzero(a, b, c): the first non-zero of a, b, c, else -1
;;   scan(n)               : largest i in 1..n whose word table[i-1] is non-zero
;;                           (br_if with a value out of a loop), 0 if none; n in 0..40
;;   loop_value(n)         : a loop with a result type; 1+2+...+n plus 1000, n in 0..50
(module
  (memory 1)
  ;; table at address 64: 40 words, non-zero only at indices 2, 5, 11, 17, 29, 33
  (data (i32.const 72) "\07\00\00\00")          ;; index 2
  (data (i32.const 84) "\00\01\00\00")          ;; index 5
  (data (i32.const 108) "\00\00\00\80")         ;; index 11 (INT_MIN, non-zero)
  (data (i32.const 132) "\ff\ff\ff\ff")         ;; index 17
  (data (i32.const 180) "\01\00\00\00")         ;; index 29
  (data (i32.const 196) "\00\00\01\00")         ;; index 33

  (func $select (export "select") (param $c i32) (param $a i32) (param $b i32) (result i32)
    (block $pick (result i32)
      (drop (br_if $pick (local.get $a) (local.get $c)))
      (local.get $b)))

  (func $classify (export "classify") (param $x i32) (param $y i32) (result i32)
    (block $outer (result i32)
      (i32.add
        (block $inner (result i32)
          (drop (br_if $outer (i32.const 100) (local.get $x)))
          (drop (br_if $inner (i32.const 200) (local.get $y)))
          (i32.const 300))
        (i32.const 1))))

  (func $first_nonzero (export "first_nonzero") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (block $found (result i32)
      (drop (br_if $found (local.get $a) (local.get $a)))
      (drop (br_if $found (local.get $b) (local.get $b)))
      (br_if $found (local.get $c) (local.get $c))
      drop
      (br $found (i32.const -1))))

  (func $scan (export "scan") (param $n i32) (result i32)
    (local $i4 i32)
    (block $found (result i32)
      (block $run
        (br_if $run (local.get $n))
        (br $found (i32.const 0)))
      (loop $l
        (local.set $i4 (i32.add (local.get $n) (local.get $n)))
        (local.set $i4 (i32.add (local.get $i4) (local.get $i4)))
        (drop (br_if $found (local.get $n) (i32.load offset=60 (local.get $i4))))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n)))
      (i32.const 0)))

  (func $loop_value (export "loop_value") (param $n i32) (result i32)
    (local $acc i32)
    (local.set $acc (i32.const 1000))
    (block $out (result i32)
      (block $run
        (br_if $run (local.get $n))
        (br $out (local.get $acc)))
      (loop $l (result i32)
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))
        (local.get $acc)))))
