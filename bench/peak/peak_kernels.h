// The ISA-specific FMA loops (one file each, compiled with that ISA's flags).
#pragma once

#include <cstdint>

namespace kiln::bench {

double fmaLoopAvx512(int64_t iterations, float seed);
double fmaLoopAvx2(int64_t iterations, float seed);

}  // namespace kiln::bench
