// ThreadPool: every task runs once, on a valid worker; regions of concurrent callers take turns
// (never more threads than the pool has); nested regions run inline; exceptions reach the caller.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kiln {
namespace {

TEST(ThreadPool, RunsEveryTaskOnce) {
  for (int32_t threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t tasks : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{100}}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
      std::atomic<bool> badWorker{false};
      pool.run(tasks, [&](int64_t t, int32_t w) {
        hits[static_cast<std::size_t>(t)]++;
        if (w < 0 || w >= pool.size()) badWorker = true;
      });
      for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
      EXPECT_FALSE(badWorker.load());
    }
  }
}

TEST(ThreadPool, DefaultSizeIsPositive) {
  ThreadPool pool;
  EXPECT_GE(pool.size(), 1);
}

TEST(ThreadPool, ParallelForCoversTheRange) {
  ThreadPool pool(3);
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{1000}}) {
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    parallelFor(&pool, n, 1, [&](int64_t b, int64_t e, int32_t) {
      for (int64_t i = b; i < e; ++i) seen[static_cast<std::size_t>(i)]++;
    });
    for (int v : seen) EXPECT_EQ(v, 1);
  }
  int calls = 0;
  parallelFor(nullptr, 10, 1, [&](int64_t b, int64_t e, int32_t) {
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 10);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, NestedRegionsRunInline) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.run(4, [&](int64_t, int32_t outer) {
    pool.run(3, [&](int64_t, int32_t w) {
      EXPECT_EQ(w, outer);
      inner++;
    });
  });
  EXPECT_EQ(inner.load(), 12);
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(8,
                        [](int64_t t, int32_t) {
                          if (t == 5) throw std::runtime_error("task 5");
                        }),
               std::runtime_error);
  // Still usable afterwards.
  std::atomic<int> count{0};
  pool.run(8, [&](int64_t, int32_t) { count++; });
  EXPECT_EQ(count.load(), 8);
}

TEST(ThreadPool, ConcurrentCallersNeverOversubscribe) {
  ThreadPool pool(2);
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  std::atomic<int> total{0};
  auto caller = [&] {
    for (int i = 0; i < 50; ++i) {
      pool.run(4, [&](int64_t, int32_t) {
        const int now = ++active;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        total++;
        --active;
      });
    }
  };
  std::thread a(caller);
  std::thread b(caller);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 50 * 4);
  EXPECT_LE(peak.load(), pool.size());
}

TEST(ThreadPool, ScratchIsPerWorkerAndAligned) {
  ThreadPool pool(2);
  pool.run(2, [&](int64_t, int32_t w) {
    void* a = pool.scratch(w, 1000, 0);
    void* b = pool.scratch(w, 1000, 1);
    EXPECT_NE(a, b);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
  });
}

}  // namespace
}  // namespace kiln
