#include "backends/prepared_weights.h"

#include <utility>

#include "core/error.h"

namespace kiln::backends {

namespace {

PreparedBuffer freshBuffer(std::size_t bytes, const PrepareFn& fill) {
  auto buffer = std::make_shared<AlignedBuffer>(bytes);
  fill(buffer->data());
  return buffer;
}

}  // namespace

PreparedWeights::PreparedWeights(std::string layer, std::vector<PreparedBuffer> stored)
    : layer_(std::move(layer)), buffers_(std::move(stored)), replaying_(true) {}

PreparedBuffer PreparedWeights::derive(std::size_t bytes, const PrepareFn& fill) {
  if (replaying_) {
    if (next_ >= buffers_.size()) {
      fail(ErrorCode::kINVALID_PLAN, "layer '", layer_, "': its tactic prepares more than the ",
           buffers_.size(), " weight buffers the plan stores");
    }
    const PreparedBuffer& stored = buffers_[next_];
    if (stored->size() != bytes) {
      fail(ErrorCode::kINVALID_PLAN, "layer '", layer_, "': prepared weight buffer #", next_,
           " holds ", stored->size(), " bytes; its tactic needs ", bytes);
    }
    ++next_;
    return stored;
  }
  buffers_.push_back(freshBuffer(bytes, fill));
  return buffers_.back();
}

void PreparedWeights::absorb(int32_t input) {
  if (input >= 0 && input < 64) absorbed_ |= uint64_t{1} << input;
}

PreparedBuffer derivePrepared(PreparedWeights* prepared, std::size_t bytes, const PrepareFn& fill) {
  return prepared != nullptr ? prepared->derive(bytes, fill) : freshBuffer(bytes, fill);
}

void absorbPrepared(PreparedWeights* prepared, int32_t input) {
  if (prepared != nullptr) prepared->absorb(input);
}

}  // namespace kiln::backends
