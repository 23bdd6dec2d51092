#include "lambdad/process/socket_owner.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include "cgroup_files.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {
namespace {

// An address in network byte order: 4 bytes (IPv4) or 16 (IPv6).
struct RawAddress {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
};

bool parse_address(const std::string& text, RawAddress& out) {
  if (::inet_pton(AF_INET, text.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET;
    return true;
  }
  if (::inet_pton(AF_INET6, text.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET6;
    return true;
  }
  return false;
}

Error internal(std::string message) {
  return Error{ErrorKind::kInternal, "Sandbox.Failure", std::move(message)};
}

// Both ends of a connection, of one family.
struct AddressPair {
  RawAddress peer, local;
};

Result<AddressPair> address_pair(const TcpPeer& peer) {
  AddressPair pair;
  if (!parse_address(peer.peer_address, pair.peer) || !parse_address(peer.local_address, pair.local) ||
      pair.peer.family != pair.local.family) {
    return internal("not an address pair: " + peer.peer_address + " -> " + peer.local_address);
  }
  return pair;
}

Error not_found() {
  return Error{ErrorKind::kNotFound, "Sandbox.Failure", "no such connection in the kernel's socket table"};
}

// One exact lookup through NETLINK_SOCK_DIAG: the socket whose local end is peer:peer_port and
// whose remote end is local:local_port (the client's socket, not our accepted one).
Result<ino_t> diag_lookup(const RawAddress& peer, std::uint16_t peer_port, const RawAddress& local,
                          std::uint16_t local_port) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return internal(std::string("sock_diag socket: ") + std::strerror(errno));
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.header.nlmsg_seq = 1;
  auto& req = message.request;
  req.sdiag_family = static_cast<std::uint8_t>(peer.family);
  req.sdiag_protocol = IPPROTO_TCP;
  req.idiag_states = ~0u;
  req.id.idiag_sport = htons(peer_port);
  req.id.idiag_dport = htons(local_port);
  const std::size_t len = peer.family == AF_INET ? 4 : 16;
  std::memcpy(req.id.idiag_src, peer.bytes.data(), len);
  std::memcpy(req.id.idiag_dst, local.bytes.data(), len);
  req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), &message, sizeof(message), 0, reinterpret_cast<const sockaddr*>(&kernel),
                    sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return internal(std::string("sock_diag send: ") + std::strerror(errno));

  // The kernel answers while handling the send; the wait only guards against a kernel that
  // does not (the daemon's thread must never hang here).
  pollfd pfd{fd.get(), POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&pfd, 1, 1000);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return internal("sock_diag: no answer from the kernel");
  std::array<char, 8192> buffer{};
  ssize_t got;
  do {
    got = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return internal(std::string("sock_diag receive: ") + std::strerror(errno));

  // Netlink messages, each a header then its payload, 4-byte aligned.
  constexpr std::size_t kAlign = 4;
  constexpr std::size_t kHeader = (sizeof(nlmsghdr) + kAlign - 1) & ~(kAlign - 1);
  const auto size = static_cast<std::size_t>(got);
  for (std::size_t at = 0; at + kHeader <= size;) {
    nlmsghdr h;
    std::memcpy(&h, buffer.data() + at, sizeof(h));
    if (h.nlmsg_len < kHeader || at + h.nlmsg_len > size) break;
    const char* payload = buffer.data() + at + kHeader;
    if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_len >= kHeader + sizeof(nlmsgerr)) {
      nlmsgerr e;
      std::memcpy(&e, payload, sizeof(e));
      if (e.error == -ENOENT) return not_found();
      return internal(std::string("sock_diag: ") + std::strerror(-e.error));
    }
    if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_len >= kHeader + sizeof(inet_diag_msg)) {
      inet_diag_msg m;
      std::memcpy(&m, payload, sizeof(m));
      return static_cast<ino_t>(m.idiag_inode);
    }
    at += (h.nlmsg_len + kAlign - 1) & ~(kAlign - 1);
  }
  return internal("sock_diag: an answer without a socket");
}

