;; array_sum.wat — sums of i32 arrays held in memory, by countdown loops.
;; A 64-word array lives at address 256 (four data segments of 16 words each;
;; some words are near INT_MAX/INT_MIN so sums wrap).
;;   array_sum(n)           = arr[0] + ... + arr[n-1]         (n in 0..64)
;;   array_sum_at(base, n)  = sum of the n words at base, base+4, ...  (base may be
;;                            unaligned; out-of-bounds words trap)
;; Element i-1 is loaded from 4*i + 252 (offset immediate 252), 4*i built from adds.
(module
  (memory 1)
  (data (i32.const 256) "\3d\05\00\00\70\02\00\00\66\05\00\00\ff\ff\ff\7f\01\00\00\00\ea\fb\ff\ff\d1\04\00\00\71\ad\5a\af\0d\fa\ff\ff\fe\02\00\00\00\00\00\80\61\01\00\00\61\fa\ff\ff\25\fd\ff\ff\51\fe\ff\ff\a9\99\70\7e")
  (data (i32.const 320) "\67\06\00\00\b6\03\00\00\4f\fc\ff\ff\01\05\00\00\ff\01\00\00\a1\fd\ff\ff\ba\fd\ff\ff\e1\d4\60\7d\a1\02\00\00\90\03\00\00\aa\05\00\00\eb\fd\ff\ff\61\01\00\00\20\f8\ff\ff\42\fe\ff\ff\19\3f\46\05")
  (data (i32.const 384) "\c7\04\00\00\f7\f9\ff\ff\73\fc\ff\ff\1f\04\00\00\2d\03\00\00\75\01\00\00\2a\fd\ff\ff\51\b8\b7\5b\70\fa\ff\ff\c5\07\00\00\ad\06\00\00\1e\03\00\00\a3\05\00\00\01\01\00\00\dc\04\00\00\89\20\48\46")
  (data (i32.const 448) "\99\05\00\00\3b\ff\ff\ff\2c\03\00\00\a8\fe\ff\ff\f2\fc\ff\ff\21\00\00\00\ff\02\00\00\c1\57\06\8e\7b\fc\ff\ff\f6\02\00\00\32\f9\ff\ff\6d\06\00\00\93\f8\ff\ff\af\00\00\00\93\f9\ff\ff\f9\3d\fd\72")

  (func $array_sum (export "array_sum") (param $n i32) (result i32)
    (local $acc i32) (local $i4 i32)
    (block $done
      (block $run
        (br_if $run (local.get $n))
        (br $done))
      (loop $l
        (local.set $i4 (i32.add (local.get $n) (local.get $n)))
        (local.set $i4 (i32.add (local.get $i4) (local.get $i4)))
        (local.set $acc (i32.add (local.get $acc) (i32.load offset=252 (local.get $i4))))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))))
    (local.get $acc))

  (func $array_sum_at (export "array_sum_at") (param $base i32) (param $n i32) (result i32)
    (local $acc i32) (local $i4 i32)
    (block $done
      (block $run
        (br_if $run (local.get $n))
        (br $done))
      (loop $l
        (local.set $i4 (i32.add (local.get $n) (local.get $n)))
        (local.set $i4 (i32.add (local.get $i4) (local.get $i4)))
        ;; address base + 4*(n-1)
        (local.set $acc
          (i32.add (local.get $acc)
                   (i32.load (i32.add (local.get $base) (i32.add (local.get $i4) (i32.const -4))))))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (br_if $l (local.get $n))))
    (local.get $acc)))
