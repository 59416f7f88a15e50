#!/usr/bin/env python3
# bench/gpu/check_gpu.py — replays CPU-recorded steps on another ONNX Runtime provider.
#
# Reads out/gpu-vectors (written by bench/gpu/capture.ts), runs every recorded step
# on the given provider (default CUDA, with TF32 disabled and again with ORT's
# defaults) and compares the outputs with the CPU outputs: the decoded state
# (pc, trap, argument limbs, memory rows) must be identical.
import json, os, sys
import numpy as np
import onnxruntime as ort

d = sys.argv[1] if len(sys.argv) > 1 else 'out/gpu-vectors'
print('onnxruntime', ort.__version__, 'providers', ort.get_available_providers())
index = json.load(open(os.path.join(d, 'index.json')))
configs = [('CPUExecutionProvider', {})]
if 'CUDAExecutionProvider' in ort.get_available_providers():
    configs += [('CUDAExecutionProvider', {'use_tf32': 0}), ('CUDAExecutionProvider', {})]
bad_total = 0
for prov, opts in configs:
    for s in index:
        sess = ort.InferenceSession(os.path.join(d, s['model']), providers=[(prov, opts)] if opts else [prov])
        worst = 0.0
        mism = 0
        for st in s['steps']:
            def load(k):
                e = st[k]
                return np.fromfile(os.path.join(d, e['file']), dtype=np.float32).reshape(e['dims'])
            feeds = {k: load(k) for k in st if not k.startswith('out:')}
            outs = sess.run(None, feeds)
            names = [o.name for o in sess.get_outputs()]
            for n, o in zip(names, outs):
                ref = load('out:' + n)
                diff = float(np.max(np.abs(o - ref))) if o.size else 0.0
                worst = max(worst, diff)
                if not np.array_equal(np.rint(o), np.rint(ref)):
                    mism += 1
        bad_total += mism if prov == 'CPUExecutionProvider' or opts else 0
        print(f"{prov} {opts or 'defaults'} {s['name']}: steps={len(s['steps'])} max|diff|={worst:.3g} rounded-mismatches={mism}")
sys.exit(1 if bad_total else 0)
