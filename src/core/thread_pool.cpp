#include "core/thread_pool.h"

#include <array>

#include "core/cpu_info.h"

namespace kiln {

namespace {
// The worker a thread is running a task as, or -1 outside any task (nested regions run inline).
thread_local int32_t tCurrentWorker = -1;

// Scratch of worker 0, which is whichever thread runs a kernel: the caller of a region, or of a
// kernel run serially (parallelFor below its grain). Several execution contexts do that at once
// on one pool, so worker 0's buffers belong to the thread, not to the pool.
thread_local std::array<AlignedBuffer, 4> tCallerScratch;

// Spins briefly before sleeping: back-to-back layers start regions microseconds apart.
constexpr int kSpinRounds = 4000;
constexpr int kYieldEvery = 64;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

ThreadPool::ThreadPool(int32_t threads) {
  if (threads <= 0) threads = physicalCoreCount();
  if (threads < 1) threads = 1;
  scratch_.resize(static_cast<std::size_t>(threads) * kSlots);
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  for (int32_t w = 1; w < threads; ++w) workers_.emplace_back([this, w] { workerLoop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    ++generation_;
    published_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void* ThreadPool::scratch(int32_t worker, std::size_t bytes, int32_t slot) {
  static_assert(std::tuple_size_v<decltype(tCallerScratch)> == kSlots);
  auto& buffer = worker == 0 ? tCallerScratch[static_cast<std::size_t>(slot)]
                             : scratch_[static_cast<std::size_t>(worker * kSlots + slot)];
  if (buffer.size() < bytes) buffer.resize(bytes + bytes / 4);
  return buffer.data();
}

void ThreadPool::drain(int32_t worker) {
  const int32_t previous = tCurrentWorker;
  tCurrentWorker = worker;
  for (;;) {
    const int64_t task = next_.fetch_add(1, std::memory_order_relaxed);
    if (task >= tasks_) break;
    try {
      fn_(body_, task, worker);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  tCurrentWorker = previous;
}

void ThreadPool::runErased(int64_t tasks, Trampoline fn, void* body) {
  if (tasks <= 0) return;
  if (tCurrentWorker >= 0 || workers_.empty() || tasks == 1) {
    const int32_t worker = tCurrentWorker >= 0 ? tCurrentWorker : 0;
    for (int64_t t = 0; t < tasks; ++t) fn(body, t, worker);
    return;
  }
  std::lock_guard region(regionMutex_);
  {
    std::lock_guard lock(mutex_);
    fn_ = fn;
    body_ = body;
    tasks_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    busy_.store(0, std::memory_order_relaxed);
    open_ = true;
    ++generation_;
    published_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  drain(0);
  {
    // Every task is claimed: a worker that has not joined yet (descheduled on a loaded machine)
    // is not waited for, only those still running a task.
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  // A worker still running a task usually finishes within microseconds: spin for it before
  // sleeping, since waking this thread from the condition variable costs tens of microseconds
  // on a VM, per region.
  for (int i = 0; i < kSpinRounds && busy_.load(std::memory_order_acquire) != 0; ++i) cpuRelax();
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_.load(std::memory_order_relaxed) == 0; });
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::workerLoop(int32_t worker) {
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < kSpinRounds && published_.load(std::memory_order_acquire) == seen; ++i) {
      cpuRelax();
      // On a loaded machine this thread may share a core with the caller: let it run.
      if (i % kYieldEvery == kYieldEvery - 1) std::this_thread::yield();
    }
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (stop_) return;
      if (!open_) continue;
      busy_.fetch_add(1, std::memory_order_relaxed);
    }
    drain(worker);
    {
      std::lock_guard lock(mutex_);
      if (busy_.fetch_sub(1, std::memory_order_release) == 1) done_.notify_one();
    }
  }
}

}  // namespace kiln
