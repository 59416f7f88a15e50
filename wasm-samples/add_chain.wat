;; add_chain.wat — a straight-line chain of 128 dependent i32.add over three params and
;; constants (including INT_MAX/INT_MIN, so it wraps). Every add consumes the running
;; value; every 8th step doubles it through a local.tee ($t + $t). No memory.
(module
  (func $add_chain (export "add_chain") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $t i32)
    local.get $a
    local.get $b
    i32.add
    i32.const 2147483647
    i32.add
    local.get $c
    i32.add
    i32.const -626627309
    i32.add
    local.get $b
    i32.add
    i32.const -1
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const -2147483648
    i32.add
    local.get $c
    i32.add
    i32.const -865977701
    i32.add
    local.get $b
    i32.add
    i32.const 1
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 12345
    i32.add
    local.get $c
    i32.add
    i32.const -1105328093
    i32.add
    local.get $b
    i32.add
    i32.const -99999
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 1431655765
    i32.add
    local.get $c
    i32.add
    i32.const -1344678485
    i32.add
    local.get $b
    i32.add
    i32.const -1431655765
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 7
    i32.add
    local.get $c
    i32.add
    i32.const -1584028877
    i32.add
    local.get $b
    i32.add
    i32.const 1000000007
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const -2
    i32.add
    local.get $c
    i32.add
    i32.const -1823379269
    i32.add
    local.get $b
    i32.add
    i32.const 65536
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 2147483647
    i32.add
    local.get $c
    i32.add
    i32.const -2062729661
    i32.add
    local.get $b
    i32.add
    i32.const -1
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const -2147483648
    i32.add
    local.get $c
    i32.add
    i32.const 1992887243
    i32.add
    local.get $b
    i32.add
    i32.const 1
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 12345
    i32.add
    local.get $c
    i32.add
    i32.const 1753536851
    i32.add
    local.get $b
    i32.add
    i32.const -99999
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 1431655765
    i32.add
    local.get $c
    i32.add
    i32.const 1514186459
    i32.add
    local.get $b
    i32.add
    i32.const -1431655765
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 7
    i32.add
    local.get $c
    i32.add
    i32.const 1274836067
    i32.add
    local.get $b
    i32.add
    i32.const 1000000007
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const -2
    i32.add
    local.get $c
    i32.add
    i32.const 1035485675
    i32.add
    local.get $b
    i32.add
    i32.const 65536
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 2147483647
    i32.add
    local.get $c
    i32.add
    i32.const 796135283
    i32.add
    local.get $b
    i32.add
    i32.const -1
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const -2147483648
    i32.add
    local.get $c
    i32.add
    i32.const 556784891
    i32.add
    local.get $b
    i32.add
    i32.const 1
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 12345
    i32.add
    local.get $c
    i32.add
    i32.const 317434499
    i32.add
    local.get $b
    i32.add
    i32.const -99999
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
    local.get $b
    i32.add
    i32.const 1431655765
    i32.add
    local.get $c
    i32.add
    i32.const 78084107
    i32.add
    local.get $b
    i32.add
    i32.const -1431655765
    i32.add
    local.get $c
    i32.add
    local.tee $t
    local.get $t
    i32.add
  ))
