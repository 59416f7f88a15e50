;; fib.wat — Fibonacci numbers by a countdown loop with two carried locals:
;; fib(0) = 0, fib(1) = 1, fib(n) = fib(n-1) + fib(n-2) mod 2^32 (wraps from n = 47).
;; One loop iteration per n; n in 0..100.
(module
  (func $fib (export "fib") (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $t i32)
    (local.set $b (i32.const 1))
    (block $done
      (block $run
        (br_if $run (local.get $n))
        (br $done))
      (loop $l
        (local.set $t (i32.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1))))))
    (local.get $a)))
