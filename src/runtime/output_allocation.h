// OutputAllocation: the part of an execution context that deals with outputs placed by an
// OutputAllocator and with data-dependent shapes (Value::boundedExtents). Kernels of
// data-dependent ops write at most the upper bound and report the real dims; this class tracks
// those dims through the layers that take them (casts), gives outputs their memory (an
// allocator's, asked once the size is known; scratch of the upper bound until then), and
// remembers the shapes found for ExecutionContext::tensorShape.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/aligned_buffer.h"
#include "ir/op_registry.h"
#include "kiln/runtime.h"
#include "runtime/engine_impl.h"

namespace kiln::detail {

//! @p value's dims as the API shows them: -1 at data-dependent extents.
Dims publishedDims(const ir::Value& value);

class OutputAllocation {
 public:
  explicit OutputAllocation(const EngineImpl& engine);

  void setAllocator(int32_t io, OutputAllocator* allocator);
  OutputAllocator* allocator(int32_t io) const { return allocators_[static_cast<std::size_t>(io)]; }

  // --- one inference, in ContextImpl::execute ----------------------------------------------
  //! Starts an inference of @p graph, the graph of specialization @p key.
  void begin(const ir::Graph& graph, const void* key, void* stream);
  //! True when this class places IO tensor @p io (an allocator is set, or its shape depends on
  //! the data), so that a missing address is not an error by itself.
  bool handles(int32_t io) const;
  //! Points the outputs this class handles at their memory in @p location (per value): an
  //! allocator's for shapes known now, scratch of the upper bound for data-dependent ones, the
  //! address set with setTensorAddress otherwise. Throws kINVALID_STATE naming an output that
  //! has neither allocator nor address; kFAILED_ALLOCATION when an allocator returns null.
  void place(std::span<void* const> addresses, std::vector<void*>& location);
  //! Before @p node runs: its inputs of data-dependent shape get their real dims, and then its
  //! outputs get dims inferred from them. Returns the dims the kernel reports its outputs in
  //! (empty when the inference has nothing data-dependent).
  std::span<Dims> prepare(const ir::Node& node, std::vector<ir::TensorView>& inputs,
                          std::vector<ir::TensorView>& outputs);
  //! After @p node ran: keeps the dims its kernel reported for its data-dependent outputs.
  void record(const ir::Node& node);
  //! After the last layer: copies data-dependent outputs into their allocator's memory, tells
  //! allocators the shapes, and remembers them for shape().
  void finish(std::span<void* const> addresses, const std::vector<void*>& location);

  //! The shape of output @p io (@p value in specialization @p key): the one the last
  //! inference found when it ran @p key, its published dims otherwise.
  Dims shape(int32_t io, const ir::Value& value, const void* key) const;

 private:
  const EngineImpl& engine_;
  std::vector<OutputAllocator*> allocators_;  // per IO tensor
  std::vector<void*> allocated_;              // per IO tensor: the allocator's latest memory
  std::vector<AlignedBuffer> scratch_;        // per IO tensor: data-dependent outputs
  std::vector<Dims> found_;                   // per IO tensor: the shapes of the last inference
  const void* foundKey_ = nullptr;

  // The inference running now.
  const ir::Graph* graph_ = nullptr;
  const void* key_ = nullptr;
  void* stream_ = nullptr;
  bool active_ = false;           // something in it is data-dependent or allocated
  std::vector<Dims> real_;        // per value, where known
  std::vector<uint8_t> hasReal_;  // per value
  std::vector<Dims> nodeDims_;    // the running node's outputs
};

}  // namespace kiln::detail
