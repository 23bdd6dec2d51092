// `lambdad evict NAME --endpoint URL`: one POST to a running daemon's /_lambdad API.
#include <cstdio>
#include <string>

#include "http_client.hpp"
#include "lambdad/app/commands.hpp"

namespace lambdad::app {

int run_evict(const EvictOptions& options) {
  auto endpoint = parse_endpoint(options.endpoint);
  if (!endpoint) {
    std::fprintf(stderr, "lambdad: --endpoint: %s\n", endpoint.error().message.c_str());
    return 2;
  }
  HttpClient client(std::move(*endpoint));
  auto response = client.request("POST", "/_lambdad/functions/" + encode_path_segment(options.function) + "/evict",
                                 {}, {}, std::chrono::seconds(30));
  if (!response) {
    std::fprintf(stderr, "lambdad: %s\n", response.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", response->body.c_str());
  if (response->status != 200) {
    std::fprintf(stderr, "lambdad: the daemon answered %d\n", response->status);
    return 1;
  }
  return 0;
}

}  // namespace lambdad::app
