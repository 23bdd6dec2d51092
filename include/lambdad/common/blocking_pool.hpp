// common: the one place for blocking work (docs/decisions/001). What would make the io thread wait
// on a disk or on the kernel (unpacking a zip, digesting a code directory, removing a cgroup whose
// processes are still exiting, reading /proc to admit a Runtime API connection) runs here, on a
// few threads of its own, and what it found comes back to the io thread as a posted completion.
// One pool per daemon, built by the composition root (app/daemon.hpp) and passed by reference.
//
// When the queue is full, run() does the work on the caller's thread (the io thread, normally)
// and still posts the completion: every job here must happen (a cgroup left behind, code never
// unpacked, a digest never known would each be a wrong answer), refusing would need an error
// Lambda does not have, and waiting for room could deadlock a job that submits another. Running
// it in place is the back-pressure: the loop reads no new request while it works, as it did
// before the pool existed. The queue is sized so that this is an overload, not the normal case.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lambdad/common/executor.hpp"
#include "lambdad/common/lifetime.hpp"

namespace lambdad {

struct BlockingPoolOptions {
  std::size_t threads = 4;  // the work mostly waits (disk, the kernel), so a few more than cores is fine
  std::size_t capacity = 256;  // jobs waiting for a thread; a full queue runs the job in place
};

class BlockingPool {
 public:
  explicit BlockingPool(boost::asio::io_context& io, BlockingPoolOptions options = {});
  // Completions go to `executor` (the daemon's domain, docs/decisions/021).
  explicit BlockingPool(Executor executor, BlockingPoolOptions options = {});
  // shutdown().
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `work()` on a pool thread and then posts `on_done(result)` (`on_done()` for work that
  // returns nothing) to the io_context, where it runs only if `owner` is still alive then: the
  // result of an owner that died is dropped. The work itself always runs. `work` must not throw
  // (an exception ends the process, as one escaping an io handler does); it must not touch what
  // the io thread owns: it gets copies, and its result goes back through `on_done`.
  template <class Work, class Done>
  void run(Lifetime::Token owner, Work work, Done on_done);
  // Work with nothing to report (the removal of a cgroup).
  template <class Work>
  void run(Work work);

  // Blocks until every job accepted so far has run and posted its completion (not from a job:
  // it would wait for itself).
  void wait_idle();
  // Runs what was accepted (completions are posted as usual) and joins the threads. A job given
  // to run() afterwards runs on the caller's thread and its completion is dropped: the loop that
  // would run it has stopped. Idempotent.
  void shutdown();

  // Jobs that found the queue full and ran on the caller's thread.
  std::size_t ran_in_place() const;
  std::size_t thread_count() const { return thread_count_; }

 private:
  class Job {
   public:
    virtual ~Job() = default;
    // `report`: post the completion; false once the pool has shut down.
    virtual void run(bool report) noexcept = 0;
  };
  template <class F>
  class JobOf final : public Job {
   public:
    explicit JobOf(F f) : f_(std::move(f)) {}
    void run(bool report) noexcept override { f_(report); }

   private:
    F f_;
  };
  template <class F>
  void submit(F f) {
    submit(std::unique_ptr<Job>(std::make_unique<JobOf<F>>(std::move(f))));
  }
  void submit(std::unique_ptr<Job> job);
  void work_loop();

  Executor executor_;
  const std::size_t capacity_;
  const std::size_t thread_count_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // a job was queued, or the pool stops
  std::condition_variable idle_;  // a job finished
  std::deque<std::unique_ptr<Job>> queue_;  // guarded by mu_, as are the three below
  std::size_t running_ = 0;
  std::size_t ran_in_place_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // joined by shutdown(), on the owner's thread
};

// The pool as seen by what may outlive it: an environment's cgroup or private /tmp, destroyed by
// a handler the io_context drops after the daemon's parts. Work runs on the pool while the link
// is attached, and in place once its owner has detached it (after the daemon waited for the
// pool, app/daemon.hpp). Shared by its owner and what the owner made.
class PoolLink {
 public:
  explicit PoolLink(BlockingPool* pool) : pool_(pool) {}
  template <class Work>
  void run(Work work) {
    if (auto* pool = pool_.load()) {
      pool->run(std::move(work));
    } else {
      work();
    }
  }
  void detach() { pool_.store(nullptr); }

 private:
  std::atomic<BlockingPool*> pool_;
};

template <class Work, class Done>
void BlockingPool::run(Lifetime::Token owner, Work work, Done on_done) {
  using Value = std::invoke_result_t<Work&>;
  submit([executor = executor_, owner = std::move(owner), work = std::move(work),
          on_done = std::move(on_done)](bool report) mutable {
    if constexpr (std::is_void_v<Value>) {
      work();
      if (!report) return;
      boost::asio::post(executor, [owner = std::move(owner), on_done = std::move(on_done)]() mutable {
        if (owner) on_done();
      });
    } else {
      Value result = work();
      if (!report) return;
      boost::asio::post(executor, [owner = std::move(owner), on_done = std::move(on_done),
                                   result = std::move(result)]() mutable {
        if (owner) on_done(std::move(result));
      });
    }
  });
}

template <class Work>
void BlockingPool::run(Work work) {
  submit([work = std::move(work)](bool) mutable { work(); });
}

}  // namespace lambdad
