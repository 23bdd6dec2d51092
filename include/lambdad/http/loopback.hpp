// http: whether a listening address stays on this host (serve --host, docs/decisions/010).
#pragma once

#include <string_view>

namespace lambdad::http {

// True for "localhost", IPv4 127.0.0.0/8, IPv6 ::1 and IPv4-mapped ::ffff:127.x.y.z. Any other
// address, including the wildcards 0.0.0.0 and ::, is reachable from other hosts.
bool is_loopback_host(std::string_view host);

}  // namespace lambdad::http
