;; copy_loop.wat — copy n words from src to dst (highest word first), then
;; return a checksum: the sum of the n words now at dst.
;; A 32-word pattern is preloaded at address 512 (two data segments). Copies
;; may overlap (src and dst are arbitrary params); since words are copied from
;; the last to the first, the result is defined by plain sequential semantics.
;; Each copy iteration stores and then immediately reloads the stored word.
;; Bounded use: src, dst in 0..1024, n in 0..32. A dst near the end of memory traps
;; (after the earlier, in-bounds stores have already happened).
(module
  (memory 1)
  (data (i32.const 512) "\01\01\01\01\ed\1c\02\02\dd\3e\03\03\c9\58\04\04\b9\7e\05\05\ad\9c\06\06\9d\be\07\07\81\d0\08\08\71\fe\09\09\6d\1c\0b\0a\5d\3e\0a\0b\49\58\0d\0c\39\7e\0c\0d\2d\9c\0f\0e\1d\be\0e\0f\11\c0\11\10")
  (data (i32.const 576) "\e1\ff\10\11\cd\1f\10\12\dd\3f\11\13\a9\5f\16\14\b9\7f\17\15\8d\9f\14\16\9d\bf\15\17\61\df\1a\18\71\ff\1b\19\4d\1f\19\1a\5d\3f\18\1b\29\5f\1f\1c\39\7f\1e\1d\0d\9f\1d\1e\1d\bf\1c\1f\d1\9e\23\20")

  (func $copy_loop (export "copy_loop") (param $src i32) (param $dst i32) (param $n i32) (result i32)
    (local $i i32) (local $off i32) (local $acc i32) (local $echo i32)
    (block $done
      (block $run
        (br_if $run (local.get $n))
        (br $done))
      ;; copy: i = n .. 1, word i-1
      (local.set $i (local.get $n))
      (loop $copy
        (local.set $off (i32.add (local.get $i) (local.get $i)))
        (local.set $off (i32.add (i32.add (local.get $off) (local.get $off)) (i32.const -4)))
        (i32.store (i32.add (local.get $dst) (local.get $off))
                   (i32.load (i32.add (local.get $src) (local.get $off))))
        ;; load right after the store (same address)
        (local.set $echo (i32.add (local.get $echo)
                                  (i32.load (i32.add (local.get $dst) (local.get $off)))))
        (local.set $i (i32.add (local.get $i) (i32.const -1)))
        (br_if $copy (local.get $i)))
      ;; checksum: sum of dst[0..n)
      (local.set $i (local.get $n))
      (loop $sum
        (local.set $off (i32.add (local.get $i) (local.get $i)))
        (local.set $off (i32.add (local.get $off) (local.get $off)))
        (local.set $acc (i32.add (local.get $acc)
                                 (i32.load offset=0 (i32.add (local.get $dst) (i32.add (local.get $off) (i32.const -4))))))
        (local.set $i (i32.add (local.get $i) (i32.const -1)))
        (br_if $sum (local.get $i))))
    (i32.add (local.get $acc) (local.get $echo))))
