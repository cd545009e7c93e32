# Sourced by the device-side scripts: unpacks what bench/gpu/stage.sh packed and points the
# loader at it, at PyTorch's cuDNN (the device machine's cuDNN is its wheel) and at CUDA.
C=.device-carry/gpu
[ -f "$C/bundle.tar.xz" ] && { rm -rf "$C/bin" "$C/lib"; tar -C "$C" -xJf "$C/bundle.tar.xz"; }
cudnn=$(python3 -c "import nvidia.cudnn;print(list(nvidia.cudnn.__path__)[0])" 2>/dev/null)
export LD_LIBRARY_PATH="$C/lib:${cudnn:+$cudnn/lib:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
