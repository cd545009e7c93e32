#include "backends/cpu/gemm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "backends/cpu/pointwise_vec.h"
#include "core/cpu_info.h"
#include "core/thread_pool.h"

namespace kiln::backends::cpu {

VecAct vecActOf(const GemmEpilogue& e) {
  if (!e.hasActivation) return VecAct::kNone;
  switch (e.activation) {
    case ActivationType::kRELU:
      return VecAct::kRelu;
    case ActivationType::kLEAKY_RELU:
      return VecAct::kLeaky;
    case ActivationType::kCLIP:
      return VecAct::kClip;
    default:
      return VecAct::kGeneric;
  }
}

namespace {

// K is cut in blocks of about kKc so an A panel [kc][mr] (24 KiB) stays in L1, N in blocks of
// about kNc so the packed B block [kc][nc] (512 KiB) stays in L2. Measured on Zen 5 (32 KiB L1d,
// 1 MiB L2, bench/gemm): 512 x 256 was the best of 14 pairs for 1024^3 and 2048^3 (the old
// 256 x 480 lost 2-4%). That B block is half of such an L2; cores with a smaller one (Zen 3:
// 512 KiB, which the block alone would fill) take narrower blocks of the same half.
constexpr int64_t kKc = 512;
constexpr int64_t kNc = 256;
constexpr int64_t kCacheLine = 64;

// Columns of a B block of depth @p kc (before the even split): half of one core's L2, at most
// kNc and at least one panel.
int64_t blockColumns(int64_t kc, int32_t nr) {
  static const int64_t budget = l2CacheBytes() / 2;
  const int64_t fit = budget / (std::max<int64_t>(kc, 1) * static_cast<int64_t>(sizeof(float)));
  return std::clamp<int64_t>(fit / nr * nr, nr, kNc);
}

int64_t panels(int64_t extent, int32_t panel) {
  return (extent + panel - 1) / panel;
}

// Packs rows [r0, r0 + rows) x depth [k0, k0 + kc) of a strided matrix into one panel [kc][p],
// where "rows" run along the panel (M for A, N for B). along(r, k) addressing: data[r*rsR + k*rsK].
void packPanel(const float* data, int64_t rsR, int64_t rsK, int64_t rows, int64_t kc, int32_t p,
               float* out) {
  if (rows < p) std::memset(out, 0, sizeof(float) * static_cast<std::size_t>(kc * p));
  if (rsR == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = data + k * rsK;
      float* dst = out + k * p;
      for (int64_t r = 0; r < rows; ++r) dst[r] = src[r];
    }
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = data + r * rsR;
      float* dst = out + r;
      for (int64_t k = 0; k < kc; ++k) dst[k * p] = src[k * rsK];
    }
  }
}

// Ceiling of a / b for b > 0 and any sign of a.
int64_t ceilDivSigned(int64_t a, int64_t b) {
  return a <= 0 ? -((-a) / b) : (a + b - 1) / b;
}

// Columns of an im2col block packIm2colBlock handles at a time (whole panels of any micro-kernel:
// a multiple of every nr); also the most runs of one block.
constexpr int64_t kBlockColumns = 256;

