// config (internal): WebSocket APIs written as AWS::ApiGatewayV2 resources: the Api (ProtocolType
// WEBSOCKET), its Routes, the Integrations they target and the Stage.
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "http_reader.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

constexpr std::string_view kDefaultRouteSelection = "$request.body.action";
constexpr int kWebSocketTimeoutMs = 29000;

struct Evaluated {
  const HttpResourceSource* resource = nullptr;
  TemplateValue properties;
};

class WebSocketReader {
 public:
  WebSocketReader(IntrinsicEvaluator& refs, const std::set<std::string>& functions, DiagnosticSink& sink)
      : refs_(refs), functions_(functions), sink_(sink) {}

  void run(const std::vector<HttpResourceSource>& resources, HttpApis& out);

 private:
  std::optional<TemplateValue> properties(const HttpResourceSource& r);
  // The logical id a reference property names when it is a resource of `type`; "" otherwise (reported).
  std::string reference(HttpValueReader& reader, const TemplateValue* v, std::string_view path, std::string_view type,
                        std::string_view prefix = "");
  // The function an Integration invokes; "" when it is in error (reported).
  std::string integration_function(const Evaluated& integration);
  // An AWS::ApiGatewayV2::Authorizer of a WebSocket API, added to its API (named by its logical id).
  void read_authorizer(const Evaluated& authorizer, HttpApis& out);
  // The route an AWS::ApiGatewayV2::RouteResponse answers for (its logical id), or "" when it is
  // in error (reported).
  std::string responded_route(const Evaluated& response);
  // A route's AuthorizationType and AuthorizerId into `route`; false when in error (reported).
  bool route_authorization(HttpValueReader& reader, const TemplateValue& props, const std::string& api_id,
                           const std::string& route_key, const HttpApis& out, HttpRoute& route);

  IntrinsicEvaluator& refs_;
  const std::set<std::string>& functions_;
  DiagnosticSink& sink_;
  std::map<std::string, std::string> types_;  // logical id -> type, for the ApiGatewayV2 resources
  std::map<std::string, Evaluated> integrations_;
  std::set<std::string> websocket_apis_;
};

std::optional<TemplateValue> WebSocketReader::properties(const HttpResourceSource& r) {
  const YamlEntry* entry = r.node->find_entry("Properties");
  if (entry == nullptr) {
    sink_.error(r.line, r.logical_id, "Properties", "required property is missing");
    return std::nullopt;
  }
  TemplateValue props = refs_.evaluate(entry->value);
  strip_no_value(props);
  if (!props.is(Kind::kMap)) {
    sink_.error(entry->key_line, r.logical_id, "Properties",
                props.is(Kind::kInvalid) ? props.text : "must be a mapping that can be resolved locally");
    return std::nullopt;
  }
  return props;
}

std::string WebSocketReader::reference(HttpValueReader& reader, const TemplateValue* v, std::string_view path,
                                       std::string_view type, std::string_view prefix) {
  if (v == nullptr) {
    sink_.error(0, reader.resource(), std::string(path), "required property is missing");
    return {};
  }
  auto s = reader.text(*v, path);
  if (!s) return {};
  std::string_view id = *s;
  if (!prefix.empty()) {
    if (!id.starts_with(prefix)) {
      reader.error(*v, path, fmt::format("must be {}<{}> (got {})", prefix, type.substr(type.rfind(':') + 1), *s));
      return {};
    }
    id.remove_prefix(prefix.size());
  }
  if (auto it = types_.find(std::string(id)); it != types_.end() && it->second == type) return std::string(id);
  reader.error(*v, path, fmt::format("{} names no {} of the template", id, type));
  return {};
}

std::string WebSocketReader::integration_function(const Evaluated& integration) {
  const std::string& id = integration.resource->logical_id;
  HttpValueReader reader(sink_, id);
  const TemplateValue& props = integration.properties;
  if (const TemplateValue* type = props.find("IntegrationType"); type && type->is(Kind::kString) &&
                                                                 type->text != "AWS_PROXY") {
    reader.error(*type, "Properties.IntegrationType",
                 fmt::format("only AWS_PROXY integrations with a function are served locally (got {})", type->text));
    return {};
  }
  const TemplateValue* uri = props.find("IntegrationUri");
  if (uri == nullptr) {
    reader.error(props, "Properties.IntegrationUri", "required property is missing");
    return {};
  }
  auto s = reader.text(*uri, "Properties.IntegrationUri");
  if (!s) return {};
  auto name = function_of_arn(*s, functions_);
  if (!name) {
    reader.error(*uri, "Properties.IntegrationUri",
                 fmt::format("{} does not invoke a function of this template (use !Sub "
                             "arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations)",
                             *s));
    return {};
  }
  return *name;
}

