// A fixed pool of worker threads for CPU kernels. One pool belongs to a Runtime (or to an engine
// built directly by a Builder) and is shared by every engine and execution context it creates:
// parallel regions of concurrent contexts take turns instead of oversubscribing the cores.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/aligned_buffer.h"

namespace kiln {

class ThreadPool {
 public:
  //! @p threads workers including the calling thread; 0 means one per physical core.
  explicit ThreadPool(int32_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  //! Threads a parallel region uses (the caller and the workers).
  int32_t size() const noexcept { return static_cast<int32_t>(workers_.size()) + 1; }

  //! Calls @p body(task, worker) for every task in [0, tasks), spread over the pool; the calling
  //! thread takes part as worker 0. Returns when all tasks are done; rethrows the first exception
  //! a task threw. Regions of different callers run one after the other; a region started from
  //! inside a task runs inline on that task's thread.
  template <typename Body>
  void run(int64_t tasks, Body&& body) {
    using B = std::remove_reference_t<Body>;
    runErased(
        tasks, [](void* f, int64_t task, int32_t worker) { (*static_cast<B*>(f))(task, worker); },
        const_cast<void*>(static_cast<const void*>(&body)));
  }

  //! Scratch memory of @p worker, at least @p bytes, 64-byte aligned; valid until that worker's
  //! next scratch call. Only to be used inside a task running as @p worker (@p slot picks one of a
  //! few independent buffers).
  void* scratch(int32_t worker, std::size_t bytes, int32_t slot = 0);

 private:
  using Trampoline = void (*)(void*, int64_t, int32_t);
  static constexpr int32_t kSlots = 4;

  void runErased(int64_t tasks, Trampoline fn, void* body);
  void workerLoop(int32_t worker);
  void drain(int32_t worker);

  std::vector<std::thread> workers_;
  std::vector<AlignedBuffer> scratch_;  // kSlots per worker; worker 0's are per thread instead

  std::mutex regionMutex_;  // one parallel region at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> published_{0};
  bool stop_ = false;
  Trampoline fn_ = nullptr;
  void* body_ = nullptr;
  int64_t tasks_ = 0;
  std::atomic<int64_t> next_{0};
  // Workers inside the current region. Only workers that join while it is open count: the caller
  // closes it once every task is claimed and never waits for a worker that is still asleep.
  // Changed under mutex_; atomic so that the caller can spin on it before sleeping.
  std::atomic<int32_t> busy_{0};
  bool open_ = false;
  std::exception_ptr error_;
};

//! Splits [0, n) into contiguous ranges of at least @p grain items, at most one per thread, and
//! calls @p body(begin, end, worker) for each; serial when @p pool is null or n is small.
template <typename Body>
void parallelFor(ThreadPool* pool, int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
  const int64_t threads = pool == nullptr ? 1 : pool->size();
  int64_t chunks = grain > 0 ? n / grain : n;
  if (chunks > threads) chunks = threads;
  if (chunks <= 1 || pool == nullptr) {
    body(int64_t{0}, n, int32_t{0});
    return;
  }
  pool->run(chunks,
            [&](int64_t c, int32_t worker) { body(n * c / chunks, n * (c + 1) / chunks, worker); });
}

}  // namespace kiln
