// The store of durable executions (docs/decisions/026): an execution written and read back whole
// (operations, history with its key order, the engine's offsets), in memory and in a file that
// outlives the Store that wrote it; a second write replaces the first; removal.
#include "lambdad/durable/store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace lambdad::durable {
namespace {

StoredRun sample() {
  StoredRun run;
  run.execution = start_execution("arn:x/durable-execution/n/1", "n", "arn:x", "$LATEST", R"({"a":1})", "exec", 1000);
  auto updates = parse_updates(nlohmann::json::parse(
      R"([{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":5}},)"
      R"({"Id":"s","Type":"STEP","Action":"START"},{"Id":"s","Type":"STEP","Action":"SUCCEED","Payload":"7"}])"));
  EXPECT_TRUE(updates);
  EXPECT_TRUE(apply(run.execution, *updates, 2000, [](const Operation&) { return std::string("cb"); }));
  run.offset_ms = 42;
  run.timeout_at_ms = 99000;
  return run;
}

void expect_same(const StoredRun& a, const StoredRun& b) {
  EXPECT_EQ(to_record(a), to_record(b));
  ASSERT_EQ(b.execution.operations.size(), 3u);
  EXPECT_EQ(b.execution.find("s")->result, "7");
  EXPECT_EQ(b.execution.find("w")->scheduled_end_ms, 7000);
  EXPECT_EQ(event_json(b.execution.history[1], true).dump(), event_json(a.execution.history[1], true).dump());
}

TEST(DurableStore, KeepsAnExecutionWholeInMemory) {
  auto store = Store::open({});
  ASSERT_TRUE(store) << store.error().message;
  const auto run = sample();
  ASSERT_TRUE((*store)->save(run));
  ASSERT_TRUE((*store)->save(run));  // replaces
  auto loaded = (*store)->load();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  expect_same(run, loaded->front());
  ASSERT_TRUE((*store)->remove(run.execution.arn));
  EXPECT_TRUE((*store)->load()->empty());
}

// A later save writes what changed: an operation that changed is replaced, a new one and new
// events are added, and what is read back is the execution as it is now.
TEST(DurableStore, ALaterSaveKeepsWhatChanged) {
  auto store = Store::open({});
  ASSERT_TRUE(store);
  auto run = sample();
  ASSERT_TRUE((*store)->save(run));
  auto more = parse_updates(nlohmann::json::parse(R"([{"Id":"w","Type":"WAIT","Action":"CANCEL"},)"
                                                  R"({"Id":"t","Type":"STEP","Action":"START"}])"));
  ASSERT_TRUE(more);
  ASSERT_TRUE(apply(run.execution, *more, 3000, [](const Operation&) { return std::string("cb"); }));
  run.offset_ms = 43;
  ASSERT_TRUE((*store)->save(run));
  auto loaded = (*store)->load();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(to_record(loaded->front()), to_record(run));
  EXPECT_EQ(loaded->front().execution.find("w")->status, OpStatus::kCancelled);
  EXPECT_EQ(loaded->front().execution.operations.size(), 4u);
}

TEST(DurableStore, AFileOutlivesTheStoreThatWroteIt) {
  const auto dir = std::filesystem::temp_directory_path() / ("lambdad-durable-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto run = sample();
  {
    auto store = Store::open(dir / "durable.db");
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->save(run));
  }
  auto again = Store::open(dir / "durable.db");
  ASSERT_TRUE(again);
  auto loaded = (*again)->load();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  expect_same(run, loaded->front());
  EXPECT_EQ(loaded->front().offset_ms, 42);
  EXPECT_EQ(loaded->front().timeout_at_ms, 99000);
  again->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lambdad::durable
