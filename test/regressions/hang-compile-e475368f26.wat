(module
  (memory 2 4)
  (global $g0 (mut i32) (i32.const 8))
  (func $deep (param $n i32) (param $p i32) (result i32)
    (if (result i32)
      (i32.ne (i32.and (local.get $n) (i32.const 3)) (i32.const 3))
      (then (local.get $p))
      (else (call $deep (local.get $n) (i32.add (local.get $p) (i32.const 1))))))
  (func $main (export "main") (param $p0 i32) (param $p1 i32) (local $x0 i32) (local $x1 i32) (local $x2 i32)
    (global.set $g0
      (select
        (i32.load8_u offset=11 (i32.const 131051))
        (i32.add
          (local.get $x2)
          (block (result i32)
            (i32.store
              (i32.rem_s
                (br_if 0
                  (if (result i32) (i32.const 0) (then (local.get $x1)) (else (i32.const 15)))
                  (i32.const 1))
                (i32.eqz (block (result i32) (nop) (i32.const 0))))
              (i32.const 0))
            (i32.const 0)))
        (i32.const 0)))
    (nop)
    (nop)
    (nop)))
