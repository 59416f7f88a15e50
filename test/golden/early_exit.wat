;; early_exit.wat — return, branches to the function's own label, and dead
;; code after br/return (validated with the polymorphic stack, not emitted).
(module
  ;; first(a, b): a if a != 0, else b (br_if to the function label)
  (func (export "first") (param $a i32) (param $b i32) (result i32)
    (br_if 0 (local.get $a) (local.get $a))
    (drop)
    (local.get $b))
  ;; ret(x): x + 10 if x != 0, else -5 (return; dead code after it)
  (func (export "ret") (param $x i32) (result i32)
    (block $b
      (br_if $b (local.get $x))
      (return (i32.const -5))
      i32.add
      drop
      (block $dead (br $dead))
      (loop $dead2 (br $dead2)))
    (i32.add (local.get $x) (i32.const 10)))
  ;; deep(n): leave from inside a loop via br to the function label
  (func (export "deep") (param $n i32) (result i32)
    (loop $l (result i32)
      (local.set $n (i32.add (local.get $n) (i32.const 7)))
      (block $stay (br_if $stay (local.get $n)) (br 2 (i32.const 1234)))
      (br 1 (local.get $n))))
  ;; also exported under a second name; not reachable from the others
  (func $helper (export "helper") (export "helper2") (result i32) (i32.const 7)))
