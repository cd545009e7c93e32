// Constant, Identity (copy or cast) and Gather (gather.cpp).
#include <cstring>

#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

// Constant: its single input is the constant value; the builder folds the node away unless its
// output is a network output, where this copy writes it.
void inferConstant(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  if (in.constData == nullptr && volume(in.dims) > 0) {
    ctx.fail("its input must be a constant (weights)");
  }
  ctx.setOutput(0, in.dtype, in.dims);
}

void runConstant(const ir::KernelContext& ctx) {
  const auto& out = ctx.output(0);
  const auto bytes = static_cast<std::size_t>(out.count()) * elementSize(out.dtype);
  if (bytes > 0) std::memcpy(out.data, ctx.input(0).data, bytes);
}

// Identity: a copy, or a conversion to the requested output type (Layer::setOutputType).
void inferIdentity(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  DataType type = in.dtype;
  const auto& requested = ctx.node().outputTypes;
  if (!requested.empty() && requested[0]) type = *requested[0];
  if (!isValidDataType(static_cast<int32_t>(type))) {
    ctx.fail("unknown output type ", static_cast<int32_t>(type));
  }
  ctx.setOutput(0, type, in.dims);
}

void runIdentity(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  convertElements(in.data, in.dtype, out.data, out.dtype, out.count());
}

}  // namespace

void registerConstantOp(ir::OpRegistry& registry) {
  registry.add({.name = "Constant",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferConstant,
                .reference = runConstant});
}

void registerIdentityOp(ir::OpRegistry& registry) {
  registry.add({.name = "Identity",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferIdentity,
                .reference = runIdentity,
                .takesDataDependentShapes = true});
}

void registerDataOps(ir::OpRegistry& registry) {
  registerConstantOp(registry);
  registerIdentityOp(registry);
  registerGatherOp(registry);
}

}  // namespace kiln::ops
