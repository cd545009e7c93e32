// Parallel loops for short regions (a pointwise chain or a LayerNorm takes tens of microseconds).
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/thread_pool.h"

namespace kiln::backends::cpu {

//! Calls @p body(begin, end, worker) over [0, n) in ranges of at least @p grain items. Unlike
//! parallelFor (one range per thread) it makes up to 4 ranges per thread: the caller starts on
//! the ranges at once, and a worker that wakes late still takes a share of what is left instead
//! of leaving the whole region to the caller.
template <typename Body>
void parallelTasks(ThreadPool& pool, int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
  const int64_t tasks =
      std::clamp<int64_t>(n / std::max<int64_t>(grain, 1), 1, int64_t{4} * pool.size());
  if (tasks <= 1 || pool.size() <= 1) {
    body(int64_t{0}, n, int32_t{0});
    return;
  }
  pool.run(tasks,
           [&](int64_t t, int32_t worker) { body(n * t / tasks, n * (t + 1) / tasks, worker); });
}

}  // namespace kiln::backends::cpu
