"""ResNet-50 FP32 in PyTorch eager and torch.compile on the GPU, batch 1 and 32: the peer
numbers that bench/gpu/run_on_device.sh prints beside kiln's (same machine, same call).
TF32 is off on both sides: kiln's FP32 engines compute in full FP32.
Median GPU time of 100 runs (CUDA events) after warm-up."""
import statistics
import sys

import torch
import torchvision

torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.benchmark = True


def median_ms(fn, x, runs=100):
    for _ in range(10):
        fn(x)
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn(x)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    model = torchvision.models.resnet50().eval().cuda()
    with torch.inference_mode():
        compiled = torch.compile(model)
        for batch in (1, 32):
            x = torch.randn(batch, 3, 224, 224, device="cuda")
            eager = median_ms(model, x)
            comp = median_ms(compiled, x)
            print(f"torch resnet50 fp32 batch {batch}: eager {eager:.3f} ms, "
                  f"torch.compile {comp:.3f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
