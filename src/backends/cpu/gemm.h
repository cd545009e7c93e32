// Packed, cache-blocked single-precision GEMM: C[M, N] = A[M, K] * B[K, N], with the fused
// epilogue (ops/epilogue.h) applied as C is stored. The arithmetic core is an ISA-specific
// micro-kernel (AVX-512, AVX2+FMA, portable) chosen by the tactic; everything else (blocking,
// packing, threading, edge tiles) is portable and shared.
//
// Packed layouts (mr, nr: the micro-kernel's tile): A as blocks of depth (the GEMM's own split of
// K), each holding row panels of mr rows [kc][mr]; B as column panels of nr columns, each [K][nr];
// both zero-padded to whole panels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/prepared_weights.h"
#include "core/aligned_buffer.h"
#include "kiln/network.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::backends::cpu {

//! Activations the micro-kernels apply in registers; others run after the tile is stored.
enum class VecAct : int32_t { kNone, kRelu, kLeaky, kClip, kGeneric };

//! Epilogue of one tile as a micro-kernel sees it: pointers already at the tile's origin.
struct TileEpilogue {
  const float* rowBias = nullptr;   //!< [mr]: one value per row
  const float* colBias = nullptr;   //!< [nr]: one value per column
  const float* residual = nullptr;  //!< tile of residual, row stride ldr
  int64_t ldr = 0;
  VecAct act = VecAct::kNone;  //!< kGeneric is left to the caller
  float alpha = 0.f;
  float beta = 0.f;
};

//! c[0..mr)[0..nr) (row stride ldc) = (accumulate ? c : 0) + a-panel * b-panel over kc steps,
//! then the epilogue when @p epi is not null.
using MicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                               bool accumulate, const TileEpilogue* epi);

//! Most rows of A the small-M kernels take: below a full micro-kernel tile, the tile's padding
//! rows would be most of the work, and a product with M this small streams B once (GEMV-like).
constexpr int64_t kSmallRows = 4;

//! c[0..rows)[0..cols) (row stride ldc) = a[rows][kc] (row stride lda, contiguous along k) times
//! one packed B panel [kc][nr] over the whole depth, then the epilogue @p epi (tile origin; its
//! column bias and residual are read for @p cols columns only). rows <= kSmallRows, cols <= nr;
//! VecAct::kGeneric is left to the caller.
using SmallRowsFn = void (*)(int64_t rows, int64_t kc, const float* a, int64_t lda, const float* b,
                             float* c, int64_t ldc, int64_t cols, const TileEpilogue& epi);

//! out[k][p] (k < kc, p <= 32) = data[r * ld + k] for r < rows, 0 for rows <= r < p: one panel of
//! a matrix whose depth is contiguous (row-major A, or B given as its transpose), transposed.
using PackRowsFn = void (*)(const float* data, int64_t ld, int64_t rows, int64_t kc, int32_t p,
                            float* out);

//! The micro-kernel for a partial tile (rows <= mr, cols <= nr) on the same packed panels, stored
//! straight into C: no padding rows or columns computed beyond what the vector width forces.
//! @p epi as for MicroKernelFn; VecAct::kGeneric is left to the caller.
using EdgeKernelFn = void (*)(int64_t rows, int64_t cols, int64_t kc, const float* a,
                              const float* b, float* c, int64_t ldc, bool accumulate,
                              const TileEpilogue* epi);

//! d[t] = src[t * stride] for lo <= t < hi and 0 for the other t < run; src is read only there.
//! One run of an im2col panel row.
using CopyRunFn = void (*)(const float* src, int64_t stride, int64_t lo, int64_t hi, int64_t run,
                           float* d);

struct MicroKernel {
  int32_t mr = 0;
  int32_t nr = 0;
  MicroKernelFn fn = nullptr;
  SmallRowsFn smallRows = nullptr;  //!< same nr and packed B layout as fn
  PackRowsFn packRows = nullptr;    //!< vector transpose for packing; null: the portable loop
  EdgeKernelFn edge = nullptr;      //!< partial tiles; null: full tile into a buffer, then copied
  CopyRunFn copyRun = nullptr;      //!< im2col packing; null: portable loops
};

