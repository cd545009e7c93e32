// What docs/supported-ops.md says about each op of the importer table: the kiln layers its
// importer adds and the limits of the import. tests/parsers/onnx_supported_ops_test.cpp renders
// the page from importers() and this table, and fails when the page is out of date.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

struct ImporterDoc {
  std::string_view opType;
  std::string_view layers;  //!< the kiln layers the importer adds ("Reduce + ElementWise")
  std::string_view notes;   //!< limits of the import; empty when none
  //! The opset ONNX introduced the op in, when later than the table's sinceOpset says.
  int64_t onnxSince = 0;
};

std::span<const ImporterDoc> importerDocs();
//! Null when the op has no row.
const ImporterDoc* findImporterDoc(std::string_view opType);
//! The oldest opset kiln imports @p info's op in (the opset check, the legacy opsets of
//! legacy_opsets.h and the op's introduction in ONNX).
int64_t oldestImportedOpset(const ImporterInfo& info);

}  // namespace kiln::parsers::onnx_import
