// The packed SGEMM driver (backends/cpu/gemm.h) called directly, on every micro-kernel this CPU
// runs, against a double-precision reference: odd sizes, depths and widths beyond one cache block,
// transposed operands (the vector transpose in packing), prepacked operands, 1 and 2 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/gemm.h"
#include "core/cpu_info.h"
#include "core/thread_pool.h"

namespace kiln::test {
namespace {

using backends::cpu::GemmIsa;
using backends::cpu::GemmProblem;
using backends::cpu::MicroKernel;
using backends::cpu::PackedMatrix;

struct Shape {
  int64_t m, n, k;
  bool aTransposed, bTransposed;
};

std::vector<float> randomVector(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<std::size_t>(std::max<int64_t>(count, 1)));
  for (float& x : v) x = dist(rng);
  return v;
}

bool runs(const GemmIsa& isa) {
  return std::all_of(isa.features.begin(), isa.features.end(),
                     [](const std::string& f) { return hostCpu().has(f); });
}

// C = A * B with A [m][k] stored row-major or as its transpose, B likewise; packedA / packedB
// pack that operand ahead of time instead.
void check(const MicroKernel& mk, const Shape& s, int32_t threads, bool packedA, bool packedB) {
  const std::vector<float> a = randomVector(s.m * s.k, 7);
  const std::vector<float> b = randomVector(s.k * s.n, 11);
  auto aAt = [&](int64_t i, int64_t k) {
    return s.aTransposed ? a[static_cast<std::size_t>(k * s.m + i)]
                         : a[static_cast<std::size_t>(i * s.k + k)];
  };
  auto bAt = [&](int64_t k, int64_t j) {
    return s.bTransposed ? b[static_cast<std::size_t>(j * s.k + k)]
                         : b[static_cast<std::size_t>(k * s.n + j)];
  };
  const backends::cpu::StridedMatrix aView = s.aTransposed
                                                 ? backends::cpu::StridedMatrix{a.data(), 1, s.m}
                                                 : backends::cpu::StridedMatrix{a.data(), s.k, 1};
  const backends::cpu::StridedMatrix bView = s.bTransposed
                                                 ? backends::cpu::StridedMatrix{b.data(), 1, s.k}
                                                 : backends::cpu::StridedMatrix{b.data(), s.n, 1};
  PackedMatrix pa;
  PackedMatrix pb;
  GemmProblem p;
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  if (packedA) {
    pa = backends::cpu::packA(aView, s.m, s.k, mk.mr);
    p.a.packed = &pa;
  } else {
    p.a.strided = aView;
  }
  if (packedB) {
    pb = backends::cpu::packB(bView, s.k, s.n, mk.nr);
    p.b.packed = &pb;
  } else {
    p.b.strided = bView;
  }
  std::vector<float> c(static_cast<std::size_t>(s.m * s.n), -7.f);
  p.c = c.data();
  p.ldc = s.n;
  ThreadPool pool(threads);
  backends::cpu::gemm(mk, p, pool);
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double ref = 0;
      for (int64_t k = 0; k < s.k; ++k) ref += double(aAt(i, k)) * double(bAt(k, j));
      const float got = c[static_cast<std::size_t>(i * s.n + j)];
      ASSERT_NEAR(got, ref, 1e-4 * std::sqrt(double(s.k)) + 1e-5)
          << "m=" << s.m << " n=" << s.n << " k=" << s.k << " at (" << i << ", " << j << ")"
          << " aT=" << s.aTransposed << " bT=" << s.bTransposed << " threads=" << threads
          << " packedA=" << packedA << " packedB=" << packedB;
    }
  }
}

TEST(GemmDriver, OddShapesTransposesAndThreads) {
  const Shape shapes[] = {
      {1, 1, 1, false, false},       {13, 33, 17, false, false},     {13, 33, 17, true, true},
      {25, 70, 300, false, true},    {37, 530, 41, true, false},     {100, 45, 700, false, false},
      {29, 1030, 270, false, false}, {5, 7, 600, false, true},       {64, 64, 64, false, false},
      {31, 17, 33, true, true},      {130, 600, 1100, false, false},
  };
  for (const GemmIsa& isa : backends::cpu::gemmIsas()) {
    if (!runs(isa)) continue;
    SCOPED_TRACE(isa.suffix);
    const MicroKernel& mk = isa.kernel();
    for (const Shape& s : shapes) {
      for (int32_t threads : {1, 2}) check(mk, s, threads, false, false);
      check(mk, s, 2, true, false);
      // Packed B (weights) against few rows runs weight-panel-outer with prefetches (gemm.cpp).
      for (int32_t threads : {1, 2}) check(mk, s, threads, false, true);
    }
  }
}

