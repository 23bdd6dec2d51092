// http_front: the template's WebSocket APIs on --api-port (decision 020): upgrades, $connect,
// messages routed by the API's RouteSelectionExpression, $disconnect, API Gateway's limits, and
// the @connections management API, every route invoked through the Dispatcher.
//
// Choices where the documentation leaves room (decision 020 lists them all):
// - An upgrade to "/" goes to the template's first WebSocket API, one to "/<stage>" to the first
//   whose stage that is, one to "/<ApiId>" or "/<ApiId>/<stage>" to that API; any other upgrade
//   is answered as a plain HTTP request.
// - requestContext.domainName is the Host the client upgraded with ("127.0.0.1:3000"), so that
//   `http://${domainName}/${stage}` reaches this port's @connections API.
// - @connections/{id} is served at "/@connections/{id}" and at "/<stage>/@connections/{id}".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/config/http_apis.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/http_front/front.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::http_front {

// The WebSocket API an upgrade to `path` is for (see above); nullptr for none.
const config::HttpApi* websocket_api_for(const std::vector<config::HttpApi>& apis, std::string_view path);
// The connection id of an @connections path, decoded; nullopt when `path` is not one.
std::optional<std::string> management_connection_id(std::string_view path);

class WebSocketFront {
 public:
  WebSocketFront(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers, FrontOptions options);
  ~WebSocketFront();
  WebSocketFront(const WebSocketFront&) = delete;
  WebSocketFront& operator=(const WebSocketFront&) = delete;

  // The WebSocket APIs and routes of `apis` serve new connections and the messages of open ones
  // from now on (an open connection whose API is gone keeps the routes it had).
  void set_apis(const config::HttpApis& apis);
  // An upgrade request: served when it names a WebSocket API, else given to `otherwise` with the
  // upgrade's refusal as the responder.
  void upgrade(http::Request&& request, http::Upgrade upgrade,
               const std::function<void(http::Request&&, http::Responder)>& otherwise);
  // The @connections API (`request.path` is one: management_connection_id).
  void manage(http::Request&& request, http::Responder respond);
  // The ready line's lines, one per WebSocket API: "  WebSocket ws://HOST/STAGE -> ApiId (...)".
  std::vector<std::string> describe(const std::string& base_url) const;
  std::size_t open_connections() const;
  bool has_apis() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace lambdad::http_front
