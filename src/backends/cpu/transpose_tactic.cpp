// Shuffle that moves data through one transpose ("cpu.transpose"; ONNX Transpose imports as a
// Shuffle), on any data type of 1, 2, 4 or 8 bytes. Size-1 dimensions are dropped and output
// neighbours that stay adjacent in the input merged (as the reference does); then either
//  - the innermost dimension stays innermost: runs of at least kMinRunBytes copied with memcpy
//    (BERT's head splits and merges), or
//  - it moves: a blocked 2-d transpose between the input's innermost dimension and the output's,
//    in 4x4 tiles of 16-byte vectors for 4-byte elements, cache-line blocks otherwise;
// threaded over the rest. A reshape-only Shuffle is one threaded memcpy. Shuffles with two
// transposes and short runs stay with the reference, which is also what a run with other dims
// than the build's falls back to where the fast paths do not apply.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "ir/op_registry.h"

namespace kiln::backends::cpu {

namespace {

// Bytes per task below which a second thread does not pay: for plain copies (runs, reshapes)
// as for Concatenation (concat_tactic.cpp), which memory bandwidth bounds; tiles do more work
// per byte and split sooner.
constexpr int64_t kCopyGrainBytes = 256 * 1024;
constexpr int64_t kTileGrainBytes = 32 * 1024;
// Shorter contiguous runs cost a memcpy call each for a few bytes; the reference does as well.
constexpr int64_t kMinRunBytes = 32;

bool isIdentity(const std::vector<int64_t>& perm) {
  for (std::size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// The copy a Shuffle does, in output order: extent and input stride (elements) of each output
// dimension, after dropping size-1 dimensions and merging neighbours that stay adjacent.
struct Walk {
  enum class Kind { kEmpty, kCopy, kRuns, kTiles, kOther };
  Kind kind = Kind::kOther;
  int32_t rank = 0;
  std::array<int64_t, Dims::kMaxRank> extent{};
  std::array<int64_t, Dims::kMaxRank> stride{};
  int64_t count = 0;  //!< elements
  int64_t esize = 0;  //!< bytes per element
};

// The transposed tensor's dims and permutation (output dim k = input dim perm[k]): the input and
// the first permutation, or the reshaped tensor and the second. False for two transposes.
bool singleTranspose(const ir::Attributes& attrs, const Dims& in, const Dims& out, Dims& src,
                     std::vector<int64_t>& perm) {
  std::vector<int64_t> perm1 =
      attrs.has("first_perm") ? attrs.getInts("first_perm") : std::vector<int64_t>{};
  std::vector<int64_t> perm2 =
      attrs.has("second_perm") ? attrs.getInts("second_perm") : std::vector<int64_t>{};
  const bool first = !isIdentity(perm1);
  const bool second = !isIdentity(perm2);
  if (first && second) return false;
  if (second) {
    // The reshaped tensor, from the output (out[k] = reshaped[perm2[k]]), as the reference has it.
    src.nbDims = out.nbDims;
    for (int32_t k = 0; k < out.nbDims; ++k) {
      src[static_cast<int32_t>(perm2[static_cast<std::size_t>(k)])] = out[k];
    }
    perm = std::move(perm2);
  } else {
    src = in;
    perm = first ? std::move(perm1) : std::vector<int64_t>{};
  }
  return true;
}

Walk planWalk(const ir::Attributes& attrs, const Dims& in, const Dims& out, std::size_t esize) {
  Walk w;
  w.esize = static_cast<int64_t>(esize);
  Dims src;
  std::vector<int64_t> perm;
  if (!singleTranspose(attrs, in, out, src, perm)) return w;
  w.count = volume(out);
  if (w.count == 0) {
    w.kind = Walk::Kind::kEmpty;
    return w;
  }
  if (perm.empty()) {
    w.kind = Walk::Kind::kCopy;
    return w;
  }
  std::array<int64_t, Dims::kMaxRank> srcStride{};
  int64_t s = 1;
  for (int32_t k = src.nbDims - 1; k >= 0; --k) {
    srcStride[static_cast<std::size_t>(k)] = s;
    s *= src[k];
  }
  for (int32_t k = 0; k < src.nbDims; ++k) {
    const auto p = static_cast<std::size_t>(perm[static_cast<std::size_t>(k)]);
    const int64_t extent = src[static_cast<int32_t>(p)];
    const int64_t step = srcStride[p];
    if (extent == 1) continue;
    auto& n = w.rank;
    if (n > 0 && w.stride[static_cast<std::size_t>(n - 1)] == step * extent) {
      w.extent[static_cast<std::size_t>(n - 1)] *= extent;
      w.stride[static_cast<std::size_t>(n - 1)] = step;
      continue;
    }
    w.extent[static_cast<std::size_t>(n)] = extent;
    w.stride[static_cast<std::size_t>(n)] = step;
    ++n;
  }
  if (w.rank <= 1) {
    w.kind = Walk::Kind::kCopy;  // nothing moves relative to the rest
  } else if (w.stride[static_cast<std::size_t>(w.rank - 1)] == 1) {
    const bool longRuns = w.extent[static_cast<std::size_t>(w.rank - 1)] * w.esize >= kMinRunBytes;
    w.kind = longRuns ? Walk::Kind::kRuns : Walk::Kind::kOther;
  } else {
    const bool typed = esize == 1 || esize == 2 || esize == 4 || esize == 8;
    w.kind = typed ? Walk::Kind::kTiles : Walk::Kind::kOther;
  }
  return w;
}

// Row-major walk over some dimensions from a linear index, tracking the source and destination
// offsets (elements) that each index adds.
struct StridedIndex {
  int32_t rank = 0;
  std::array<int64_t, Dims::kMaxRank> extent{}, src{}, dst{}, index{};
  int64_t srcOffset = 0, dstOffset = 0;

  void seek(int64_t linear) {
    srcOffset = 0;
    dstOffset = 0;
    for (int32_t k = rank - 1; k >= 0; --k) {
      const auto u = static_cast<std::size_t>(k);
      index[u] = linear % extent[u];
      linear /= extent[u];
      srcOffset += index[u] * src[u];
      dstOffset += index[u] * dst[u];
    }
  }
  void next() {
    for (int32_t k = rank - 1; k >= 0; --k) {
      const auto u = static_cast<std::size_t>(k);
      srcOffset += src[u];
      dstOffset += dst[u];
      if (++index[u] < extent[u]) return;
      srcOffset -= extent[u] * src[u];
      dstOffset -= extent[u] * dst[u];
      index[u] = 0;
    }
  }
};

// d[a * da + b] = s[a + b * sb] for a < na, b < nb.
template <typename T>
void transposeScalar(const T* s, int64_t sb, T* d, int64_t da, int64_t na, int64_t nb) {
  for (int64_t a = 0; a < na; ++a) {
    for (int64_t b = 0; b < nb; ++b) d[a * da + b] = s[a + b * sb];
  }
}

#if defined(__SSE2__)
// A 4x4 tile of 4-byte elements through integer unpacks (the bits move unchanged).
inline void transpose4x4(const uint32_t* s, int64_t sb, uint32_t* d, int64_t da) {
  const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + sb));
  const __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 2 * sb));
  const __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * sb));
  const __m128i t0 = _mm_unpacklo_epi32(r0, r1);  // a0b0 a0b1 a1b0 a1b1
  const __m128i t1 = _mm_unpacklo_epi32(r2, r3);  // a0b2 a0b3 a1b2 a1b3
  const __m128i t2 = _mm_unpackhi_epi32(r0, r1);  // a2b0 a2b1 a3b0 a3b1
  const __m128i t3 = _mm_unpackhi_epi32(r2, r3);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_unpacklo_epi64(t0, t1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d + da), _mm_unpackhi_epi64(t0, t1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 2 * da), _mm_unpacklo_epi64(t2, t3));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 3 * da), _mm_unpackhi_epi64(t2, t3));
}
#endif

