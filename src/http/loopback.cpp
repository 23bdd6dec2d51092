#include "lambdad/http/loopback.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace lambdad::http {

bool is_loopback_host(std::string_view host) {
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (h == "localhost") return true;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::array<unsigned char, 16> addr{};
  if (inet_pton(AF_INET, h.c_str(), addr.data()) == 1) return addr[0] == 127;
  if (inet_pton(AF_INET6, h.c_str(), addr.data()) != 1) return false;
  const bool zeros10 = std::all_of(addr.begin(), addr.begin() + 10, [](unsigned char b) { return b == 0; });
  if (zeros10 && addr[10] == 0xff && addr[11] == 0xff) return addr[12] == 127;  // ::ffff:127.x.y.z
  return std::all_of(addr.begin(), addr.begin() + 15, [](unsigned char b) { return b == 0; }) && addr[15] == 1;
}

}  // namespace lambdad::http
