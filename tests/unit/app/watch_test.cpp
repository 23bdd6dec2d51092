// FileWatcher against the real inotify in a temporary directory, with time that moves only when
// the test says: what counts as a change, batches (debounce and its upper bound), new
// subdirectories, files replaced by rename, what is never watched, and the watch limit.
#include "watch.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "lambdad_test/manual_time.hpp"

namespace lambdad::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Paths = std::set<fs::path>;

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-watch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = fs::path(tmpl).lexically_normal();
    code_ = dir_ / "code";
    fs::create_directories(code_);
  }
  void TearDown() override {
    watcher_.reset();
    fs::remove_all(dir_);
  }

  void open(FileWatcherOptions options = {}) {
    auto w = FileWatcher::open(io_.get_executor(), time_, time_, std::move(options),
                               [this](const Paths& changed) { batches_.push_back(changed); });
    ASSERT_TRUE(w.ok()) << w.error().message;
    watcher_ = std::move(w).value();
  }

  // inotify queues an event before the syscall that caused it returns: polling the loop reads it.
  void read() {
    for (int i = 0; i < 3; ++i) {
      io_.restart();
      io_.poll();
    }
  }
  // Reads what happened and lets a batch's quiet time pass.
  void settle() {
    read();
    time_.advance(200ms);
  }

  static void write(const fs::path& file, const std::string& text = "x = 1\n") {
    std::ofstream(file, std::ios::app) << text;
  }

  boost::asio::io_context io_;
  test::ManualTime time_;
  fs::path dir_, code_;
  std::unique_ptr<FileWatcher> watcher_;
  std::vector<Paths> batches_;
};

TEST_F(FileWatcherTest, ABurstOfChangesIsOneBatchAfterTheQuietTime) {
  open();
  watcher_->watch({code_}, {});
  write(code_ / "app.py");
  write(code_ / "app.py");
  write(code_ / "lib.py");
  read();
  time_.advance(100ms);
  EXPECT_TRUE(batches_.empty()) << "still within the quiet time";
  time_.advance(100ms);
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0], (Paths{code_ / "app.py", code_ / "lib.py"}));
  settle();
  EXPECT_EQ(batches_.size(), 1u) << "nothing more happened";
}

TEST_F(FileWatcherTest, EachEventRestartsTheQuietTimeUntilTheUpperBound) {
  open();
  watcher_->watch({code_}, {});
  write(code_ / "app.py");
  read();
  time_.advance(100ms);
  write(code_ / "app.py");
  read();
  time_.advance(100ms);
  EXPECT_TRUE(batches_.empty()) << "the second write restarted the quiet time";
  time_.advance(50ms);
  ASSERT_EQ(batches_.size(), 1u);

  // Written to without a pause: the batch still ends max_delay after its first event.
  for (int i = 0; i < 9; ++i) {
    write(code_ / "busy.log");
    read();
    time_.advance(100ms);
  }
  EXPECT_EQ(batches_.size(), 1u);
  write(code_ / "busy.log");
  read();
  time_.advance(100ms);
  EXPECT_EQ(batches_.size(), 2u);
}

TEST_F(FileWatcherTest, NewSubdirectoriesAreWatchedAndMovedOnesFollowed) {
  open();
  watcher_->watch({code_}, {});
  fs::create_directories(code_ / "pkg" / "sub");
  settle();
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_TRUE(batches_[0].count(code_ / "pkg"));
  write(code_ / "pkg" / "sub" / "mod.py");
  settle();
  ASSERT_EQ(batches_.size(), 2u) << "the new directory's own subdirectory is watched too";
  EXPECT_EQ(batches_[1], Paths{code_ / "pkg" / "sub" / "mod.py"});

  fs::rename(code_ / "pkg", code_ / "renamed");
  settle();
  write(code_ / "renamed" / "sub" / "mod.py");
  settle();
  ASSERT_EQ(batches_.size(), 4u);
  EXPECT_EQ(batches_[3], Paths{code_ / "renamed" / "sub" / "mod.py"}) << "reported under its new name";

  fs::rename(code_ / "renamed", dir_ / "outside");
  settle();
  write(dir_ / "outside" / "sub" / "mod.py");
  settle();
  EXPECT_EQ(batches_.size(), 5u) << "a directory moved out of the tree is no longer watched";
}

