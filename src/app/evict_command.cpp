// `lambdad evict NAME --endpoint URL`: one POST to a running daemon's /_lambdad API.
#include <cstdio>
#include <string>

#include "lambdad/client/http_client.hpp"
#include "lambdad/app/commands.hpp"

namespace lambdad::app {
using client::encode_path_segment;
using client::HttpClient;
using client::parse_endpoint;
using client::request_signer_from_environment;

int run_evict(const EvictOptions& options) {
  auto endpoint = parse_endpoint(options.endpoint);
  if (!endpoint) {
    std::fprintf(stderr, "lambdad: --endpoint: %s\n", endpoint.error().message.c_str());
    return 2;
  }
  // Signed when AWS credentials are in the environment (a daemon started with --credentials).
  HttpClient client(std::move(*endpoint), request_signer_from_environment("us-east-1"));
  auto response = client.request("POST", "/_lambdad/functions/" + encode_path_segment(options.function) + "/evict",
                                 {}, {}, std::chrono::seconds(30));
  if (!response) {
    std::fprintf(stderr, "lambdad: %s\n", response.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", response->body.c_str());
  if (response->status != 200) {
    const auto type = response->header("X-Amzn-ErrorType");
    std::fprintf(stderr, "lambdad: the daemon answered %d%s%s\n", response->status, type ? " " : "",
                 type ? type->c_str() : "");
    return 1;
  }
  return 0;
}

}  // namespace lambdad::app