// Every epilogue piece on partial tiles of every width class (whole vectors, a vector remainder,
// single columns), over two depth blocks so the epilogue comes after accumulation.
TEST(GemmDriver, EpilogueOnPartialTiles) {
  for (const GemmIsa& isa : backends::cpu::gemmIsas()) {
    if (!runs(isa)) continue;
    SCOPED_TRACE(isa.suffix);
    const MicroKernel& mk = isa.kernel();
    for (const int64_t n : {49, 17, 35, 2}) {
      for (const ActivationType act : {ActivationType::kRELU, ActivationType::kCLIP}) {
        const int64_t m = 29;
        const int64_t k = 1100;
        const std::vector<float> a = randomVector(m * k, 3);
        const std::vector<float> b = randomVector(k * n, 5);
        const std::vector<float> rowBias = randomVector(m, 9);
        const std::vector<float> colBias = randomVector(n, 13);
        const std::vector<float> residual = randomVector(m * n, 17);
        const PackedMatrix pa = backends::cpu::packA({a.data(), k, 1}, m, k, mk.mr);
        GemmProblem p;
        p.m = m;
        p.n = n;
        p.k = k;
        p.a.packed = &pa;
        p.b.strided = {b.data(), n, 1};
        std::vector<float> c(static_cast<std::size_t>(m * n));
        p.c = c.data();
        p.ldc = n;
        p.epilogue.rowBias = rowBias.data();
        p.epilogue.colBias = colBias.data();
        p.epilogue.residual = residual.data();
        p.epilogue.ldr = n;
        p.epilogue.hasActivation = true;
        p.epilogue.activation = act;
        p.epilogue.alpha = -0.5f;
        p.epilogue.beta = 0.75f;
        ThreadPool pool(2);
        backends::cpu::gemm(mk, p, pool);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double ref = 0;
            for (int64_t q = 0; q < k; ++q) {
              ref += double(a[static_cast<std::size_t>(i * k + q)]) *
                     double(b[static_cast<std::size_t>(q * n + j)]);
            }
            ref += rowBias[static_cast<std::size_t>(i)] + colBias[static_cast<std::size_t>(j)] +
                   residual[static_cast<std::size_t>(i * n + j)];
            ref = act == ActivationType::kRELU ? std::max(ref, 0.0) : std::clamp(ref, -0.5, 0.75);
            ASSERT_NEAR(c[static_cast<std::size_t>(i * n + j)], ref, 1e-3)
                << "n=" << n << " at (" << i << ", " << j << ")";
          }
        }
      }
    }
  }
}

// B as an implicit im2col (convolution as GEMM): strides 1-3, padding on every side, widths
// below and above one panel, against a direct convolution.
TEST(GemmDriver, Im2colStridesAndPadding) {
  struct Conv {
    int64_t cin, h, w, cout, kh, kw, s, ph, pw;
  };
  const Conv convs[] = {{3, 23, 37, 13, 7, 7, 2, 3, 3},
                        {5, 9, 70, 7, 3, 3, 1, 1, 1},
                        {4, 11, 12, 5, 3, 3, 2, 1, 0},
                        {2, 17, 19, 3, 5, 3, 3, 2, 1},
                        {6, 8, 8, 9, 1, 1, 2, 0, 0}};
  for (const GemmIsa& isa : backends::cpu::gemmIsas()) {
    if (!runs(isa)) continue;
    SCOPED_TRACE(isa.suffix);
    const MicroKernel& mk = isa.kernel();
    for (const Conv& v : convs) {
      const int64_t oh = (v.h + 2 * v.ph - v.kh) / v.s + 1;
      const int64_t ow = (v.w + 2 * v.pw - v.kw) / v.s + 1;
      const int64_t depth = v.cin * v.kh * v.kw;
      const std::vector<float> x = randomVector(v.cin * v.h * v.w, 21);
      const std::vector<float> wts = randomVector(v.cout * depth, 23);
      backends::cpu::Im2colSource src{x.data(), v.h, v.w, oh, ow,   v.kh, v.kw,
                                      v.s,      v.s, 1,   1,  v.ph, v.pw};
      GemmProblem p;
      p.m = v.cout;
      p.n = oh * ow;
      p.k = depth;
      p.a.strided = {wts.data(), depth, 1};
      p.b.im2col = &src;
      std::vector<float> y(static_cast<std::size_t>(p.m * p.n));
      p.c = y.data();
      p.ldc = p.n;
      ThreadPool pool(1);
      backends::cpu::gemm(mk, p, pool);
      for (int64_t o = 0; o < v.cout; ++o) {
        for (int64_t oy = 0; oy < oh; ++oy) {
          for (int64_t ox = 0; ox < ow; ++ox) {
            double ref = 0;
            for (int64_t c = 0; c < v.cin; ++c) {
              for (int64_t ky = 0; ky < v.kh; ++ky) {
                for (int64_t kx = 0; kx < v.kw; ++kx) {
                  const int64_t iy = oy * v.s + ky - v.ph;
                  const int64_t ix = ox * v.s + kx - v.pw;
                  if (iy < 0 || iy >= v.h || ix < 0 || ix >= v.w) continue;
                  ref +=
                      double(
                          wts[static_cast<std::size_t>(o * depth + (c * v.kh + ky) * v.kw + kx)]) *
                      double(x[static_cast<std::size_t>((c * v.h + iy) * v.w + ix)]);
                }
              }
            }
            ASSERT_NEAR(y[static_cast<std::size_t>(o * p.n + oy * ow + ox)], ref, 1e-4)
                << "conv " << v.kh << "x" << v.kw << "/" << v.s << " at (" << o << ", " << oy
                << ", " << ox << ")";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace kiln::test
