// process: splits a byte stream (a child's merged stdout+stderr) into lines without copying them.
//
// The owner reads straight into prepare()'s space and calls commit(); every complete line is
// handed to the sink as a string_view into the buffer (valid only during the call), without the
// '\n' ('\r' is kept). A line longer than max_line bytes is cut into max_line pieces, so a
// child that never writes a newline cannot make the buffer grow: memory is fixed at
// max_line + read_chunk bytes.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace lambdad::process {

class LineSplitter {
 public:
  static constexpr std::size_t kMaxLineBytes = 256 * 1024;
  static constexpr std::size_t kReadChunkBytes = 64 * 1024;

  explicit LineSplitter(std::size_t max_line = kMaxLineBytes,
                        std::size_t read_chunk = kReadChunkBytes);

  // Space to read into; never empty (at least read_chunk bytes).
  std::span<char> prepare() { return {buf_.get() + end_, capacity_ - end_}; }

  // Takes n bytes written at the start of prepare()'s span and passes every complete line to
  // `sink` (a callable taking std::string_view and returning bool). Returns false, leaving the
  // splitter unusable, as soon as the sink returns false (its owner is going away).
  template <typename Sink>
  bool commit(std::size_t n, Sink&& sink);

  // End of stream, or of a batch (ChildProcess::sync_output()): passes the unterminated rest,
  // if any, as a line. The splitter stays usable.
  template <typename Sink>
  bool finish(Sink&& sink);

  std::size_t pending_bytes() const { return end_ - begin_; }

 private:
  // Emits [begin_, begin_ + len) in max_line_ pieces while it is longer than max_line_; the
  // remainder too when `terminated`. Advances begin_.
  template <typename Sink>
  bool emit(std::size_t len, bool terminated, Sink& sink);
  void compact();

  std::size_t max_line_;
  std::size_t capacity_;
  std::unique_ptr<char[]> buf_;
  std::size_t begin_ = 0;  // first byte of the current (unfinished) line
  std::size_t scan_ = 0;   // bytes before this are known to hold no '\n' after begin_
  std::size_t end_ = 0;    // end of received data
};

template <typename Sink>
bool LineSplitter::emit(std::size_t len, bool terminated, Sink& sink) {
  while (len > max_line_) {
    if (!sink(std::string_view(buf_.get() + begin_, max_line_))) return false;
    begin_ += max_line_;
    len -= max_line_;
  }
  if (terminated) {
    if (!sink(std::string_view(buf_.get() + begin_, len))) return false;
    begin_ += len + 1;  // and the '\n'
  }
  return true;
}

template <typename Sink>
bool LineSplitter::commit(std::size_t n, Sink&& sink) {
  end_ += n;
  while (scan_ < end_) {
    const void* nl = std::memchr(buf_.get() + scan_, '\n', end_ - scan_);
    if (nl == nullptr) break;
    const auto pos = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get());
    if (!emit(pos - begin_, true, sink)) return false;
    scan_ = begin_;
  }
  if (!emit(end_ - begin_, false, sink)) return false;
  compact();
  return true;
}

template <typename Sink>
bool LineSplitter::finish(Sink&& sink) {
  if (end_ > begin_ && !sink(std::string_view(buf_.get() + begin_, end_ - begin_))) return false;
  begin_ = scan_ = end_ = 0;
  return true;
}

}  // namespace lambdad::process
