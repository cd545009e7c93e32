#include "gpu_runner.h"

#include <array>
#include <chrono>
#include <cstring>
#include <string>

#include "cli_error.h"

#ifdef KILN_CLI_CUDA
#include <cuda_runtime_api.h>
#endif

namespace kiln::cli {

#ifdef KILN_CLI_CUDA
namespace {

void check(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess) {
    throw CliError(what + " failed: " + cudaGetErrorName(status) + " (" +
                   cudaGetErrorString(status) + ")");
  }
}

template <typename T, cudaError_t (*Free)(T)>
class CudaHandle {
 public:
  CudaHandle() = default;
  explicit CudaHandle(T handle) : handle_(handle) {}
  ~CudaHandle() {
    if (handle_ != nullptr) Free(handle_);
  }
  CudaHandle(CudaHandle&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  CudaHandle& operator=(CudaHandle&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  T get() const noexcept { return handle_; }

 private:
  T handle_ = nullptr;
};

using DeviceMemory = CudaHandle<void*, cudaFree>;
using PinnedMemory = CudaHandle<void*, cudaFreeHost>;
using Stream = CudaHandle<cudaStream_t, cudaStreamDestroy>;
using Event = CudaHandle<cudaEvent_t, cudaEventDestroy>;
using Graph = CudaHandle<cudaGraph_t, cudaGraphDestroy>;
using GraphExec = CudaHandle<cudaGraphExec_t, cudaGraphExecDestroy>;

struct DeviceTensor {
  std::string name;
  bool input = false;
  std::size_t bytes = 0;
  DeviceMemory device;
  PinnedMemory host;
};

class CudaRunner final : public GpuRunner {
 public:
  CudaRunner(const Engine& engine, ExecutionContext& context, const std::vector<IoTensor>& tensors,
             bool transfers, bool cudaGraph)
      : context_(context), transfers_(transfers) {
    cudaStream_t stream = nullptr;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    stream_ = Stream(stream);
    for (Event& event : events_) {
      cudaEvent_t e = nullptr;
      check(cudaEventCreate(&e), "cudaEventCreate");
      event = Event(e);
    }
    for (const IoTensor& t : tensors) {
      // Shape-tensor inputs are read on the host: they keep their host buffer (bindTensors).
      if (t.mode == TensorIOMode::kINPUT && engine.isShapeInferenceIO(t.name)) continue;
      DeviceTensor d;
      d.name = t.name;
      d.input = t.mode == TensorIOMode::kINPUT;
      d.bytes = t.buffer.size();
      void* device = nullptr;
      void* host = nullptr;
      const std::size_t allocated = std::max<std::size_t>(d.bytes, 1);
      check(cudaMalloc(&device, allocated), "cudaMalloc for '" + t.name + "'");
      d.device = DeviceMemory(device);
      check(cudaMallocHost(&host, allocated), "cudaMallocHost for '" + t.name + "'");
      d.host = PinnedMemory(host);
      if (d.bytes > 0) std::memcpy(host, t.buffer.data(), d.bytes);
      if (d.input) {
        // Copied once even with --noDataTransfers: the engine reads real inputs.
        check(cudaMemcpy(device, host, d.bytes, cudaMemcpyHostToDevice),
              "copying input '" + t.name + "' to the device");
      }
      if (!context.setTensorAddress(t.name, device)) {
        throw CliError("cannot bind tensor '" + t.name + "'");
      }
      tensors_.push_back(std::move(d));
    }
    if (cudaGraph) capture();
  }

  std::optional<DeviceTimes> runOnce() override {
    const cudaStream_t stream = stream_.get();
    check(cudaEventRecord(events_[0].get(), stream), "cudaEventRecord");
    if (transfers_) copy(/*inputs=*/true);
    check(cudaEventRecord(events_[1].get(), stream), "cudaEventRecord");
    const auto enqueueStart = std::chrono::steady_clock::now();
    if (graphExec_.get() != nullptr) {
      check(cudaGraphLaunch(graphExec_.get(), stream), "cudaGraphLaunch");
    } else if (!context_.enqueueV3(stream)) {
      throw CliError("inference failed");
    }
    const double enqueueMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - enqueueStart)
            .count();
    check(cudaEventRecord(events_[2].get(), stream), "cudaEventRecord");
    if (transfers_) copy(/*inputs=*/false);
    check(cudaEventRecord(events_[3].get(), stream), "cudaEventRecord");
    check(cudaStreamSynchronize(stream), "the inference (cudaStreamSynchronize)");
    DeviceTimes times;
    times.h2dMs = elapsed(0, 1);
    times.computeMs = elapsed(1, 2);
    times.d2hMs = elapsed(2, 3);
    times.enqueueMs = enqueueMs;
    return times;
  }

  void downloadOutputs(std::vector<IoTensor>& tensors) override {
    for (const DeviceTensor& d : tensors_) {
      if (d.input || d.bytes == 0) continue;
      for (IoTensor& t : tensors) {
        if (t.name != d.name) continue;
        check(cudaMemcpy(t.buffer.data(), d.device.get(), d.bytes, cudaMemcpyDeviceToHost),
              "copying output '" + d.name + "' to the host");
      }
    }
  }

 private:
  void copy(bool inputs) {
    for (const DeviceTensor& d : tensors_) {
      if (d.input != inputs || d.bytes == 0) continue;
      if (inputs) {
        check(cudaMemcpyAsync(d.device.get(), d.host.get(), d.bytes, cudaMemcpyHostToDevice,
                              stream_.get()),
              "cudaMemcpyAsync (input '" + d.name + "')");
      } else {
        check(cudaMemcpyAsync(d.host.get(), d.device.get(), d.bytes, cudaMemcpyDeviceToHost,
                              stream_.get()),
              "cudaMemcpyAsync (output '" + d.name + "')");
      }
    }
  }

  double elapsed(std::size_t from, std::size_t to) const {
    float ms = 0;
    check(cudaEventElapsedTime(&ms, events_[from].get(), events_[to].get()),
          "cudaEventElapsedTime");
    return ms;
  }

  // One inference first: the context allocates what it needs there, which a graph capture
  // must not see.
  void capture() {
    if (!context_.enqueueV3(stream_.get())) throw CliError("inference failed before capture");
    check(cudaStreamSynchronize(stream_.get()), "the warm-up inference");
    check(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal),
          "cudaStreamBeginCapture");
    const bool enqueued = context_.enqueueV3(stream_.get());
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(stream_.get(), &graph);
    graph_ = Graph(graph);
    if (!enqueued) throw CliError("--useCudaGraph: the enqueue failed while being captured");
    check(ended, "--useCudaGraph: cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    check(cudaGraphInstantiate(&exec, graph_.get(), 0), "--useCudaGraph: cudaGraphInstantiate");
    graphExec_ = GraphExec(exec);
  }

  ExecutionContext& context_;
  bool transfers_;
  Stream stream_;
  std::array<Event, 4> events_;
  std::vector<DeviceTensor> tensors_;
  Graph graph_;
  GraphExec graphExec_;
};

}  // namespace

std::unique_ptr<GpuRunner> makeGpuRunner(const Engine& engine, ExecutionContext& context,
                                         const std::vector<IoTensor>& tensors, bool transfers,
                                         bool cudaGraph) {
  return std::make_unique<CudaRunner>(engine, context, tensors, transfers, cudaGraph);
}

#else

std::unique_ptr<GpuRunner> makeGpuRunner(const Engine& /*engine*/, ExecutionContext& /*context*/,
                                         const std::vector<IoTensor>& /*tensors*/,
                                         bool /*transfers*/, bool /*cudaGraph*/) {
  throw CliError("this build of kiln has no CUDA backend, so it cannot run a GPU engine");
}

#endif

}  // namespace kiln::cli
