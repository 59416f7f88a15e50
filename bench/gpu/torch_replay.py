#!/usr/bin/env python3
# bench/gpu/torch_replay.py — replays wasmformer models on a CUDA GPU with PyTorch.
#
# For machines whose ONNX Runtime has no CUDA provider: a tiny interpreter of the
# op set wasmformer emits (MatMul, Add, Relu, Softmax, Transpose, Reshape, Concat, Slice)
# runs each recorded step (out/gpu-vectors, from bench/gpu/capture.ts) with cuBLAS
# float32 matmuls, first with TF32 disabled, then with TF32 allowed, and compares
# with the CPU outputs. With TF32 off the outputs must be bit-identical (the
# exactness argument of DESIGN.md §3 is order-independent); TF32 rounds operands to
# 10-bit mantissas, so it is expected to break exactness (reported, not required).
import json, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
import torch

d = sys.argv[1] if len(sys.argv) > 1 else 'out/gpu-vectors'
dev = 'cuda'
print('torch', torch.__version__, torch.cuda.get_device_name(0))

def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return list(a.ints) if a.ints else a.i
    return default

def run_graph(model, feeds):
    env = {k: torch.from_numpy(v).to(dev) for k, v in feeds.items()}
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        env[init.name] = torch.from_numpy(np.array(arr)).to(dev)
    for n in model.graph.node:
        x = [env[i] for i in n.input]
        t = n.op_type
        if t == 'MatMul': y = torch.matmul(x[0], x[1])
        elif t == 'Add': y = x[0] + x[1]
        elif t == 'Relu': y = torch.relu(x[0])
        elif t == 'Softmax': y = torch.softmax(x[0], dim=attr(n, 'axis', -1))
        elif t == 'Transpose': y = x[0].permute(*attr(n, 'perm'))
        elif t == 'Concat': y = torch.cat(x, dim=attr(n, 'axis'))
        elif t == 'Slice':
            starts, ends = x[1].cpu().tolist(), x[2].cpu().tolist()
            axes = x[3].cpu().tolist() if len(x) > 3 else list(range(len(starts)))
            y = x[0]
            for st, en, ax in zip(starts, ends, axes):
                size = y.shape[ax]
                st = max(0, st + size) if st < 0 else min(st, size)
                en = max(0, en + size) if en < 0 else min(en, size)
                y = y.narrow(ax, st, max(0, en - st))
        elif t == 'Reshape':
            shape = [int(s) for s in x[1].cpu().tolist()]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        else: raise SystemExit(f'unexpected op {t}')
        env[n.output[0]] = y
    return {o.name: env[o.name].float().cpu().numpy() for o in model.graph.output}

index = json.load(open(os.path.join(d, 'index.json')))
failures = 0
for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    for s in index:
        model = onnx.load(os.path.join(d, s['model']))
        worst, mism = 0.0, 0
        for st in s['steps']:
            def load(k):
                e = st[k]
                return np.fromfile(os.path.join(d, e['file']), dtype=np.float32).reshape(e['dims'])
            feeds = {k: load(k) for k in st if not k.startswith('out:')}
            outs = run_graph(model, feeds)
            for name, o in outs.items():
                ref = load('out:' + name)
                worst = max(worst, float(np.max(np.abs(o - ref))) if o.size else 0.0)
                if not np.array_equal(o, ref): mism += 1
        if not tf32: failures += mism
        print(f"cuda tf32={'on ' if tf32 else 'off'} {s['name']}: steps={len(s['steps'])} max|gpu-cpu|={worst:.3g} outputs-not-bit-identical={mism}")
print('RESULT', 'PASS' if failures == 0 else 'FAIL')
sys.exit(1 if failures else 0)
