;; stack_ops.wat — drop, nop and local.tee.
(module
  (func (export "tee") (param $x i32) (result i32)
    (local $y i32)
    nop
    (i32.add (local.tee $y (i32.add (local.get $x) (i32.const 3))) (local.get $y))
    (drop (i32.const 99))
    nop)
  (func (export "swapadd") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $t i32)
    (local.set $t (local.get $a))
    (local.set $a (local.get $b))
    (local.set $b (local.get $t))
    (drop (local.get $c))
    (i32.add (i32.add (local.get $a) (local.get $a)) (local.get $b))))