TEST_F(FileWatcherTest, AWatchedFileIsSeenWhenReplacedByRenameAndItsNeighboursAreNot) {
  const fs::path tmpl = dir_ / "template.yaml";
  write(tmpl, "Resources: {}\n");
  open();
  watcher_->watch({code_}, {tmpl});
  write(dir_ / "notes.txt");
  settle();
  EXPECT_TRUE(batches_.empty()) << "only the file itself counts in its directory";

  write(dir_ / "template.yaml.new", "Resources: {A: 1}\n");
  fs::rename(dir_ / "template.yaml.new", tmpl);
  settle();
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0], Paths{tmpl});
  write(tmpl);
  settle();
  EXPECT_EQ(batches_.size(), 2u) << "still watched after the rename";
}

TEST_F(FileWatcherTest, EditorTemporariesCachesAndExcludedDirectoriesAreNotChanges) {
  FileWatcherOptions options;
  options.excluded = {code_ / "state"};
  fs::create_directories(code_ / "state" / "events");
  open(options);
  watcher_->watch({code_}, {});
  fs::create_directories(code_ / "__pycache__");
  write(code_ / "__pycache__" / "app.cpython-311.pyc");
  write(code_ / ".app.py.swp");
  write(code_ / "app.py~");
  write(code_ / "4913");
  write(code_ / "state" / "events" / "e.json");
  settle();
  EXPECT_TRUE(batches_.empty());
  write(code_ / "app.py");
  settle();
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0], Paths{code_ / "app.py"});
}

TEST_F(FileWatcherTest, ATreeRemovedAndMadeAgainIsWatchedAgain) {
  write(code_ / "app.py");
  open();
  watcher_->watch({code_ / ""}, {});  // a CodeUri's trailing separator is not part of the name
  fs::remove_all(code_);
  settle();
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_TRUE(batches_[0].count(code_)) << "the tree itself went";
  fs::create_directories(code_ / "pkg");
  settle();
  ASSERT_EQ(batches_.size(), 2u);
  EXPECT_EQ(batches_[1], Paths{code_});
  write(code_ / "pkg" / "app.py");
  settle();
  ASSERT_EQ(batches_.size(), 3u);
  EXPECT_EQ(batches_[2], Paths{code_ / "pkg" / "app.py"});
  write(dir_ / "sibling.txt");
  settle();
  EXPECT_EQ(batches_.size(), 3u) << "the parent is watched only for the tree";
}

TEST_F(FileWatcherTest, WatchesAtMostTheLimitShallowDirectoriesFirst) {
  for (const char* d : {"a/deep/deeper", "b", "c"}) fs::create_directories(code_ / d);
  FileWatcherOptions options;
  options.max_directories = 5;  // the tree's parent, code, a, b and c; not a/deep
  open(options);
  watcher_->watch({code_}, {});
  EXPECT_EQ(watcher_->watched_directories(), 5u);
  write(code_ / "c" / "x.py");
  settle();
  EXPECT_EQ(batches_.size(), 1u) << "a shallow directory is among those watched";
  write(code_ / "a" / "deep" / "deeper" / "x.py");
  settle();
  EXPECT_EQ(batches_.size(), 1u) << "beyond the limit";
}

TEST_F(FileWatcherTest, WatchingAnotherSetDropsTheOldOne) {
  const fs::path other = dir_ / "other";
  fs::create_directories(other / "sub");
  open();
  watcher_->watch({code_}, {});
  watcher_->watch({other}, {});
  EXPECT_EQ(watcher_->watched_directories(), 3u) << "other, other/sub and its parent";
  write(code_ / "app.py");
  settle();
  EXPECT_TRUE(batches_.empty());
  write(other / "sub" / "app.py");
  settle();
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0], Paths{other / "sub" / "app.py"});
}

}  // namespace
}  // namespace lambdad::app
