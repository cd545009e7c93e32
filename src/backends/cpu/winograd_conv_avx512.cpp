// The Winograd transforms compiled for AVX-512 (see CMakeLists.txt).
// No inline function of another header is instantiated here (see winograd_kernel.inc).
// GCC 12 warns about the undefined upper lanes inside its own _mm512 intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "backends/cpu/winograd_conv.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/winograd_kernel.inc"
}  // namespace

const WinogradTransforms& avx512WinogradTransforms() {
  return kTransforms;
}

}  // namespace kiln::backends::cpu
