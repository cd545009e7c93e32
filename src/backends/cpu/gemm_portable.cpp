// The portable micro-kernel: plain loops the compiler vectorizes for the baseline ISA.
#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kMr = 4;
constexpr int32_t kNr = 16;

void microKernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate,
                 const TileEpilogue* e) {
  float acc[kMr][kNr] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int32_t i = 0; i < kMr; ++i) {
      const float ai = a[i];
      for (int32_t j = 0; j < kNr; ++j) acc[i][j] += ai * b[j];
    }
    a += kMr;
    b += kNr;
  }
  for (int32_t i = 0; i < kMr; ++i) {
    float* ci = c + i * ldc;
    for (int32_t j = 0; j < kNr; ++j) {
      float v = acc[i][j] + (accumulate ? ci[j] : 0.f);
      if (e != nullptr) {
        if (e->rowBias != nullptr) v += e->rowBias[i];
        if (e->colBias != nullptr) v += e->colBias[j];
        if (e->residual != nullptr) v += e->residual[i * e->ldr + j];
        switch (e->act) {
          case VecAct::kRelu:
            v = v > 0.f ? v : 0.f;
            break;
          case VecAct::kLeaky:
            v = v >= 0.f ? v : e->alpha * v;
            break;
          case VecAct::kClip:
            if (v == v) v = v < e->alpha ? e->alpha : (v > e->beta ? e->beta : v);
            break;
          default:
            break;
        }
      }
      ci[j] = v;
    }
  }
}

void smallRows(int64_t rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c,
               int64_t ldc, int64_t cols, const TileEpilogue& e) {
  for (int64_t r = 0; r < rows; ++r) {
    float acc[kNr] = {};
    const float* ar = a + r * lda;
    for (int64_t k = 0; k < kc; ++k) {
      const float x = ar[k];
      for (int32_t j = 0; j < kNr; ++j) acc[j] += x * b[k * kNr + j];
    }
    float* cr = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) {
      float v = acc[j];
      if (e.rowBias != nullptr) v += e.rowBias[r];
      if (e.colBias != nullptr) v += e.colBias[j];
      if (e.residual != nullptr) v += e.residual[r * e.ldr + j];
      switch (e.act) {
        case VecAct::kRelu:
          v = v > 0.f ? v : 0.f;
          break;
        case VecAct::kLeaky:
          v = v >= 0.f ? v : e.alpha * v;
          break;
        case VecAct::kClip:
          if (v == v) v = v < e.alpha ? e.alpha : (v > e.beta ? e.beta : v);
          break;
        default:
          break;
      }
      cr[j] = v;
    }
  }
}

}  // namespace

const MicroKernel& portableMicroKernel() {
  static const MicroKernel kernel{kMr, kNr, microKernel, smallRows};
  return kernel;
}

}  // namespace kiln::backends::cpu
