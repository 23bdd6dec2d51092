// client: a small blocking HTTP/1.1 client for the commands that talk to a running daemon
// (`lambdad evict`, `lambdad test --endpoint`). One keep-alive connection per client, used by one
// thread at a time. Plain sockets: a command line tool needs no event loop for this, and Beast's
// client stays out of the build.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/invoke_api/sigv4.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::client {

struct HttpEndpoint {
  std::string host;
  std::string port;  // "80" when the URL names none
  std::string url;   // as given, without a trailing slash
};

// "http://HOST[:PORT][/]"; an Error (kInvalidInput) saying what is expected otherwise.
Result<HttpEndpoint> parse_endpoint(const std::string& url);

// A path segment with everything but [A-Za-z0-9-_.~] percent-encoded.
std::string encode_path_segment(std::string_view segment);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  // The first header of that name (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
};

// What lambdad's own clients sign their requests with, for a daemon started with --credentials:
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment, for
// AWS_REGION, else AWS_DEFAULT_REGION, else `region`. nullopt when no key is set (requests go
// unsigned, which a daemon without --credentials accepts).
struct RequestSigner {
  invoke_api::sigv4::Credentials credentials;
  std::string region;
};
std::optional<RequestSigner> request_signer_from_environment(const std::string& region);

class HttpClient {
 public:
  explicit HttpClient(HttpEndpoint endpoint, std::optional<RequestSigner> signer = std::nullopt)
      : endpoint_(std::move(endpoint)), signer_(std::move(signer)) {}
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads its response, reusing the connection when the server keeps it
  // open. A connection the server closed while idle is reopened once. Errors (cannot connect,
  // nothing answered within `timeout`, a malformed response) are kInternal with the reason.
  Result<HttpResponse> request(std::string_view method, const std::string& target, const HttpHeaders& headers,
                               std::string_view body, std::chrono::milliseconds timeout);

  const HttpEndpoint& endpoint() const { return endpoint_; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  // The header fields that sign the request (signer_ set).
  std::vector<http::Headers::Field> signature(std::string_view method, const std::string& target,
                                              const std::string& host, std::string_view body) const;
  Status connect(Deadline deadline);
  Status send_all(std::string_view data, Deadline deadline);
  // Reads more bytes into buffer_: false at end of stream; an Error on failure or timeout.
  Result<bool> read_some(Deadline deadline);
  Result<HttpResponse> read_response(std::string_view method, Deadline deadline, bool& keep_alive);
  Result<std::string> read_chunked(Deadline deadline);

  HttpEndpoint endpoint_;
  std::optional<RequestSigner> signer_;
  process::UniqueFd fd_;
  std::string buffer_;  // received, not yet consumed
};

}  // namespace lambdad::client
