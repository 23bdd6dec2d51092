// http_front: the router on --api-port (decision 020). For each request: find its front (a
// Function URL by host or by path prefix, else a REST or HTTP API route), answer CORS preflights,
// build the event, dispatch it through the Dispatcher (the same admission and limits as the
// Invoke API), map the function's result or the failure to the answer that front gives, and log
// one line.
//
// Choices where decision 020 and the documentation leave room:
// - All APIs share the port and are served at their paths without a stage prefix (as SAM does).
//   When routes of several APIs match a request, the most specific wins by the RouteTable's order
//   (a route beats "$default"); between routes alike, the API declared first.
// - A REST API with Cors answers OPTIONS on its paths itself (SAM's mock), except on a path that
//   declares an OPTIONS route: SAM adds no mock there, and the route is invoked.
// - No route: REST's 403 when every API of the template is a REST API, HTTP APIs' 404 otherwise.
// - A request body past Lambda's 6 MB invoke limit, or an event that grows past it, is answered
//   413 {"message":"Request Entity Too Large"}.
// - A function unknown to the dispatcher, or not invokable now, is answered as a function error.
// - The API's id in events is its logical id; a Function URL's is its host label in lower case.
// - RESPONSE_STREAM URLs write the function's stream to the client as it arrives (chunked), the
//   head read from its prelude (url_stream.hpp). A function error before the head went out is
//   502; after it, the connection is closed mid-body, so the client sees a truncated answer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/config/http_apis.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::http_front {

struct FrontOptions {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  // Whether a request carries a valid SigV4 signature (serve --credentials). Set: AWS_IAM Function
  // URLs answer 403 to requests it refuses. Empty: AWS_IAM URLs are served without a check.
  std::function<bool(const http::Request&)> verify_signature;
};

class Front {
 public:
  Front(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers, FrontOptions options);
  ~Front();
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  // Serves these REST and HTTP API routes from now on (the template's, at start and at each
  // reload). Requests already dispatched finish with the routes they matched. Function URLs are
  // not taken from `apis`: they are the catalogue's (the template's among them), given below.
  void set_routes(const config::HttpApis& apis);
  // Function URLs, as the catalogue publishes them (UrlPut, UrlRemoved, FunctionRemoved): served
  // at once, and no longer once removed. A URL of an alias is served at `<alias>--<function>`.
  void put_url(const config::FunctionUrl& url);
  void remove_url(const std::string& function_name, const std::string& qualifier);
  void remove_urls(const std::string& function_name);
  // Answers one request on the API port.
  void handle(http::Request&& request, http::Responder respond);
  // A router that sends every request to handle(), with bodies up to Lambda's invoke limit.
  http::Router router();
  // The ready line's lines under "API listening on <base_url>": one per route and per URL.
  std::vector<std::string> describe(const std::string& base_url, std::uint16_t port) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace lambdad::http_front
