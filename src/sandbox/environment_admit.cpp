// ExecutionEnvironment::admit: only the environment's own processes may use its Runtime API
// (docs/decisions/012), checked from the kernel's socket tables.
#include <spdlog/spdlog.h>

#include <atomic>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/process/socket_owner.hpp"
#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {

void ExecutionEnvironment::admit(const TcpPeer& client, std::function<void(bool)> decide) {
  const auto refuse = [this, client](std::string_view why) {
    observability::daemon_log()->warn("{}environment {}: refused a Runtime API connection from {}:{}: {}", log_prefix_,
                                      serial_, client.peer_address, client.peer_port, why);
    return false;
  };
  // Extensions still have their shutdown budget when the runtime is gone.
  if (!process_ || (process_->exited() && !shutting_down_)) {
    return decide(refuse("the environment has no running process"));
  }
  const pid_t pid = process_->pid();
  // In place: one sock_diag query and the main process's descriptors. Both are answered by the
  // kernel from memory, never from a disk, and the runtime's own process is the client of nearly
  // every connection (every cold start's), so most connections are settled without a hop.
  auto inode = process::peer_socket_inode_by_diag(client);
  if (inode && process::holds_socket(pid, *inode)) return decide(true);
  if (!inode && inode.error().kind == ErrorKind::kNotFound) return decide(refuse("the client's socket is gone"));
  // The rest reads more (the whole /proc/net/tcp where sock_diag is unavailable, the descriptors
  // of every other process of the environment), on the blocking pool, on copies of what it needs.
  auto look = [client, pid, known = inode ? std::optional<ino_t>(*inode) : std::nullopt,
               procs_files = group_ ? group_->join_files() : std::vector<std::string>{}]() -> Result<bool> {
    auto found = known ? Result<ino_t>(*known) : process::peer_socket_inode(client);
    if (!found) return found.error();
    return process::environment_holds_socket(pid, procs_files, *found);
  };
  auto verdict = [refuse, decide = std::move(decide)](Result<bool> held) {
    if (!held) {
      if (held.error().kind != ErrorKind::kInternal) return decide(refuse("the client's socket is gone"));
      // The host hides its socket tables: every connection is admitted, and the log says so once.
      static std::atomic<bool> warned{false};
      if (!warned.exchange(true)) {
        observability::daemon_log()->warn("cannot tell which process connects to a Runtime API ({}); connections are "
                                          "not checked", held.error().message);
      }
      return decide(true);
    }
    if (*held) return decide(true);
    decide(refuse("it is not a process of this environment (one environment cannot act for another)"));
  };
  if (blocking_) {
    blocking_->run(lifetime_.token(), std::move(look), std::move(verdict));
  } else {
    verdict(look());
  }
}

}  // namespace lambdad::sandbox
