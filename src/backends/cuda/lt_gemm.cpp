#include "backends/cuda/lt_gemm.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "backends/cuda/library_check.h"
#include "backends/cuda/matrix_tactics.h"

namespace kiln::backends::cuda {

namespace {

// Owns one cuBLASLt matrix layout.
class Layout {
 public:
  Layout(cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld, int64_t batch,
         int64_t stride) {
    check(cublasLtMatrixLayoutCreate(&layout_, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
    if (batch > 1) {
      const auto count = static_cast<int32_t>(batch);
      set(CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count));
      set(CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride));
    }
  }
  ~Layout() {
    if (layout_ != nullptr) cublasLtMatrixLayoutDestroy(layout_);
  }
  Layout(const Layout&) = delete;
  Layout& operator=(const Layout&) = delete;
  cublasLtMatrixLayout_t get() const noexcept { return layout_; }

 private:
  void set(cublasLtMatrixLayoutAttribute_t attr, const void* value, std::size_t size) {
    const cublasStatus_t status = cublasLtMatrixLayoutSetAttribute(layout_, attr, value, size);
    if (status != CUBLAS_STATUS_SUCCESS) {
      cublasLtMatrixLayoutDestroy(layout_);
      layout_ = nullptr;
      check(status, "cublasLtMatrixLayoutSetAttribute");
    }
  }
  cublasLtMatrixLayout_t layout_ = nullptr;
};

class Preference {
 public:
  Preference(uint32_t abAlignment, uint32_t cdAlignment) {
    check(cublasLtMatmulPreferenceCreate(&pref_), "cublasLtMatmulPreferenceCreate");
    const uint64_t workspace = kLibraryWorkspaceBytes;
    set(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
    for (auto attr :
         {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES}) {
      set(attr, &abAlignment, sizeof(abAlignment));
    }
    for (auto attr :
         {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
      set(attr, &cdAlignment, sizeof(cdAlignment));
    }
  }
  ~Preference() { cublasLtMatmulPreferenceDestroy(pref_); }
  Preference(const Preference&) = delete;
  Preference& operator=(const Preference&) = delete;
  cublasLtMatmulPreference_t get() const noexcept { return pref_; }

 private:
  void set(cublasLtMatmulPreferenceAttributes_t attr, const void* value, std::size_t size) {
    check(cublasLtMatmulPreferenceSetAttribute(pref_, attr, value, size),
          "cublasLtMatmulPreferenceSetAttribute");
  }
  cublasLtMatmulPreference_t pref_ = nullptr;
};

constexpr uint32_t kAlignedBytes = 16;

bool aligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % kAlignedBytes == 0;
}

cudaDataType_t cudaType(FloatType type) {
  switch (type) {
    case FloatType::kHalf:
      return CUDA_R_16F;
    case FloatType::kBFloat16:
      return CUDA_R_16BF;
    case FloatType::kFloat:
      break;
  }
  return CUDA_R_32F;
}

FloatType outputType(const LtGemmShape& s) {
  return s.floatOutput ? FloatType::kFloat : s.type;
}

}  // namespace

// cuBLASLt's A is our B and its B our A (see the header).
struct LtGemm::Layouts {
  Layouts(const LtGemmShape& s)
      : a(cudaType(s.type), s.transB ? s.k : s.n, s.transB ? s.n : s.k, s.transB ? s.k : s.n,
          s.batch, s.strideB),
        b(cudaType(s.type), s.transA ? s.m : s.k, s.transA ? s.k : s.m, s.transA ? s.m : s.k,
          s.batch, s.strideA),
        d(cudaType(outputType(s)), s.n, s.m, s.n, s.batch, s.m * s.n) {}
  Layout a;
  Layout b;
  Layout d;  // and C
};

LtGemm::LtGemm(const LtGemmShape& shape) : shape_(shape) {
  if (shape.m < 1 || shape.n < 1 || shape.k < 1 || shape.batch < 1 ||
      shape.batch > std::numeric_limits<int32_t>::max()) {
    fail(ErrorCode::kINTERNAL_ERROR, "cuBLASLt GEMM of unsupported size M ", shape.m, ", N ",
         shape.n, ", K ", shape.k, ", batch ", shape.batch);
  }
  check(cublasLtCreate(&handle_), "cublasLtCreate");
  try {
    layouts_ = std::make_unique<Layouts>(shape);
    cublasLtMatmulDescOpaque_t desc;
    describe(desc, nullptr);
    const std::size_t abSize = floatTypeSize(shape.type);
    const std::size_t cdSize = floatTypeSize(outputType(shape));
    if (shape.candidate < 0 || shape.candidate >= kLtCandidates) {
      fail(ErrorCode::kINTERNAL_ERROR, "cuBLASLt candidate ", shape.candidate, " is not in [0, ",
           kLtCandidates, ")");
    }
    // The shape's candidate among the heuristic's answers (its last where it gave fewer);
    // returns how many it gave.
    auto pick = [&](uint32_t abAlignment, uint32_t cdAlignment, cublasLtMatmulAlgo_t& algo) {
      const Preference pref(abAlignment, cdAlignment);
      std::array<cublasLtMatmulHeuristicResult_t, kLtCandidates> results{};
      int found = 0;
      check(cublasLtMatmulAlgoGetHeuristic(handle_, &desc, layouts_->a.get(), layouts_->b.get(),
                                           layouts_->d.get(), layouts_->d.get(), pref.get(),
                                           shape.candidate + 1, results.data(), &found),
            "cublasLtMatmulAlgoGetHeuristic");
      while (found > 0 &&
             results[static_cast<std::size_t>(found - 1)].state != CUBLAS_STATUS_SUCCESS) {
        --found;
      }
      if (found == 0) return 0;
      const auto& result = results[static_cast<std::size_t>(std::min(found - 1, shape.candidate))];
      algo = result.algo;
      workspaceBytes_ = std::max(workspaceBytes_, result.workspaceSize);
      return found;
    };
    const int anyFound =
        pick(static_cast<uint32_t>(abSize), static_cast<uint32_t>(cdSize), anyAlgo_);
    if (anyFound == 0) {
      fail(ErrorCode::kUNSUPPORTED_NODE, "cuBLASLt has no algorithm for a GEMM of M ", shape.m,
           ", N ", shape.n, ", K ", shape.k, ", batch ", shape.batch);
    }
    // Batched matrices start at base + index * stride: aligned only if the strides are too.
    const bool stridesAligned =
        shape.batch == 1 || ((shape.strideA * abSize) % kAlignedBytes == 0 &&
                             (shape.strideB * abSize) % kAlignedBytes == 0 &&
                             (shape.m * shape.n * cdSize) % kAlignedBytes == 0);
    const int alignedFound = stridesAligned ? pick(kAlignedBytes, kAlignedBytes, alignedAlgo_) : 0;
    if (alignedFound == 0) alignedAlgo_ = anyAlgo_;
    // A candidate past the heuristic's answers would repeat another tactic's algorithm.
    if (shape.candidate >= std::max(anyFound, alignedFound)) {
      fail(ErrorCode::kUNSUPPORTED_NODE, "cuBLASLt offers ", std::max(anyFound, alignedFound),
           " algorithm(s) for a GEMM of M ", shape.m, ", N ", shape.n, ", K ", shape.k,
           ", not candidate ", shape.candidate + 1);
    }
    stridesAligned_ = stridesAligned;
  } catch (...) {
    layouts_.reset();
    cublasLtDestroy(handle_);
    throw;
  }
}

LtGemm::~LtGemm() {
  layouts_.reset();
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

void LtGemm::describe(cublasLtMatmulDescOpaque_t& storage, const void* bias) const {
  cublasLtMatmulDesc_t desc = &storage;
  // FP32 accumulation for every element type; TF32 concerns FP32 operands only.
  const cublasComputeType_t compute = shape_.tf32 && shape_.type == FloatType::kFloat
                                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F;
  check(cublasLtMatmulDescInit(desc, compute, CUDA_R_32F), "cublasLtMatmulDescInit");
  auto set = [&](cublasLtMatmulDescAttributes_t attr, const void* value, std::size_t size) {
    check(cublasLtMatmulDescSetAttribute(desc, attr, value, size),
          "cublasLtMatmulDescSetAttribute");
  };
  const cublasOperation_t opA = shape_.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opB = shape_.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  set(CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA));
  set(CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB));
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  switch (shape_.activation) {
    case LtActivation::kNONE:
      epilogue = shape_.bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
      break;
    case LtActivation::kRELU:
      epilogue = shape_.bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
      break;
    case LtActivation::kGELU_TANH:
      epilogue = shape_.bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
      break;
  }
  set(CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue));
  // The bias keeps CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE's default, D's type: the precision pass
  // gives the bias constant the node's type, which is D's whenever there is a bias.
  if (shape_.bias && bias != nullptr) {
    set(CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias));
  }
}