void WebSocketReader::read_authorizer(const Evaluated& authorizer, HttpApis& out) {
  const TemplateValue& props = authorizer.properties;
  HttpValueReader reader(sink_, authorizer.resource->logical_id);
  const std::string api_id = reference(reader, props.find("ApiId"), "Properties.ApiId", kApiGatewayV2ApiType);
  if (api_id.empty() || !websocket_apis_.contains(api_id)) return;
  HttpAuthorizer a;
  a.name = authorizer.resource->logical_id;
  a.type = HttpAuthorizer::Type::kRequest;
  a.ttl_seconds = 0;  // WebSocket authorizers are not cached (AuthorizerResultTtlInSeconds is HTTP APIs')
  const TemplateValue* type = props.find("AuthorizerType");
  auto t = type != nullptr ? reader.text(*type, "Properties.AuthorizerType") : std::nullopt;
  if (type == nullptr) reader.error(props, "Properties.AuthorizerType", "required property is missing");
  if (!t) return;
  if (*t != "REQUEST") {
    // API Gateway refuses it too: a WebSocket API takes only Lambda REQUEST authorizers.
    reader.error(*type, "Properties.AuthorizerType",
                 fmt::format("a WebSocket API takes only REQUEST (Lambda) authorizers (got {})", *t));
    return;
  }
  const TemplateValue* uri = props.find("AuthorizerUri");
  auto u = uri != nullptr ? reader.text(*uri, "Properties.AuthorizerUri") : std::nullopt;
  if (uri == nullptr) reader.error(props, "Properties.AuthorizerUri", "required property is missing");
  if (!u) return;
  auto function = function_of_arn(*u, functions_);
  if (!function) {
    reader.error(*uri, "Properties.AuthorizerUri", fmt::format("{} does not invoke a function of this template", *u));
    return;
  }
  a.function_name = *function;
  if (const TemplateValue* sources = props.find("IdentitySource")) {
    auto list = reader.text_list(*sources, "Properties.IdentitySource", true);
    if (!list) return;
    for (const auto& source : *list) {
      if (!add_websocket_identity_source(source, a)) {
        reader.warning(*sources, "Properties.IdentitySource",
                       fmt::format("{} is not checked locally (only route.request.header.<name>, "
                                   "route.request.querystring.<name>, stageVariables.<name> and context.<name> are)",
                                   source));
      }
    }
  }
  for (auto& api : out.apis) {
    if (api.id == api_id) api.authorizers.push_back(std::move(a));
  }
}

bool WebSocketReader::route_authorization(HttpValueReader& reader, const TemplateValue& props, const std::string& api_id,
                                          const std::string& route_key, const HttpApis& out, HttpRoute& route) {
  const TemplateValue* type = props.find("AuthorizationType");
  if (type == nullptr) return true;
  auto t = reader.text(*type, "Properties.AuthorizationType");
  if (!t) return false;
  if (*t == "NONE") return true;
  if (*t == "AWS_IAM") {
    reader.warning(*type, "Properties.AuthorizationType", "AWS_IAM is not checked locally; the route is served without it");
    return true;
  }
  if (*t != "CUSTOM") {
    reader.error(*type, "Properties.AuthorizationType", fmt::format("must be NONE, AWS_IAM or CUSTOM (got {})", *t));
    return false;
  }
  if (route_key != "$connect") {
    reader.error(*type, "Properties.AuthorizationType", "only the $connect route of a WebSocket API takes an authorizer");
    return false;
  }
  const std::string id =
      reference(reader, props.find("AuthorizerId"), "Properties.AuthorizerId", kApiGatewayV2AuthorizerType);
  if (id.empty()) return false;
  const HttpApi* api = out.find_api(api_id);
  const bool known = std::any_of(api->authorizers.begin(), api->authorizers.end(),
                                 [&](const HttpAuthorizer& a) { return a.name == id; });
  // An authorizer in error was reported.
  if (known) route.authorizer = id;
  return true;
}

