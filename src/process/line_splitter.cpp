#include "lambdad/process/line_splitter.hpp"

namespace lambdad::process {

LineSplitter::LineSplitter(std::size_t max_line, std::size_t read_chunk)
    : max_line_(max_line == 0 ? 1 : max_line),
      capacity_(max_line_ + (read_chunk == 0 ? 1 : read_chunk)),
      buf_(std::make_unique_for_overwrite<char[]>(capacity_)) {}

// Moves the unfinished line to the front so the next read has at least read_chunk bytes of
// room. It is at most max_line bytes, and only moved once per read.
void LineSplitter::compact() {
  if (begin_ == 0) return;
  const std::size_t pending = end_ - begin_;
  if (pending > 0) std::memmove(buf_.get(), buf_.get() + begin_, pending);
  begin_ = 0;
  end_ = scan_ = pending;
}

}  // namespace lambdad::process
