// Both ends of an accepted TCP connection, as the server sees them.
#pragma once

#include <cstdint>
#include <string>

namespace lambdad {

struct TcpPeer {
  std::string peer_address;  // the client's: "127.0.0.1", "::1"
  std::uint16_t peer_port = 0;
  std::string local_address;  // ours
  std::uint16_t local_port = 0;
};

}  // namespace lambdad