// Packs columns [n0, n0 + cols) x rows [k0, k0 + kc) of an implicit im2col matrix as whole panels
// of p columns: panel q at out + q * panelStride, its row k at + k * p, zero past the last column.
// Consecutive columns are consecutive output pixels, so each row of the block is one run per
// output row it touches: as long as the output row, not cut at every panel (per-panel packing paid
// a run's bookkeeping per panel and row, with AVX2's 16-wide panels as much as the product).
//  - Every tap inside the image (no padding used, Im2colSource::oddOffset's padded copies): the
//    runs are found once per block and each is a plain copy, straight into the panels when
//    contiguous (stride 1, or stride 2 split by parity).
//  - Otherwise each row is built in a buffer on the stack, each run a copy between the padding's
//    zeros (the micro-kernel's vector copy where it has one), then cut into the panels.
void packIm2colBlock(const Im2colSource& s, int64_t k0, int64_t kc, int64_t n0, int64_t cols,
                     int32_t p, int64_t panelStride, CopyRunFn copy, float* out) {
  const int64_t taps = s.kh * s.kw;
  const bool inside = s.ph == 0 && s.pw == 0 && (s.oh - 1) * s.sh + (s.kh - 1) * s.dh < s.ih &&
                      (s.ow - 1) * s.sw + (s.kw - 1) * s.dw < s.iw;
  const bool split = s.oddOffset != 0 && s.sw == 2;
  // Input elements between consecutive outputs of a run, as stored.
  const int64_t step = split ? 1 : s.sw;
  // Offset of tap kx from the origin of its row.
  auto tapColumn = [&](int64_t kx) {
    const int64_t col = kx * s.dw;
    return split ? (col & 1) * s.oddOffset + (col >> 1) : col;
  };
  // Panel q's row (k): columns of a block are whole panels from its start.
  struct Run {
    int64_t column;  // in the block
    int64_t length;
    int64_t offset;  // of its first input element from the tap's origin
    int64_t dest;    // of its first element in row 0 of the block's panels (contiguous runs)
  };
  alignas(64) float stackRow[kBlockColumns];
  std::array<Run, kBlockColumns> stackRuns;
  float* row = stackRow;
  Run* runs = stackRuns.data();
  int64_t blockColumns = kBlockColumns / p * p;
  std::vector<float> heapRow;
  std::vector<Run> heapRuns;
  if (blockColumns == 0) {  // a panel wider than the stack buffers
    blockColumns = p;
    heapRow.resize(static_cast<std::size_t>(p));
    heapRuns.resize(static_cast<std::size_t>(p));
    row = heapRow.data();
    runs = heapRuns.data();
  }
  for (int64_t b0 = 0; b0 < cols; b0 += blockColumns) {
    const int64_t width = std::min<int64_t>(blockColumns, cols - b0);
    const int64_t padded = panels(width, p) * p;
    const int64_t oy0 = (n0 + b0) / s.ow;
    const int64_t ox0 = (n0 + b0) % s.ow;
    float* block = out + (b0 / p) * panelStride;
    int32_t count = 0;
    if (inside) {
      for (int64_t j = 0, oy = oy0, ox = ox0; j < width; ++oy, ox = 0) {
        const int64_t length = std::min<int64_t>(width - j, s.ow - ox);
        // Contiguous runs are cut at panel boundaries here, once, so each piece is one copy.
        for (int64_t t = 0; t < length;) {
          const int64_t piece =
              step == 1 ? std::min<int64_t>(length - t, p - (j + t) % p) : length - t;
          const int64_t column = j + t;
          runs[count++] = {column, piece, oy * s.sh * s.iw + (ox + t) * step,
                           column / p * panelStride + column % p};
          t += piece;
        }
        j += length;
      }
    }
    int64_t c = k0 / taps;
    int64_t ky = (k0 % taps) / s.kw;
    int64_t kx = k0 % s.kw;
    for (int64_t k = 0; k < kc; ++k) {
      const float* plane = s.x + c * s.ih * s.iw;
      float* dst = block + k * p;
      if (inside && step == 1) {
        const float* origin = plane + ky * s.dh * s.iw + tapColumn(kx);
        for (int32_t r = 0; r < count; ++r) {
          const Run& run = runs[r];
          const float* from = origin + run.offset;
          float* to = dst + run.dest;
          for (int64_t t = 0; t < run.length; ++t) to[t] = from[t];
        }
        if (width < padded) {
          float* last = dst + (width / p) * panelStride;
          for (int64_t j = width % p; j < p; ++j) last[j] = 0.f;
        }
      } else {
        if (inside) {
          const float* origin = plane + ky * s.dh * s.iw + tapColumn(kx);
          for (int32_t r = 0; r < count; ++r) {
            const Run& run = runs[r];
            const float* from = origin + run.offset;
            float* d = row + run.column;
            if (copy != nullptr) {
              copy(from, step, 0, run.length, run.length, d);
            } else {
              for (int64_t t = 0; t < run.length; ++t) d[t] = from[t * step];
            }
          }
        } else {
          const int64_t dy = ky * s.dh - s.ph;
          const int64_t dx = kx * s.dw - s.pw;
          // Output columns whose input column is inside the image: [first, last).
          const int64_t first = std::max<int64_t>(ceilDivSigned(-dx, s.sw), 0);
          const int64_t last = std::min<int64_t>(ceilDivSigned(s.iw - dx, s.sw), s.ow);
          for (int64_t j = 0, oy = oy0, ox = ox0; j < width; ++oy, ox = 0) {
            const int64_t run = std::min<int64_t>(width - j, s.ow - ox);
            const int64_t iy = oy * s.sh + dy;
            // Rows outside the image are all padding: an empty range writes zeros only.
            const bool rowInside = iy >= 0 && iy < s.ih;
            const int64_t lo = rowInside ? std::clamp<int64_t>(first - ox, 0, run) : 0;
            const int64_t hi = rowInside ? std::clamp<int64_t>(last - ox, lo, run) : 0;
            const float* src = plane + (rowInside ? iy * s.iw : 0) + ox * s.sw + dx;
            float* d = row + j;
            if (copy != nullptr) {
              copy(src, s.sw, lo, hi, run, d);
            } else {
              for (int64_t t = 0; t < lo; ++t) d[t] = 0.f;
              for (int64_t t = lo; t < hi; ++t) d[t] = src[t * s.sw];
              for (int64_t t = hi; t < run; ++t) d[t] = 0.f;
            }
            j += run;
          }
        }
        for (int64_t j = width; j < padded; ++j) row[j] = 0.f;
        for (int64_t j = 0; j < padded; j += p) {
          float* to = dst + (j / p) * panelStride;
          const float* from = row + j;
          for (int32_t t = 0; t < p; ++t) to[t] = from[t];
        }
      }
      if (++kx == s.kw) {
        kx = 0;
        if (++ky == s.kh) {
          ky = 0;
          ++c;
        }
      }
    }
  }
}