void LtGemm::run(const void* a, const void* b, const void* bias, const void* residual, void* d,
                 void* workspace, std::size_t workspaceBytes, cudaStream_t stream) const {
  cublasLtMatmulDescOpaque_t desc;
  describe(desc, bias);
  const float alpha = 1.0f;
  const float beta = shape_.residual ? 1.0f : 0.0f;
  const void* c = shape_.residual ? residual : d;
  const bool useAligned = stridesAligned_ && aligned(a) && aligned(b) && aligned(c) && aligned(d) &&
                          (!shape_.bias || aligned(bias));
  const cublasStatus_t status =
      cublasLtMatmul(handle_, &desc, &alpha, b, layouts_->a.get(), a, layouts_->b.get(), &beta, c,
                     layouts_->d.get(), d, layouts_->d.get(),
                     useAligned ? &alignedAlgo_ : &anyAlgo_, workspace, workspaceBytes, stream);
  if (status != CUBLAS_STATUS_SUCCESS) {
    // The shape and the pointers' alignment: what decides whether cuBLASLt takes a call.
    const auto alignment = [](const void* p) {
      return p == nullptr
                 ? 0
                 : reinterpret_cast<std::uintptr_t>(p) & -reinterpret_cast<std::uintptr_t>(p);
    };
    const std::string what =
        "cublasLtMatmul (M " + std::to_string(shape_.m) + ", N " + std::to_string(shape_.n) +
        ", K " + std::to_string(shape_.k) + ", batch " + std::to_string(shape_.batch) + ", " +
        std::to_string(floatTypeSize(shape_.type) * 8) + "-bit operands; workspace " +
        std::to_string(workspaceBytes) + " bytes aligned to " +
        std::to_string(std::min<std::uintptr_t>(alignment(workspace), 4096)) + ")";
    check(status, what.c_str());
  }
}

}  // namespace kiln::backends::cuda
