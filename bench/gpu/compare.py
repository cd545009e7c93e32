"""kiln beside PyTorch on the GPU (issue #9), in one device call.

Exports ResNet-50 (torchvision) and BERT-base (transformers' BertModel from its default config)
with random weights to ONNX, builds kiln FP16 engines from them, and times kiln, PyTorch eager
and torch.compile (default and reduce-overhead) on the same inputs. Prints issue #9's table
with kiln's column and its ratio to the best PyTorch mode; kiln's outputs are checked against
PyTorch's FP32 outputs (||a-b||/||b|| <= 1e-2).

PyTorch runs as ../shared/baselines/gpu_baseline.py measured it: channels-last ResNet-50,
cudnn.benchmark, TF32 allowed, median of CUDA-event timings after warm-up. kiln runs
`kiln exec --device=cuda --fp16 --useCudaGraph --noDataTransfers` (median GPU compute time;
its engine takes and returns FP32 tensors, the casts are inside the timed engine).

usage: python3 compare.py --kiln PATH [--models resnet50,bert] [--modes eager,default,
       reduce-overhead] [--work DIR] [--json OUT.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

torch.backends.cudnn.benchmark = True
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True

# Issue #9's targets: (model, batch) -> (kind, value); "ms" is a latency, "img/s" a throughput.
TARGETS = {
    ("resnet50", 256): ("img/s", 31000.0),
    ("resnet50", 32): ("ms", 1.3),
    ("resnet50", 1): ("ms", 0.5),
    ("bert", 32): ("ms", 2.2),
    ("bert", 1): ("ms", 0.8),
}
SEQ = 128


def median_ms(fn, runs):
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def log(*parts):
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------
# Models: the PyTorch module, its ONNX export and the inputs of one batch.

def resnet50():
    import torchvision
    torch.manual_seed(0)
    return torchvision.models.resnet50().eval()


def resnet50_export(model, path):
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), path, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}},
                      opset_version=17, dynamo=False)


def resnet50_inputs(batch):
    g = torch.Generator().manual_seed(batch)
    return {"input": torch.randn(batch, 3, 224, 224, generator=g)}


def bert():
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    # The eager attention exports to plain MatMul/Softmax ONNX nodes (kiln's attention fusion
    # finds them); PyTorch itself is timed with its default (SDPA) attention below.
    return BertModel(BertConfig(attn_implementation="eager")).eval()


def bert_for_torch():
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    return BertModel(BertConfig()).eval()


class BertHidden(torch.nn.Module):
    """BertModel's last hidden state alone: the output compared and the one kiln is timed on."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def bert_export(model, path):
    wrapped = BertHidden(model)
    ids = torch.randint(0, 30522, (1, SEQ))
    mask = torch.ones(1, SEQ, dtype=torch.int64)
    axes = {"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}}
    try:
        torch.onnx.export(wrapped, (ids, mask), path, input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    except Exception as e:  # noqa: BLE001 - fall back to the dynamo exporter
        log(f"bert: TorchScript export failed ({type(e).__name__}: {e}); trying dynamo=True")
        torch.onnx.export(wrapped, (ids, mask), path, input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], dynamic_shapes=(
                              {0: torch.export.Dim("batch")}, {0: torch.export.Dim("batch")}),
                          opset_version=18, dynamo=True)


def bert_inputs(batch):
    g = torch.Generator().manual_seed(batch)
    return {"input_ids": torch.randint(0, 30522, (batch, SEQ), generator=g),
            "attention_mask": torch.ones(batch, SEQ, dtype=torch.int64)}


MODELS = {
    "resnet50": dict(make=resnet50, torch_make=resnet50, export=resnet50_export,
                     inputs=resnet50_inputs, batches=(1, 32, 256), channels_last=True),
    "bert": dict(make=bert, torch_make=bert_for_torch, export=bert_export, inputs=bert_inputs,
                 batches=(1, 32), channels_last=False),
}


# ---------------------------------------------------------------------------------------------
# PyTorch

def torch_forward(name, module):
    if name == "bert":
        return lambda inputs: module(input_ids=inputs["input_ids"],
                                     attention_mask=inputs["attention_mask"]).last_hidden_state
    return lambda inputs: module(inputs["input"])


def to_device(inputs, half, channels_last):
    out = {}
    for k, v in inputs.items():
        v = v.cuda()
        if v.is_floating_point():
            v = v.half() if half else v
            if channels_last and v.dim() == 4:
                v = v.to(memory_format=torch.channels_last)
        out[k] = v
    return out


def run_torch(name, spec, modes, rows):
    """Times PyTorch FP16 in every mode."""
    with torch.inference_mode():
        model = spec["torch_make"]().cuda().half()
        if spec["channels_last"]:
            model = model.to(memory_format=torch.channels_last)
        for mode in modes:
            module = model if mode == "eager" else torch.compile(model, mode=mode, dynamic=False)
            fwd = torch_forward(name, module)
            for batch in spec["batches"]:
                inputs = to_device(spec["inputs"](batch), half=True,
                                   channels_last=spec["channels_last"])
                t0 = time.time()
                try:
                    ms = median_ms(lambda: fwd(inputs), 50 if batch < 256 else 20)
                except Exception as e:  # noqa: BLE001 - report and go on with the others
                    log(f"torch {name} {mode} batch {batch}: failed: {e}")
                    continue
                rows.append(dict(model=name, batch=batch, who="torch-" + mode, ms=ms))
                log(f"torch {name} fp16 {mode} batch {batch}: {ms:.3f} ms "
                    f"(incl. warm-up/compile {time.time() - t0:.0f} s)")
            del module
            torch._dynamo.reset()


# ---------------------------------------------------------------------------------------------
# kiln

def shape_arg(inputs):
    return ",".join(f"{k}:{'x'.join(str(d) for d in v.shape)}" for k, v in inputs.items())


def run_kiln(kiln, name, spec, onnx, work, references, rows, extra):
    for batch in spec["batches"]:
        inputs = spec["inputs"](batch)
        files = []
        for k, v in inputs.items():
            path = os.path.join(work, f"{name}_b{batch}_{k}.npy")
            np.save(path, v.numpy())
            files.append(f"{k}:{path}")
        outdir = os.path.join(work, f"{name}_b{batch}_out")
        os.makedirs(outdir, exist_ok=True)
        cache = os.path.join(work, f"{name}_b{batch}.cache")
        if os.path.exists(cache):
            os.remove(cache)
        cmd = [kiln, "exec", f"--onnx={onnx}", "--device=cuda", "--fp16",
               f"--shapes={shape_arg(inputs)}", f"--loadInputs={','.join(files)}",
               f"--saveOutputs={outdir}", "--useCudaGraph", "--noDataTransfers",
               "--iterations=50", "--duration=2", f"--timingCacheFile={cache}"] + extra
        logpath = os.path.join(work, f"kiln_{name}_b{batch}.log")
        with open(logpath, "w") as f:
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=400).returncode
        text = open(logpath).read()
        med = re.search(r"GPU Compute Time: .*median = ([0-9.]+)", text)
        built = re.search(r"Engine built from .* in ([0-9.]+) s", text)
        if rc != 0 or not med:
            log(f"kiln {name} batch {batch}: rc={rc}\n" + "\n".join(text.splitlines()[-6:]))
            continue
        got = None
        for fn in os.listdir(outdir):
            if fn.endswith(".npy"):
                got = np.load(os.path.join(outdir, fn)).astype(np.float64)
        ref = references[batch].astype(np.float64)
        rel = float(np.linalg.norm(got.reshape(ref.shape) - ref) / np.linalg.norm(ref))
        # A warm rebuild with the timing cache the first build wrote (issue #9: <= 5 s).
        warm = None
        with open(logpath + ".warm", "w") as f:
            subprocess.run([kiln, "build", f"--onnx={onnx}", "--device=cuda", "--fp16",
                            f"--shapes={shape_arg(inputs)}", f"--timingCacheFile={cache}",
                            f"--saveEngine={os.path.join(work, 'warm.plan')}"] + extra,
                           stdout=f, stderr=subprocess.STDOUT, timeout=400)
        wt = re.search(r"in ([0-9.]+) s", open(logpath + ".warm").read())
        warm = float(wt.group(1)) if wt else None
        rows.append(dict(model=name, batch=batch, who="kiln", ms=float(med.group(1)), rel=rel,
                         build_s=float(built.group(1)) if built else None, warm_build_s=warm))
        log(f"kiln {name} fp16 batch {batch}: {float(med.group(1)):.3f} ms, rel err {rel:.2e}, "
            f"build {built.group(1) if built else '?'} s cold, {warm} s warm")


