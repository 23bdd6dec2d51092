// http_front: Lambda authorizers (decision 020): the event an authorizer function gets, what its
// result says, whether the policy it returned allows the request, what the route's function then
// sees as requestContext.authorizer, and the cache of results. Pure: the front invokes the
// authorizer through the Dispatcher and renders the answers (errors.*).
//
// Choices where AWS's documentation is silent:
// - Identity sources are read headers first, then query strings, each in the order configured; a
//   source that is absent or empty is missing (401 without invoking the authorizer). Header names
//   are compared without case, query string names with it; a repeated header gives its values
//   joined with "," (a TOKEN header its last value), a repeated query string its last value.
// - An authorizer without identity sources is not cached (nothing to key a cache on), whatever its
//   TTL. Cached are results that parse (allow and deny alike), not failures; a cached policy is
//   evaluated again against each request's method ARN, as API Gateway does.
// - REST context values are stringified (numbers and booleans as JSON writes them); null values
//   are left out; an object or array value is a malformed result (500). HTTP API context values
//   are passed as returned.
// - requestContext.authorizer: payload 1.0 gets the context's entries, principalId (when the result
//   is a policy) and integrationLatency (the authorizer's milliseconds, 0 from the cache); payload
//   2.0 gets {"lambda": context} (null when the authorizer returned none).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/clock.hpp"
#include "lambdad/config/http_apis.hpp"
#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/request_view.hpp"
#include "lambdad/http_front/route_table.hpp"

namespace lambdad::http_front {

// What identity sources other than the request's headers and query strings read: the API's stage
// variables, and the route event's requestContext for context variables.
struct IdentityScope {
  const std::map<std::string, std::string>* stage_variables = nullptr;
  const nlohmann::json* request_context = nullptr;
};

// The value of the context variable `name` ("requestId", "identity.sourceIp") in a route event's
// requestContext: its dotted path there (payload 2.0 reads identity.sourceIp, identity.userAgent,
// httpMethod and path from requestContext.http); numbers as JSON writes them; nullopt when absent.
std::optional<std::string> context_variable(const nlohmann::json& request_context, std::string_view name);

// The values of `authorizer`'s identity sources for `request`, in order (headers, query strings,
// stage variables, context variables); nullopt when one is missing or empty. Empty when the
// authorizer has no identity sources (an HTTP API's may have none).
std::optional<std::vector<std::string>> identity_values(const config::HttpAuthorizer& authorizer,
                                                        const RequestView& request, IdentityScope scope = {});

// Whether a TOKEN authorizer's token passes its ValidationExpression: the whole token matches
// (ECMAScript syntax); an empty expression passes every token, an invalid one none.
bool token_matches(const std::string& expression, const std::string& token);

// "arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path without its leading '/'>",
// a REST methodArn and an HTTP API routeArn alike.
std::string execute_api_arn(std::string_view region, std::string_view account_id, std::string_view api_id,
                            std::string_view stage, std::string_view method, std::string_view raw_path);

// REST TOKEN: {"type":"TOKEN","authorizationToken":...,"methodArn":...}.
nlohmann::json token_event(std::string_view token, std::string_view method_arn);
// REST REQUEST and HTTP API payload 1.0, from the route's payload 1.0 event (build_event_v1): its
// request members without the body, with type REQUEST and methodArn; pathParameters {} when it has
// none (as AWS's example shows); HTTP APIs add identitySource and authorizationToken (the values
// joined with ",").
nlohmann::json request_event_v1(nlohmann::json route_event, std::string_view method_arn,
                                 const std::vector<std::string>& identity, bool http_api);
// HTTP API payload 2.0, from the route's payload 2.0 event (build_event_v2): without the body,
// with type REQUEST, routeArn and identitySource (the values as an array).
nlohmann::json request_event_v2(nlohmann::json route_event, std::string_view route_arn,
                                const std::vector<std::string>& identity);

// WebSocket APIs (only $connect takes an authorizer): the methodArn
// "arn:aws:execute-api:<region>:<account>:<api>/<stage>/<route key>", without an HTTP method.
std::string websocket_route_arn(std::string_view region, std::string_view account_id, std::string_view api_id,
                                std::string_view stage, std::string_view route_key);
// The REQUEST authorizer event of a WebSocket API, from the $connect event (build_connect_event):
// type REQUEST, methodArn, its headers, query strings and requestContext, and stageVariables ({}
// when the stage has none, as AWS's example shows); no isBase64Encoded.
nlohmann::json websocket_request_event(nlohmann::json connect_event, std::string_view method_arn);

struct PolicyStatement {
  bool allow = false;                  // Effect Allow; Deny otherwise
  std::vector<std::string> actions;    // "execute-api:Invoke", "execute-api:*", "*"
  std::vector<std::string> resources;  // method ARNs with '*' and '?' wildcards
};

// What an authorizer's result says.
struct AuthorizerResult {
  bool simple = false;      // an HTTP API simple response: `authorized` decides
  bool authorized = false;  // isAuthorized
  std::string principal_id;
  std::vector<PolicyStatement> statements;
  nlohmann::json context;  // an object (REST: string values), or null when the result has none
  std::optional<std::string> usage_identifier_key;  // read and checked; there are no usage plans here
};

enum class AuthorizerStyle {
  kRestPolicy,  // REST: principalId and policyDocument required; context values scalar
  kHttpPolicy,  // HTTP API IAM policy (payload 1.0, or 2.0 without simple responses)
  kHttpSimple,  // HTTP API 2.0 with EnableSimpleResponses: {"isAuthorized": bool, "context": {...}}
};

// The authorizer function's result bytes read as `style` wants, or kAuthorizerFailure.
std::variant<AuthorizerResult, FrontError> parse_authorizer_result(std::string_view result, AuthorizerStyle style);

enum class Decision {
  kAllow,
  kExplicitDeny,  // a Deny statement matches
  kNotAllowed,    // no statement allows (or a simple response said false)
};

// An explicit Deny matching `method_arn` wins; then an Allow matching it; else not allowed. A
// statement matches when one of its actions matches "execute-api:Invoke" (without case) and one
// of its resources matches the ARN.
Decision decide(const AuthorizerResult& result, std::string_view method_arn);

// IAM's wildcards: '*' any run of characters ('/' and ':' included), '?' any one character.
bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case = false);

// The route event's requestContext.authorizer (see the header comment).
nlohmann::json authorizer_context(const AuthorizerResult& result, PayloadVersion payload, std::int64_t latency_ms);

// The answer to an authorizer function that failed with `error_payload`: REST answers an
// errorMessage of exactly "Unauthorized" with 401; everything else is an authorizer failure.
FrontErrorKind authorizer_error_kind(FrontKind front, std::string_view error_payload);

// Results of authorizers by their identity source values, each until its TTL passes on the clock.
class AuthorizerCache {
 public:
  explicit AuthorizerCache(const Clock& clock, std::size_t capacity = 10000);

  // The key of `identity` for the authorizer `authorizer` of API `api_id`.
  static std::string key(std::string_view api_id, std::string_view authorizer, const std::vector<std::string>& identity);
  // The result stored under `key`, or nullptr when there is none or it has expired.
  const AuthorizerResult* find(const std::string& key);
  // Stores `result` for `ttl_seconds`; 0 stores nothing. When full, expired entries go first,
  // then the one closest to expiry.
  void store(const std::string& key, AuthorizerResult result, int ttl_seconds);
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    AuthorizerResult result;
    Clock::Steady::time_point expires;
  };
  const Clock& clock_;
  std::size_t capacity_;
  std::map<std::string, Entry> entries_;
};

}  // namespace lambdad::http_front
