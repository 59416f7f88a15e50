;; multi_export.wat — several exports sharing one memory, plus unusual signatures.
;;   poke(addr, v)         : no results; stores v at addr and v+addr at addr+4
;;   peek(addr)            : the word at addr; also exported as "peek_alias"
;;   counter()             : no params; increments the word at 0 (preloaded 41)
;;                           and returns it (42 on a fresh instance)
;;   add3(a, b, c)         : a + b + c
(module
  (memory 1)
  (data (i32.const 0) "\29\00\00\00")
  (data (i32.const 16) "wasmformer")
  (func $poke (export "poke") (param $addr i32) (param $v i32)
    (i32.store (local.get $addr) (local.get $v))
    (i32.store offset=4 (local.get $addr) (i32.add (local.get $v) (local.get $addr))))
  (func $peek (export "peek") (export "peek_alias") (param $addr i32) (result i32)
    (i32.load (local.get $addr)))
  (func $counter (export "counter") (result i32)
    (local $v i32)
    (i32.store (i32.const 0) (local.tee $v (i32.add (i32.load (i32.const 0)) (i32.const 1))))
    (local.get $v))
  (func $add3 (export "add3") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $c))))
