// Durable executions in SQLite (docs/decisions/026).
#include "lambdad/durable/store.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace lambdad::durable {
namespace {

using json = nlohmann::json;

Error store_error(sqlite3* db, const std::string& what) {
  return Error{ErrorKind::kInternal, "", fmt::format("durable store: {}: {}", what, db ? sqlite3_errmsg(db) : "out of memory")};
}

template <class T>
std::optional<T> optional_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

json operation_record(const Operation& op) {
  json j{{"id", op.id},
         {"parent", op.parent_id},
         {"name", op.name},
         {"subType", op.sub_type},
         {"type", static_cast<int>(op.type)},
         {"status", static_cast<int>(op.status)},
         {"start", op.start_ms},
         {"attempt", op.attempt},
         {"replayChildren", op.replay_children},
         {"callbackId", op.callback_id},
         {"callbackTimeout", op.callback_timeout_s},
         {"heartbeatTimeout", op.heartbeat_timeout_s},
         {"chainedFunction", op.chained_function},
         {"chainedTenant", op.chained_tenant}};
  if (op.end_ms) j["end"] = *op.end_ms;
  if (op.input_payload) j["input"] = *op.input_payload;
  if (op.result) j["result"] = *op.result;
  if (op.error) j["error"] = *op.error;
  if (op.next_attempt_ms) j["nextAttempt"] = *op.next_attempt_ms;
  if (op.scheduled_end_ms) j["scheduledEnd"] = *op.scheduled_end_ms;
  if (op.heartbeat_ms) j["heartbeat"] = *op.heartbeat_ms;
  return j;
}

Operation operation_from(const json& j) {
  Operation op;
  op.id = j.at("id").get<std::string>();
  op.parent_id = j.value("parent", "");
  op.name = j.value("name", "");
  op.sub_type = j.value("subType", "");
  op.type = static_cast<OpType>(j.at("type").get<int>());
  op.status = static_cast<OpStatus>(j.at("status").get<int>());
  op.start_ms = j.at("start").get<std::int64_t>();
  op.attempt = j.value("attempt", 0);
  op.replay_children = j.value("replayChildren", false);
  op.callback_id = j.value("callbackId", "");
  op.callback_timeout_s = j.value("callbackTimeout", std::int64_t{0});
  op.heartbeat_timeout_s = j.value("heartbeatTimeout", std::int64_t{0});
  op.chained_function = j.value("chainedFunction", "");
  op.chained_tenant = j.value("chainedTenant", "");
  op.end_ms = optional_field<std::int64_t>(j, "end");
  op.input_payload = optional_field<std::string>(j, "input");
  op.result = optional_field<std::string>(j, "result");
  if (j.contains("error")) op.error = j["error"];
  op.next_attempt_ms = optional_field<std::int64_t>(j, "nextAttempt");
  op.scheduled_end_ms = optional_field<std::int64_t>(j, "scheduledEnd");
  op.heartbeat_ms = optional_field<std::int64_t>(j, "heartbeat");
  return op;
}

json event_record(const HistoryEvent& ev) {
  return json{{"eventId", ev.event_id},
              {"type", ev.type},
              {"subType", ev.sub_type},
              {"id", ev.id},
              {"name", ev.name},
              {"parent", ev.parent_id},
              {"time", ev.time_ms},
              {"details", ev.details.dump()}};  // kept as text: its key order is the wire's
}

// The execution's own fields (its row), without operations and history.
json execution_record(const Execution& e, const RunTimes& run) {
  json j{{"arn", e.arn},
         {"name", e.name},
         {"function", e.function_arn},
         {"version", e.version},
         {"input", e.input},
         {"status", static_cast<int>(e.status)},
         {"start", e.start_ms},
         {"offset", run.offset_ms},
         {"timeoutAt", run.timeout_at_ms},
         {"retainUntil", run.retain_until_ms}};
  if (e.end_ms) j["end"] = *e.end_ms;
  if (e.result) j["result"] = *e.result;
  if (e.error) j["error"] = *e.error;
  return j;
}

}  // namespace

json to_record(const StoredRun& run) {
  json j = execution_record(run.execution, RunTimes{run.offset_ms, run.timeout_at_ms, run.retain_until_ms});
  json ops = json::array();
  for (const auto& op : run.execution.operations) ops.push_back(operation_record(op));
  json history = json::array();
  for (const auto& ev : run.execution.history) history.push_back(event_record(ev));
  j["operations"] = std::move(ops);
  j["history"] = std::move(history);
  return j;
}