void applyGeneric(const GemmEpilogue& e, float* c, int64_t ldc, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    activateInPlace(static_cast<int32_t>(e.activation), e.alpha, e.beta, c + i * ldc, cols);
  }
}

// The block size for @p extent cut in blocks of about @p block, evenly (no thin remainder block),
// rounded up to a multiple of @p multiple.
int64_t evenSplit(int64_t extent, int64_t block, int64_t multiple) {
  if (extent <= block) return extent;
  const int64_t blocks = (extent + block - 1) / block;
  const int64_t size = (extent + blocks - 1) / blocks;
  return (size + multiple - 1) / multiple * multiple;
}

// Packs one panel of a strided matrix with the kernel's vector transpose where the depth is
// contiguous, else with the portable loop.
void packStrided(const MicroKernel& mk, const float* data, int64_t rsR, int64_t rsK, int64_t rows,
                 int64_t kc, int32_t p, float* out) {
  if (rsK == 1 && rsR != 1 && mk.packRows != nullptr && p <= 32) {
    mk.packRows(data, rsR, rows, kc, p, out);
  } else {
    packPanel(data, rsR, rsK, rows, kc, p, out);
  }
}

// A partial tile for a micro-kernel without an edge variant: the whole tile into @p scratch
// (mr x nr), then its live rows and columns copied or added into C, the epilogue (when @p last)
// in simple loops per row and step (they vectorize), the activation last.
void edgeThroughScratch(const MicroKernel& mk, int64_t rows, int64_t cols, int64_t kc,
                        const float* aPanel, const float* bPanel, float* c, int64_t ldc, bool first,
                        bool last, const TileEpilogue& te, float* scratch) {
  mk.fn(kc, aPanel, bPanel, scratch, mk.nr, false, nullptr);
  for (int64_t i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    const float* ei = scratch + i * mk.nr;
    if (first) {
      for (int64_t j = 0; j < cols; ++j) ci[j] = ei[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) ci[j] += ei[j];
    }
    if (!last) continue;
    if (te.rowBias != nullptr) {
      const float b = te.rowBias[i];
      for (int64_t j = 0; j < cols; ++j) ci[j] += b;
    }
    if (te.colBias != nullptr) {
      for (int64_t j = 0; j < cols; ++j) ci[j] += te.colBias[j];
    }
    if (te.residual != nullptr) {
      const float* ri = te.residual + i * te.ldr;
      for (int64_t j = 0; j < cols; ++j) ci[j] += ri[j];
    }
    switch (te.act) {
      case VecAct::kRelu:
        for (int64_t j = 0; j < cols; ++j) ci[j] = ci[j] > 0.f ? ci[j] : 0.f;
        break;
      case VecAct::kLeaky:
        for (int64_t j = 0; j < cols; ++j) ci[j] = ci[j] >= 0.f ? ci[j] : te.alpha * ci[j];
        break;
      case VecAct::kClip:
        for (int64_t j = 0; j < cols; ++j) {
          const float v = ci[j];
          const float lo = v < te.alpha ? te.alpha : v;
          ci[j] = v != v ? v : (lo > te.beta ? te.beta : lo);
        }
        break;
      default:
        break;
    }
  }
}

