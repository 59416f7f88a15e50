;; many_live.wat — 48 values that are all live at once: locals $v0..$v47 are each
;; computed from the params and earlier locals, and only then are all of them summed
;; (in reverse order), so none dies before the final chain. No memory.
(module
  (func $many_live (export "many_live") (param $a i32) (param $b i32) (result i32)
    (local $v0 i32) (local $v1 i32) (local $v2 i32) (local $v3 i32) (local $v4 i32) (local $v5 i32) (local $v6 i32) (local $v7 i32)
    (local $v8 i32) (local $v9 i32) (local $v10 i32) (local $v11 i32) (local $v12 i32) (local $v13 i32) (local $v14 i32) (local $v15 i32)
    (local $v16 i32) (local $v17 i32) (local $v18 i32) (local $v19 i32) (local $v20 i32) (local $v21 i32) (local $v22 i32) (local $v23 i32)
    (local $v24 i32) (local $v25 i32) (local $v26 i32) (local $v27 i32) (local $v28 i32) (local $v29 i32) (local $v30 i32) (local $v31 i32)
    (local $v32 i32) (local $v33 i32) (local $v34 i32) (local $v35 i32) (local $v36 i32) (local $v37 i32) (local $v38 i32) (local $v39 i32)
    (local $v40 i32) (local $v41 i32) (local $v42 i32) (local $v43 i32) (local $v44 i32) (local $v45 i32) (local $v46 i32) (local $v47 i32)
    (local.set $v0 (i32.add (local.get $a) (i32.const 1)))
    (local.set $v1 (i32.add (local.get $b) (i32.const -7)))
    (local.set $v2 (i32.add (local.get $v1) (local.get $b)))
    (local.set $v3 (i32.add (local.get $v2) (local.get $a)))
    (local.set $v4 (i32.add (local.get $v2) (i32.const 2027808452)))
    (local.set $v5 (i32.add (local.get $v2) (local.get $b)))
    (local.set $v6 (i32.add (local.get $v5) (local.get $a)))
    (local.set $v7 (i32.add (local.get $v5) (i32.const 1401181143)))
    (local.set $v8 (i32.add (local.get $v4) (local.get $b)))
    (local.set $v9 (i32.add (local.get $v8) (local.get $a)))
    (local.set $v10 (i32.add (local.get $v8) (i32.const 774553834)))
    (local.set $v11 (i32.add (local.get $v5) (local.get $b)))
    (local.set $v12 (i32.add (local.get $v11) (local.get $a)))
    (local.set $v13 (i32.add (local.get $v11) (i32.const 147926525)))
    (local.set $v14 (i32.add (local.get $v7) (local.get $b)))
    (local.set $v15 (i32.add (local.get $v14) (local.get $a)))
    (local.set $v16 (i32.add (local.get $v14) (i32.const -478700784)))
    (local.set $v17 (i32.add (local.get $v8) (local.get $b)))
    (local.set $v18 (i32.add (local.get $v17) (local.get $a)))
    (local.set $v19 (i32.add (local.get $v17) (i32.const -1105328093)))
    (local.set $v20 (i32.add (local.get $v10) (local.get $b)))
    (local.set $v21 (i32.add (local.get $v20) (local.get $a)))
    (local.set $v22 (i32.add (local.get $v20) (i32.const -1731955402)))
    (local.set $v23 (i32.add (local.get $v11) (local.get $b)))
    (local.set $v24 (i32.add (local.get $v23) (local.get $a)))
    (local.set $v25 (i32.add (local.get $v23) (i32.const 1936384585)))
    (local.set $v26 (i32.add (local.get $v13) (local.get $b)))
    (local.set $v27 (i32.add (local.get $v26) (local.get $a)))
    (local.set $v28 (i32.add (local.get $v26) (i32.const 1309757276)))
    (local.set $v29 (i32.add (local.get $v14) (local.get $b)))
    (local.set $v30 (i32.add (local.get $v29) (local.get $a)))
    (local.set $v31 (i32.add (local.get $v29) (i32.const 683129967)))
    (local.set $v32 (i32.add (local.get $v16) (local.get $b)))
    (local.set $v33 (i32.add (local.get $v32) (local.get $a)))
    (local.set $v34 (i32.add (local.get $v32) (i32.const 56502658)))
    (local.set $v35 (i32.add (local.get $v17) (local.get $b)))
    (local.set $v36 (i32.add (local.get $v35) (local.get $a)))
    (local.set $v37 (i32.add (local.get $v35) (i32.const -570124651)))
    (local.set $v38 (i32.add (local.get $v19) (local.get $b)))
    (local.set $v39 (i32.add (local.get $v38) (local.get $a)))
    (local.set $v40 (i32.add (local.get $v38) (i32.const -1196751960)))
    (local.set $v41 (i32.add (local.get $v20) (local.get $b)))
    (local.set $v42 (i32.add (local.get $v41) (local.get $a)))
    (local.set $v43 (i32.add (local.get $v41) (i32.const -1823379269)))
    (local.set $v44 (i32.add (local.get $v22) (local.get $b)))
    (local.set $v45 (i32.add (local.get $v44) (local.get $a)))
    (local.set $v46 (i32.add (local.get $v44) (i32.const 1844960718)))
    (local.set $v47 (i32.add (local.get $v23) (local.get $b)))
    ;; sum everything, last first
    local.get $v47
    local.get $v46
    i32.add
    local.get $v45
    i32.add
    local.get $v44
    i32.add
    local.get $v43
    i32.add
    local.get $v42
    i32.add
    local.get $v41
    i32.add
    local.get $v40
    i32.add
    local.get $v39
    i32.add
    local.get $v38
    i32.add
    local.get $v37
    i32.add
    local.get $v36
    i32.add
    local.get $v35
    i32.add
    local.get $v34
    i32.add
    local.get $v33
    i32.add
    local.get $v32
    i32.add
    local.get $v31
    i32.add
    local.get $v30
    i32.add
    local.get $v29
    i32.add
    local.get $v28
    i32.add
    local.get $v27
    i32.add
    local.get $v26
    i32.add
    local.get $v25
    i32.add
    local.get $v24
    i32.add
    local.get $v23
    i32.add
    local.get $v22
    i32.add
    local.get $v21
    i32.add
    local.get $v20
    i32.add
    local.get $v19
    i32.add
    local.get $v18
    i32.add
    local.get $v17
    i32.add
    local.get $v16
    i32.add
    local.get $v15
    i32.add
    local.get $v14
    i32.add
    local.get $v13
    i32.add
    local.get $v12
    i32.add
    local.get $v11
    i32.add
    local.get $v10
    i32.add
    local.get $v9
    i32.add
    local.get $v8
    i32.add
    local.get $v7
    i32.add
    local.get $v6
    i32.add
    local.get $v5
    i32.add
    local.get $v4
    i32.add
    local.get $v3
    i32.add
    local.get $v2
    i32.add
    local.get $v1
    i32.add
    local.get $v0
    i32.add
  ))
