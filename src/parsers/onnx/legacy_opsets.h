// ONNX opsets 1 to 6: which ops kiln imports with their old definitions.
//
// The importers implement the definitions of opset 7 and later. Most ops read the same in
// opsets 1 to 6 apart from attributes that no longer mean anything (consumed_inputs, is_test of
// inference-only ops); those are imported by the same importers. Ops whose old definition
// differs in a way the importers do not handle are refused by name, op and opset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::parsers::onnx_import {

class NodeImport;

//! Opsets below this one go through the table of legacy_opsets.cpp.
inline constexpr int64_t kLegacyOpsetEnd = 7;

//! Empty when kiln imports @p opType at @p opset (< kLegacyOpsetEnd); otherwise the reason.
std::string legacyOpsetProblem(std::string_view opType, int64_t opset);

//! The oldest opset below kLegacyOpsetEnd from which kiln imports @p opType; 0 when it imports
//! the op only from kLegacyOpsetEnd on.
int64_t legacyOldestOpset(std::string_view opType);

//! Checks the old attributes of a node of opset < kLegacyOpsetEnd whose meaning differs (the
//! broadcast axis of binary ops, BatchNormalization's is_test); throws UnsupportedNode.
void checkLegacyNode(const NodeImport& n);

}  // namespace kiln::parsers::onnx_import