// One task: rows [m0, m1) and columns [n0, n1) of the product, sequentially. Depth blocks are the
// outer loop so each operand is packed once: A per depth block, B per depth and column block.
void gemmBlock(const MicroKernel& mk, const GemmProblem& p, int64_t m0, int64_t m1, int64_t n0,
               int64_t n1, ThreadPool& pool, int32_t worker) {
  const int32_t mr = mk.mr;
  const int32_t nr = mk.nr;
  const GemmEpilogue& e = p.epilogue;
  const VecAct act = vecActOf(e);
  const int64_t kcBlock = std::max<int64_t>(evenSplit(p.k, kKc, 1), 1);
  const int64_t ncBlock = evenSplit(n1 - n0, blockColumns(kcBlock, nr), nr);
  const int64_t kcMax = std::min<int64_t>(kcBlock, std::max<int64_t>(p.k, 1));
  auto* bPack = static_cast<float*>(pool.scratch(
      worker, sizeof(float) * static_cast<std::size_t>(panels(ncBlock, nr) * nr * kcMax), 0));
  const int64_t mPanels = panels(m1 - m0, mr);
  float* aPack = nullptr;
  if (p.a.packed == nullptr) {
    aPack = static_cast<float*>(
        pool.scratch(worker, sizeof(float) * static_cast<std::size_t>(mPanels * mr * kcMax), 1));
  }
  auto* edge = static_cast<float*>(
      pool.scratch(worker, sizeof(float) * static_cast<std::size_t>(mr * nr), 2));

  // Constant B (weights packed ahead) against few enough rows that all their A panels of a depth
  // block stay in L2 (a transformer's activations, [tokens, hidden]): B panels outer, see below.
  const bool weightsStationary =
      p.b.packed != nullptr &&
      mPanels * mr * kcMax * static_cast<int64_t>(sizeof(float)) <= l2CacheBytes() / 2;

  // K == 0: the product is zero; one pass with kc = 0 still writes C and the epilogue.
  for (int64_t k0 = 0; k0 < p.k || (k0 == 0 && p.k == 0); k0 += kcBlock) {
    const int64_t kc = std::min<int64_t>(kcBlock, p.k - k0);
    const bool first = k0 == 0;
    const bool last = k0 + kc >= p.k;
    // A[m0:m1, k0:k0+kc].
    const float* aBlock = aPack;
    int64_t aPanelStride = kc * mr;
    int64_t aOffset = 0;
    if (p.a.packed != nullptr) {
      // packA's layout: depth blocks of kcBlock (the same split of the same K), each all panels.
      aBlock = p.a.packed->data();
      aOffset = k0 * panels(p.a.packed->rows, mr) * mr + (m0 / mr) * aPanelStride;
    } else {
      for (int64_t r0 = m0; r0 < m1; r0 += mr) {
        const StridedMatrix& s = p.a.strided;
        packStrided(mk, s.data + r0 * s.rs + k0 * s.cs, s.rs, s.cs, std::min<int64_t>(mr, m1 - r0),
                    kc, mr, aPack + ((r0 - m0) / mr) * kc * mr);
      }
    }
    for (int64_t nc0 = n0; nc0 < n1; nc0 += ncBlock) {
      const int64_t nc = std::min<int64_t>(ncBlock, n1 - nc0);
      const int64_t nPanels = panels(nc, nr);
      // B[k0:k0+kc, nc0:nc0+nc].
      const float* bBlock = bPack;
      int64_t bPanelStride = kc * nr;
      int64_t bOffset = 0;
      if (p.b.packed != nullptr || p.b.prepacked != nullptr) {
        bBlock = p.b.packed != nullptr ? p.b.packed->data() : p.b.prepacked;
        bPanelStride = p.b.packed != nullptr ? p.b.packed->panelStride() : p.k * nr;
        bOffset = (nc0 / nr) * bPanelStride + k0 * nr;
      } else if (p.b.im2col != nullptr) {
        packIm2colBlock(*p.b.im2col, k0, kc, nc0, nc, nr, kc * nr, mk.copyRun, bPack);
      } else {
        for (int64_t q = 0; q < nPanels; ++q) {
          const int64_t c0 = nc0 + q * nr;
          const int64_t cols = std::min<int64_t>(nr, nc0 + nc - c0);
          const StridedMatrix& s = p.b.strided;
          packStrided(mk, s.data + k0 * s.rs + c0 * s.cs, s.cs, s.rs, cols, kc, nr,
                      bPack + q * kc * nr);
        }
      }
      // The tile of rows [r0, r0 + mr) and column panel q of this block.
      auto tile = [&](int64_t r0, int64_t q) {
        const int64_t rows = std::min<int64_t>(mr, m1 - r0);
        const float* aPanel = aBlock + aOffset + ((r0 - m0) / mr) * aPanelStride;
        const int64_t c0 = nc0 + q * nr;
        const int64_t cols = std::min<int64_t>(nr, nc0 + nc - c0);
        const float* bPanel = bBlock + bOffset + q * bPanelStride;
        float* c = p.c + r0 * p.ldc + c0;
        TileEpilogue te;
        if (last) {
          te.rowBias = e.rowBias != nullptr ? e.rowBias + r0 : nullptr;
          te.colBias = e.colBias != nullptr ? e.colBias + c0 : nullptr;
          te.residual = e.residual != nullptr ? e.residual + r0 * e.ldr + c0 : nullptr;
          te.ldr = e.ldr;
          te.act = act == VecAct::kGeneric ? VecAct::kNone : act;
          te.alpha = e.alpha;
          te.beta = e.beta;
        }
        if (rows == mr && cols == nr) {
          mk.fn(kc, aPanel, bPanel, c, p.ldc, !first, last ? &te : nullptr);
        } else if (mk.edge != nullptr) {
          mk.edge(rows, cols, kc, aPanel, bPanel, c, p.ldc, !first, last ? &te : nullptr);
        } else {
          edgeThroughScratch(mk, rows, cols, kc, aPanel, bPanel, c, p.ldc, first, last, te, edge);
        }
        if (last && act == VecAct::kGeneric) applyGeneric(e, c, p.ldc, rows, cols);
      };
      if (weightsStationary) {
        // Each B panel stays in L1 while every A panel of the block (in L2) passes over it, so
        // the weights are read from memory once per call; meanwhile the next panel is fetched
        // into L2, a slice per tile, so that read is not waited for either.
        const int64_t lines = kc * nr * static_cast<int64_t>(sizeof(float)) / kCacheLine;
        const int64_t perTile = (lines + mPanels - 1) / mPanels;
        for (int64_t q = 0; q < nPanels; ++q) {
          // The task's next panel (in the next column block when this is the block's last).
          const auto* next =
              nc0 + (q + 1) * nr < n1
                  ? reinterpret_cast<const char*>(bBlock + bOffset + (q + 1) * bPanelStride)
                  : nullptr;
          for (int64_t i = 0; i < mPanels; ++i) {
            if (next != nullptr) {
              for (int64_t l = i * perTile; l < std::min(lines, (i + 1) * perTile); ++l) {
                __builtin_prefetch(next + l * kCacheLine, 0, 2);
              }
            }
            tile(m0 + i * mr, q);
          }
        }
      } else {
        for (int64_t r0 = m0; r0 < m1; r0 += mr) {
          for (int64_t q = 0; q < nPanels; ++q) tile(r0, q);
        }
      }
    }
    if (p.k == 0) break;
  }
}

