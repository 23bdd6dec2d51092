#include "lambdad/observability/logging.hpp"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace lambdad::observability {
namespace {

// The function log carries three lines per invoke and the daemon log one (the Invoke API's
// exchange); written one by one they were a write(2) each on the hot path. These sinks gather what
// the daemon logs while handling one batch of events into one buffer, in the order it was logged,
// and write it with one write(2) when the scheduled flush runs (posted to the domain, so it comes
// right after the current handlers), or at once when no scheduler is set or the buffer is large.
// Each logger has a sink of its own (its own pattern); the buffer is theirs together.
struct Coalesced {
  std::mutex mu;
  std::string buffer;  // guarded by mu, as are the two below
  FlushScheduler scheduler;
  bool scheduled = false;

  static constexpr std::size_t kMaxBuffered = 64 * 1024;

  void write_out() {  // mu held
    scheduled = false;
    std::size_t off = 0;
    while (off < buffer.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer.data() + off, buffer.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: drop, never block the daemon on it
      off += static_cast<std::size_t>(n);
    }
    buffer.clear();
  }
};

Coalesced& coalesced() {
  static Coalesced c;
  return c;
}

class CoalescingStderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    auto& c = coalesced();
    std::lock_guard lock(c.mu);
    c.buffer.append(formatted.data(), formatted.size());
    if (!c.scheduler || c.buffer.size() >= Coalesced::kMaxBuffered) {
      c.write_out();
    } else if (!c.scheduled) {
      c.scheduled = true;
      c.scheduler([] {
        auto& cc = coalesced();
        std::lock_guard l(cc.mu);
        cc.write_out();
      });
    }
  }
  void flush_() override {
    auto& c = coalesced();
    std::lock_guard lock(c.mu);
    c.write_out();
  }
};

std::shared_ptr<CoalescingStderrSink>& function_sink() {
  static auto sink = std::make_shared<CoalescingStderrSink>();
  return sink;
}

// The daemon log: coloured on a terminal (written at once); otherwise through the coalescing
// buffer with the function log, in one order.
std::shared_ptr<spdlog::logger> make(const std::string& name, const std::string& pattern) {
  if (auto existing = spdlog::get(name)) return existing;
  std::shared_ptr<spdlog::logger> logger;
  if (::isatty(STDERR_FILENO)) {
    logger = spdlog::stderr_color_mt(name);
  } else {
    logger = std::make_shared<spdlog::logger>(name, std::make_shared<CoalescingStderrSink>());
    spdlog::register_logger(logger);
  }
  logger->set_pattern(pattern, spdlog::pattern_time_type::utc);
  return logger;
}

}  // namespace

void init_logging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  auto d = make("lambdad", "%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v");
  auto f = spdlog::get("function");
  if (!f) {
    f = std::make_shared<spdlog::logger>("function", function_sink());
    f->set_pattern("%v", spdlog::pattern_time_type::utc);
    spdlog::register_logger(f);
  }
  d->set_level(level);
  f->set_level(level == spdlog::level::off ? level : spdlog::level::info);
  // The coalescing sinks decide when to write (see Coalesced); a terminal's at once.
  d->flush_on(::isatty(STDERR_FILENO) ? spdlog::level::trace : spdlog::level::off);
  f->flush_on(spdlog::level::off);
}

void set_log_flush_scheduler(FlushScheduler scheduler) {
  auto& c = coalesced();
  std::lock_guard lock(c.mu);
  c.scheduler = std::move(scheduler);
  c.write_out();
}

void flush_logs() {
  if (auto f = spdlog::get("function")) f->flush();
  if (auto d = spdlog::get("lambdad")) d->flush();
}

namespace {

std::shared_ptr<spdlog::logger> named(const char* name) {
  auto l = spdlog::get(name);
  if (!l) {
    init_logging({});
    l = spdlog::get(name);
  }
  return l;
}

}  // namespace

std::shared_ptr<spdlog::logger> daemon_log() { return named("lambdad"); }

std::shared_ptr<spdlog::logger> function_log() { return named("function"); }

}  // namespace lambdad::observability
