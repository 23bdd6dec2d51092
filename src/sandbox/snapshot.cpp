#include "lambdad/sandbox/snapshot.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "lambdad/common/error_types.hpp"
#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {
namespace {

namespace asio = boost::asio;
using process::UniqueFd;

// A message is a small JSON object; descriptors ride along as SCM_RIGHTS.
constexpr std::size_t kMaxMessage = 64 * 1024;
constexpr std::size_t kMaxFds = 16;

Error snapshot_error(std::string message) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), std::move(message)};
}

std::string errno_message(int err) { return std::system_category().message(err); }

sockaddr_un abstract_address(const std::string& name, socklen_t& len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  addr.sun_path[0] = '\0';
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return addr;
}

}  // namespace

struct Snapshot::Impl {
  explicit Impl(const Executor& executor) : listener(executor), connection(executor) {}
  asio::posix::stream_descriptor listener;
  asio::posix::stream_descriptor connection;
};

Result<std::unique_ptr<Snapshot>> Snapshot::open(const Executor& executor, std::function<void()> on_ready,
                                                 std::function<void(const std::string&)> on_lost) {
  static std::atomic<unsigned> serial{0};
  const std::string name = fmt::format("lambdad-{}-snapshot-{}", ::getpid(), serial.fetch_add(1));
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return snapshot_error("snapshot socket: " + errno_message(errno));
  socklen_t len = 0;
  auto addr = abstract_address(name, len);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0 || ::listen(fd.get(), 4) != 0) {
    return snapshot_error("snapshot socket @" + name + ": " + errno_message(errno));
  }
  std::unique_ptr<Snapshot> snap(new Snapshot(executor, std::move(fd), name));
  snap->on_ready_ = std::move(on_ready);
  snap->on_lost_ = std::move(on_lost);
  snap->accept_next();
  return snap;
}

Snapshot::Snapshot(const Executor& executor, UniqueFd listener, std::string name)
    : impl_(std::make_unique<Impl>(executor)), name_(std::move(name)) {
  impl_->listener.assign(listener.release());
}

Snapshot::~Snapshot() {
  lifetime_.end();
  boost::system::error_code ignored;
  impl_->listener.close(ignored);
  impl_->connection.close(ignored);  // the snapshot's runtime sees end of file and exits
  env_.reset();
}

void Snapshot::keep(std::unique_ptr<ExecutionEnvironment> env) { env_ = std::move(env); }


void Snapshot::accept_next() {
  impl_->listener.async_wait(asio::posix::stream_descriptor::wait_read,
                             lifetime_.guard([this](const boost::system::error_code& ec) {
                               if (ec) return;
                               UniqueFd conn(::accept4(impl_->listener.native_handle(), nullptr, nullptr,
                                                       SOCK_NONBLOCK | SOCK_CLOEXEC));
                               if (!conn.valid()) return accept_next();
                               ucred cred{};
                               socklen_t len = sizeof cred;
                               // Only the runtime being snapshot: any other local process is turned away.
                               if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
                                   expected_pid_ == 0 || cred.pid != expected_pid_ || impl_->connection.is_open()) {
                                 return accept_next();
                               }
                               impl_->connection.assign(conn.release());
                               boost::system::error_code ignored;
                               impl_->listener.close(ignored);  // one peer, ever
                               read_next();
                             }));
}

void Snapshot::read_next() {
  impl_->connection.async_wait(asio::posix::stream_descriptor::wait_read,
                               lifetime_.guard([this](const boost::system::error_code& ec) {
                                 if (ec) return lose("the snapshot's connection failed: " + ec.message());
                                 std::string buf(kMaxMessage, '\0');
                                 const ssize_t n = ::recv(impl_->connection.native_handle(), buf.data(), buf.size(), 0);
                                 if (n < 0 && (errno == EAGAIN || errno == EINTR)) return read_next();
                                 if (n <= 0) return lose(n == 0 ? "the snapshot's runtime is gone" : errno_message(errno));
                                 buf.resize(static_cast<std::size_t>(n));
                                 on_message(buf);
                                 if (!lost_) read_next();
                               }));
}

void Snapshot::on_message(const std::string& message) {
  auto j = nlohmann::json::parse(message, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return lose("the snapshot sent something that is not a JSON object");
  if (!ready_) {
    if (j.contains("inPlace") && j["inPlace"].is_string()) {
      // The runtime cannot be copied faithfully (threads, for one): it restores itself in place.
      in_place_ = true;
      return lose("the runtime restores in place: " + j["inPlace"].get<std::string>());
    }
    if (j.value("ready", false) != true) return lose("the snapshot spoke before it was ready");
    ready_ = true;
    if (on_ready_) on_ready_();
    return;
  }
  if (pending_.empty()) return lose("the snapshot answered a restore nobody asked for");
  auto done = std::move(pending_.front());
  pending_.pop_front();
  if (j.contains("pid") && j["pid"].is_number_integer() && j["pid"].get<long>() > 0) {
    done(static_cast<pid_t>(j["pid"].get<long>()));
  } else {
    done(snapshot_error("the snapshot could not fork: " + j.value("error", std::string("no reason given"))));
  }
}

void Snapshot::lose(const std::string& why) {
  if (lost_) return;
  lost_ = true;
  boost::system::error_code ignored;
  impl_->connection.close(ignored);
  auto pending = std::move(pending_);
  pending_.clear();
  auto token = lifetime_.token();
  for (auto& done : pending) {
    done(snapshot_error(why));
    if (!token) return;
  }
  if (on_lost_) on_lost_(why);
}

Status Snapshot::restore(RestoreTarget target, Restored done) {
  if (!ready_ || lost_ || !impl_->connection.is_open()) return snapshot_error("the snapshot is not ready");
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, v] : target.environment) env[k] = v;
  nlohmann::json request = {{"restore", true},
                            {"ppid", ::getpid()},
                            {"cwd", target.working_directory},
                            {"mountNamespace", target.mount_ns.valid()},
                            {"cgroups", target.cgroup_procs.size()},
                            {"ahead", target.ahead},
                            {"environment", std::move(env)}};
  const std::string text = request.dump();
  // Descriptors in this order: output, go, [mount namespace], cgroup.procs...
  std::vector<int> fds{target.output.get(), target.go.get()};
  if (target.mount_ns.valid()) fds.push_back(target.mount_ns.get());
  for (const auto& f : target.cgroup_procs) fds.push_back(f.get());
  if (fds.size() > kMaxFds) return snapshot_error("too many descriptors for one restore");

  iovec iov{const_cast<char*>(text.data()), text.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  ssize_t n;
  do {
    n = ::sendmsg(impl_->connection.native_handle(), &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return snapshot_error("restore request to the snapshot: " + errno_message(errno));
  pending_.push_back(std::move(done));
  return Ok{};  // our copies of the descriptors close with `target`: the snapshot has its own
}

}  // namespace lambdad::sandbox