// Fewer elements of B than this: the small-M path stays on one thread (streaming B takes less
// than waking and joining a worker).
constexpr int64_t kSmallParallelElements = 32 * 1024;

// Columns [n0, n1) (whole panels but the last) of a product with at most kSmallRows rows against
// a packed B: each panel is streamed once over the whole depth, no packing, no edge copies.
void smallRowsBlock(const MicroKernel& mk, const GemmProblem& p, int64_t n0, int64_t n1) {
  const GemmEpilogue& e = p.epilogue;
  const VecAct act = vecActOf(e);
  const PackedMatrix& b = *p.b.packed;
  const StridedMatrix& a = p.a.strided;
  for (int64_t c0 = n0; c0 < n1; c0 += mk.nr) {
    const int64_t cols = std::min<int64_t>(mk.nr, n1 - c0);
    TileEpilogue te;
    te.rowBias = e.rowBias;
    te.colBias = e.colBias != nullptr ? e.colBias + c0 : nullptr;
    te.residual = e.residual != nullptr ? e.residual + c0 : nullptr;
    te.ldr = e.ldr;
    te.act = act == VecAct::kGeneric ? VecAct::kNone : act;
    te.alpha = e.alpha;
    te.beta = e.beta;
    float* c = p.c + c0;
    mk.smallRows(p.m, p.k, a.data, a.rs, b.data() + (c0 / mk.nr) * b.panelStride(), c, p.ldc, cols,
                 te);
    if (act == VecAct::kGeneric) applyGeneric(e, c, p.ldc, p.m, cols);
  }
}

