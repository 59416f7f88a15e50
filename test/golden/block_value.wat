;; block_value.wat — blocks with an i32 result, br_if carrying a value, and
;; values left on the stack underneath a block.
(module
  ;; pick(c, x): 100 + (c ? x : x + 1000)
  (func (export "pick") (param $c i32) (param $x i32) (result i32)
    (i32.const 100)
    (block $b (result i32)
      (br_if $b (local.get $x) (local.get $c))
      (drop)
      (i32.add (local.get $x) (i32.const 1000)))
    (i32.add))
  ;; nested(c1, c2): branch out of two blocks with a value
  (func (export "nested") (param $c1 i32) (param $c2 i32) (result i32)
    (block $outer (result i32)
      (i32.const 1)
      (block $inner (result i32)
        (br_if $outer (i32.const 7) (local.get $c1))
        (drop)
        (br_if $inner (i32.const 20) (local.get $c2))
        (drop)
        (br $outer (i32.const 300)))
      (i32.add)))
  ;; loopval(n): a loop with an i32 result
  (func (export "loopval") (param $n i32) (result i32)
    (loop $l (result i32)
      (local.tee $n (i32.add (local.get $n) (i32.const -1)))
      (br_if $l (local.get $n))
      (i32.const 42)
      (i32.add))))
