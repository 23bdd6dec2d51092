#include "lambdad/async/spool_writer.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>

#include "lambdad/common/io_thread.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::async {
namespace {

constexpr double kSlowBatchMs = 100;

// An outcome's records, then its event's removal. On a pool thread, in its batch's order.
Delivered write_delivery(const EventSpool& spool, RecordLog& records, Delivery& d, SpoolTimings& spent) {
  Delivered out;
  bool recorded = !d.function_event && !d.record;  // no destination configured: nothing to send
  if (d.function_event) {
    // Its own directory fsync: the new event must be durable before the one it reports on goes.
    auto puts = spool.put_all({&*d.function_event});
    auto& st = puts.statuses.at(0);
    ++spent.writes;
    if (puts.directory_synced) ++spent.directory_syncs;
    recorded = st.ok();
    out.function_event = st ? Result<SpooledEvent>(std::move(*d.function_event)) : Result<SpooledEvent>(st.error());
  }
  if (d.record && !recorded) {
    out.record = records.append(d.record->file, d.record->json);
    recorded = out.record->ok();
  }
  bool complete = recorded;
  if (d.dead_letter) {
    out.dead_letter = records.append(d.dead_letter->file, d.dead_letter->json);
    complete = complete && out.dead_letter->ok();
  }
  if (complete) spool.remove(d.request_id);
  out.complete = complete;
  return out;
}

}  // namespace

SpoolWriter::SpoolWriter(BlockingPool& pool, EventSpool spool, RecordLog records)
    : pool_(pool), spool_dir_(spool.dir()),
      files_(std::make_shared<Files>(Files{std::move(spool), std::move(records)})) {}

SpoolWriter::~SpoolWriter() {
  lifetime_.end();
  flush();
}

void SpoolWriter::put(SpooledEvent event, std::function<void(Result<SpooledEvent>)> done) {
  hand_over(Put{std::move(event)},
            [done = std::move(done)](Written w) { done(std::get<Result<SpooledEvent>>(std::move(w))); });
}

void SpoolWriter::replace(SpooledEvent event, std::function<void(Status)> done) {
  hand_over(Replace{std::move(event)}, [done = std::move(done)](Written w) { done(std::get<Status>(std::move(w))); });
}

void SpoolWriter::deliver(Delivery delivery, std::function<void(Delivered)> done) {
  hand_over(std::move(delivery), [done = std::move(done)](Written w) { done(std::get<Delivered>(std::move(w))); });
}

void SpoolWriter::hand_over(Write write, Done done) {
  if (flushed_) {
    // The loop has stopped: nothing would run the completion.
    std::vector<Write> now;
    now.push_back(std::move(write));
    add(write_all(*files_, now).spent);
    return;
  }
  waiting_.push_back(std::move(write));
  waiting_done_.push_back(std::move(done));
  if (!running_) start_batch();
}

void SpoolWriter::start_batch() {
  running_ = true;
  running_done_ = std::move(waiting_done_);
  waiting_done_.clear();
  pool_.run(
      lifetime_.token(),
      [files = files_, writes = std::move(waiting_)]() mutable { return write_all(*files, writes); },
      [this](Batch batch) { batch_done(std::move(batch)); });
  waiting_.clear();
}

void SpoolWriter::batch_done(Batch batch) {
  LAMBDAD_ASSERT_IO_THREAD();
  add(batch.spent);
  if (batch.spent.total_ms > kSlowBatchMs && batch.spent.writes > 0) {
    observability::daemon_log()->warn("writing {} Event invocation(s) to the spool took {:.1f} ms (fsync on {})",
                                      batch.spent.writes, batch.spent.total_ms, spool_dir_.string());
  }
  auto done = std::move(running_done_);
  running_done_.clear();
  running_ = false;
  // What waited goes now, before the completions run: they may hand over more, which queues behind it.
  if (!waiting_.empty() && !flushed_) start_batch();
  for (std::size_t i = 0; i < done.size() && i < batch.results.size(); ++i) done[i](std::move(batch.results[i]));
}

void SpoolWriter::flush() {
  flushed_ = true;
  if (running_) pool_.wait_idle();
  if (waiting_.empty()) return;
  auto writes = std::move(waiting_);
  waiting_.clear();
  waiting_done_.clear();
  add(write_all(*files_, writes).spent);
}

void SpoolWriter::add(const SpoolTimings& spent) {
  timings_.writes += spent.writes;
  timings_.batches += spent.batches;
  timings_.directory_syncs += spent.directory_syncs;
  timings_.total_ms += spent.total_ms;
  timings_.max_ms = std::max(timings_.max_ms, spent.max_ms);
}

SpoolWriter::Batch SpoolWriter::write_all(Files& files, std::vector<Write>& writes) {
  // Real time, not the injected Clock: this measures the disk, which a fake clock cannot.
  const auto started = std::chrono::steady_clock::now();
  Batch batch;
  batch.results.resize(writes.size());
  // The new events first, together: they share the fsyncs' journal commit and one directory
  // fsync. Nothing else in the batch can concern them: the queue knows an event, and so writes
  // anything else about it, only once its put has completed.
  std::vector<const SpooledEvent*> new_events;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (auto* p = std::get_if<Put>(&writes[i])) {
      new_events.push_back(&p->event);
      at.push_back(i);
    }
  }
  if (!new_events.empty()) {
    auto puts = files.spool.put_all(new_events);
    batch.spent.writes += new_events.size();
    if (puts.directory_synced) ++batch.spent.directory_syncs;
    for (std::size_t k = 0; k < at.size(); ++k) {
      auto& st = puts.statuses[k];
      batch.results[at[k]] = st ? Result<SpooledEvent>(std::move(std::get<Put>(writes[at[k]]).event))
                                : Result<SpooledEvent>(st.error());
    }
  }
  // The rest in the order it was handed over.
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (auto* r = std::get_if<Replace>(&writes[i])) {
      ++batch.spent.writes;
      batch.results[i] = files.spool.replace(r->event);
    } else if (auto* d = std::get_if<Delivery>(&writes[i])) {
      batch.results[i] = write_delivery(files.spool, files.records, *d, batch.spent);
    }
  }
  batch.spent.batches = 1;
  batch.spent.total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  batch.spent.max_ms = batch.spent.total_ms;
  return batch;
}

}  // namespace lambdad::async
