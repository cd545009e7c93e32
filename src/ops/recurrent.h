// The recurrent ops LSTM, GRU and RNN (ONNX semantics): their settings as the shape rule, the
// reference kernel and the CPU tactic read them, so that all three agree on defaults.
//
// Inputs (ONNX order): 0 X [T, B, I] ([B, T, I] with layout 1), 1 W [D, G*H, I], 2 R [D, G*H, H],
// optional 3 B [D, 2*G*H] (W's bias, then R's), 4 sequence_lens int32/int64 [B], 5 initial_h
// [D, B, H] ([B, D, H] with layout 1), and for LSTM 6 initial_c (as initial_h) and 7 P [D, 3*H]
// (peepholes i, o, f). D: 2 when bidirectional, else 1; G: gates (LSTM 4 in the order i o f c,
// GRU 3 in the order z r h, RNN 1). Outputs: Y [T, D, B, H] ([B, T, D, H] with layout 1), Y_h
// (initial_h's shape) and, for LSTM, Y_c.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ir/graph.h"
#include "kiln/network.h"

namespace kiln::ops {

enum class RecurrentKind : int32_t { kRNN, kLSTM, kGRU };

//! One activation of a recurrent cell with its parameters.
struct RecurrentActivation {
  ActivationType type = ActivationType::kTANH;
  float alpha = 0.f;
  float beta = 0.f;
};

struct RecurrentConfig {
  RecurrentKind kind = RecurrentKind::kLSTM;
  int64_t hidden = 0;
  int32_t directions = 1;  //!< D
  RNNDirection direction = RNNDirection::kFORWARD;
  bool batchFirst = false;  //!< ONNX layout 1
  float clip = 0.f;         //!< 0: no clipping
  bool inputForget = false;
  bool linearBeforeReset = false;
  //! Per direction: f, g, h (LSTM), f, g (GRU), f (RNN).
  std::array<std::array<RecurrentActivation, 3>, 2> activations{};

  int32_t gates() const {
    return kind == RecurrentKind::kLSTM ? 4 : kind == RecurrentKind::kGRU ? 3 : 1;
  }
  //! Activations per direction.
  int32_t nbActivations() const {
    return kind == RecurrentKind::kLSTM ? 3 : kind == RecurrentKind::kGRU ? 2 : 1;
  }
  //! Direction @p d runs backwards through time.
  bool reversed(int32_t d) const {
    return direction == RNNDirection::kREVERSE ||
           (direction == RNNDirection::kBIDIRECTIONAL && d == 1);
  }
};

//! The kind of op @p op ("LSTM", "GRU", "RNN"); false for other ops.
bool recurrentKindOf(std::string_view op, RecurrentKind& kind);

//! The settings of @p node (a recurrent op) with every default applied. Throws kiln errors
//! (without the layer's name) for attributes out of range; the shape rule names the layer.
RecurrentConfig recurrentConfig(const ir::Node& node);

//! The default activations of one direction: Sigmoid, Tanh, Tanh (LSTM), Sigmoid, Tanh (GRU),
//! Tanh (RNN).
std::array<RecurrentActivation, 3> defaultRecurrentActivations(RecurrentKind kind);

}  // namespace kiln::ops
