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

}  // namespace

json to_record(const StoredRun& run) {
  const Execution& e = run.execution;
  json ops = json::array();
  for (const auto& op : e.operations) ops.push_back(operation_record(op));
  json history = json::array();
  for (const auto& ev : e.history) {
    history.push_back(json{{"eventId", ev.event_id},
                           {"type", ev.type},
                           {"subType", ev.sub_type},
                           {"id", ev.id},
                           {"name", ev.name},
                           {"parent", ev.parent_id},
                           {"time", ev.time_ms},
                           {"details", ev.details.dump()}});  // kept as text: its key order is the wire's
  }
  json j{{"arn", e.arn},
         {"name", e.name},
         {"function", e.function_arn},
         {"version", e.version},
         {"input", e.input},
         {"status", static_cast<int>(e.status)},
         {"start", e.start_ms},
         {"operations", std::move(ops)},
         {"history", std::move(history)},
         {"offset", run.offset_ms},
         {"timeoutAt", run.timeout_at_ms},
         {"retainUntil", run.retain_until_ms}};
  if (e.end_ms) j["end"] = *e.end_ms;
  if (e.result) j["result"] = *e.result;
  if (e.error) j["error"] = *e.error;
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
  if (auto st = store->exec("CREATE TABLE IF NOT EXISTS executions (arn TEXT PRIMARY KEY, record TEXT NOT NULL)"); !st) {
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

Status Store::save(const StoredRun& run) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO executions (arn, record) VALUES (?1, ?2)", -1, &st, nullptr) !=
      SQLITE_OK) {
    return store_error(db_, "prepare save");
  }
  const std::string record = to_record(run).dump();
  sqlite3_bind_text(st, 1, run.execution.arn.c_str(), static_cast<int>(run.execution.arn.size()), nullptr);  // SQLITE_STATIC: the text outlives the step
  sqlite3_bind_text(st, 2, record.c_str(), static_cast<int>(record.size()), nullptr);  // SQLITE_STATIC: the text outlives the step
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return store_error(db_, "save " + run.execution.arn);
  return Ok{};
}

Result<std::vector<StoredRun>> Store::load(std::vector<std::string>* unreadable) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT arn, record FROM executions", -1, &st, nullptr) != SQLITE_OK) {
    return store_error(db_, "prepare load");
  }
  std::vector<StoredRun> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto* arn = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    const int size = sqlite3_column_bytes(st, 1);
    auto parsed = json::parse(std::string(text ? text : "", static_cast<std::size_t>(size)), nullptr, false);
    auto run = parsed.is_discarded() ? Result<StoredRun>(Error{}) : from_record(parsed);
    if (run) {
      out.push_back(std::move(run).value());
    } else if (unreadable) {
      unreadable->push_back(arn ? arn : "");
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return store_error(db_, "load");
  return out;
}

Status Store::remove(const std::string& arn) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM executions WHERE arn = ?1", -1, &st, nullptr) != SQLITE_OK) {
    return store_error(db_, "prepare remove");
  }
  sqlite3_bind_text(st, 1, arn.c_str(), static_cast<int>(arn.size()), nullptr);  // SQLITE_STATIC: the text outlives the step
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return store_error(db_, "remove " + arn);
  return Ok{};
}

}  // namespace lambdad::durable
