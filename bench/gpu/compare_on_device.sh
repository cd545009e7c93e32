#!/usr/bin/env bash
# Issue #9's comparison in one device call: bench/gpu/compare.py (ResNet-50 and BERT-base, kiln
# FP16 beside PyTorch eager and torch.compile). Stage first with bench/gpu/stage.sh, then call
# the device tool with  command: bash bench/gpu/compare_on_device.sh  carry: [".device-carry/gpu"]
# MODELS / MODES (compare.py's --models / --modes) narrow a call; KILN_ARGS adds kiln flags.
set -u
RESULTS=${OUT:-/tmp/out}
mkdir -p "$RESULTS"
. bench/gpu/device_env.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
export PYTHONUNBUFFERED=1
python3 bench/gpu/compare.py --kiln "$C/bin/kiln" --models "${MODELS:-resnet50,bert}" \
  --modes "${MODES:-eager,default,reduce-overhead}" --kiln-args "${KILN_ARGS:-}" \
  --work /tmp/kiln-compare --json "$RESULTS/compare.json" 2>&1 | tee "$RESULTS/compare.log"
tar -czf "$RESULTS/kiln_logs.tar.gz" -C /tmp/kiln-compare $(cd /tmp/kiln-compare && ls *.log* 2>/dev/null)
# PROFILE=1: where kiln's time goes (per-layer GPU times by layer kind and tactic) for the
# largest batch of each model compare.py exported.
if [ "${PROFILE:-0}" = 1 ]; then
  W=/tmp/kiln-compare
  for run in "resnet50 input:256x3x224x224" "bert input_ids:32x128,attention_mask:32x128"; do
    set -- $run
    [ -f "$W/$1.onnx" ] || continue
    timeout 300 "$C/bin/kiln" exec --onnx="$W/$1.onnx" --device=cuda --fp16 --shapes="$2" \
      --noDataTransfers --iterations=20 --duration=0 --dumpProfile \
      --exportLayerInfo="$RESULTS/$1_layers.json" ${KILN_ARGS:-} >"$RESULTS/$1_profile.log" 2>&1
    echo "== $1 ($2) profile"
    python3 bench/gpu/profile_summary.py "$RESULTS/$1_profile.log" "$RESULTS/$1_layers.json" 2>&1 | head -22
  done
fi
