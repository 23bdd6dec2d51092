// control_plane: the FunctionStore's writes off the io thread (docs/decisions/001 and 008): each
// function's function.json (written and fsynced) and the move of a deleted function's directory
// into the trash run on the daemon's BlockingPool. The registry makes a record's text on the io
// thread, where the record lives, and hands the text over; only the file work runs on the pool.
//
// One batch is on the pool at a time: what is handed over while it runs waits and goes as the
// next batch, all of it, so the writes of one function land in the order they were made. While
// it waits, a function's change is coalesced: a newer text replaces the older one, and a removal
// drops the text before it, so a removal is never undone by an earlier save. A save after a
// removal writes the new record once the old directory is gone. Independent functions share a
// batch. A write that fails is logged, as the error of a function that cannot be stored.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/control_plane/function_store.hpp"

namespace lambdad::control_plane {

class StoreWriter {
 public:
  StoreWriter(BlockingPool& pool, FunctionStore store);
  // flush().
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // `text` (FunctionStore::record_text) becomes `name`'s function.json.
  void save(const std::string& name, std::string text);
  // `name`'s directory goes to the trash (FunctionStore::remove).
  void remove(const std::string& name);
  // A removal of `name` is waiting or on the pool.
  bool removing(const std::string& name) const;
  // Runs `then` on the io thread once no removal of `name` is waiting or running: at once when
  // none is. What writes into the function's directory by other ways (its code being unpacked)
  // waits for it, so the removal of a deleted function never takes the code of a new one.
  void after_removal(const std::string& name, std::function<void()> then);

  // Runs `then` on the io thread once everything handed over so far is on disk: at once when
  // nothing is waiting or on the pool. A control-plane answer waits for it, so it follows the
  // record it describes, as when the io thread wrote the record itself.
  void when_written(std::function<void()> then);

  // For when the loop has stopped (serve, after io.run(); the registry's shutdown): waits for the
  // batch on the pool (BlockingPool::wait_idle) and writes what is still waiting on this thread.
  // What is handed over later is written at once on the caller's thread. The `then`s that waited
  // for a removal written here are posted to the loop, should it run again.
  void flush();

  // Nothing is waiting or on the pool.
  bool idle() const { return !running_ && waiting_.empty(); }
  // Batches handed to the pool, and records written (each coalesced text once), for tests.
  std::size_t batches() const { return batches_; }
  std::size_t written() const { return written_; }

 private:
  // What is to happen to one function's directory: the removal first, then the record.
  struct Change {
    bool remove = false;
    std::optional<std::string> text;
  };
  using Changes = std::map<std::string, Change>;

  void start_batch();
  void batch_done(std::size_t written);
  // Returns how many records it wrote.
  static std::size_t write_all(const FunctionStore& store, const Changes& changes);

  BlockingPool& pool_;
  FunctionStore store_;
  Changes waiting_;  // the next batch
  std::vector<std::function<void()>> waiting_then_;
  std::set<std::string> running_removals_;  // the removals of the batch on the pool
  std::vector<std::function<void()>> running_then_;
  bool running_ = false;
  bool flushed_ = false;
  std::size_t batches_ = 0;
  std::size_t written_ = 0;
  Lifetime lifetime_;
};

}  // namespace lambdad::control_plane
