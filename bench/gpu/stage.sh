#!/usr/bin/env bash
# Stages what bench/gpu/run_on_device.sh needs into .device-carry/gpu (ignored by git): the
# kiln command and the GPU test binaries of BUILD (default build/release), the Debian shared
# libraries they need that the device machine lacks, and make_models.py.
set -eu
BUILD=${1:-build/release}
C=.device-carry/gpu
rm -rf "$C"; mkdir -p "$C/bin" "$C/lib"
cp "$BUILD/bin/kiln" "$C/bin/"
for t in "$BUILD"/tests/kiln_backends_*_test "$BUILD"/tests/kiln_gpu_*_test \
         "$BUILD"/tests/kiln_parsers_onnx_models_test; do
  [ -x "$t" ] && cp "$t" "$C/bin/"
done
strip "$C"/bin/*
for lib in libprotobuf.so.32; do
  cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')" "$C/lib/"
done
cp ../shared/tools/make_models.py "$C/"
# The test binaries each hold the whole runtime (CUDA kernels included): one solid xz archive
# stores that once, keeping the carry far below its 64 MiB limit. run_on_device.sh unpacks it.
tar -C "$C" -cf - bin lib | xz -9 -T2 >"$C/bundle.tar.xz"
rm -rf "$C/bin" "$C/lib"
du -sh "$C"
