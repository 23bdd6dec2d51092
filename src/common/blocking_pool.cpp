#include "lambdad/common/blocking_pool.hpp"

#include <algorithm>

namespace lambdad {

BlockingPool::BlockingPool(boost::asio::io_context& io, BlockingPoolOptions options)
    : BlockingPool(Executor(io.get_executor()), options) {}

BlockingPool::BlockingPool(Executor executor, BlockingPoolOptions options)
    : executor_(std::move(executor)), capacity_(std::max<std::size_t>(1, options.capacity)),
      thread_count_(std::max<std::size_t>(1, options.threads)) {
  threads_.reserve(thread_count_);
  for (std::size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { work_loop(); });
}

BlockingPool::~BlockingPool() { shutdown(); }

void BlockingPool::submit(std::unique_ptr<Job> job) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    job->run(false);
    return;
  }
  if (queue_.size() >= capacity_) {
    ++ran_in_place_;
    lock.unlock();
    job->run(true);
    return;
  }
  queue_.push_back(std::move(job));
  lock.unlock();
  wake_.notify_one();
}

void BlockingPool::work_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything accepted has run
    auto job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    job->run(true);
    job.reset();  // what the job held goes on this thread, before the pool counts it done
    lock.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

void BlockingPool::wait_idle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void BlockingPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t BlockingPool::ran_in_place() const {
  std::lock_guard lock(mu_);
  return ran_in_place_;
}

}  // namespace lambdad
