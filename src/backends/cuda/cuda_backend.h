// The CUDA backend: its DeviceRuntime and its tactics. Built when CMake finds nvcc
// (KILN_CUDA=AUTO|ON); nothing outside src/backends/cuda includes CUDA headers.
#pragma once

namespace kiln::backends {
class TacticRegistry;
class DeviceRuntime;
}  // namespace kiln::backends

namespace kiln::backends::cuda {

void registerCudaTactics(TacticRegistry& registry);

//! The CUDA runtime as a DeviceRuntime; count() is 0 without a driver or a GPU.
const DeviceRuntime& cudaDeviceRuntime() noexcept;

}  // namespace kiln::backends::cuda
