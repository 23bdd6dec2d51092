// async: the spool, where accepted Event invocations wait on disk until their outcome is final.
// One file per event, written to a temporary name, fsynced and renamed, so that after a kill at
// any point the directory holds only complete events (docs/decisions/006).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"

namespace lambdad::async {

// What the last failed attempt answered, kept so that a record written after a restart still
// carries it.
struct AttemptResponse {
  std::string payload;
  std::string executed_version = "$LATEST";
};

// One accepted Event invocation, as the spool keeps it.
struct SpooledEvent {
  std::string request_id;  // the id the runtime and every retry see
  std::string function_name;
  std::string qualifier = "$LATEST";  // as invoked
  std::string version = "$LATEST";    // the version it names
  std::string invoked_function_arn;
  std::string payload;  // JSON text
  std::string trace_id;
  std::optional<std::string> client_context;
  std::optional<std::string> tenant_id;
  std::int64_t received_epoch_ms = 0;      // when it was accepted: its age counts from here
  int attempts = 0;                        // attempts that ended
  std::int64_t next_attempt_epoch_ms = 0;  // when a pending retry is due; 0: at once
  std::optional<AttemptResponse> last_response;
};

// The file format: a JSON header line, then the payload, then the last response, verbatim.
std::string encode(const SpooledEvent& event);
Result<SpooledEvent> decode(std::string_view bytes);

// What EventSpool::put_all did.
struct SpoolPuts {
  std::vector<Status> statuses;   // one per event, in order
  bool directory_synced = false;  // it fsynced the directory (once, for all of them)
};

struct SpoolLoad {
  std::vector<SpooledEvent> events;   // oldest first
  std::vector<std::string> problems;  // files set aside as *.corrupt, for the log
};

// The spool's files. It keeps no state beyond its directory, so copies of it may work on the
// directory from different threads, one at a time (the daemon writes through SpoolWriter).
class EventSpool {
 public:
  // `durable`: fsync files and the directory (off for a throwaway state directory).
  EventSpool(std::filesystem::path dir, bool durable);

  // A new event; on disk (and fsynced, with its directory entry) when this returns Ok.
  Status put(const SpooledEvent& event) const;
  // New events written together (group commit): every file is written and its writeback started
  // before the first fsync, so that their fsyncs can share one commit of the file system's
  // journal; then each is fsynced and renamed into place, and the directory fsynced once. An
  // event is on disk, with its directory entry, when its status is Ok.
  SpoolPuts put_all(const std::vector<const SpooledEvent*>& events) const;
  // The event's file, written to a temporary name, fsynced and renamed into place: an atomic
  // replacement of a spooled event (its attempts and pending retry), or a new event whose
  // directory entry is durable once sync_directory() returns Ok (new events written together
  // share that fsync).
  Status replace(const SpooledEvent& event) const;
  // fsync of the directory, so that the names replace() created survive a machine crash.
  Status sync_directory() const;
  // The event's outcome is final. Not fsynced: a lost unlink replays the event, never loses it.
  void remove(const std::string& request_id) const;
  // Every complete event, oldest first. Removes temporary files (writes that were never
  // acknowledged) and renames unreadable events to *.corrupt.
  SpoolLoad load() const;

  const std::filesystem::path& dir() const { return dir_; }
  bool durable() const { return durable_; }

 private:
  std::filesystem::path path_of(const std::string& request_id) const;

  std::filesystem::path dir_;
  bool durable_;
};

}  // namespace lambdad::async
