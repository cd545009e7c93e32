// Prepared weights: the constant data a kernel derives from its node's weights when it is
// instantiated (GEMM panels, reordered filters). The builder records them and the plan stores
// them, so loading an engine derives nothing; a constant every consumer has absorbed into its
// prepared weights is then left out of the plan (docs/plan-format.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"

namespace kiln::backends {

using PreparedBuffer = std::shared_ptr<const AlignedBuffer>;
//! Writes a prepared buffer's bytes (its size is the one asked for).
using PrepareFn = std::function<void(std::byte* out)>;

//! The prepared weights of one node, in the order its kernel asks for them.
class PreparedWeights {
 public:
  //! Records what the kernel derives (the builder, for the plan).
  PreparedWeights() = default;
  //! Hands out @p stored, the buffers a plan kept for layer @p layer, without deriving
  //! anything. A kernel that asks for other sizes, or more buffers, gets kINVALID_PLAN.
  PreparedWeights(std::string layer, std::vector<PreparedBuffer> stored);

  //! The next buffer of @p bytes: the stored one, or a new one that @p fill writes (and that a
  //! recording store keeps). With stored buffers @p fill is never called, so it, and only it,
  //! may read the weights.
  PreparedBuffer derive(std::size_t bytes, const PrepareFn& fill);
  //! The kernel reads input @p input only to derive its buffers, never when it runs: a plan
  //! that stores them need not keep the input's bytes.
  void absorb(int32_t input);

  const std::vector<PreparedBuffer>& buffers() const noexcept { return buffers_; }
  //! Bit i set: input i is absorbed.
  uint64_t absorbedInputs() const noexcept { return absorbed_; }
  //! Replaying: whether the kernel asked for every stored buffer.
  bool allTaken() const noexcept { return next_ == buffers_.size(); }

 private:
  std::string layer_;
  std::vector<PreparedBuffer> buffers_;
  std::size_t next_ = 0;
  bool replaying_ = false;
  uint64_t absorbed_ = 0;
};

//! A buffer of @p bytes that @p fill writes: through @p prepared when there is one (which may
//! hand out a stored buffer instead), else freshly allocated.
PreparedBuffer derivePrepared(PreparedWeights* prepared, std::size_t bytes, const PrepareFn& fill);
//! Tells @p prepared, when there is one, that the kernel absorbed input @p input.
void absorbPrepared(PreparedWeights* prepared, int32_t input);

//! @p base + @p offset: a slice of weights, null where a stored plan left them out (only a
//! PrepareFn, which then does not run, reads them).
inline const float* weightsAt(const float* base, int64_t offset) {
  return base != nullptr ? base + offset : nullptr;
}

//! The floats of @p buffer.
inline const float* preparedFloats(const PreparedBuffer& buffer) {
  return reinterpret_cast<const float*>(buffer->data());
}

}  // namespace kiln::backends
