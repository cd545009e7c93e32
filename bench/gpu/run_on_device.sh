#!/usr/bin/env bash
# One device call does it all (issue #8): the GPU tests (ctest label `gpu`: the tactic harness
# against the reference kernels, the GPU engine tests, the reference models on the GPU), every
# reference model through `kiln exec --device cuda` compared with its reference output (FP32,
# and FP16 by ||a-b||/||b||), and ResNet-50 FP32/FP16 beside PyTorch eager and torch.compile.
# Prints a short table last; full logs go to $OUT/logs.tar.gz.
#
# Build here (CUDA 13 at /usr/local/cuda), then stage what travels with bench/gpu/stage.sh
# (binaries, libprotobuf, make_models.py) into .device-carry/gpu and call the device tool with
#   command: bash bench/gpu/run_on_device.sh   carry: [".device-carry/gpu"]
set -u
RESULTS=${OUT:-/tmp/out}
OUT=/tmp/kiln-gpu-logs  # every log; packed into $OUT/logs.tar.gz at the end
rm -rf "$OUT"; mkdir -p "$OUT" "$RESULTS"
. bench/gpu/device_env.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== models"
M=/tmp/models
if [ "${ONLY:-}" = r50 ]; then
  python3 "$C/make_models.py" "$M" lenet bert_small >"$OUT/make_models.log" 2>&1 || tail -5 "$OUT/make_models.log"
else
  python3 "$C/make_models.py" "$M" >"$OUT/make_models.log" 2>&1 || tail -5 "$OUT/make_models.log"
  python3 "$C/make_models.py" "$M" resnet50 >>"$OUT/make_models.log" 2>&1 || true
fi
export KILN_MODELS_DIR=$M

# ONLY=r50: just ResNet-50 beside PyTorch (and the per-layer profile), for a short call.
echo "== gpu tests"
summary=()
for t in $([ "${ONLY:-}" = r50 ] || echo "$C"/bin/kiln_*_test); do
  name=$(basename "$t")
  timeout 300 "$t" --gtest_brief=1 >"$OUT/$name.log" 2>&1
  rc=$?
  passed=$(grep -oE "\[  PASSED  \] [0-9]+" "$OUT/$name.log" | grep -oE "[0-9]+$")
  failed=$(grep -cE "^\[  FAILED  \] [A-Za-z]" "$OUT/$name.log")
  summary+=("$(printf '%-42s rc=%-3s passed=%-4s failed=%s' "$name" "$rc" "${passed:-0}" "$failed")")
  [ "$rc" -ne 0 ] && grep -E "Failure|FAILED|error" "$OUT/$name.log" | head -8
done

