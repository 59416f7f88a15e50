;; unaligned.wat — overlapping, unaligned stores and loads.
;;   unaligned(a, b, c): several stores in one block at byte addresses 1, 3, 6, 5
;;     (overlapping each other), loads straddling them (some right after a store),
;;     offset immediates; returns a mix of the loaded words. All in bounds.
;;   unaligned_at(addr, v): store v at addr, store v+1 at addr+2 (offset immediate),
;;     return the word at addr+1 (offset immediate) plus the word at addr.
;;     In bounds for addr in 0..65530; 65531..65532 trap on the second store
;;     (after the first has been written); larger / negative addr trap at once.
(module
  (memory 1)
  (func $unaligned (export "unaligned") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $x i32) (local $y i32) (local $z i32)
    (i32.store (i32.const 1) (local.get $a))
    (i32.store (i32.const 3) (local.get $b))
    (local.set $x (i32.load (i32.const 2)))              ;; bytes a1 b0 b1 b2
    (i32.store (i32.const 6) (local.get $c))
    (i32.store offset=5 (i32.const 0) (i32.add (local.get $x) (local.get $c)))
    (local.set $y (i32.load offset=3 (i32.const 1)))     ;; right after a store, straddles 3 stores
    (local.set $z (i32.add (i32.load (i32.const 0)) (i32.load offset=7 (i32.const 0))))
    (i32.store (i32.const 9) (local.get $y))
    (i32.add (i32.add (local.get $x) (local.get $y))
             (i32.add (local.get $z) (i32.load (i32.const 8)))))

  (func $unaligned_at (export "unaligned_at") (param $addr i32) (param $v i32) (result i32)
    (i32.store (local.get $addr) (local.get $v))
    (i32.store offset=2 (local.get $addr) (i32.add (local.get $v) (i32.const 1)))
    (i32.add (i32.load offset=1 (local.get $addr)) (i32.load (local.get $addr)))))
