// TensorProto -> ConstTensor: every element type kiln can hold, from raw_data, the typed fields
// or an external data file inside the model's folder.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "onnx.pb.h"
#include "parsers/onnx/const_tensor.h"

namespace kiln::parsers::onnx_import {

//! Where external data files may be read from.
struct ExternalDataRoot {
  std::filesystem::path folder;  //!< the model's folder; empty when the model came from memory
};

//! Largest element count of one tensor the parser accepts (kiln's limit of one tensor).
inline constexpr int64_t kMaxConstElements = int64_t{1} << 40;

//! Decodes @p tensor. Throws kINVALID_MODEL naming @p what (e.g. "initializer 'w'") when the
//! tensor is malformed (sizes that disagree, unknown type, unreadable external data), has a
//! type kiln cannot hold (strings, complex numbers) or is larger than @p limit.
ConstTensor decodeTensor(const ::onnx::TensorProto& tensor, const ExternalDataRoot& root,
                         const ConstantLimit& limit, std::string_view what);

//! Resolves an external data location against @p root: relative paths inside the folder only.
//! Throws kINVALID_MODEL naming @p what otherwise.
std::filesystem::path resolveExternalPath(const ExternalDataRoot& root, const std::string& location,
                                          std::string_view what);

}  // namespace kiln::parsers::onnx_import