# ---------------------------------------------------------------------------------------------

def table(rows):
    lines = ["| work | PyTorch eager | torch.compile | torch.compile (reduce-overhead) | kiln | "
             "kiln / best PyTorch | target | met |", "|---|---|---|---|---|---|---|---|"]
    for (name, batch), (kind, target) in TARGETS.items():
        got = {r["who"]: r for r in rows if r["model"] == name and r["batch"] == batch}
        if not got:
            continue

        def show(who):
            r = got.get(who)
            if not r:
                return "—"
            if kind == "img/s":
                return f"{batch * 1000.0 / r['ms']:,.0f} img/s ({r['ms']:.2f} ms)"
            return f"{r['ms']:.3f} ms"

        torch_ms = [got[w]["ms"] for w in ("torch-eager", "torch-default", "torch-reduce-overhead")
                    if w in got]
        kiln = got.get("kiln")
        ratio = f"{kiln['ms'] / min(torch_ms):.2f}" if kiln and torch_ms else "—"
        if kiln:
            value = batch * 1000.0 / kiln["ms"] if kind == "img/s" else kiln["ms"]
            met = "yes" if (value >= target if kind == "img/s" else value <= target) else "no"
            if kiln.get("rel") is not None and kiln["rel"] > 1e-2:
                met = "no (accuracy)"
        else:
            met = "—"
        label = "ResNet-50" if name == "resnet50" else f"BERT-base seq {SEQ}"
        want = f"≥ {target:,.0f} img/s" if kind == "img/s" else f"≤ {target} ms"
        lines.append(f"| {label} FP16 batch {batch} | {show('torch-eager')} | "
                     f"{show('torch-default')} | {show('torch-reduce-overhead')} | {show('kiln')} "
                     f"| {ratio} | {want} | {met} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--models", default="resnet50,bert")
    ap.add_argument("--modes", default="eager,default,reduce-overhead")
    ap.add_argument("--work", default="/tmp/kiln-compare")
    ap.add_argument("--json", default=None)
    ap.add_argument("--kiln-args", default="", help="extra flags for kiln exec/build")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    modes = [m for m in args.modes.split(",") if m]
    extra = args.kiln_args.split()
    log("gpu:", torch.cuda.get_device_name(0), "torch", torch.__version__)
    rows = []
    for name in args.models.split(","):
        spec = MODELS[name]
        onnx = os.path.join(args.work, f"{name}.onnx")
        try:
            spec["export"](spec["make"](), onnx)
        except Exception as e:  # noqa: BLE001
            log(f"{name}: export failed: {e}")
            continue
        # Kiln first: its engine builds while PyTorch has not yet filled the GPU's memory.
        with torch.inference_mode():
            ref_model = spec["torch_make"]().cuda()
            references = {b: torch_forward(name, ref_model)(
                to_device(spec["inputs"](b), False, False)).float().cpu().numpy()
                for b in spec["batches"]}
            del ref_model
        torch.cuda.empty_cache()
        run_kiln(args.kiln, name, spec, onnx, args.work, references, rows, extra)
        if modes:
            run_torch(name, spec, modes, rows)
        torch.cuda.empty_cache()
    out = table(rows)
    print("\n" + out, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(gpu=torch.cuda.get_device_name(0), torch=torch.__version__, rows=rows,
                           table=out), f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
