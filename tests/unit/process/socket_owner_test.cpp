// Who holds the client end of a loopback connection: real sockets, real processes (this test
// process and forked children), the kernel's socket table and /proc.
#include "lambdad/process/socket_owner.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {
namespace {

std::uint16_t port_of(int fd, bool peer) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                      : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return rc == 0 ? ntohs(a.sin_port) : 0;
}

UniqueFd connect_to(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return UniqueFd();
  return fd;
}

// A forked process that stops until killed. In `own_group` it leads a new process group; with
// `connect_from_child` its own child (same group) makes the connection instead of itself.
struct Holder {
  pid_t pid = -1;
  ~Holder() {
    if (pid > 0) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

class SocketOwner : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(::listen(listener_.get(), 8), 0);
    port_ = port_of(listener_.get(), false);
  }

  // Accepts one connection and describes it as the server sees it.
  TcpPeer accept_one() {
    accepted_ = UniqueFd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return TcpPeer{"127.0.0.1", port_of(accepted_.get(), true), "127.0.0.1", port_};
  }

  // Forks a process (a group leader) whose descendant at `depth` (0: itself) connects to us.
  pid_t fork_connector(int depth, Holder& holder) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    holder.pid = ::fork();
    if (holder.pid == 0) {
      ::setpgid(0, 0);
      for (int i = 0; i < depth; ++i) {
        if (::fork() != 0) break;  // the parent stays behind, stopped below
        if (i + 1 == depth) {
          UniqueFd fd = connect_to(port_);
          const char ok = fd.valid() ? '1' : '0';
          (void)!::write(ready[1], &ok, 1);
          ::pause();
        }
      }
      UniqueFd own;  // held open until the process is killed
      if (depth == 0) {
        own = connect_to(port_);
        const char ok = own.valid() ? '1' : '0';
        (void)!::write(ready[1], &ok, 1);
      }
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char ok = '0';
    EXPECT_EQ(::read(ready[0], &ok, 1), 1);
    ::close(ready[0]);
    EXPECT_EQ(ok, '1');
    return holder.pid;
  }

  // A connection from a connector forked at `depth`: its pid and the inode of its socket (0 when
  // it cannot be found).
  std::pair<pid_t, ino_t> connection_from(int depth, Holder& holder) {
    const pid_t pid = fork_connector(depth, holder);
    auto inode = peer_socket_inode(accept_one());
    EXPECT_TRUE(inode) << (inode ? "" : inode.error().message);
    return {pid, inode ? *inode : 0};
  }

  UniqueFd listener_;
  UniqueFd accepted_;
  std::uint16_t port_ = 0;
};

TEST_F(SocketOwner, FindsTheClientSocketOfThisProcess) {
  UniqueFd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const auto peer = accept_one();
  auto inode = peer_socket_inode(peer);
  ASSERT_TRUE(inode) << inode.error().message;
  EXPECT_TRUE(holds_socket(::getpid(), *inode));
  // The same socket from sock_diag alone (what the io thread asks in place).
  auto quick = peer_socket_inode_by_diag(peer);
  ASSERT_TRUE(quick) << quick.error().message;
  EXPECT_EQ(*quick, *inode);
  // The same socket, found the slow way.
  auto again = peer_socket_inode_from_proc_net(peer);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *inode);
  // Our accepted end is a different socket: not the client's.
  EXPECT_NE(*inode, 0u);
}

TEST_F(SocketOwner, AConnectionThatIsGoneIsNotFound) {
  const TcpPeer nobody{"127.0.0.1", 1, "127.0.0.1", port_};
  auto inode = peer_socket_inode(nobody);
  ASSERT_FALSE(inode);
  EXPECT_EQ(inode.error().kind, ErrorKind::kNotFound);
  auto slow = peer_socket_inode_from_proc_net(nobody);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().kind, ErrorKind::kNotFound);
  auto quick = peer_socket_inode_by_diag(nobody);
  ASSERT_FALSE(quick);
  EXPECT_EQ(quick.error().kind, ErrorKind::kNotFound);
}

TEST_F(SocketOwner, NonsenseAddressesAreAnError) {
  auto inode = peer_socket_inode(TcpPeer{"not-an-address", 1, "127.0.0.1", port_});
  ASSERT_FALSE(inode);
  EXPECT_EQ(inode.error().kind, ErrorKind::kInternal);
  auto quick = peer_socket_inode_by_diag(TcpPeer{"127.0.0.1", 1, "::1", port_});
  ASSERT_FALSE(quick);
  EXPECT_EQ(quick.error().kind, ErrorKind::kInternal);
}

TEST_F(SocketOwner, AnotherProcessHoldsItsOwnConnection) {
  Holder holder;
  const auto [child, inode] = connection_from(0, holder);
  ASSERT_NE(inode, 0u);
  EXPECT_TRUE(holds_socket(child, inode));
  EXPECT_FALSE(holds_socket(::getpid(), inode));
  EXPECT_TRUE(environment_holds_socket(child, {}, inode));
  EXPECT_FALSE(environment_holds_socket(::getpid(), {}, inode));
}

TEST_F(SocketOwner, ADescendantInTheProcessGroupCountsAsTheEnvironment) {
  Holder holder;
  const auto [leader, inode] = connection_from(2, holder);
  ASSERT_NE(inode, 0u);
  EXPECT_FALSE(holds_socket(leader, inode));
  const auto members = process_group_members(leader);
  EXPECT_EQ(members.size(), 3u);
  EXPECT_TRUE(environment_holds_socket(leader, {}, inode));
}

TEST_F(SocketOwner, WithACgroupItsProcessListDecidesNotTheProcessGroup) {
  Holder holder;
  const auto [leader, inode] = connection_from(1, holder);
  ASSERT_NE(inode, 0u);
  const auto members = process_group_members(leader);
  ASSERT_EQ(members.size(), 2u);
  const pid_t connector = members[0] == leader ? members[1] : members[0];

  const auto dir = std::filesystem::temp_directory_path() / ("socket-owner-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto listed = (dir / "listed").string(), unlisted = (dir / "unlisted").string();
  std::ofstream(listed) << leader << "\n" << connector << "\n";
  std::ofstream(unlisted) << leader << "\n";
  EXPECT_TRUE(environment_holds_socket(leader, {listed}, inode));
  // The connector shares the leader's process group, but the cgroup does not list it.
  EXPECT_FALSE(environment_holds_socket(leader, {unlisted}, inode));
  // An unreadable list: the process group decides.
  EXPECT_TRUE(environment_holds_socket(leader, {(dir / "missing").string()}, inode));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lambdad::process