const MicroKernel& portableMicroKernel();
const MicroKernel& avx2MicroKernel();    //!< needs avx2, fma
const MicroKernel& avx512MicroKernel();  //!< needs avx512f

//! The whole-GEMM epilogue.
struct GemmEpilogue {
  const float* rowBias = nullptr;   //!< [M]
  const float* colBias = nullptr;   //!< [N]
  const float* residual = nullptr;  //!< [M, N] with row stride ldr
  int64_t ldr = 0;
  bool hasActivation = false;
  ActivationType activation = ActivationType::kRELU;
  float alpha = 0.f;
  float beta = 0.f;
};

//! The activation the micro-kernels apply in registers (kGeneric: the caller applies it).
VecAct vecActOf(const GemmEpilogue& e);

//! A strided matrix: element (r, c) at data[r * rs + c * cs].
struct StridedMatrix {
  const float* data = nullptr;
  int64_t rs = 0;
  int64_t cs = 1;
};

//! B as the im2col matrix of one image and group of an NCHW convolution, never materialized:
//! row k = (c, ky, kx), column n = (oy, ox).
struct Im2colSource {
  const float* x = nullptr;  //!< [channels, ih, iw] of this group
  int64_t ih = 0, iw = 0, oh = 0, ow = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  //! Stride 2 (sw) with no padding used (ph, pw 0; a padded copy of the image): non-zero when
  //! each row of x (iw floats) holds its even columns, then from this offset its odd ones, so the
  //! taps of consecutive outputs are contiguous. 0: rows in their plain order.
  int64_t oddOffset = 0;
};

//! A with its panels packed for one micro-kernel (constant weights, packed once).
struct PackedMatrix {
  PreparedBuffer buffer;
  int64_t rows = 0;   //!< M (for A) or N (for B): the panelled dimension
  int64_t depth = 0;  //!< K
  int32_t panel = 0;  //!< mr or nr
  const float* data() const { return preparedFloats(buffer); }
  int64_t panelStride() const { return depth * panel; }
};

//! Packs A (M x K, strided) into mr-row panels, as a buffer of @p prepared (a plan's stored
//! one, which leaves @p a unread) when given.
PackedMatrix packA(const StridedMatrix& a, int64_t m, int64_t k, int32_t mr,
                   PreparedWeights* prepared = nullptr);
//! Packs B (K x N, strided) into nr-column panels; @p prepared as packA's.
PackedMatrix packB(const StridedMatrix& b, int64_t k, int64_t n, int32_t nr,
                   PreparedWeights* prepared = nullptr);

//! One operand: packed ahead of time, strided, or (B only) an implicit im2col.
struct GemmOperand {
  const PackedMatrix* packed = nullptr;
  StridedMatrix strided;
  const Im2colSource* im2col = nullptr;
  //! B only: already packed by packBRows into caller-owned memory (whole panels over all of K).
  const float* prepacked = nullptr;
};

//! Whether gemm() on @p threads threads would have each task pack all of B (it splits M): then a
//! caller that packs B once (packBRows) saves threads - 1 packings.
bool gemmPacksBPerTask(const MicroKernel& kernel, int64_t m, int64_t n, int64_t k, int64_t threads);

//! Floats packBRows writes for all of a K x N operand B.
int64_t packedBFloats(const MicroKernel& kernel, int64_t k, int64_t n);

//! Packs depth rows [k0, k0 + kc) of every column panel of @p b (strided or im2col, K x N) into
//! @p out, laid out [panel][K][nr] as GemmOperand::prepacked reads it. Tasks that would each pack
//! the same B (a product split along M) share one packing this way, cut along K among threads.
void packBRows(const MicroKernel& kernel, const GemmOperand& b, int64_t k, int64_t n, int64_t k0,
               int64_t kc, float* out);

struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  GemmOperand a;
  GemmOperand b;
  float* c = nullptr;
  int64_t ldc = 0;
  GemmEpilogue epilogue;
};

//! Runs @p p with @p kernel over the threads of @p pool (scratch comes from the pool). With
//! @p serial it stays on this thread as @p worker (for callers already inside a task).
void gemm(const MicroKernel& kernel, const GemmProblem& p, ThreadPool& pool, bool serial = false,
          int32_t worker = 0);

}  // namespace kiln::backends::cpu