// d[a * da + b] = s[a + b * sb] in blocks of a cache line of a by a cache line of b, so that each
// line read and written is used whole while it is in L1.
template <typename T>
void transposeBlocked(const T* s, int64_t sb, T* d, int64_t da, int64_t na, int64_t nb) {
  constexpr int64_t kBlock = 64 / static_cast<int64_t>(sizeof(T));
  for (int64_t a0 = 0; a0 < na; a0 += kBlock) {
    const int64_t ma = std::min(kBlock, na - a0);
    for (int64_t b0 = 0; b0 < nb; b0 += kBlock) {
      const int64_t mb = std::min(kBlock, nb - b0);
      const T* sp = s + a0 + b0 * sb;
      T* dp = d + a0 * da + b0;
#if defined(__SSE2__)
      if constexpr (sizeof(T) == 4) {
        const int64_t fa = ma & ~int64_t{3};
        const int64_t fb = mb & ~int64_t{3};
        for (int64_t a = 0; a < fa; a += 4) {
          for (int64_t b = 0; b < fb; b += 4) {
            transpose4x4(reinterpret_cast<const uint32_t*>(sp + a + b * sb), sb,
                         reinterpret_cast<uint32_t*>(dp + a * da + b), da);
          }
        }
        transposeScalar(sp + fb * sb, sb, dp + fb, da, ma, mb - fb);
        transposeScalar(sp + fa, sb, dp + fa * da, da, ma - fa, fb);
        continue;
      }
#endif
      transposeScalar(sp, sb, dp, da, ma, mb);
    }
  }
}

