// The RSS sampler's decisions on made-up readings (docs/decisions/013).
#include "memory_watch.hpp"

#include <gtest/gtest.h>

namespace lambdad::process {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

RssSample reading(std::uint64_t rss_mib, std::size_t processes = 1, std::uint64_t hwm_mib = 0,
                  std::uint64_t tasks = 1) {
  RssSample s;
  s.rss_bytes = rss_mib * kMiB;
  s.processes = processes;
  s.hwm_bytes = hwm_mib * kMiB;
  s.tasks = tasks;
  return s;
}

TEST(MemoryWatch, ThePeakIsTheHighestSumOfResidentMemory) {
  MemoryWatch w(128 * kMiB, 0);
  EXPECT_EQ(w.observe(reading(43)), MemoryWatch::Verdict::kWithin);
  EXPECT_EQ(w.observe(reading(70, 3)), MemoryWatch::Verdict::kWithin);
  EXPECT_EQ(w.observe(reading(50, 2)), MemoryWatch::Verdict::kWithin);
  EXPECT_EQ(w.peak(), 70 * kMiB);
}

TEST(MemoryWatch, ALoneProcessesHighWaterMarkCountsItsPeakBetweenReadings) {
  MemoryWatch w(128 * kMiB, 0);
  EXPECT_EQ(w.observe(reading(40, 1, 90)), MemoryWatch::Verdict::kWithin);
  EXPECT_EQ(w.peak(), 90 * kMiB);
  // Over the limit at its high water mark only: it was over between two readings.
  EXPECT_EQ(w.observe(reading(40, 1, 130)), MemoryWatch::Verdict::kOverMemory);
}

TEST(MemoryWatch, HighWaterMarksOfSeveralProcessesAreNotAdded) {
  MemoryWatch w(128 * kMiB, 0);
  // Their peaks need not coincide: only the sum now counts.
  EXPECT_EQ(w.observe(reading(60, 2, 200)), MemoryWatch::Verdict::kWithin);
  EXPECT_EQ(w.peak(), 60 * kMiB);
}

TEST(MemoryWatch, OverTheLimitIsAnOutOfMemoryKill) {
  MemoryWatch w(128 * kMiB, 0);
  EXPECT_EQ(w.observe(reading(128)), MemoryWatch::Verdict::kWithin) << "at the limit is still within";
  EXPECT_EQ(w.observe(reading(129, 2)), MemoryWatch::Verdict::kOverMemory);
  EXPECT_EQ(w.peak(), 129 * kMiB);
}

TEST(MemoryWatch, TasksAreCheckedOnlyWhenAsked) {
  MemoryWatch unchecked(128 * kMiB, 0);
  EXPECT_EQ(unchecked.observe(reading(10, 1, 0, 5000)), MemoryWatch::Verdict::kWithin);
  MemoryWatch checked(128 * kMiB, 1024);
  EXPECT_EQ(checked.observe(reading(10, 1, 0, 1024)), MemoryWatch::Verdict::kWithin);
  EXPECT_EQ(checked.observe(reading(10, 1, 0, 1025)), MemoryWatch::Verdict::kOverTasks);
  EXPECT_EQ(checked.observe(reading(200, 1, 0, 2000)), MemoryWatch::Verdict::kOverMemory) << "memory first";
}

TEST(MemoryWatch, RestartTakesThePeakFromTheUseNow) {
  MemoryWatch w(128 * kMiB, 0);
  w.observe(reading(100, 1, 110));
  w.restart(reading(45));
  EXPECT_EQ(w.peak(), 45 * kMiB);
  w.observe(reading(44));
  EXPECT_EQ(w.peak(), 45 * kMiB);
  w.observe(reading(44, 1, 60));
  EXPECT_EQ(w.peak(), 60 * kMiB);
}

}  // namespace
}  // namespace lambdad::process
