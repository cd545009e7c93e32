// Vectorized float32 pointwise kernels (PointwiseChain blocks, LayerNorm rows, activations),
// compiled once per ISA (pointwise_vec_<isa>.cpp, the code in pointwise_vec_kernel.inc) and
// picked at run time by what the CPU has. The interface is plain data: no inline code shared
// between files built with different instruction sets.
#pragma once

#include <cstdint>

namespace kiln::backends::cpu {

enum class VecStepKind : int32_t { kActivation, kUnary, kElementWise };

//! One step of a chain: op is the ActivationType, UnaryOperation or ElementWiseOperation.
struct VecStep {
  VecStepKind kind = VecStepKind::kActivation;
  int32_t op = 0;
  float alpha = 0.f;
  float beta = 0.f;
  int32_t operand = -1;       //!< index into ChainBlock::operands (ElementWise steps)
  bool operandFirst = false;  //!< the operand is the step's input 0
};

//! One contiguous block of a chain's output, every input already laid out along it.
struct ChainBlock {
  const float* x = nullptr;                //!< [n] the chain's input
  const float* const* operands = nullptr;  //!< per operand: [n] values, or [1] when scalar
  const bool* scalar = nullptr;            //!< per operand: one value for the whole block
  float* scratch[2] = {nullptr, nullptr};  //!< [n] each: the running value between steps
  float* y = nullptr;                      //!< [n]
  int64_t n = 0;
};

struct PointwiseVecKernels {
  const char* isa = "";
  //! Runs the steps over one block; the last step writes y, the others scratch in turn (no
  //! buffer is read and written by one step, so the loops need no aliasing checks).
  void (*chainBlock)(const VecStep* steps, int32_t nbSteps, const ChainBlock& block) = nullptr;
  //! rows x inner row-major: y = (x - mean) / sqrt(var + epsilon) * gamma + beta per row
  //! (gamma, beta: [inner] or null).
  void (*layerNormRows)(const float* x, const float* gamma, const float* beta, float* y,
                        int64_t rows, int64_t inner, float epsilon) = nullptr;
  //! y[i] = activation(x[i]) for i < n (x may be y).
  void (*activate)(int32_t type, float alpha, float beta, const float* x, float* y,
                   int64_t n) = nullptr;
  //! row[j] = exp(row[j] - shift) for j < n; returns their (float) sum: softmax's middle pass.
  float (*expShiftSum)(float* row, int64_t n, float shift) = nullptr;
  //! row = softmax(row * scale + mask) in place, mask [n] contiguous or null (attention's
  //! scores); a row of nothing but -inf becomes NaN (0 / 0, as the reference).
  void (*scaledSoftmaxRow)(float* row, int64_t n, float scale, const float* mask) = nullptr;
};

const PointwiseVecKernels& portablePointwiseVec();
const PointwiseVecKernels& avx2PointwiseVec();    //!< needs avx2, fma
const PointwiseVecKernels& avx512PointwiseVec();  //!< needs avx512f/bw/dq/vl

//! The fastest of the above that this CPU runs.
const PointwiseVecKernels& bestPointwiseVec();

//! y[i] = activation(y[i]) for i < n, @p type an ActivationType: on bestPointwiseVec() where it
//! has the activation, else the reference's scalar math. For the activations the kernels' tiles
//! do not apply in registers (VecAct::kGeneric: sigmoid, tanh, GELU ...), after a tile or row is
//! stored.
void activateInPlace(int32_t type, float alpha, float beta, float* y, int64_t n);

//! True when the chain step (op kind, op value) has a kernel here.
bool vecActivationSupported(int32_t type);
bool vecUnarySupported(int32_t op);
bool vecElementWiseSupported(int32_t op);

}  // namespace kiln::backends::cpu
