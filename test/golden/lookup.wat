;; lookup.wat — table lookup: a data segment holds 8 i32 entries at address 16.
(module
  (memory (export "mem") 1)
  (data (i32.const 16) "\0a\00\00\00\14\00\00\00\1e\00\00\00\28\00\00\00\32\00\00\00\3c\00\00\00\46\00\00\00\50\00\00\00")
  ;; lookup(i) = table[i] (byte address 16 + 4*i)
  (func (export "lookup") (param $i i32) (result i32)
    (local $x2 i32)
    (local.set $x2 (i32.add (local.get $i) (local.get $i)))
    (i32.load offset=16 (i32.add (local.get $x2) (local.get $x2)))))
