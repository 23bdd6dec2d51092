// config: the HTTP fronts a definitions file declares (decision 020): REST, HTTP and WebSocket
// APIs with their routes, and Function URLs, as plain data. Matching requests against them is the
// http_front module's business; nothing here matches or builds events.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambdad::config {

// CORS as a front applies it (a Function URL's Cors, a REST API's Cors, an HTTP API's
// CorsConfiguration), with SAM's quoting already removed.
struct HttpCors {
  std::vector<std::string> allow_origins;   // "*" or origins, as written
  std::vector<std::string> allow_methods;   // upper-case method names, or "*"
  std::vector<std::string> allow_headers;   // as written ("*" allowed)
  std::vector<std::string> expose_headers;  // as written; REST APIs have none
  std::optional<int> max_age_seconds;       // Access-Control-Max-Age; nullopt: the header is not sent
  bool allow_credentials = false;           // Access-Control-Allow-Credentials: true
};

enum class HttpApiKind {
  kRest,       // API Gateway REST API (AWS::Serverless::Api, implicit ServerlessRestApi): payload 1.0
  kHttp,       // API Gateway HTTP API (AWS::Serverless::HttpApi, implicit ServerlessHttpApi)
  kWebSocket,  // AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET
};

// A Lambda authorizer of an API.
struct HttpAuthorizer {
  enum class Type {
    kToken,    // REST TOKEN: the one identity header's value is the event's authorizationToken
    kRequest,  // REST REQUEST, and every HTTP API Lambda authorizer
  };
  std::string name;           // its key under Auth.Authorizers; what routes name
  std::string function_name;  // the authorizer function's deployed name (FunctionConfig::name)
  Type type = Type::kToken;
  std::vector<std::string> identity_headers;        // header names whose absence answers 401, as written
  std::vector<std::string> identity_query_strings;  // query string names, likewise
  std::vector<std::string> identity_stage_variables;  // stage variable names, likewise
  std::vector<std::string> identity_context;  // context variables without "$context.": "requestId", "identity.sourceIp"
  // REST TOKEN: Identity.ValidationExpression, a regular expression the whole token must match
  // (else 401 without invoking the authorizer); "" for none.
  std::string validation_expression;
  // Seconds a result is cached (REST ReauthorizeEvery, HTTP Identity.ReauthorizeEvery); 0: not cached.
  int ttl_seconds = 300;
  std::string payload_format_version;  // HTTP APIs: "1.0" or "2.0"; REST: empty
  bool simple_responses = false;       // HTTP APIs: EnableSimpleResponses ({"isAuthorized": bool})
};

struct HttpApi {
  std::string id;  // the logical id (ServerlessRestApi / ServerlessHttpApi for the implicit ones); routes name it
  HttpApiKind kind = HttpApiKind::kRest;
  bool implicit = false;  // created by SAM for events without RestApiId / ApiId
  std::string stage;      // StageName; REST default "Prod", HTTP default "$default", WebSocket the Stage's name or ""
  // The stage's variables (REST Variables, HTTP API StageVariables, a WebSocket Stage's
  // StageVariables): the events' stageVariables. Empty: none (the events say null).
  std::map<std::string, std::string> stage_variables;
  std::optional<HttpCors> cors;                 // nullopt: the API answers no preflight
  std::vector<std::string> binary_media_types;  // REST BinaryMediaTypes, as written ("image/png", "*/*")
  std::vector<HttpAuthorizer> authorizers;
  std::string default_authorizer;  // Auth.DefaultAuthorizer: the authorizer routes get unless they say NONE; "" none
  // WebSocket: where the route key is read ("$request.body.action" by default); empty for other kinds.
  std::string route_selection_expression;
  int line = 0;  // the resource's line (the first event's for an implicit API)
};

struct HttpRoute {
  std::string api_id;  // HttpApi::id
  // "GET", "POST", ... or "ANY"; for a WebSocket route, and for an HTTP API's "$default" route, "ANY".
  std::string method;
  // Normalised path ("/items/{id}", "/{proxy+}"), or "$default" (HTTP APIs), or a WebSocket route
  // key ("$connect", "$disconnect", "$default", "sendMessage").
  std::string path;
  std::string function_name;           // the integration's deployed name (FunctionConfig::name)
  std::string payload_format_version;  // "1.0" or "2.0"; REST and WebSocket routes are "1.0"
  int timeout_ms = 29000;              // integration timeout: REST 29000 at most, HTTP 30000 at most
  // The authorizer's name in the API's authorizers; "" for none (Auth.Authorizer: NONE, or no default).
  std::string authorizer;
  std::string source;  // what declared it, for messages: "HelloFunction.Events.Get"
  int line = 0;        // the declaration's line
  // WebSocket: the route has a route response (RouteResponseSelectionExpression; serverless.yml
  // routeResponseSelectionExpression): the function's response body is sent back to the client.
  bool route_response = false;
};

struct FunctionUrl {
  enum class AuthType { kNone, kAwsIam };
  enum class InvokeMode { kBuffered, kResponseStream };
  std::string function_name;  // FunctionConfig::name
  std::string qualifier;      // "" for the function itself, else an alias (URLs made through the API)
  AuthType auth_type = AuthType::kNone;
  InvokeMode invoke_mode = InvokeMode::kBuffered;
  std::optional<HttpCors> cors;  // nullopt: no Cors block
  int line = 0;
};

// The host label a Function URL is served at (`<label>.lambda-url.localhost`), in lower case: the
// function's name, or `<alias>--<function>` for an alias's URL (AWS's URL ids are opaque; these
// are readable and stable across restarts).
inline std::string function_url_label(std::string_view function, std::string_view qualifier) {
  std::string label = qualifier.empty() ? std::string(function) : std::string(qualifier) + "--" + std::string(function);
  for (auto& c : label) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return label;
}

// Everything of the above one file declares, in declaration order.
struct HttpApis {
  std::vector<HttpApi> apis;
  std::vector<HttpRoute> routes;
  std::vector<FunctionUrl> urls;

  bool empty() const { return apis.empty() && routes.empty() && urls.empty(); }
  // The API `id`; nullptr when absent.
  const HttpApi* find_api(const std::string& id) const {
    for (const auto& api : apis) {
      if (api.id == id) return &api;
    }
    return nullptr;
  }
};

}  // namespace lambdad::config
