// One row-major, strided-batched GEMM through cuBLASLt, prepared once and run on any stream:
//
//   D[b] = act(op(A)[b] · op(B)[b] + bias + C[b])     (D: [M, N]; op(A): [M, K]; op(B): [K, N])
//
// cuBLASLt is column-major; a row-major [R, C] matrix is the column-major [C, R] one, so the
// GEMM runs as D^T = op(B)^T · op(A)^T with cuBLASLt's A = our B and B = our A, and the bias (one
// value per column N of D) becomes cuBLASLt's per-row bias. Compute is CUBLAS_COMPUTE_32F, so
// results match an FP32 reference, unless the node allows TF32 (BuilderFlag::kTF32).
//
// A and B hold float, half or bfloat16 elements (FloatType); C, D and the bias hold the same type,
// or float32 (floatOutput). Accumulation and the alpha / beta scaling stay FP32 for every type.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "backends/cuda/pointwise_kernels.h"

namespace kiln::backends::cuda {

enum class LtActivation { kNONE, kRELU, kGELU_TANH };

struct LtGemmShape {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  bool transA = false;  //!< A is stored [K, M] (else [M, K])
  bool transB = false;  //!< B is stored [N, K] (else [K, N])
  int64_t batch = 1;
  int64_t strideA = 0;  //!< elements between the batch's A matrices (0: one A for all)
  int64_t strideB = 0;
  bool bias = false;      //!< a bias vector of N values, added before the activation
  bool residual = false;  //!< C: a tensor of D's layout, added before the activation
  LtActivation activation = LtActivation::kNONE;
  bool tf32 = false;                   //!< products on TF32 tensor cores (FP32 operands only)
  FloatType type = FloatType::kFloat;  //!< the element type of A and B (and C, D, bias)
  bool floatOutput = false;            //!< C and D (and the bias) are float32 whatever type is
  //! Which of cuBLASLt's heuristic answers runs (0: its first choice): each is a tactic of its
  //! own (lt_gemm_candidates), timed by the builder.
  int32_t candidate = 0;
};

//! The heuristic answers kiln offers the builder per GEMM (candidates 0 to this - 1).
inline constexpr int32_t kLtCandidates = 4;

class LtGemm {
 public:
  //! Creates the handle and layouts and picks the algorithms (the shape's candidate); the GPU
  //! must be current. Fails with kUNSUPPORTED_NODE where cuBLASLt has no such candidate.
  explicit LtGemm(const LtGemmShape& shape);
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  std::size_t workspaceBytes() const noexcept { return workspaceBytes_; }

  //! Enqueues the GEMM; @p bias / @p residual are used as the shape says (null otherwise).
  //! Pointers hold the shape's element types.
  void run(const void* a, const void* b, const void* bias, const void* residual, void* d,
           void* workspace, std::size_t workspaceBytes, cudaStream_t stream) const;

 private:
  struct Layouts;
  void describe(cublasLtMatmulDescOpaque_t& storage, const void* bias) const;

  LtGemmShape shape_;
  cublasLtHandle_t handle_ = nullptr;
  std::unique_ptr<Layouts> layouts_;
  cublasLtMatmulAlgo_t alignedAlgo_{};  // for 16-byte aligned pointers
  cublasLtMatmulAlgo_t anyAlgo_{};      // for any element-aligned pointers
  bool stridesAligned_ = false;
  std::size_t workspaceBytes_ = 0;
};

}  // namespace kiln::backends::cuda
