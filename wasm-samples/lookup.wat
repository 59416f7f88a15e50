;; lookup.wat — character classification through a lookup table in a data segment.
;; The table holds one little-endian i32 word per character code c at address 4*c
;; (4*c is computed with adds: c+c, then doubled). Entries:
;;   '0'..'9' -> 100..109,  'A'..'Z' -> 4..29,  'a'..'z' -> 30..55,  anything else -> 0.
;; lookup(c) = table[c] + 1, so lookup('B' = 66) = 5 + 1 = 6.
;; Codes 0..16383 stay inside the one page; larger codes trap.
(module
  (memory 1)
  ;; '0' = 48 -> address 192
  (data (i32.const 192) "\64\00\00\00\65\00\00\00\66\00\00\00\67\00\00\00\68\00\00\00\69\00\00\00\6a\00\00\00\6b\00\00\00\6c\00\00\00\6d\00\00\00")
  ;; 'A' = 65 -> address 260
  (data (i32.const 260) "\04\00\00\00\05\00\00\00\06\00\00\00\07\00\00\00\08\00\00\00\09\00\00\00\0a\00\00\00\0b\00\00\00\0c\00\00\00\0d\00\00\00\0e\00\00\00\0f\00\00\00\10\00\00\00\11\00\00\00\12\00\00\00\13\00\00\00\14\00\00\00\15\00\00\00\16\00\00\00\17\00\00\00\18\00\00\00\19\00\00\00\1a\00\00\00\1b\00\00\00\1c\00\00\00\1d\00\00\00")
  ;; 'a' = 97 -> address 388
  (data (i32.const 388) "\1e\00\00\00\1f\00\00\00\20\00\00\00\21\00\00\00\22\00\00\00\23\00\00\00\24\00\00\00\25\00\00\00\26\00\00\00\27\00\00\00\28\00\00\00\29\00\00\00\2a\00\00\00\2b\00\00\00\2c\00\00\00\2d\00\00\00\2e\00\00\00\2f\00\00\00\30\00\00\00\31\00\00\00\32\00\00\00\33\00\00\00\34\00\00\00\35\00\00\00\36\00\00\00\37\00\00\00")
  (func $lookup (export "lookup") (param $c i32) (result i32)
    (local $addr i32)
    (local.set $addr (i32.add (local.get $c) (local.get $c)))
    (local.set $addr (i32.add (local.get $addr) (local.get $addr)))
    (i32.add (i32.load (local.get $addr)) (i32.const 1))))
