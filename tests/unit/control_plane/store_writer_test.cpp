// StoreWriter: function.json writes and removals on the BlockingPool, one batch at a time; what is
// handed over while a batch runs is the next batch, coalesced per function, so a function's
// writes land in order and a removal is never undone by an earlier save; what waits for a
// removal runs after it; flush() leaves nothing unwritten; a failed write is logged.
#include "lambdad/control_plane/store_writer.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "lambdad/observability/logging.hpp"
#include "lambdad_test/blocking_work.hpp"

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;

class StoreWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-writer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    writer_ = std::make_unique<StoreWriter>(blocking_, FunctionStore(dir(), false));
  }
  void TearDown() override {
    writer_.reset();
    fs::remove_all(root_);
  }

  fs::path dir() const { return root_ / "functions"; }
  std::string record(const std::string& name) const {
    std::ifstream in(dir() / name / "function.json");
    if (!in) return "<none>";
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The writer, with the pool's one thread held until the gate opens (and the gate job started).
  StoreWriter& gated_writer() {
    blocking_.run(gate_.job());
    gate_.wait_started();
    return *writer_;
  }
  void settle() { lambdad::test::settle(blocking_, io_); }

  fs::path root_;
  boost::asio::io_context io_;
  BlockingPool blocking_{io_, {.threads = 1, .capacity = 64}};
  lambdad::test::Gate gate_;
  std::unique_ptr<StoreWriter> writer_;
};

TEST_F(StoreWriterTest, ASaveIsWrittenOnThePool) {
  gated_writer().save("F", "one");
  io_.poll();
  EXPECT_EQ(record("F"), "<none>") << "the write waits for the pool";
  EXPECT_FALSE(writer_->idle());
  gate_.open();
  settle();
  EXPECT_EQ(record("F"), "one");
  EXPECT_TRUE(writer_->idle());
}

TEST_F(StoreWriterTest, WhenWrittenWaitsForEverythingHandedOverSoFar) {
  std::vector<std::string> seen;  // what was on disk when each waiter ran
  writer_->when_written([&] { seen.push_back("idle:" + record("F")); });
  EXPECT_EQ(seen, std::vector<std::string>{"idle:<none>"}) << "nothing to wait for: at once";
  auto& writer = gated_writer();
  writer.save("F", "one");  // the batch on the pool
  // The next batch may already be writing "two" when this runs: either is on disk, never nothing.
  writer.when_written([&] { seen.push_back(record("F") == "<none>" ? "first:<none>" : "first:written"); });
  writer.save("F", "two");  // waits for that batch
  writer.when_written([&] { seen.push_back("second:" + record("F")); });
  io_.poll();
  EXPECT_EQ(seen.size(), 1u) << "neither write has landed";
  gate_.open();
  settle();
  EXPECT_EQ(seen, (std::vector<std::string>{"idle:<none>", "first:written", "second:two"}));
}

TEST_F(StoreWriterTest, SavesThenARemovalOfOneFunctionLeaveNothing) {
  auto& writer = gated_writer();
  writer.save("F", "one");  // the batch on the pool
  writer.save("F", "two");  // these wait for it
  writer.remove("F");
  gate_.open();
  settle();
  EXPECT_FALSE(fs::exists(dir() / "F"));
  EXPECT_EQ(writer.batches(), 2U);
  EXPECT_EQ(writer.written(), 1U) << "the save the removal came after is dropped";
}

TEST_F(StoreWriterTest, ASaveAfterARemovalIsTheRecord) {
  auto& writer = gated_writer();
  writer.save("F", "old");
  writer.remove("F");
  writer.save("F", "new");
  gate_.open();
  settle();
  EXPECT_EQ(record("F"), "new");
  EXPECT_TRUE(fs::exists(dir() / ".trash")) << "the old directory went to the trash";
}

TEST_F(StoreWriterTest, WhatWaitsIsCoalescedPerFunctionAndFunctionsShareABatch) {
  auto& writer = gated_writer();
  writer.save("F", "1");
  writer.save("F", "2");
  writer.save("F", "3");
  writer.save("G", "g");
  gate_.open();
  settle();
  EXPECT_EQ(record("F"), "3");
  EXPECT_EQ(record("G"), "g");
  EXPECT_EQ(writer.batches(), 2U);
  EXPECT_EQ(writer.written(), 3U) << "F's 1, then F's newest text with G's";
}

TEST_F(StoreWriterTest, WhatWaitsForARemovalRunsOnceItIsDone) {
  auto& writer = gated_writer();
  bool ran_now = false;
  writer.after_removal("F", [&] { ran_now = true; });
  EXPECT_TRUE(ran_now) << "no removal of F: at once";

  writer.save("F", "one");
  writer.remove("F");
  EXPECT_TRUE(writer.removing("F"));
  EXPECT_FALSE(writer.removing("G"));
  std::optional<bool> gone_when_run;
  writer.after_removal("F", [&] { gone_when_run = !fs::exists(dir() / "F"); });
  io_.poll();
  EXPECT_FALSE(gone_when_run.has_value());
  gate_.open();
  settle();
  ASSERT_TRUE(gone_when_run.has_value());
  EXPECT_TRUE(*gone_when_run);
  EXPECT_FALSE(writer.removing("F"));
}

TEST_F(StoreWriterTest, FlushWaitsForTheBatchAndWritesWhatWaitsWithoutTheLoop) {
  auto& writer = gated_writer();
  writer.save("F", "f");  // on the pool
  writer.save("G", "g");  // waiting
  gate_.open();
  writer.flush();  // the loop does not run: nothing would start the next batch
  EXPECT_EQ(record("F"), "f");
  EXPECT_EQ(record("G"), "g");
  writer.save("H", "h");
  EXPECT_EQ(record("H"), "h") << "after the flush, at once";
  writer.remove("H");
  EXPECT_FALSE(fs::exists(dir() / "H"));
}

TEST_F(StoreWriterTest, TheWriterGoingAwayFlushes) {
  gated_writer().save("F", "f");
  writer_->save("G", "g");
  gate_.open();
  writer_.reset();
  EXPECT_EQ(record("F"), "f");
  EXPECT_EQ(record("G"), "g");
}

TEST_F(StoreWriterTest, AFailedWriteIsLogged) {
  std::ostringstream logged;
  auto log = observability::daemon_log();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logged);
  log->sinks().push_back(sink);
  fs::create_directories(dir());
  std::ofstream(dir() / "F") << "a file where the function's directory would be";
  writer_->save("F", "f");
  settle();
  auto& sinks = log->sinks();
  sinks.erase(std::find(sinks.begin(), sinks.end(), sink));
  EXPECT_NE(logged.str().find("[F] cannot store the function: cannot write"), std::string::npos) << logged.str();
}

}  // namespace
}  // namespace lambdad::control_plane
