// Shared pieces of the data-movement ops (Shuffle, Concatenation, Slice, Padding, Constant,
// Identity, Gather): registration hooks of the per-op files, defaults that the layer API also
// needs, and the byte-level helpers their reference kernels share. These ops move elements
// without computing on them, so their kernels work on bytes and accept every data type.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/types.h"

namespace kiln::ir {
class OpRegistry;
}

namespace kiln::ops {

// Called by registerShapeOps (shape_ops.cpp) and registerDataOps (data_ops.cpp).
void registerShuffleOp(ir::OpRegistry& registry);
void registerConcatenationOp(ir::OpRegistry& registry);
void registerSliceOp(ir::OpRegistry& registry);
void registerPaddingOp(ir::OpRegistry& registry);
void registerPadToChannelsLastOp(ir::OpRegistry& registry);
void registerChannelBlockOps(ir::OpRegistry& registry);
void registerConstantOp(ir::OpRegistry& registry);
void registerIdentityOp(ir::OpRegistry& registry);
void registerGatherOp(ir::OpRegistry& registry);

//! Concatenation axis when none is set: rank - 3 for rank >= 3, else 0 (TensorRT's rule).
constexpr int64_t concatenationDefaultAxis(int32_t rank) noexcept {
  return rank >= 3 ? rank - 3 : 0;
}

//! Empty when @p perm is a permutation of 0..n-1 (n <= Dims::kMaxRank); otherwise why not.
std::string permutationProblem(std::span<const int64_t> perm);

//! Row-major walk over every index of a shape: `for (Odometer it(dims); it.valid(); it.next())`.
//! A shape with a zero extent has no indices; a scalar has exactly one.
class Odometer {
 public:
  explicit Odometer(const Dims& dims) : dims_(dims), valid_(volume(dims) > 0) {}
  bool valid() const noexcept { return valid_; }
  int64_t operator[](int32_t axis) const noexcept { return index_[static_cast<std::size_t>(axis)]; }
  void next() noexcept {
    for (int32_t k = dims_.nbDims - 1; k >= 0; --k) {
      auto& i = index_[static_cast<std::size_t>(k)];
      if (++i < dims_[k]) return;
      i = 0;
    }
    valid_ = false;
  }

 private:
  Dims dims_;
  std::array<int64_t, Dims::kMaxRank> index_{};
  bool valid_;
};

//! Fills @p dst (row-major, shape @p dstDims) with the elements of @p src at offsets
//! sum(index[k] * srcStrides[k]) (in elements; strides may be 0 to repeat). Contiguous runs are
//! copied whole.
void copyStrided(const void* src, const Dims& dstDims, std::span<const int64_t> srcStrides,
                 void* dst, std::size_t elementBytes);

//! Copies @p src (shape @p srcDims, row-major) to @p dst transposed: output dimension k is input
//! dimension perm[k]. @p perm must be a valid permutation of the rank of @p srcDims.
void transposeBytes(const void* src, const Dims& srcDims, std::span<const int64_t> perm, void* dst,
                    std::size_t elementBytes);

//! Converts @p count elements of @p srcType to @p dstType (Identity's cast rules: float to
//! integer truncates toward zero and saturates, NaN gives 0; integer to narrower integer
//! saturates; anything to BOOL is x != 0; BOOL is 0 or 1 as a number).
void convertElements(const void* src, DataType srcType, void* dst, DataType dstType, int64_t count);

//! Writes @p value as one element of @p type (same rules as convertElements from FP64).
void storeScalar(double value, DataType type, void* dst);

//! True when converting @p value to @p type and back gives @p value exactly.
bool representable(double value, DataType type);

}  // namespace kiln::ops