bool takesSmallRows(const MicroKernel& mk, const GemmProblem& p) {
  return mk.smallRows != nullptr && p.m <= kSmallRows && p.a.packed == nullptr &&
         p.b.packed != nullptr && p.b.packed->panel == mk.nr && p.a.strided.cs == 1;
}

}  // namespace

namespace {

void packAPanels(const StridedMatrix& a, int64_t m, int64_t k, int32_t mr, float* dst) {
  // Depth blocks as gemmBlock cuts them, each holding every panel: a task's panels of one block
  // are then one contiguous stream (weights larger than the caches are read at the prefetchers'
  // pace, not a new stream every few KiB).
  const int64_t kcBlock = std::max<int64_t>(evenSplit(k, kKc, 1), 1);
  const int64_t mPadded = panels(m, mr) * mr;
  for (int64_t k0 = 0; k0 < k; k0 += kcBlock) {
    const int64_t kc = std::min<int64_t>(kcBlock, k - k0);
    for (int64_t r0 = 0; r0 < m; r0 += mr) {
      packPanel(a.data + r0 * a.rs + k0 * a.cs, a.rs, a.cs, std::min<int64_t>(mr, m - r0), kc, mr,
                dst + k0 * mPadded + (r0 / mr) * kc * mr);
    }
  }
}

void packBPanels(const StridedMatrix& b, int64_t k, int64_t n, int32_t nr, float* dst) {
  for (int64_t c0 = 0; c0 < n; c0 += nr) {
    packPanel(b.data + c0 * b.cs, b.cs, b.rs, std::min<int64_t>(nr, n - c0), k, nr,
              dst + (c0 / nr) * k * nr);
  }
}

std::size_t panelBytes(int64_t rows, int64_t k, int32_t panel) {
  return sizeof(float) *
         static_cast<std::size_t>(std::max<int64_t>(panels(rows, panel) * panel * k, 1));
}

}  // namespace

PackedMatrix packA(const StridedMatrix& a, int64_t m, int64_t k, int32_t mr,
                   PreparedWeights* prepared) {
  return {derivePrepared(
              prepared, panelBytes(m, k, mr),
              [&](std::byte* out) { packAPanels(a, m, k, mr, reinterpret_cast<float*>(out)); }),
          m, k, mr};
}

PackedMatrix packB(const StridedMatrix& b, int64_t k, int64_t n, int32_t nr,
                   PreparedWeights* prepared) {
  return {derivePrepared(
              prepared, panelBytes(n, k, nr),
              [&](std::byte* out) { packBPanels(b, k, n, nr, reinterpret_cast<float*>(out)); }),
          n, k, nr};
}

