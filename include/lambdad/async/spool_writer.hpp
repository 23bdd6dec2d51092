// async: the Event queue's writes to disk, off the io thread (docs/decisions/001 and 006). Every
// write the queue makes (a new event, the recorded state of a retry, an outcome's destination
// records followed by the event's removal) is handed over here, done on the daemon's
// BlockingPool in the order it was handed over, and its result comes back to the io thread as a
// completion.
//
// One batch is on the pool at a time: what is handed over while it runs waits and goes as the
// next batch, all of it. The new events of a batch are written together (group commit): all
// their files first, then their fsyncs, which can share one commit of the file system's journal,
// and one fsync of the spool directory; events accepted while a batch is being made durable wait
// for the next commit together instead of one each. The other writes of a batch follow in the
// order they were handed over, so a retry's new state is never renamed over an event that has
// already left the spool.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lambdad/async/event_spool.hpp"
#include "lambdad/async/record_log.hpp"
#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/result.hpp"

namespace lambdad::async {

// One line for a destination's JSON-lines file (RecordLog).
struct RecordLine {
  std::string file;  // a name in the destinations directory
  std::string json;
};

// What an outcome writes, in this order, before its event leaves the spool.
struct Delivery {
  std::string request_id;  // the event whose outcome this is: removed once all below was written
  // A Lambda destination that is a local function: the record as an Event invocation of its own,
  // spooled with its directory entry before the event it reports on is removed.
  std::optional<SpooledEvent> function_event;
  // The destination's file: the record itself, or, with a function_event, where the record goes
  // when that cannot be spooled.
  std::optional<RecordLine> record;
  std::optional<RecordLine> dead_letter;
};

// What a Delivery came to; each part is set when it was attempted.
struct Delivered {
  std::optional<Result<SpooledEvent>> function_event;  // the destination's event, durable, or why not
  std::optional<Status> record;
  std::optional<Status> dead_letter;
  bool complete = false;  // every destination took what it was sent, and the event left the spool
};

// Real time spent writing the spool, on the pool (`/_lambdad/status`, `eventSpool`).
struct SpoolTimings {
  std::uint64_t writes = 0;           // event files written: new events and the recorded retries
  std::uint64_t batches = 0;          // jobs on the pool, each with all that was handed over before it
  std::uint64_t directory_syncs = 0;  // fsyncs of the spool directory, at most one per batch for its new events
  double total_ms = 0;                // the time the batches took
  double max_ms = 0;                  // the longest batch
};

class SpoolWriter {
 public:
  SpoolWriter(BlockingPool& pool, EventSpool spool, RecordLog records);
  // flush().
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // A new event: `done` gets it back once its file and its directory entry are durable, or the
  // error that kept it out of the spool.
  void put(SpooledEvent event, std::function<void(Result<SpooledEvent>)> done);
  // A newer state of a spooled event (its attempts and pending retry), replaced atomically; no
  // directory fsync (decision 006: losing it only means the older attempt count).
  void replace(SpooledEvent event, std::function<void(Status)> done);
  // An outcome's records, then the removal of its event if every one was written.
  void deliver(Delivery delivery, std::function<void(Delivered)> done);

  // For when the loop has stopped: waits for the batch on the pool (BlockingPool::wait_idle)
  // and writes what is still waiting on this thread. The completions of what it writes are
  // dropped (nothing is left to answer them), and so are those of writes handed over later,
  // which are done at once on the caller's thread. The batch that was on the pool still
  // reports, should the loop run again.
  void flush();

  const SpoolTimings& timings() const { return timings_; }
  const std::filesystem::path& spool_dir() const { return spool_dir_; }

 private:
  struct Put {
    SpooledEvent event;
  };
  struct Replace {
    SpooledEvent event;
  };
  using Write = std::variant<Put, Replace, Delivery>;
  using Written = std::variant<Delivered, Result<SpooledEvent>, Status>;
  using Done = std::function<void(Written)>;
  // What a batch's writes work on; one batch at a time touches it (RecordLog remembers which
  // files it checked for a torn last line).
  struct Files {
    EventSpool spool;
    RecordLog records;
  };
  struct Batch {
    std::vector<Written> results;  // one per write, in order
    SpoolTimings spent;
  };

  void hand_over(Write write, Done done);
  void start_batch();
  void batch_done(Batch batch);
  void add(const SpoolTimings& spent);
  static Batch write_all(Files& files, std::vector<Write>& writes);

  BlockingPool& pool_;
  std::filesystem::path spool_dir_;
  std::shared_ptr<Files> files_;  // shared with the batch on the pool, which may outlive this
  std::vector<Write> waiting_;    // the next batch
  std::vector<Done> waiting_done_;
  std::vector<Done> running_done_;  // the completions of the batch on the pool
  bool running_ = false;
  bool flushed_ = false;
  SpoolTimings timings_;
  Lifetime lifetime_;
};

}  // namespace lambdad::async
