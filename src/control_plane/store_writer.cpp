#include "lambdad/control_plane/store_writer.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "lambdad/common/io_thread.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::control_plane {

StoreWriter::StoreWriter(BlockingPool& pool, FunctionStore store) : pool_(pool), store_(std::move(store)) {}

StoreWriter::~StoreWriter() {
  lifetime_.end();
  flush();
}

void StoreWriter::save(const std::string& name, std::string text) {
  LAMBDAD_ASSERT_IO_THREAD();
  if (flushed_) {
    // The loop has stopped: nothing would start the next batch.
    written_ += write_all(store_, Changes{{name, Change{false, std::move(text)}}});
    return;
  }
  waiting_[name].text = std::move(text);
  if (!running_) start_batch();
}

void StoreWriter::remove(const std::string& name) {
  LAMBDAD_ASSERT_IO_THREAD();
  if (flushed_) {
    (void)write_all(store_, Changes{{name, Change{true, std::nullopt}}});
    return;
  }
  waiting_[name] = Change{true, std::nullopt};
  if (!running_) start_batch();
}

bool StoreWriter::removing(const std::string& name) const {
  auto it = waiting_.find(name);
  return (it != waiting_.end() && it->second.remove) || running_removals_.count(name) != 0;
}

void StoreWriter::after_removal(const std::string& name, std::function<void()> then) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = waiting_.find(name);
  if (it != waiting_.end() && it->second.remove) {
    waiting_then_.push_back(std::move(then));
  } else if (running_removals_.count(name)) {
    running_then_.push_back(std::move(then));
  } else {
    then();
  }
}

void StoreWriter::when_written(std::function<void()> then) {
  LAMBDAD_ASSERT_IO_THREAD();
  if (!waiting_.empty()) {
    waiting_then_.push_back(std::move(then));
  } else if (running_) {
    running_then_.push_back(std::move(then));
  } else {
    then();
  }
}

void StoreWriter::start_batch() {
  running_ = true;
  ++batches_;
  running_removals_.clear();
  for (const auto& [name, change] : waiting_) {
    if (change.remove) running_removals_.insert(name);
  }
  running_then_ = std::move(waiting_then_);
  waiting_then_.clear();
  pool_.run(
      lifetime_.token(), [store = store_, changes = std::move(waiting_)] { return write_all(store, changes); },
      [this](std::size_t written) { batch_done(written); });
  waiting_.clear();
}

void StoreWriter::batch_done(std::size_t written) {
  LAMBDAD_ASSERT_IO_THREAD();
  written_ += written;
  running_ = false;
  running_removals_.clear();
  auto then = std::move(running_then_);
  running_then_.clear();
  if (!waiting_.empty() && !flushed_) start_batch();
  for (auto& t : then) t();
}

void StoreWriter::flush() {
  flushed_ = true;
  if (running_) pool_.wait_idle();
  if (waiting_.empty()) return;
  auto changes = std::move(waiting_);
  waiting_.clear();
  written_ += write_all(store_, changes);
  for (auto& then : waiting_then_) pool_.run(lifetime_.token(), [] {}, std::move(then));
  waiting_then_.clear();
}

std::size_t StoreWriter::write_all(const FunctionStore& store, const Changes& changes) {
  std::size_t written = 0;
  for (const auto& [name, change] : changes) {
    if (change.remove) store.remove(name);
    if (!change.text) continue;
    ++written;
    if (auto st = store.write_record(name, *change.text); !st) {
      observability::daemon_log()->error("[{}] cannot store the function: {}", name, st.error().message);
    }
  }
  return written;
}

}  // namespace lambdad::control_plane
