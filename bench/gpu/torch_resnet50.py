"""ResNet-50 in PyTorch eager and torch.compile on the GPU: the peer numbers that
bench/gpu/run_on_device.sh prints beside kiln's (same machine, same call). With an argument,
also exports the model (random weights) to that ONNX file with a dynamic batch, for kiln to run
the same network.
FP32 with TF32 off (kiln's default: full FP32), then FP16 (the model and input in half, as
kiln --fp16 runs its layers; kiln's engine input and output stay FP32).
Median GPU time of 100 runs (CUDA events) after warm-up."""
import copy
import sys

import torch
import torchvision

from compare import median_ms  # noqa: E402 (same folder)

torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.benchmark = True


def main():
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval()
    if len(sys.argv) > 1:
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), sys.argv[1], input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}},
                          opset_version=17, dynamo=False)
    model = model.cuda()
    with torch.inference_mode():
        for name, dtype, batches in (("fp32", torch.float32, (1, 32, 256)),
                                     ("fp16", torch.float16, (1, 32, 256))):
            typed = copy.deepcopy(model).to(dtype)
            compiled = torch.compile(typed)
            for batch in batches:
                x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=dtype)
                eager = median_ms(lambda: typed(x), 100)
                comp = median_ms(lambda: compiled(x), 100)
                print(f"torch resnet50 {name} batch {batch}: eager {eager:.3f} ms, "
                      f"torch.compile {comp:.3f} ms", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
