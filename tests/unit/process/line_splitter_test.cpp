#include "lambdad/process/line_splitter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace lambdad::process {
namespace {

struct Feeder {
  LineSplitter splitter;
  std::vector<std::string> lines;

  explicit Feeder(std::size_t max_line, std::size_t chunk = 3) : splitter(max_line, chunk) {}

  bool sink(std::string_view l) {
    lines.emplace_back(l);
    return true;
  }
  void feed(std::string_view data) {
    while (!data.empty()) {
      auto space = splitter.prepare();
      ASSERT_FALSE(space.empty());
      const std::size_t n = std::min(space.size(), data.size());
      std::memcpy(space.data(), data.data(), n);
      data.remove_prefix(n);
      ASSERT_TRUE(splitter.commit(n, [this](std::string_view l) { return sink(l); }));
    }
  }
  void finish() {
    ASSERT_TRUE(splitter.finish([this](std::string_view l) { return sink(l); }));
  }
};

using Lines = std::vector<std::string>;

TEST(LineSplitter, CompleteLines) {
  Feeder f(4);
  f.feed("ab\ncd\n");
  EXPECT_EQ(f.lines, (Lines{"ab", "cd"}));
  f.finish();
  EXPECT_EQ(f.lines, (Lines{"ab", "cd"}));
}

TEST(LineSplitter, PartialLineOnlyAtFinish) {
  Feeder f(8);
  f.feed("ab\ncd");
  EXPECT_EQ(f.lines, (Lines{"ab"}));
  f.feed("e");
  EXPECT_EQ(f.lines, (Lines{"ab"}));
  f.finish();
  EXPECT_EQ(f.lines, (Lines{"ab", "cde"}));
}

TEST(LineSplitter, EmptyLinesAndCarriageReturnsKept) {
  Feeder f(8);
  f.feed("\n\na\r\n");
  f.finish();
  EXPECT_EQ(f.lines, (Lines{"", "", "a\r"}));
}

TEST(LineSplitter, LongLinesSplitAtMax) {
  Feeder f(4);
  f.feed("abcdefghij\nxy\n");
  EXPECT_EQ(f.lines, (Lines{"abcd", "efgh", "ij", "xy"}));
}

TEST(LineSplitter, ExactMultipleOfMaxGivesNoEmptyLine) {
  Feeder f(4);
  f.feed("abcdefgh\n");
  f.feed("abcd");
  f.feed("\n");
  f.finish();
  EXPECT_EQ(f.lines, (Lines{"abcd", "efgh", "abcd"}));
}

TEST(LineSplitter, UnterminatedStreamDoesNotGrow) {
  Feeder f(4, 2);
  f.feed(std::string(1000, 'z'));
  EXPECT_EQ(f.lines.size(), 249U);  // the last piece waits to see whether a '\n' follows
  EXPECT_LE(f.splitter.pending_bytes(), 4U);
  f.finish();
  EXPECT_EQ(f.lines.size(), 250U);
  for (const auto& l : f.lines) EXPECT_EQ(l, "zzzz");
}

TEST(LineSplitter, SinkCanStopDelivery) {
  LineSplitter s(8, 8);
  const std::string_view data = "a\nb\nc\n";
  auto space = s.prepare();
  std::memcpy(space.data(), data.data(), data.size());
  int calls = 0;
  EXPECT_FALSE(s.commit(data.size(), [&](std::string_view) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
}

// Any way of cutting the stream into reads gives the same lines as a simple reference split.
TEST(LineSplitter, ChunkingDoesNotMatter) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    const std::size_t max_line = 1 + rng() % 9;
    std::string data;
    const std::size_t len = rng() % 200;
    for (std::size_t i = 0; i < len; ++i)
      data += (rng() % 4 == 0) ? '\n' : static_cast<char>('a' + rng() % 3);

    Lines expected;
    std::size_t start = 0;
    while (start < data.size()) {
      std::size_t nl = data.find('\n', start);
      const bool terminated = nl != std::string::npos;
      if (!terminated) nl = data.size();
      std::string line = data.substr(start, nl - start);
      while (line.size() > max_line) {
        expected.push_back(line.substr(0, max_line));
        line.erase(0, max_line);
      }
      if (terminated || !line.empty()) expected.push_back(line);
      start = nl + 1;
    }

    Feeder f(max_line, 1 + rng() % 5);
    std::size_t pos = 0;
    while (pos < data.size()) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 7, data.size() - pos);
      f.feed(std::string_view(data).substr(pos, n));
      pos += n;
    }
    f.finish();
    ASSERT_EQ(f.lines, expected) << "round " << round << " max " << max_line;
  }
}

}  // namespace
}  // namespace lambdad::process