class TransposeKernel final : public Kernel {
 public:
  void execute(const ir::KernelContext& ctx) const override {
    const auto& in = ctx.input(0);
    const auto& out = ctx.output(0);
    const Walk w = planWalk(ctx.attrs(), in.dims, out.dims, elementSize(in.dtype));
    const auto* src = in.as<const std::byte>();
    auto* dst = out.as<std::byte>();
    switch (w.kind) {
      case Walk::Kind::kEmpty:
        return;
      case Walk::Kind::kCopy:
        copy(ctx, src, dst, w.count * w.esize);
        return;
      case Walk::Kind::kRuns:
        runs(ctx, w, src, dst);
        return;
      case Walk::Kind::kTiles:
        switch (w.esize) {
          case 1:
            return tiles<uint8_t>(ctx, w, src, dst);
          case 2:
            return tiles<uint16_t>(ctx, w, src, dst);
          case 4:
            return tiles<uint32_t>(ctx, w, src, dst);
          default:
            return tiles<uint64_t>(ctx, w, src, dst);
        }
      case Walk::Kind::kOther:
        // Dims other than the build's that the fast paths do not take.
        ir::OpRegistry::instance().get("Shuffle").reference(ctx);
        return;
    }
  }

 private:
  static void copy(const ir::KernelContext& ctx, const std::byte* src, std::byte* dst,
                   int64_t bytes) {
    constexpr int64_t kLine = 64;
    const int64_t lines = (bytes + kLine - 1) / kLine;
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, lines, kCopyGrainBytes / kLine, [&](int64_t b, int64_t e, int32_t) {
        const int64_t end = std::min(e * kLine, bytes);
        std::memcpy(dst + b * kLine, src + b * kLine, static_cast<std::size_t>(end - b * kLine));
      });
    });
  }

  // The innermost dimension contiguous in both: one memcpy per run, the outer dims walked.
  static void runs(const ir::KernelContext& ctx, const Walk& w, const std::byte* src,
                   std::byte* dst) {
    const auto last = static_cast<std::size_t>(w.rank - 1);
    const int64_t runBytes = w.extent[last] * w.esize;
    StridedIndex outer;
    outer.rank = w.rank - 1;
    int64_t dstStride = w.extent[last];
    for (int32_t k = w.rank - 2; k >= 0; --k) {
      const auto u = static_cast<std::size_t>(k);
      outer.extent[u] = w.extent[u];
      outer.src[u] = w.stride[u];
      outer.dst[u] = dstStride;
      dstStride *= w.extent[u];
    }
    const int64_t nRuns = w.count / w.extent[last];
    const int64_t grain = std::max<int64_t>(1, kCopyGrainBytes / runBytes);
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, nRuns, grain, [&](int64_t b, int64_t e, int32_t) {
        StridedIndex it = outer;
        it.seek(b);
        for (int64_t r = b; r < e; ++r, it.next()) {
          std::memcpy(dst + it.dstOffset * w.esize, src + it.srcOffset * w.esize,
                      static_cast<std::size_t>(runBytes));
        }
      });
    });
  }

  // The innermost dimension moves: 2-d transposes between the input's innermost dimension (a,
  // contiguous in the input) and the output's (b), over strips of a, the other dims walked.
  template <typename T>
  static void tiles(const ir::KernelContext& ctx, const Walk& w, const std::byte* srcBytes,
                    std::byte* dstBytes) {
    const auto last = static_cast<std::size_t>(w.rank - 1);
    std::array<int64_t, Dims::kMaxRank> dstStride{};
    int64_t s = 1;
    std::size_t aDim = 0;
    for (int32_t k = w.rank - 1; k >= 0; --k) {
      const auto u = static_cast<std::size_t>(k);
      dstStride[u] = s;
      s *= w.extent[u];
      if (w.stride[u] == 1) aDim = u;
    }
    const int64_t na = w.extent[aDim];
    const int64_t nb = w.extent[last];
    const int64_t sb = w.stride[last];
    const int64_t da = dstStride[aDim];
    // Strips of a (whole cache-line blocks) holding about kTileGrainBytes / 4 each, so that a
    // one-strip outer walk still splits over the threads.
    constexpr int64_t kBlock = 64 / static_cast<int64_t>(sizeof(T));
    const int64_t want =
        std::max<int64_t>(1, kTileGrainBytes / 4 / (nb * static_cast<int64_t>(sizeof(T)) * kBlock));
    const int64_t stripRows = std::min(na, want * kBlock);
    const int64_t strips = (na + stripRows - 1) / stripRows;
    StridedIndex outer;
    for (std::size_t u = 0; u < last; ++u) {
      if (u == aDim) continue;
      const auto o = static_cast<std::size_t>(outer.rank++);
      outer.extent[o] = w.extent[u];
      outer.src[o] = w.stride[u];
      outer.dst[o] = dstStride[u];
    }
    // The strip index as the innermost walked dimension (the last strip may be short).
    const auto stripDim = static_cast<std::size_t>(outer.rank++);
    outer.extent[stripDim] = strips;
    outer.src[stripDim] = stripRows;
    outer.dst[stripDim] = stripRows * da;
    const int64_t items = w.count / (na * nb) * strips;
    const int64_t itemBytes = stripRows * nb * static_cast<int64_t>(sizeof(T));
    const auto* src = reinterpret_cast<const T*>(srcBytes);
    auto* dst = reinterpret_cast<T*>(dstBytes);
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, items, std::max<int64_t>(1, kTileGrainBytes / itemBytes),
                    [&](int64_t b, int64_t e, int32_t) {
                      StridedIndex it = outer;
                      it.seek(b);
                      for (int64_t i = b; i < e; ++i, it.next()) {
                        const int64_t a0 = it.index[stripDim] * stripRows;
                        transposeBlocked(src + it.srcOffset, sb, dst + it.dstOffset, da,
                                         std::min(stripRows, na - a0), nb);
                      }
                    });
    });
  }
};

class TransposeTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.transpose"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    if (spec.inputs.empty() || !spec.inputs[0].present || spec.outputs.size() != 1) return false;
    const auto& in = spec.inputs[0];
    const auto& out = spec.outputs[0];
    if (in.dtype != out.dtype) return false;
    for (int32_t k = 0; k < in.dims.nbDims; ++k) {
      if (in.dims[k] < 0) return false;
    }
    for (int32_t k = 0; k < out.dims.nbDims; ++k) {
      if (out.dims[k] < 0) return false;
    }
    const Walk w = planWalk(spec.node.attrs, in.dims, out.dims, elementSize(in.dtype));
    return w.kind != Walk::Kind::kOther;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& /*spec*/) const override {
    return std::make_unique<TransposeKernel>();
  }
};

}  // namespace

void registerTransposeTactics(TacticRegistry& registry) {
  registry.add("Shuffle", std::make_unique<TransposeTactic>());
}

}  // namespace kiln::backends::cpu
