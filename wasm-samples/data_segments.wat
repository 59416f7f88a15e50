;; data_segments.wat — overlapping data segments (later segments win), an empty
;; segment, one ending exactly at the end of memory, and text data.
;;   peek(addr)     : the word at addr (addr in 0..65532)
;;   peek_sum(addr) : word at addr + word at addr+3 (offset immediate), addr in 0..65529
;;   hello()        : sum of the three words of "hello, world" at 100 after 'P' patched
;;                    in at 103 by a later segment
(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c")
  (data (i32.const 4) "\aa\bb")
  (data (i32.const 7) "\ff")
  (data (i32.const 100) "hello, world")
  (data (i32.const 103) "P")
  (data (i32.const 200) "")
  (data (i32.const 65532) "\ff\ff\ff\7f")
  (data (i32.const 65530) "\11\22")
  (func $peek (export "peek") (param $addr i32) (result i32)
    (i32.load (local.get $addr)))
  (func $peek_sum (export "peek_sum") (param $addr i32) (result i32)
    (i32.add (i32.load (local.get $addr)) (i32.load offset=3 (local.get $addr))))
  (func $hello (export "hello") (result i32)
    (i32.add (i32.add (i32.load (i32.const 100)) (i32.load (i32.const 104)))
             (i32.load (i32.const 108)))))