std::string WebSocketReader::responded_route(const Evaluated& response) {
  HttpValueReader reader(sink_, response.resource->logical_id);
  const std::string route =
      reference(reader, response.properties.find("RouteId"), "Properties.RouteId", kApiGatewayV2RouteType);
  const TemplateValue* key = response.properties.find("RouteResponseKey");
  if (key == nullptr) {
    reader.error(response.properties, "Properties.RouteResponseKey", "required property is missing");
    return "";
  }
  auto k = reader.text(*key, "Properties.RouteResponseKey");
  if (!k) return "";
  if (*k != "$default") {
    reader.error(*key, "Properties.RouteResponseKey",
                 fmt::format("WebSocket APIs define only the $default route response (got {})", *k));
    return "";
  }
  return route;
}

void WebSocketReader::run(const std::vector<HttpResourceSource>& resources, HttpApis& out) {
  for (const auto& r : resources) {
    if (r.type.starts_with(kApiGatewayV2Prefix)) types_[r.logical_id] = r.type;
  }
  std::vector<Evaluated> routes;
  std::vector<Evaluated> stages;
  std::vector<Evaluated> authorizers;
  std::set<std::string> responded;  // routes with a RouteResponse
  for (const auto& r : resources) {
    if (r.type == kApiGatewayV2ApiType) {
      auto props = properties(r);
      if (!props) continue;
      HttpValueReader reader(sink_, r.logical_id);
      const TemplateValue* protocol = props->find("ProtocolType");
      auto p = protocol != nullptr ? reader.text(*protocol, "Properties.ProtocolType") : std::nullopt;
      if (!p || *p != "WEBSOCKET") {
        if (p) {
          reader.warning(*protocol, "Properties.ProtocolType",
                         "only WEBSOCKET APIs of AWS::ApiGatewayV2 are served locally; use AWS::Serverless::HttpApi");
        }
        continue;
      }
      HttpApi api;
      api.id = r.logical_id;
      api.kind = HttpApiKind::kWebSocket;
      api.line = r.line;
      api.route_selection_expression = std::string(kDefaultRouteSelection);
      if (const TemplateValue* rse = props->find("RouteSelectionExpression")) {
        auto s = reader.text(*rse, "Properties.RouteSelectionExpression");
        if (!s) continue;
        if (!s->starts_with("$request.body.") && *s != "${request.body.action}") {
          reader.error(*rse, "Properties.RouteSelectionExpression",
                       fmt::format("must select a field of the message body, $request.body.<field> (got {})", *s));
          continue;
        }
        api.route_selection_expression = *s;
      }
      websocket_apis_.insert(api.id);
      out.apis.push_back(std::move(api));
    } else if (r.type == kApiGatewayV2RouteResponseType) {
      auto props = properties(r);
      if (!props) continue;
      if (auto route = responded_route(Evaluated{&r, std::move(*props)}); !route.empty()) responded.insert(route);
    } else if (r.type == kApiGatewayV2IntegrationType || r.type == kApiGatewayV2RouteType ||
               r.type == kApiGatewayV2StageType || r.type == kApiGatewayV2AuthorizerType) {
      auto props = properties(r);
      if (!props) continue;
      Evaluated e{&r, std::move(*props)};
      if (r.type == kApiGatewayV2IntegrationType) {
        integrations_.emplace(r.logical_id, std::move(e));
      } else if (r.type == kApiGatewayV2AuthorizerType) {
        authorizers.push_back(std::move(e));
      } else {
        (r.type == kApiGatewayV2RouteType ? routes : stages).push_back(std::move(e));
      }
    }
  }
  for (const auto& authorizer : authorizers) read_authorizer(authorizer, out);

  for (const auto& stage : stages) {
    HttpValueReader reader(sink_, stage.resource->logical_id);
    const std::string api_id = reference(reader, stage.properties.find("ApiId"), "Properties.ApiId", kApiGatewayV2ApiType);
    if (api_id.empty() || !websocket_apis_.contains(api_id)) continue;
    const TemplateValue* name = stage.properties.find("StageName");
    auto s = name != nullptr ? reader.text(*name, "Properties.StageName") : std::nullopt;
    if (name == nullptr) reader.error(stage.properties, "Properties.StageName", "required property is missing");
    if (!s) continue;
    std::map<std::string, std::string> variables;
    if (const TemplateValue* v = stage.properties.find("StageVariables")) {
      auto read = reader.stage_variables(*v, "Properties.StageVariables");
      if (!read) continue;
      variables = std::move(*read);
    }
    for (auto& api : out.apis) {
      // Several stages of one API serve the same routes; the first one names the local stage.
      if (api.id == api_id && api.stage.empty()) {
        api.stage = *s;
        api.stage_variables = std::move(variables);
      }
    }
  }

  std::map<std::string, std::string> functions_of;  // integration id -> function ("" in error)
  for (const auto& route : routes) {
    const std::string& id = route.resource->logical_id;
    HttpValueReader reader(sink_, id);
    const std::string api_id = reference(reader, route.properties.find("ApiId"), "Properties.ApiId", kApiGatewayV2ApiType);
    if (api_id.empty() || !websocket_apis_.contains(api_id)) continue;
    const TemplateValue* key = route.properties.find("RouteKey");
    auto route_key = key != nullptr ? reader.text(*key, "Properties.RouteKey") : std::nullopt;
    if (key == nullptr) reader.error(route.properties, "Properties.RouteKey", "required property is missing");
    if (route_key && route_key->empty()) {
      reader.error(*key, "Properties.RouteKey", "must not be empty");
      continue;
    }
    const TemplateValue* target = route.properties.find("Target");
    if (target == nullptr) {
      reader.warning(route.properties, "Properties.Target",
                     "the route has no integration target; it is not served locally");
      continue;
    }
    const std::string integration =
        reference(reader, target, "Properties.Target", kApiGatewayV2IntegrationType, "integrations/");
    if (!route_key || integration.empty()) continue;
    auto [it, inserted] = functions_of.emplace(integration, "");
    if (inserted) it->second = integration_function(integrations_.at(integration));
    if (it->second.empty()) continue;
    for (const auto& r : out.routes) {
      if (r.api_id == api_id && r.path == *route_key) {
        reader.error(*key, "Properties.RouteKey", fmt::format("{} of {} is already routed by {}", *route_key, api_id,
                                                               r.source));
        route_key.reset();
        break;
      }
    }
    if (!route_key) continue;
    HttpRoute r;
    if (!route_authorization(reader, route.properties, api_id, *route_key, out, r)) continue;
    // Two-way (API Gateway sends the function's answer back) only with both the route's
    // RouteResponseSelectionExpression and a $default RouteResponse, as the console's "two-way
    // communication" makes them; with one of the two the route stays one-way, as deployed.
    const TemplateValue* rrse = route.properties.find("RouteResponseSelectionExpression");
    if (rrse != nullptr && !reader.text(*rrse, "Properties.RouteResponseSelectionExpression")) continue;
    r.route_response = rrse != nullptr && responded.contains(id);
    if (rrse != nullptr && !r.route_response) {
      reader.warning(*rrse, "Properties.RouteResponseSelectionExpression",
                     "no AWS::ApiGatewayV2::RouteResponse (RouteResponseKey $default) names this route: API Gateway "
                     "does not send the function's answer back, and neither does lambdad");
    } else if (rrse == nullptr && responded.contains(id)) {
      reader.warning(route.properties, "Properties.RouteResponseSelectionExpression",
                     "the route has a RouteResponse but no RouteResponseSelectionExpression ($default): API Gateway "
                     "does not send the function's answer back, and neither does lambdad");
    }
    r.api_id = api_id;
    r.method = "ANY";
    r.path = *route_key;
    r.function_name = it->second;
    r.payload_format_version = "1.0";
    r.timeout_ms = kWebSocketTimeoutMs;
    r.source = id;
    r.line = route.resource->line;
    out.routes.push_back(std::move(r));
  }
}

}  // namespace

void read_websocket_apis(IntrinsicEvaluator& refs, const std::vector<HttpResourceSource>& resources,
                         const std::set<std::string>& functions, DiagnosticSink& sink, HttpApis& out) {
  WebSocketReader(refs, functions, sink).run(resources, out);
}

}  // namespace lambdad::config