// /proc/net/tcp{,6} prints an address as 32-bit words in host order, in hex, then ":PORT".
std::string proc_net_address(const RawAddress& a, std::uint16_t port) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  const std::size_t len = a.family == AF_INET ? 4 : 16;
  for (std::size_t word = 0; word < len; word += 4) {
    std::uint32_t value;
    std::memcpy(&value, a.bytes.data() + word, 4);
    for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xF]);
  }
  out.push_back(':');
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(port >> shift) & 0xF]);
  return out;
}

// The fallback where sock_diag is unavailable: one pass over the whole table.
Result<ino_t> proc_net_lookup(const RawAddress& peer, std::uint16_t peer_port, const RawAddress& local,
                              std::uint16_t local_port) {
  const auto text = cgroup::read_file(peer.family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6");
  if (!text) return internal(std::string("read /proc/net/tcp: ") + std::strerror(errno));
  const std::string want_local = proc_net_address(peer, peer_port);
  const std::string want_remote = proc_net_address(local, local_port);
  std::string_view rest(*text);
  rest.remove_prefix(std::min(rest.size(), rest.find('\n') + 1));  // the heading
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    std::array<std::string_view, 10> fields{};
    std::size_t n = 0;
    while (n < fields.size()) {
      const auto start = line.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      const auto end = line.find(' ');
      fields[n++] = line.substr(0, end);
      line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    if (n < fields.size() || fields[1] != want_local || fields[2] != want_remote) continue;
    unsigned long inode = 0;
    std::from_chars(fields[9].data(), fields[9].data() + fields[9].size(), inode);
    return static_cast<ino_t>(inode);
  }
  return not_found();
}

}  // namespace

Result<ino_t> peer_socket_inode(const TcpPeer& peer) {
  auto pair = address_pair(peer);
  if (!pair) return pair.error();
  auto found = diag_lookup(pair->peer, peer.peer_port, pair->local, peer.local_port);
  if (found || found.error().kind == ErrorKind::kNotFound) return found;
  auto fallback = proc_net_lookup(pair->peer, peer.peer_port, pair->local, peer.local_port);
  if (!fallback && fallback.error().kind == ErrorKind::kInternal) {
    return internal(found.error().message + "; " + fallback.error().message);
  }
  return fallback;
}

Result<ino_t> peer_socket_inode_by_diag(const TcpPeer& peer) {
  auto pair = address_pair(peer);
  if (!pair) return pair.error();
  return diag_lookup(pair->peer, peer.peer_port, pair->local, peer.local_port);
}

Result<ino_t> peer_socket_inode_from_proc_net(const TcpPeer& peer) {
  auto pair = address_pair(peer);
  if (!pair) return pair.error();
  return proc_net_lookup(pair->peer, peer.peer_port, pair->local, peer.local_port);
}

bool holds_socket(pid_t pid, ino_t inode) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return false;
  DIR* d = ::fdopendir(dfd.get());
  if (d == nullptr) return false;
  dfd.release();  // closedir closes it
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  std::array<char, 64> target{};
  bool found = false;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const ssize_t len = ::readlinkat(::dirfd(d), e->d_name, target.data(), target.size());
    if (len > 0 && std::string_view(target.data(), static_cast<std::size_t>(len)) == want) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

std::vector<pid_t> process_group_members(pid_t pgid) {
  std::vector<pid_t> members;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return members;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const auto text = cgroup::read_file(std::string("/proc/") + e->d_name + "/stat");
    if (!text) continue;
    pid_t pgrp = -1;
    std::uint64_t threads = 0, rss_pages = 0;
    if (!cgroup::parse_proc_stat(*text, pgrp, threads, rss_pages)) continue;
    if (pgrp == pgid) {
      pid_t pid = 0;
      std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), pid);
      members.push_back(pid);
    }
  }
  ::closedir(d);
  return members;
}

bool environment_holds_socket(pid_t main_pid, const std::vector<std::string>& procs_files, ino_t inode) {
  if (holds_socket(main_pid, inode)) return true;
  std::vector<pid_t> others;
  bool listed = false;
  for (const auto& file : procs_files) {
    if (auto text = cgroup::read_file(file)) {
      others = cgroup::parse_pids(*text);
      listed = true;
      break;  // every hierarchy lists the same processes
    }
  }
  if (!listed) others = process_group_members(main_pid);
  for (pid_t pid : others) {
    if (pid != main_pid && holds_socket(pid, inode)) return true;
  }
  return false;
}

}  // namespace lambdad::process
