// Pieces the fast CPU tactics share: ISA variants, the fused epilogue in GEMM form, and a thread
// pool for kernels run without one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/gemm.h"
#include "backends/tactic.h"
#include "core/thread_pool.h"
#include "ops/epilogue.h"

namespace kiln::backends::cpu {

struct GemmIsa {
  std::string suffix;                 //!< tactic name suffix: "avx512", "avx2", "portable"
  std::vector<std::string> features;  //!< what the micro-kernel needs
  const MicroKernel& (*kernel)();
};

//! The GEMM micro-kernels built in, fastest first.
const std::vector<GemmIsa>& gemmIsas();

//! Calls @p body(pool) with the context's pool, or a one-thread pool when it has none.
template <typename Body>
void withPool(const ir::KernelContext& ctx, Body&& body) {
  if (ctx.threads != nullptr) {
    body(*ctx.threads);
  } else {
    ThreadPool local(1);
    body(local);
  }
}

//! The node's epilogue with the activation mapped for the GEMM; the bias and residual pointers
//! are left to the caller (their layout depends on the op).
GemmEpilogue gemmEpilogueOf(const ops::Epilogue& e);

//! True when every input beyond the first @p inputs is the epilogue's residual, of the output's
//! shape and float type.
bool onlyResidualExtra(const NodeSpec& spec, int32_t inputs);

//! Activation of one value by the epilogue (residual excluded).
inline float activate(const ops::Epilogue& e, float v) {
  return e.activate(v);
}

}  // namespace kiln::backends::cpu
