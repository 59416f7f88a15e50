#!/usr/bin/env bash
# wasm-samples/build.sh — rebuild every sample .wasm from its hand-written .wat
# with wabt's wat2wasm, then (with --expected) recompute the expected results in
# samples.json natively (Node/V8) via gen_expected.ts.
# Tests read the committed .wasm files and never need wat2wasm.
set -euo pipefail
cd "$(dirname "$0")"
WAT2WASM="${WAT2WASM:-wat2wasm}"
for wat in *.wat; do
  "$WAT2WASM" "$wat" -o "${wat%.wat}.wasm"
  echo "built ${wat%.wat}.wasm"
done
if [[ "${1:-}" == "--expected" ]]; then
  (cd .. && npx tsx wasm-samples/gen_expected.ts)
fi
