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

// The function log carries three lines per invoke; written one by one they were a write(2) each
// on the hot path. This sink gathers what the daemon logs while handling one batch of events and
// writes it with one write(2) when the scheduled flush runs (posted to the event loop, so it
// comes right after the current handlers), or at once when no scheduler is set or the buffer is
// large. Only the io thread logs to it.
class CoalescingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void set_scheduler(FlushScheduler scheduler) {
    std::lock_guard lock(mutex_);
    scheduler_ = std::move(scheduler);
    write_out();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (!scheduler_ || buffer_.size() >= kMaxBuffered) {
      write_out();
    } else if (!scheduled_) {
      scheduled_ = true;
      scheduler_([this] { flush(); });
    }
  }
  void flush_() override { write_out(); }

 private:
  static constexpr std::size_t kMaxBuffered = 64 * 1024;

  void write_out() {
    scheduled_ = false;
    std::size_t off = 0;
    while (off < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + off, buffer_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: drop, never block the daemon on it
      off += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  std::string buffer_;
  FlushScheduler scheduler_;
  bool scheduled_ = false;
};

std::shared_ptr<CoalescingStderrSink>& function_sink() {
  static auto sink = std::make_shared<CoalescingStderrSink>();
  return sink;
}

std::shared_ptr<spdlog::logger> make(const std::string& name, const std::string& pattern) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
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
  d->flush_on(spdlog::level::trace);
  // The function log's sink decides when to write (see CoalescingStderrSink).
  f->flush_on(spdlog::level::off);
}

void set_log_flush_scheduler(FlushScheduler scheduler) { function_sink()->set_scheduler(std::move(scheduler)); }

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
