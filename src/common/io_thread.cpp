#include "lambdad/common/io_thread.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace lambdad::io_thread {
namespace {

std::atomic<std::thread::id> owner{};
std::function<bool()> domain;  // set and cleared while no other thread runs the loop

}  // namespace

void set_domain(std::function<bool()> running_in_domain) { domain = std::move(running_in_domain); }

void claim(const char* where) {
  if (domain) {
    if (domain()) return;
    std::fprintf(stderr, "lambdad: %s was called outside the daemon's domain strand (docs/decisions/021)\n", where);
    std::abort();
  }
  const auto self = std::this_thread::get_id();
  auto current = owner.load(std::memory_order_acquire);
  if (current == self) return;
  if (current == std::thread::id{} && owner.compare_exchange_strong(current, self, std::memory_order_acq_rel)) {
    return;
  }
  if (current == self) return;
  std::fprintf(stderr, "lambdad: %s was called on a thread that is not the io thread (docs/decisions/001)\n", where);
  std::abort();
}

bool is_current() {
  if (domain) return domain();
  return owner.load(std::memory_order_acquire) == std::this_thread::get_id(); }

}  // namespace lambdad::io_thread
