// durable: where executions are kept (docs/decisions/026). An SQLite database: with
// --state-dir, <state-dir>/durable.db (WAL journal: a committed execution survives a SIGKILL of
// the daemon); without, an in-memory database, so one code path serves both. An execution is a
// row of its own fields, a row per operation and a row per history event, each a JSON text; a
// save writes what changed since the last (the operations that differ, the new events) in one
// transaction: a checkpoint is all or nothing on disk as it is in memory, and costs what it
// changed, not the execution's size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/result.hpp"
#include "lambdad/durable/checkpoint.hpp"

struct sqlite3;

namespace lambdad::durable {

// What the engine keeps of an execution besides its record.
struct StoredRun {
  Execution execution;
  std::int64_t offset_ms = 0;      // its own time's offset from the clock
  std::int64_t timeout_at_ms = 0;  // 0: none
  std::int64_t retain_until_ms = 0;  // once ended: when it may be deleted (RetentionPeriodInDays)
};

// What the engine keeps of an execution besides its record, as save() takes it.
struct RunTimes {
  std::int64_t offset_ms = 0;
  std::int64_t timeout_at_ms = 0;
  std::int64_t retain_until_ms = 0;
};

// The execution as JSON and back (all of it, for the store).
nlohmann::json to_record(const StoredRun& run);
Result<StoredRun> from_record(const nlohmann::json& record);

class Store {
 public:
  // `file` empty: in memory. Errors: the database cannot be opened or its table made.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The execution's fields, and its operations and events this store has not written yet (all
  // of them the first time).
  Status save(const StoredRun& run);
  Status save(const Execution& execution, const RunTimes& times);
  // Every stored execution; one whose record cannot be read is skipped and named in `unreadable`.
  Result<std::vector<StoredRun>> load(std::vector<std::string>* unreadable = nullptr);
  Status remove(const std::string& arn);

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  Status write(const Execution& execution, const RunTimes& times);
  struct Saved {  // what the database holds of an execution
    std::vector<Operation> operations;
    std::size_t events = 0;
  };
  sqlite3* db_;
  std::map<std::string, Saved> saved_;
};

}  // namespace lambdad::durable
