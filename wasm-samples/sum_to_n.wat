;; sum_to_n.wat — 1 + 2 + ... + n by a countdown loop (one loop iteration per n).
;; The loop is a do-while guarded by a br_if: n = 0 skips the loop and returns 0.
;; Negative n (as signed) would count down through 2^32 values, so callers keep
;; n small (samples.json: 0..60). Result wraps mod 2^32 like any i32.add.
(module
  (func $sum_to_n (export "sum_to_n") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (block $run
        (br_if $run (local.get $n))   ;; n != 0: run the loop
        (br $done))                   ;; n == 0: acc stays 0
      (loop $l
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))))
    (local.get $acc)))
