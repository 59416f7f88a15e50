;; sum.wat — sum of 1..n with a countdown loop (n = 0 gives 0).
(module
  (func (export "sum") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (block $nonzero
        (br_if $nonzero (local.get $n))
        (br $done))
      (loop $l
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))))
    (local.get $acc)))