Result<StoredRun> from_record(const json& j) {
  try {
    StoredRun run;
    Execution& e = run.execution;
    e.arn = j.at("arn").get<std::string>();
    e.name = j.at("name").get<std::string>();
    e.function_arn = j.at("function").get<std::string>();
    e.version = j.at("version").get<std::string>();
    e.input = j.at("input").get<std::string>();
    e.status = static_cast<ExecutionStatus>(j.at("status").get<int>());
    e.start_ms = j.at("start").get<std::int64_t>();
    e.end_ms = optional_field<std::int64_t>(j, "end");
    e.result = optional_field<std::string>(j, "result");
    if (j.contains("error")) e.error = j["error"];
    for (const auto& o : j.at("operations")) {
      e.index[o.at("id").get<std::string>()] = e.operations.size();
      e.operations.push_back(operation_from(o));
    }
    for (const auto& h : j.at("history")) {
      HistoryEvent ev;
      ev.event_id = h.at("eventId").get<std::int64_t>();
      ev.type = h.at("type").get<std::string>();
      ev.sub_type = h.value("subType", "");
      ev.id = h.value("id", "");
      ev.name = h.value("name", "");
      ev.parent_id = h.value("parent", "");
      ev.time_ms = h.at("time").get<std::int64_t>();
      ev.details = nlohmann::ordered_json::parse(h.at("details").get<std::string>());
      e.history.push_back(std::move(ev));
    }
    run.offset_ms = j.value("offset", std::int64_t{0});
    run.timeout_at_ms = j.value("timeoutAt", std::int64_t{0});
    run.retain_until_ms = j.value("retainUntil", std::int64_t{0});
    return run;
  } catch (const std::exception& ex) {
    return Error{ErrorKind::kInvalidInput, "", std::string("unreadable execution record: ") + ex.what()};
  }
}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  const std::string name = file.empty() ? std::string(":memory:") : file.string();
  if (sqlite3_open_v2(name.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    auto error = store_error(db, "open " + name);
    sqlite3_close(db);
    return error;
  }
  std::unique_ptr<Store> store(new Store(db));
  if (!file.empty()) {
    // WAL: a commit is in the log before it returns; NORMAL: no fsync per commit (a SIGKILL of
    // the daemon loses nothing committed; a power cut may lose the last ones).
    if (auto st = store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !st) return st.error();
  }
  if (auto st = store->exec("CREATE TABLE IF NOT EXISTS executions (arn TEXT PRIMARY KEY, record TEXT NOT NULL);"
                            "CREATE TABLE IF NOT EXISTS operations (arn TEXT, position INTEGER, record TEXT NOT NULL, "
                            "PRIMARY KEY (arn, position));"
                            "CREATE TABLE IF NOT EXISTS events (arn TEXT, event_id INTEGER, record TEXT NOT NULL, "
                            "PRIMARY KEY (arn, event_id));");
      !st) {
    return st.error();
  }
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Status Store::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "error";
    sqlite3_free(message);
    return Error{ErrorKind::kInternal, "", "durable store: " + text};
  }
  return Ok{};
}

namespace {

// One prepared statement, finalized at the end of its scope.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) == SQLITE_OK; }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  explicit operator bool() const { return ok_; }
  // Binds text (SQLITE_STATIC: the caller's string outlives the step).
  Statement& text(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.c_str(), static_cast<int>(v.size()), nullptr);
    return *this;
  }
  Statement& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  // Runs a statement that returns no rows, ready to be bound again.
  bool run() {
    const int rc = sqlite3_step(st_);
    sqlite3_reset(st_);
    return rc == SQLITE_DONE;
  }
  bool row() { return sqlite3_step(st_) == SQLITE_ROW; }
  void reset() { sqlite3_reset(st_); }
  std::string column(int i) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st_, i));
    return std::string(t ? t : "", static_cast<std::size_t>(sqlite3_column_bytes(st_, i)));
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  bool ok_ = false;
};

}  // namespace

