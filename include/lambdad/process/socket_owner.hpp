// process: which process is on the other end of a loopback TCP connection to this daemon.
//
// Every execution environment has a Runtime API listener of its own on 127.0.0.1, and the
// address is no secret to other processes of the same user. Lambda isolates environments by
// network; here the listener asks, at accept, whose socket the client end is: the kernel's
// socket table gives the client socket's inode (sock_diag netlink, one exact lookup; /proc/net
// as a fallback), and /proc/<pid>/fd tells whether a process of the environment holds it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/common/tcp_peer.hpp"

namespace lambdad::process {

// The inode of the client's socket. kNotFound when no such connection is in the table (the
// client already closed; or it is not on this host's network namespace); kInternal when the
// tables cannot be read at all (the message says why).
Result<ino_t> peer_socket_inode(const TcpPeer& peer);

// The sock_diag lookup alone: one exact query the kernel answers in place, cheap enough for
// the io thread. kInternal where sock_diag is unavailable (no fallback is tried).
Result<ino_t> peer_socket_inode_by_diag(const TcpPeer& peer);

// The same answer from /proc/net/tcp{,6} alone (a pass over the whole table): what
// peer_socket_inode() falls back to where sock_diag is unavailable.
Result<ino_t> peer_socket_inode_from_proc_net(const TcpPeer& peer);

// True when process `pid` has a descriptor on the socket with this inode.
bool holds_socket(pid_t pid, ino_t inode);

// The processes whose process group is `pgid` (one scan of /proc).
std::vector<pid_t> process_group_members(pid_t pgid);

// Who may use an environment's Runtime API: its main process, every process listed in one of
// `procs_files` (the cgroup.procs of its groups, when it has any), and otherwise every process
// in the main process's process group. True when one of them holds the socket `inode`.
bool environment_holds_socket(pid_t main_pid, const std::vector<std::string>& procs_files, ino_t inode);

}  // namespace lambdad::process