printf '%s\n' "${summary[@]}" >"$RESULTS/partial.txt"
echo "== models through kiln exec (FP32)"
models=()
for m in $([ "${ONLY:-}" = r50 ] || echo lenet squeezenet1_1 mobilenet_v2 resnet18 googlenet unet_small bert_small bert_small_op17 resnet50); do
  [ -f "$M/$m.onnx" ] || continue
  ins=""
  for f in "$M/$m".*.npy; do
    n=$(basename "$f" .npy); n=${n#$m.}
    [ "$n" = output ] && continue
    ins="$ins${ins:+,}$n:$f"
  done
  rm -rf "/tmp/o/$m"; mkdir -p "/tmp/o/$m"
  timeout 300 "$C/bin/kiln" exec --onnx="$M/$m.onnx" --device=cuda --loadInputs="$ins" \
    --saveOutputs="/tmp/o/$m" --useCudaGraph --iterations=200 --duration=1 >"$OUT/$m.log" 2>&1
  rc=$?
  lat=$(grep -oE "GPU Compute Time: min = [^,]*, max = [^,]*, mean = [^,]*, median = [0-9.]+" "$OUT/$m.log" | grep -oE "median = [0-9.]+" | grep -oE "[0-9.]+")
  cmp=$(python3 - "$M/$m.output.npy" "/tmp/o/$m" <<'PY'
import sys, glob, numpy as np
ref = np.load(sys.argv[1]).astype(np.float64)
outs = glob.glob(sys.argv[2] + "/*.npy")
if len(outs) != 1: print("outputs?", len(outs)); sys.exit()
got = np.load(outs[0]).astype(np.float64).reshape(ref.shape)
bad = np.abs(got - ref) > 1e-4 + 1e-3 * np.abs(ref)
print(f"max|a-b|={np.abs(got-ref).max():.2e} mismatches={int(bad.sum())} {'OK' if not bad.any() else 'FAIL'}")
PY
)
  models+=("$(printf '%-16s rc=%-3s gpu_median_ms=%-10s %s' "$m" "$rc" "${lat:--}" "$cmp")")
  [ "$rc" -ne 0 ] && tail -4 "$OUT/$m.log"
  # FP16 (--fp16): ||a-b||/||b|| against the FP32 reference (issue #8: <= 1e-2), and the speed.
  rm -rf "/tmp/h/$m"; mkdir -p "/tmp/h/$m"
  timeout 300 "$C/bin/kiln" exec --onnx="$M/$m.onnx" --device=cuda --fp16 --loadInputs="$ins" \
    --saveOutputs="/tmp/h/$m" --useCudaGraph --iterations=200 --duration=1 >"$OUT/$m.fp16.log" 2>&1
  rc=$?
  lat=$(grep -oE "GPU Compute Time: min = [^,]*, max = [^,]*, mean = [^,]*, median = [0-9.]+" "$OUT/$m.fp16.log" | grep -oE "median = [0-9.]+" | grep -oE "[0-9.]+")
  rel=$(python3 -c "
import glob, numpy as np
ref = np.load('$M/$m.output.npy').astype(np.float64)
got = np.load(glob.glob('/tmp/h/$m/*.npy')[0]).astype(np.float64).reshape(ref.shape)
e = np.linalg.norm(got-ref)/np.linalg.norm(ref)
print(f'rel_l2={e:.2e} {\"OK\" if e <= 1e-2 else \"FAIL\"}')
" 2>&1 | tail -1)
  models+=("$(printf '%-16s rc=%-3s gpu_median_ms=%-10s fp16 %s' "$m" "$rc" "${lat:--}" "$rel")")
  [ "$rc" -ne 0 ] && tail -4 "$OUT/$m.fp16.log"
done

printf '%s\n' "${models[@]}" >>"$RESULTS/partial.txt"
# QUICK=1: tests and models only (no PyTorch comparison, no compute-sanitizer).
memcheck="memcheck skipped (QUICK=1)"
r50=()
echo "== ResNet-50 FP32 and FP16 beside PyTorch (same call)"
[ "${QUICK:-0}" = 1 ] || python3 bench/gpu/torch_resnet50.py /tmp/resnet50_dyn.onnx >"$OUT/torch.log" 2>&1 || tail -5 "$OUT/torch.log"
for mode in fp32 fp16; do
  flag=$([ $mode = fp16 ] && echo --fp16)
  for b in $([ "${QUICK:-0}" = 1 ] || echo 1 32 256); do
    timeout 300 "$C/bin/kiln" exec --onnx=/tmp/resnet50_dyn.onnx --device=cuda $flag \
      --shapes=input:${b}x3x224x224 --useCudaGraph --noDataTransfers --iterations=50 --duration=2 \
      >"$OUT/r50_${mode}_b$b.log" 2>&1 || tail -3 "$OUT/r50_${mode}_b$b.log"
    med=$(grep -E 'GPU Compute Time' "$OUT/r50_${mode}_b$b.log" | grep -oE "median = [0-9.]+" | grep -oE "[0-9.]+")
    built=$(grep -oE "Engine built from .* in [0-9.]+ s" "$OUT/r50_${mode}_b$b.log" | grep -oE "[0-9.]+ s$")
    r50+=("kiln  resnet50 $mode batch $b: GPU compute median ${med:-?} ms (engine built in ${built:-?})")
  done
done
# Where the FP16 batch-256 time goes: per-layer GPU times by layer kind and tactic.
if [ "${QUICK:-0}" != 1 ]; then
  timeout 200 "$C/bin/kiln" exec --onnx=/tmp/resnet50_dyn.onnx --device=cuda --fp16 \
    --shapes=input:256x3x224x224 --noDataTransfers --iterations=20 --duration=0 --dumpProfile \
    --exportLayerInfo="$OUT/r50_fp16_b256_layers.json" >"$OUT/r50_fp16_b256_profile.log" 2>&1
  while IFS= read -r line; do r50+=("$line"); done < <(python3 bench/gpu/profile_summary.py \
    "$OUT/r50_fp16_b256_profile.log" "$OUT/r50_fp16_b256_layers.json" 2>&1 | head -10)
fi

printf '%s\n' "${r50[@]}" >>"$RESULTS/partial.txt"
grep -s "^torch" "$OUT/torch.log" >>"$RESULTS/partial.txt"
tar -czf "$RESULTS/logs.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"
echo "== compute-sanitizer (memcheck) on the models test"
if [ "${QUICK:-0}" = 1 ]; then
  :
elif command -v compute-sanitizer >/dev/null; then
  timeout 240 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$C/bin/kiln_parsers_onnx_models_test" \
    --gtest_filter="$([ "${ONLY:-}" = r50 ] && echo '*lenet*:*bert_small/*' || echo '*lenet*:*squeezenet*:*mobilenet*:*bert_small/*')" \
    >"$OUT/memcheck.log" 2>&1
  memcheck="memcheck rc=$? ($(grep -E 'ERROR SUMMARY' "$OUT/memcheck.log" | tail -1))"
else
  memcheck="compute-sanitizer not found"
fi

echo
echo "================ summary ================"
printf '%s\n' "${summary[@]}"
printf '%s\n' "${models[@]}"
echo "$memcheck"
printf '%s\n' "${r50[@]}"
grep -s "^torch" "$OUT/torch.log"
tar -czf "$RESULTS/logs.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"
