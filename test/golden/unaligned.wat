;; unaligned.wat — unaligned loads/stores, large offsets, and bounds traps.
(module
  (memory (export "mem") 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a")
  ;; store v at addr+1 (align=1), then load the word at addr+3 (align=2)
  (func (export "rw") (param $addr i32) (param $v i32) (result i32)
    (i32.store offset=1 align=1 (local.get $addr) (local.get $v))
    (i32.load offset=3 align=2 (local.get $addr)))
  ;; load at addr with a large offset (traps unless addr + 65000 + 4 <= 65536)
  (func (export "far") (param $addr i32) (result i32)
    (i32.load offset=65000 align=1 (local.get $addr)))
  ;; two stores; the second may trap, the first must stay
  (func (export "two") (param $a i32) (param $b i32)
    (i32.store (i32.const 100) (local.get $a))
    (i32.store offset=8 (local.get $b) (local.get $a))))
