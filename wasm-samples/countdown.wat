;; countdown.wat — counting loops.
;;   countdown(n)      : counts n down to 0, writing each counter value i to the
;;                       word at address 4*i; returns the number of iterations
;;                       (n for n >= 1, 0 for n = 0). n in 0..100.
;;   sub_by_count(a, n): a - n, computed by adding -1 to a, n times (no sub op).
(module
  (memory 1)
  (func $countdown (export "countdown") (param $n i32) (result i32)
    (local $steps i32) (local $a i32)
    (block $done
      (block $run
        (br_if $run (local.get $n))
        (br $done))
      (loop $l
        (local.set $a (i32.add (local.get $n) (local.get $n)))
        (i32.store (i32.add (local.get $a) (local.get $a)) (local.get $n))
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))))
    ;; word 0 is still 0 (the counter never stores 0), so this adds nothing but a load
    (i32.add (local.get $steps) (i32.load (i32.const 0))))

  (func $sub_by_count (export "sub_by_count") (param $a i32) (param $n i32) (result i32)
    (block $done
      (block $run
        (br_if $run (local.get $n))
        (br $done))
      (loop $l
        (local.set $a (i32.add (local.get $a) (i32.const -1)))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))))
    (local.get $a)))
