// durable: where executions are kept (docs/decisions/026). An SQLite database: with
// --state-dir, <state-dir>/durable.db (WAL journal: a committed execution survives a SIGKILL of
// the daemon); without, an in-memory database, so one code path serves both. Each execution is
// one row, its whole record (operations and history) as JSON, written in one statement: a
// checkpoint is all or nothing on disk as it is in memory.
#pragma once

#include <cstdint>
#include <filesystem>
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

  Status save(const StoredRun& run);
  // Every stored execution; one whose record cannot be read is skipped and named in `unreadable`.
  Result<std::vector<StoredRun>> load(std::vector<std::string>* unreadable = nullptr);
  Status remove(const std::string& arn);

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  sqlite3* db_;
};

}  // namespace lambdad::durable
