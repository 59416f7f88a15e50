#!/usr/bin/env bash
# wasm-samples/c/build.sh — rebuild the C samples (*.c) and the showcase programs
# (showcase/*.c) with clang 14 at -O0 and -O2 into <name>.O0.wasm / <name>.O2.wasm
# (committed, so tests never need clang), then check every module stays inside the
# i32 subset: no i64/f32/f64/v128 instruction, no call_indirect, no bulk memory, and
# no import other than env.output_byte. With --expected, also recompute expected.json
# natively (Node/V8) via gen_expected.ts. Output is deterministic for one clang build.
#
#   bash wasm-samples/c/build.sh [--expected]      (CLANG=clang-14 to pick a compiler)
set -euo pipefail
cd "$(dirname "$0")"
CLANG="${CLANG:-clang}"
OBJDUMP="${OBJDUMP:-wasm-objdump}"
COMMON=(--target=wasm32 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--export=__heap_base)
# Samples: every function marked EXPORT(name) in the source is exported with --export (the
# export_name attribute would make wasm-ld 14 add a funcref table); one 64 KiB page, 8 KiB stack.
SAMPLE_FLAGS=(-Wl,-z,stack-size=8192 -Wl,--initial-memory=65536)
# Showcase: the field's convention, unchanged (10 MiB memory, default 64 KiB stack).
SHOWCASE_FLAGS=(-Wl,--export=compute -Wl,--initial-memory=10485760)

check() { # $1 = .wasm: fail on anything outside the i32 subset
  local bad imports
  bad=$("$OBJDUMP" -d "$1" | sed -n 's/^ *[0-9a-f]*:[^|]*| *//p' \
        | grep -E '^(i64|f32|f64|v128|call_indirect|memory\.(fill|copy|init)|data\.drop)' || true)
  if [[ -n "$bad" ]]; then
    echo "$1: non-i32 instructions:" >&2; echo "$bad" | sort | uniq -c >&2; exit 1
  fi
  if "$OBJDUMP" -h "$1" | grep -qE '^ *(Table|Elem) '; then echo "$1: has a table" >&2; exit 1; fi
  imports=$("$OBJDUMP" -x -j Import "$1" 2>/dev/null | grep -E '^ - ' | grep -v 'env.output_byte$' || true)
  if [[ -n "$imports" ]]; then echo "$1: unexpected imports: $imports" >&2; exit 1; fi
}

for src in *.c; do
  for opt in O0 O2; do
    out="${src%.c}.$opt.wasm"
    mapfile -t exports < <(grep -oE '^EXPORT\([A-Za-z_0-9]+\)' "$src" | sed -E 's/EXPORT\((.*)\)/-Wl,--export=\1/')
    "$CLANG" "${COMMON[@]}" "-$opt" "${SAMPLE_FLAGS[@]}" "${exports[@]}" "$src" -o "$out"
    check "$out"
  done
done
for src in showcase/*.c; do
  for opt in O0 O2; do
    out="${src%.c}.$opt.wasm"
    "$CLANG" "${COMMON[@]}" "-$opt" "${SHOWCASE_FLAGS[@]}" "$src" -o "$out"
    check "$out"
  done
done
echo "built $(ls *.wasm showcase/*.wasm | wc -l) modules ($("$CLANG" --version | head -1))"
if [[ "${1:-}" == "--expected" ]]; then
  (cd ../.. && npx tsx wasm-samples/c/gen_expected.ts)
fi
