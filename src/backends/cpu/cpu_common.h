// Pieces the fast CPU tactics share: ISA variants, the fused epilogue in GEMM form, and a thread
// pool for kernels run without one.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
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

//! A tactic whose kernel (@p KernelT, constructed from a micro-kernel and the node) runs on one
//! GEMM ISA: named "<prefix>.<isa suffix>", it needs that ISA's features, and @p supports says
//! which nodes it takes.
template <typename KernelT>
class GemmIsaTactic final : public Tactic {
 public:
  using SupportsFn = bool (*)(const NodeSpec&);
  GemmIsaTactic(const GemmIsa& isa, std::string_view prefix, SupportsFn supports)
      : isa_(isa), name_(std::string(prefix) + "." + isa.suffix), supports_(supports) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return isa_.features; }
  bool supports(const NodeSpec& spec) const override { return supports_(spec); }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<KernelT>(isa_.kernel(), spec);
  }

 private:
  const GemmIsa& isa_;
  std::string name_;
  SupportsFn supports_;
};

//! Registers one GemmIsaTactic<KernelT> for @p op per GEMM ISA, fastest first.
template <typename KernelT>
void addGemmIsaTactics(TacticRegistry& registry, const std::string& op, std::string_view prefix,
                       typename GemmIsaTactic<KernelT>::SupportsFn supports) {
  for (const GemmIsa& isa : gemmIsas()) {
    registry.add(op, std::make_unique<GemmIsaTactic<KernelT>>(isa, prefix, supports));
  }
}

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

//! Bytes the micro-kernels' aligned loads of packed panels need their panels aligned to: a kernel
//! that packs panels into its workspace asks for this much more and starts at alignedWorkspace.
inline constexpr std::size_t kPanelAlignment = 64;

//! @p workspace advanced to the next kPanelAlignment boundary.
float* alignedWorkspace(void* workspace);

//! The node's epilogue with the activation mapped for the GEMM; the bias and residual pointers
//! are left to the caller (their layout depends on the op).
GemmEpilogue gemmEpilogueOf(const ops::Epilogue& e);

//! The activation of @p e over y[0, n) (nothing without one), vectorized where pointwise_vec.h
//! has it (activateInPlace): for the activations a kernel's tiles do not apply in registers.
void activateInPlace(const ops::Epilogue& e, float* y, int64_t n);

//! The fused epilogue of a kernel that sums over its input channels in passes (blocks of K), each
//! pass storing y: the first pass adds the bias and the residual, later ones add the sum so far
//! (y itself, each element read before it is written), and only the last activates. An
//! activation the tile kernels do not have (VecAct::kGeneric) is left to finish().
struct PassEpilogue {
  explicit PassEpilogue(const ops::Epilogue& e);

  //! The epilogue of the tile at @p yt (rows @p ld apart) for pass @p pass of @p passes: @p bias
  //! at the tile's first output channel and @p residual at the tile, each null when absent.
  TileEpilogue pass(const float* bias, const float* residual, const float* yt, int64_t ld,
                    int64_t pass, int64_t passes) const;

  //! Applies a kGeneric activation to a finished tile: @p rows rows of @p cols, @p ld apart.
  void finish(float* yt, int64_t rows, int64_t cols, int64_t ld) const;

  ops::Epilogue epilogue;
  GemmEpilogue gemm;
  VecAct act = VecAct::kNone;
};

//! True when every input beyond the first @p inputs is the epilogue's residual, of the output's
//! shape and float type.
bool onlyResidualExtra(const NodeSpec& spec, int32_t inputs);

//! A convolution or deconvolution seen as 2-d (a 1-d one has height 1).
struct Window2d {
  int64_t batch = 0, channels = 0, outputs = 0, groups = 1;
  int64_t ih = 1, iw = 1, oh = 1, ow = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;

  int64_t cg() const { return channels / groups; }
};

//! Fills @p w from a Convolution (or, @p transposed, Deconvolution) node; false when the fast
//! kernels do not take it (not float32, not 1-d or 2-d, groups that do not divide, extra inputs
//! other than bias and residual).
bool describeWindow2d(const NodeSpec& spec, bool transposed, Window2d& w);

//! Fills @p w (channels and outputs counted in channels, not blocks) from a 2-d Convolution node
//! in the blocked layout NCHW8c (ops/window_util.h), whose x is blocked or NCHW; false for any
//! other node.
bool describeBlockedWindow2d(const NodeSpec& spec, Window2d& w);

//! Whether a blocked node (describeBlockedWindow2d) reads a blocked x, not an NCHW one.
bool blockedInput(const NodeSpec& spec);

//! Activation of one value by the epilogue (residual excluded).
inline float activate(const ops::Epilogue& e, float v) {
  return e.activate(v);
}

}  // namespace kiln::backends::cpu
