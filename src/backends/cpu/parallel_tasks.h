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

//! Calls @p body(begin, end, worker) over [0, @p count): on this thread as @p worker when
//! @p serial (a caller already inside a task of @p pool), else spread over @p pool by
//! parallelTasks in ranges of at least @p grain.
template <typename Body>
void forRange(ThreadPool& pool, bool serial, int32_t worker, int64_t count, int64_t grain,
              Body&& body) {
  if (serial) {
    if (count > 0) body(int64_t{0}, count, worker);
  } else {
    parallelTasks(pool, count, grain, body);
  }
}

//! Calls @p unit(u) for every u in [0, @p units), in @p tasks contiguous runs on @p pool (on the
//! caller alone when @p tasks is 1): the kernels that size their own tasks (the 1x1 and blocked
//! convolutions: units of pixel tiles by weight panels).
template <typename Unit>
void runUnits(ThreadPool& pool, int64_t units, int64_t tasks, Unit&& unit) {
  auto body = [&](int64_t task, int32_t) {
    const int64_t u0 = units * task / tasks;
    const int64_t u1 = units * (task + 1) / tasks;
    for (int64_t u = u0; u < u1; ++u) unit(u);
  };
  if (tasks <= 1) {
    body(0, 0);
  } else {
    pool.run(tasks, body);
  }
}

}  // namespace kiln::backends::cpu
