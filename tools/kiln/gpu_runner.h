// How kiln exec runs a GPU engine, as trtexec does: IO tensors in device memory with
// page-locked host copies, inputs copied to the device and outputs back around every
// inference (unless --noDataTransfers), each phase timed with CUDA events, and the engine's
// work enqueued on a stream of its own or replayed from a CUDA graph (--useCudaGraph).
#pragma once

#include <memory>
#include <vector>

#include "inference_loop.h"
#include "io_tensors.h"
#include "kiln/runtime.h"

namespace kiln::cli {

class GpuRunner : public InferenceRunner {
 public:
  //! Outputs of the last inference into @p tensors' host buffers (for --saveOutputs).
  virtual void downloadOutputs(std::vector<IoTensor>& tensors) = 0;
};

//! Binds device copies of @p tensors (filled inputs) to @p context; throws CliError when this
//! build has no CUDA or a CUDA call fails (naming it). With @p cudaGraph the enqueue is
//! captured once, after one warm-up inference, and replayed.
std::unique_ptr<GpuRunner> makeGpuRunner(const Engine& engine, ExecutionContext& context,
                                         const std::vector<IoTensor>& tensors, bool transfers,
                                         bool cudaGraph);

}  // namespace kiln::cli