namespace {

// gemm()'s split: too little work for threads keeps one task; N is split where it has enough
// panels for every thread (B packing is then never repeated), else M.
constexpr double kMinParallelFlops = 256.0 * 1024.0;

bool splitsN(int64_t nPanels, int64_t mPanels, int64_t threads) {
  return nPanels >= threads * 2 || nPanels >= mPanels;
}

}  // namespace

bool gemmPacksBPerTask(const MicroKernel& mk, int64_t m, int64_t n, int64_t k, int64_t threads) {
  const double flops = static_cast<double>(m) * static_cast<double>(n) *
                       static_cast<double>(std::max<int64_t>(k, 1));
  return threads > 1 && flops >= kMinParallelFlops &&
         !splitsN(panels(n, mk.nr), panels(m, mk.mr), threads);
}

int64_t packedBFloats(const MicroKernel& mk, int64_t k, int64_t n) {
  return panels(n, mk.nr) * mk.nr * k;
}

void packBRows(const MicroKernel& mk, const GemmOperand& b, int64_t k, int64_t n, int64_t k0,
               int64_t kc, float* out) {
  if (b.im2col != nullptr) {
    packIm2colBlock(*b.im2col, k0, kc, 0, n, mk.nr, k * mk.nr, mk.copyRun, out + k0 * mk.nr);
    return;
  }
  for (int64_t c0 = 0; c0 < n; c0 += mk.nr) {
    const int64_t cols = std::min<int64_t>(mk.nr, n - c0);
    float* dst = out + (c0 / mk.nr) * k * mk.nr + k0 * mk.nr;
    const StridedMatrix& s = b.strided;
    packStrided(mk, s.data + k0 * s.rs + c0 * s.cs, s.cs, s.rs, cols, kc, mk.nr, dst);
  }
}

void gemm(const MicroKernel& mk, const GemmProblem& p, ThreadPool& pool, bool serial,
          int32_t worker) {
  if (p.m <= 0 || p.n <= 0) return;
  const int64_t threads = serial ? 1 : pool.size();
  if (takesSmallRows(mk, p)) {
    const int64_t nPanels = panels(p.n, mk.nr);
    const int64_t parts = std::min<int64_t>(threads, nPanels);
    if (parts <= 1 || p.n * p.k < kSmallParallelElements) {
      smallRowsBlock(mk, p, 0, p.n);
      return;
    }
    // Whole panels per task, the same ones on every call (each thread's share of B can stay in
    // its core's cache between inferences).
    pool.run(parts, [&](int64_t t, int32_t) {
      smallRowsBlock(mk, p, std::min<int64_t>(p.n, nPanels * t / parts * mk.nr),
                     std::min<int64_t>(p.n, nPanels * (t + 1) / parts * mk.nr));
    });
    return;
  }
  const int64_t mPanels = panels(p.m, mk.mr);
  const int64_t nPanels = panels(p.n, mk.nr);
  // Too little work to share: one task (waking threads costs more than it gives).
  const double flops = static_cast<double>(p.m) * static_cast<double>(p.n) *
                       static_cast<double>(std::max<int64_t>(p.k, 1));
  if (threads == 1 || flops < kMinParallelFlops) {
    gemmBlock(mk, p, 0, p.m, 0, p.n, pool, serial ? worker : 0);
    return;
  }
  // Split N when it has enough panels for every thread (B packing is then never repeated);
  // otherwise split M (each task packs all of B, cheap next to its share of the product).
  const bool splitN = splitsN(nPanels, mPanels, threads);
  const int64_t parts = std::min<int64_t>(threads, splitN ? nPanels : mPanels);
  const int32_t step = splitN ? mk.nr : mk.mr;
  const int64_t units = splitN ? nPanels : mPanels;
  pool.run(parts, [&](int64_t t, int32_t w) {
    const int64_t u0 = units * t / parts;
    const int64_t u1 = units * (t + 1) / parts;
    if (splitN) {
      gemmBlock(mk, p, 0, p.m, u0 * step, std::min<int64_t>(p.n, u1 * step), pool, w);
    } else {
      gemmBlock(mk, p, u0 * step, std::min<int64_t>(p.m, u1 * step), 0, p.n, pool, w);
    }
  });
}

}  // namespace kiln::backends::cpu
