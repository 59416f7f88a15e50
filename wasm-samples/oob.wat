;; oob.wat — bounds checks at the edge of a 2-page (131072-byte) memory.
;; The last word of memory (address 131068) is preloaded with 0x04030201.
;;   load_at(addr)        : i32.load at addr          (in bounds iff addr_u32 <= 131068)
;;   load_off(addr)       : i32.load offset=4 at addr (effective address addr_u32 + 4,
;;                          computed without wrap-around: addr = -4 traps)
;;   store_load(addr, v)  : store v at addr then load it back (+ the word at 0)
;; Addresses are raw params, so most random addresses trap.
(module
  (memory 2)
  (data (i32.const 131068) "\01\02\03\04")
  (func $load_at (export "load_at") (param $addr i32) (result i32)
    (i32.load (local.get $addr)))
  (func $load_off (export "load_off") (param $addr i32) (result i32)
    (i32.load offset=4 (local.get $addr)))
  (func $store_load (export "store_load") (param $addr i32) (param $v i32) (result i32)
    (i32.store (local.get $addr) (local.get $v))
    (i32.add (i32.load (local.get $addr)) (i32.load (i32.const 0)))))