Status Store::write(const Execution& e, const RunTimes& times) {
  Saved& saved = saved_[e.arn];
  Statement put(db_, "INSERT OR REPLACE INTO executions (arn, record) VALUES (?1, ?2)");
  Statement put_op(db_, "INSERT OR REPLACE INTO operations (arn, position, record) VALUES (?1, ?2, ?3)");
  Statement put_event(db_, "INSERT OR REPLACE INTO events (arn, event_id, record) VALUES (?1, ?2, ?3)");
  if (!put || !put_op || !put_event) return store_error(db_, "prepare save");
  const std::string record = execution_record(e, times).dump();
  if (!put.text(1, e.arn).text(2, record).run()) return store_error(db_, "save " + e.arn);
  for (std::size_t i = 0; i < e.operations.size(); ++i) {
    if (i < saved.operations.size() && saved.operations[i] == e.operations[i]) continue;
    const std::string op = operation_record(e.operations[i]).dump();
    if (!put_op.text(1, e.arn).integer(2, static_cast<std::int64_t>(i)).text(3, op).run()) {
      return store_error(db_, "save an operation of " + e.arn);
    }
  }
  for (std::size_t i = saved.events; i < e.history.size(); ++i) {
    const std::string ev = event_record(e.history[i]).dump();
    if (!put_event.text(1, e.arn).integer(2, e.history[i].event_id).text(3, ev).run()) {
      return store_error(db_, "save an event of " + e.arn);
    }
  }
  return Ok{};
}

Status Store::save(const StoredRun& run) {
  return save(run.execution, RunTimes{run.offset_ms, run.timeout_at_ms, run.retain_until_ms});
}

Status Store::save(const Execution& e, const RunTimes& times) {
  if (auto st = exec("BEGIN"); !st) return st;
  if (auto st = write(e, times); !st) {
    (void)exec("ROLLBACK");
    saved_.erase(e.arn);  // unknown what the database holds now: all of it next time
    return st;
  }
  if (auto st = exec("COMMIT"); !st) {
    (void)exec("ROLLBACK");
    saved_.erase(e.arn);
    return st;
  }
  // What was written, for the next save to compare with: the operations that differ are copied.
  Saved& saved = saved_[e.arn];
  saved.operations.resize(e.operations.size());
  for (std::size_t i = 0; i < e.operations.size(); ++i) {
    if (!(saved.operations[i] == e.operations[i])) saved.operations[i] = e.operations[i];
  }
  saved.events = e.history.size();
  return Ok{};
}

Result<std::vector<StoredRun>> Store::load(std::vector<std::string>* unreadable) {
  Statement executions(db_, "SELECT arn, record FROM executions");
  Statement operations(db_, "SELECT record FROM operations WHERE arn = ?1 ORDER BY position");
  Statement events(db_, "SELECT record FROM events WHERE arn = ?1 ORDER BY event_id");
  if (!executions || !operations || !events) return store_error(db_, "prepare load");
  std::vector<StoredRun> out;
  while (executions.row()) {
    const std::string arn = executions.column(0);
    json record = json::parse(executions.column(1), nullptr, false);
    bool readable = record.is_object();
    json ops = json::array();
    json history = json::array();
    operations.text(1, arn);
    while (operations.row()) {
      ops.push_back(json::parse(operations.column(0), nullptr, false));
      readable = readable && ops.back().is_object();
    }
    operations.reset();
    events.text(1, arn);
    while (events.row()) {
      history.push_back(json::parse(events.column(0), nullptr, false));
      readable = readable && history.back().is_object();
    }
    events.reset();
    Result<StoredRun> run = Error{};
    if (readable) {
      record["operations"] = std::move(ops);
      record["history"] = std::move(history);
      run = from_record(record);
    }
    if (run) {
      Saved& saved = saved_[arn];
      saved.operations = run->execution.operations;
      saved.events = run->execution.history.size();
      out.push_back(std::move(run).value());
    } else if (unreadable) {
      unreadable->push_back(arn);
    }
  }
  return out;
}

Status Store::remove(const std::string& arn) {
  saved_.erase(arn);
  if (auto st = exec("BEGIN"); !st) return st;
  for (const char* sql : {"DELETE FROM executions WHERE arn = ?1", "DELETE FROM operations WHERE arn = ?1",
                          "DELETE FROM events WHERE arn = ?1"}) {
    Statement del(db_, sql);
    if (!del || !del.text(1, arn).run()) {
      (void)exec("ROLLBACK");
      return store_error(db_, "remove " + arn);
    }
  }
  return exec("COMMIT");
}

}  // namespace lambdad::durable
