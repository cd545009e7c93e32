#include "parsers/json/enum_names.h"

#include <array>

namespace kiln::parsers::netjson {

std::span<const EnumName<DataType>> dataTypeNames() {
  using T = DataType;
  static constexpr std::array<EnumName<T>, 12> kNames{{
      {"float32", T::kFLOAT},
      {"float16", T::kHALF},
      {"bfloat16", T::kBF16},
      {"int8", T::kINT8},
      {"uint8", T::kUINT8},
      {"int32", T::kINT32},
      {"int64", T::kINT64},
      {"bool", T::kBOOL},
      {"int16", T::kINT16},
      {"uint16", T::kUINT16},
      {"uint32", T::kUINT32},
      {"uint64", T::kUINT64},
  }};
  return kNames;
}

std::span<const EnumName<DataType>> constantTypeNames() {
  using T = DataType;
  static constexpr std::array<EnumName<T>, 3> kNames{{
      {"float32", T::kFLOAT},
      {"int32", T::kINT32},
      {"bool", T::kBOOL},
  }};
  return kNames;
}

std::span<const EnumName<PaddingMode>> paddingModeNames() {
  using T = PaddingMode;
  static constexpr std::array<EnumName<T>, 4> kNames{{
      {"explicit_round_down", T::kEXPLICIT_ROUND_DOWN},
      {"explicit_round_up", T::kEXPLICIT_ROUND_UP},
      {"same_upper", T::kSAME_UPPER},
      {"same_lower", T::kSAME_LOWER},
  }};
  return kNames;
}

std::span<const EnumName<PoolingType>> poolingTypeNames() {
  using T = PoolingType;
  static constexpr std::array<EnumName<T>, 3> kNames{{
      {"max", T::kMAX},
      {"average", T::kAVERAGE},
      {"max_average_blend", T::kMAX_AVERAGE_BLEND},
  }};
  return kNames;
}

std::span<const EnumName<MatrixOperation>> matrixOperationNames() {
  using T = MatrixOperation;
  static constexpr std::array<EnumName<T>, 3> kNames{{
      {"none", T::kNONE},
      {"transpose", T::kTRANSPOSE},
      {"vector", T::kVECTOR},
  }};
  return kNames;
}

std::span<const EnumName<ActivationType>> activationTypeNames() {
  using T = ActivationType;
  static constexpr std::array<EnumName<T>, 16> kNames{{
      {"relu", T::kRELU},
      {"sigmoid", T::kSIGMOID},
      {"tanh", T::kTANH},
      {"leaky_relu", T::kLEAKY_RELU},
      {"elu", T::kELU},
      {"selu", T::kSELU},
      {"softsign", T::kSOFTSIGN},
      {"softplus", T::kSOFTPLUS},
      {"clip", T::kCLIP},
      {"hard_sigmoid", T::kHARD_SIGMOID},
      {"scaled_tanh", T::kSCALED_TANH},
      {"thresholded_relu", T::kTHRESHOLDED_RELU},
      {"gelu_erf", T::kGELU_ERF},
      {"gelu_tanh", T::kGELU_TANH},
      {"silu", T::kSILU},
      {"hard_swish", T::kHARD_SWISH},
  }};
  return kNames;
}

std::span<const EnumName<ElementWiseOperation>> elementWiseOperationNames() {
  using T = ElementWiseOperation;
  static constexpr std::array<EnumName<T>, 18> kNames{{
      {"sum", T::kSUM},
      {"prod", T::kPROD},
      {"max", T::kMAX},
      {"min", T::kMIN},
      {"sub", T::kSUB},
      {"div", T::kDIV},
      {"pow", T::kPOW},
      {"floor_div", T::kFLOOR_DIV},
      {"and", T::kAND},
      {"or", T::kOR},
      {"xor", T::kXOR},
      {"equal", T::kEQUAL},
      {"greater", T::kGREATER},
      {"less", T::kLESS},
      {"mod", T::kMOD},
      {"fmod", T::kFMOD},
      {"shift_left", T::kSHIFT_LEFT},
      {"shift_right", T::kSHIFT_RIGHT},
  }};
  return kNames;
}

std::span<const EnumName<UnaryOperation>> unaryOperationNames() {
  using T = UnaryOperation;
  static constexpr std::array<EnumName<T>, 25> kNames{{
      {"exp", T::kEXP},     {"log", T::kLOG},   {"sqrt", T::kSQRT},   {"recip", T::kRECIP},
      {"abs", T::kABS},     {"neg", T::kNEG},   {"sin", T::kSIN},     {"cos", T::kCOS},
      {"tan", T::kTAN},     {"sinh", T::kSINH}, {"cosh", T::kCOSH},   {"asin", T::kASIN},
      {"acos", T::kACOS},   {"atan", T::kATAN}, {"asinh", T::kASINH}, {"acosh", T::kACOSH},
      {"atanh", T::kATANH}, {"ceil", T::kCEIL}, {"floor", T::kFLOOR}, {"erf", T::kERF},
      {"not", T::kNOT},     {"sign", T::kSIGN}, {"round", T::kROUND}, {"isinf", T::kISINF},
      {"isnan", T::kISNAN},
  }};
  return kNames;
}

std::span<const EnumName<ScaleMode>> scaleModeNames() {
  using T = ScaleMode;
  static constexpr std::array<EnumName<T>, 3> kNames{{
      {"uniform", T::kUNIFORM},
      {"channel", T::kCHANNEL},
      {"elementwise", T::kELEMENTWISE},
  }};
  return kNames;
}

std::span<const EnumName<PaddingFill>> paddingFillNames() {
  using T = PaddingFill;
  static constexpr std::array<EnumName<T>, 3> kNames{{
      {"constant", T::kCONSTANT},
      {"reflect", T::kREFLECT},
      {"edge", T::kEDGE},
  }};
  return kNames;
}

std::span<const EnumName<ReduceOperation>> reduceOperationNames() {
  using T = ReduceOperation;
  static constexpr std::array<EnumName<T>, 5> kNames{{
      {"sum", T::kSUM},
      {"prod", T::kPROD},
      {"max", T::kMAX},
      {"min", T::kMIN},
      {"avg", T::kAVG},
  }};
  return kNames;
}

std::span<const EnumName<TopKOperation>> topKOperationNames() {
  using T = TopKOperation;
  static constexpr std::array<EnumName<T>, 2> kNames{{
      {"max", T::kMAX},
      {"min", T::kMIN},
  }};
  return kNames;
}

std::span<const EnumName<GatherMode>> gatherModeNames() {
  using T = GatherMode;
  static constexpr std::array<EnumName<T>, 3> kNames{{
      {"default", T::kDEFAULT},
      {"element", T::kELEMENT},
      {"nd", T::kND},
  }};
  return kNames;
}

}  // namespace kiln::parsers::netjson
