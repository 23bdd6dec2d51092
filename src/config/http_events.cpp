// config (internal): a template's REST and HTTP APIs: AWS::Serverless::Api / HttpApi resources,
// the implicit ServerlessRestApi / ServerlessHttpApi, function Events of Type Api and HttpApi, and
// FunctionUrlConfig. WebSocket APIs are read in http_websocket.cpp.
#include <algorithm>
#include <array>
#include <regex>
#include <utility>

#include <fmt/format.h>

#include "globals_merge.hpp"
#include "http_reader.hpp"
#include "key_lists.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

constexpr int kRestTimeoutMs = 29000;
constexpr int kHttpTimeoutMs = 30000;
constexpr int kMinTimeoutMs = 50;
constexpr int kMaxReauthorizeSeconds = 3600;
constexpr int kDefaultReauthorizeSeconds = 300;

// Whether `text` compiles as a regular expression (ECMAScript, as the front matches tokens).
bool is_regular_expression(const std::string& text) {
  try {
    std::regex compiled(text);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

constexpr std::array<std::string_view, 10> kApiEventKeys = {
    "Path", "Method", "RestApiId", "Auth", "RequestParameters", "TimeoutInMillis", "RequestModel",
    "MethodSettings", "Stage", "ResponseTransferMode"};
constexpr std::array<std::string_view, 8> kHttpApiEventKeys = {"Path", "Method", "ApiId", "Auth", "PayloadFormatVersion",
                                                               "TimeoutInMillis", "RouteSettings", "Stage"};

class HttpTemplateReader {
 public:
  HttpTemplateReader(IntrinsicEvaluator& refs, const std::set<std::string>& functions, DiagnosticSink& sink,
                     HttpApis& out)
      : refs_(refs), functions_(functions), sink_(sink), out_(out) {}

  // Globals.Api and Globals.HttpApi, applied to every API of their kind, implicit ones included.
  void read_globals(const YamlValue* globals);

  void read_api(const HttpResourceSource& resource);
  void read_events(const HttpFunctionSource& function, const std::map<std::string, std::string>& api_types);

 private:
  TemplateValue properties(const HttpResourceSource& resource);
  // The API's properties (merged with Globals) into `api`; false when any is in error (reported).
  bool read_api_properties(HttpValueReader& reader, const TemplateValue& props, HttpApi& api, bool explicit_api);
  std::optional<std::vector<HttpAuthorizer>> read_authorizers(HttpValueReader& reader, const TemplateValue& auth,
                                                              HttpApiKind kind, std::string& default_authorizer);
  std::optional<HttpAuthorizer> read_authorizer(HttpValueReader& reader, const TemplateEntry& entry,
                                                std::string_view path, HttpApiKind kind);
  void read_event(HttpValueReader& reader, const HttpFunctionSource& function, const TemplateEntry& event,
                  const std::map<std::string, std::string>& api_types);
  // The API an event's RestApiId / ApiId names (the implicit one when absent); "" when it names
  // none of the template's (reported).
  std::string event_api(HttpValueReader& reader, const TemplateValue& props, std::string_view path, bool rest,
                        const std::map<std::string, std::string>& api_types);
  HttpApi* find_api(const std::string& id);
  void add_route(HttpValueReader& reader, const TemplateValue& at, HttpRoute route);

  IntrinsicEvaluator& refs_;
  const std::set<std::string>& functions_;
  DiagnosticSink& sink_;
  HttpApis& out_;
  std::set<std::string> failed_apis_;  // APIs in error: their routes are not checked further
  std::optional<TemplateValue> rest_globals_;
  std::string prefix_ = "Properties";  // what API property paths start with: "Api" / "HttpApi" for Globals
  std::optional<TemplateValue> http_globals_;
};

TemplateValue HttpTemplateReader::properties(const HttpResourceSource& resource) {
  TemplateValue props;
  props.kind = Kind::kMap;
  props.line = resource.line;
  if (const YamlEntry* entry = resource.node->find_entry("Properties")) {
    props = refs_.evaluate(entry->value);
    strip_no_value(props);
    if (!props.is(Kind::kMap)) {
      sink_.error(entry->key_line, resource.logical_id, "Properties",
                  props.is(Kind::kInvalid) ? props.text : "must be a mapping that can be resolved locally");
      props = TemplateValue::invalid("", entry->key_line);
    }
  }
  return props;
}

void HttpTemplateReader::read_globals(const YamlValue* globals) {
  if (globals == nullptr || !globals->is(YamlValue::Kind::kMap)) return;  // reported by the loader
  for (auto [key, into] : {std::pair{"Api", &rest_globals_}, std::pair{"HttpApi", &http_globals_}}) {
    const YamlValue* section = globals->find(key);
    if (section == nullptr) continue;
    TemplateValue v = refs_.evaluate(*section);
    if (!v.is(Kind::kMap)) {
      sink_.error(section->line, "Globals", key, "must be a mapping of API properties");
      continue;
    }
    *into = std::move(v);
  }
}

void HttpTemplateReader::read_api(const HttpResourceSource& resource) {
  const bool rest = resource.type == kServerlessApiType;
  HttpValueReader reader(sink_, resource.logical_id);
  HttpApi api;
  api.id = resource.logical_id;
  api.kind = rest ? HttpApiKind::kRest : HttpApiKind::kHttp;
  api.line = resource.line;
  TemplateValue props = properties(resource);
  bool ok = props.is(Kind::kMap);
  if (ok) {
    const auto& globals = rest ? rest_globals_ : http_globals_;
    if (globals) props = merge_globals(*globals, std::move(props));
    strip_no_value(props);
    ok = read_api_properties(reader, props, api, true);
  }
  if (!ok) failed_apis_.insert(api.id);
  out_.apis.push_back(std::move(api));
}

bool HttpTemplateReader::read_api_properties(HttpValueReader& reader, const TemplateValue& props, HttpApi& api,
                                             bool explicit_api) {
  const bool rest = api.kind == HttpApiKind::kRest;
  api.stage = rest ? "Prod" : "$default";
  bool ok = true;
  if (const TemplateValue* stage = props.find("StageName"); stage && explicit_api) {
    auto s = reader.text(*stage, prefix_ + ".StageName");
    if (s && s->empty()) reader.error(*stage, prefix_ + ".StageName", "must not be empty");
    ok = s.has_value() && !s->empty();
    if (ok) api.stage = *s;
  } else if (rest && explicit_api) {
    reader.error(props, prefix_ + ".StageName", "required property is missing");
    ok = false;
  }
  const std::string_view cors_key = rest ? "Cors" : "CorsConfiguration";
  if (const TemplateValue* cors = props.find(cors_key)) {
    const std::string p = fmt::format("{}.{}", prefix_, cors_key);
    api.cors = rest ? read_rest_cors(reader, *cors, p) : read_http_api_cors(reader, *cors, p);
    ok = ok && api.cors.has_value();
  }
  // SAM names a stage's variables Variables on a REST API and StageVariables on an HTTP API.
  const std::string_view variables_key = rest ? "Variables" : "StageVariables";
  if (const TemplateValue* variables = props.find(variables_key)) {
    auto read = reader.stage_variables(*variables, fmt::format("{}.{}", prefix_, variables_key));
    if (read) api.stage_variables = std::move(*read);
    ok = ok && read.has_value();
  }
  if (const TemplateValue* types = props.find("BinaryMediaTypes"); types && rest) {
    auto list = reader.text_list(*types, prefix_ + ".BinaryMediaTypes");
    // API Gateway writes '/' as '~1' in these (JSON pointer escaping); SAM documents both.
    if (list) {
      for (auto& t : *list) {
        for (auto at = t.find("~1"); at != std::string::npos; at = t.find("~1", at + 1)) t.replace(at, 2, "/");
      }
      api.binary_media_types = std::move(*list);
    }
    ok = ok && list.has_value();
  }
  if (const TemplateValue* auth = props.find("Auth")) {
    auto authorizers = read_authorizers(reader, *auth, api.kind, api.default_authorizer);
    if (authorizers) api.authorizers = std::move(*authorizers);
    ok = ok && authorizers.has_value();
  }
  for (std::string_view definition : {"DefinitionBody", "DefinitionUri"}) {
    if (const TemplateValue* d = props.find(definition)) {
      reader.warning(*d, fmt::format("{}.{}", prefix_, definition),
                     "routes of an OpenAPI definition are not served locally; only function events are");
    }
  }
  return ok;
}

std::optional<std::vector<HttpAuthorizer>> HttpTemplateReader::read_authorizers(HttpValueReader& reader,
                                                                                const TemplateValue& auth,
                                                                                HttpApiKind kind,
                                                                                std::string& default_authorizer) {
  if (!reader.mapping(auth, prefix_ + ".Auth")) return std::nullopt;
  std::vector<HttpAuthorizer> authorizers;
  bool ok = true;
  if (const TemplateValue* list = auth.find("Authorizers")) {
    if (reader.mapping(*list, prefix_ + ".Auth.Authorizers")) {
      for (const auto& entry : list->entries) {
        const std::string path = fmt::format("{}.Auth.Authorizers.{}", prefix_, entry.key);
        if (!reader.mapping(entry.value, path)) {
          ok = false;
          continue;
        }
        if (entry.value.find("FunctionArn") == nullptr) {
          // Cognito user pools (REST) and JWT authorizers (HTTP) are checked by AWS services.
          reader.warning(entry.value, path,
                         "only Lambda authorizers (FunctionArn) are run locally; routes using this one are served "
                         "without authorization");
          continue;
        }
        auto authorizer = read_authorizer(reader, entry, path, kind);
        if (authorizer) authorizers.push_back(std::move(*authorizer));
        ok = ok && authorizer.has_value();
      }
    } else {
      ok = false;
    }
  }
  if (const TemplateValue* d = auth.find("DefaultAuthorizer")) {
    auto name = reader.text(*d, prefix_ + ".Auth.DefaultAuthorizer");
    if (!name) return std::nullopt;
    const bool known = std::any_of(authorizers.begin(), authorizers.end(),
                                   [&](const HttpAuthorizer& a) { return a.name == *name; });
    const TemplateValue* declared = auth.find("Authorizers") != nullptr ? auth.find("Authorizers")->find(*name) : nullptr;
    if (*name == "AWS_IAM") {
      reader.warning(*d, prefix_ + ".Auth.DefaultAuthorizer",
                     "IAM authorization is not checked locally; routes are served without it");
    } else if (known) {
      default_authorizer = *name;
    } else if (declared == nullptr) {
      reader.error(*d, prefix_ + ".Auth.DefaultAuthorizer", fmt::format("{} is not one of Auth.Authorizers", *name));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return authorizers;
}

std::optional<HttpAuthorizer> HttpTemplateReader::read_authorizer(HttpValueReader& reader, const TemplateEntry& entry,
                                                                  std::string_view path, HttpApiKind kind) {
  const TemplateValue& v = entry.value;
  HttpAuthorizer a;
  a.name = entry.key;
  a.type = kind == HttpApiKind::kRest ? HttpAuthorizer::Type::kToken : HttpAuthorizer::Type::kRequest;
  bool ok = true;
  const TemplateValue& arn = *v.find("FunctionArn");
  if (auto s = reader.text(arn, fmt::format("{}.FunctionArn", path))) {
    auto name = function_of_arn(*s, functions_);
    if (name) {
      a.function_name = *name;
    } else {
      reader.error(arn, fmt::format("{}.FunctionArn", path),
                   fmt::format("{} is not a function of this template (use !GetAtt <Function>.Arn)", *s));
      ok = false;
    }
  } else {
    ok = false;
  }
  if (kind == HttpApiKind::kRest) {
    if (const TemplateValue* t = v.find("FunctionPayloadType")) {
      auto s = reader.text(*t, fmt::format("{}.FunctionPayloadType", path));
      if (s && *s == "REQUEST") {
        a.type = HttpAuthorizer::Type::kRequest;
      } else if (s && *s != "TOKEN") {
        reader.error(*t, fmt::format("{}.FunctionPayloadType", path), fmt::format("must be TOKEN or REQUEST (got {})", *s));
        ok = false;
      }
      ok = ok && s.has_value();
    }
  } else {
    const TemplateValue* version = v.find("AuthorizerPayloadFormatVersion");
    const std::string p = fmt::format("{}.AuthorizerPayloadFormatVersion", path);
    if (version == nullptr) {
      reader.error(v, p, "required property is missing (\"1.0\" or \"2.0\")");
      ok = false;
    } else if (auto s = reader.text(*version, p)) {
      if (*s == "1" || *s == "1.0") a.payload_format_version = "1.0";
      if (*s == "2" || *s == "2.0") a.payload_format_version = "2.0";
      if (a.payload_format_version.empty()) {
        reader.error(*version, p, fmt::format("must be \"1.0\" or \"2.0\" (got {})", *s));
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const TemplateValue* simple = v.find("EnableSimpleResponses")) {
      auto b = reader.boolean(*simple, fmt::format("{}.EnableSimpleResponses", path));
      if (b && *b && a.payload_format_version == "1.0") {
        reader.error(*simple, fmt::format("{}.EnableSimpleResponses", path),
                     "simple responses need AuthorizerPayloadFormatVersion 2.0");
        ok = false;
      }
      a.simple_responses = b.value_or(false);
      ok = ok && b.has_value();
    }
  }
  a.ttl_seconds = kDefaultReauthorizeSeconds;
  if (const TemplateValue* identity = v.find("Identity")) {
    const std::string ipath = fmt::format("{}.Identity", path);
    if (!reader.mapping(*identity, ipath)) return std::nullopt;
    const bool token = a.type == HttpAuthorizer::Type::kToken;
    if (const TemplateValue* header = identity->find("Header"); header && token) {
      auto s = reader.text(*header, ipath + ".Header");
      if (s) a.identity_headers = {*s};
      ok = ok && s.has_value();
    }
    if (const TemplateValue* expression = identity->find("ValidationExpression"); expression && token) {
      auto s = reader.text(*expression, ipath + ".ValidationExpression");
      if (s && !is_regular_expression(*s)) {
        reader.error(*expression, ipath + ".ValidationExpression", fmt::format("{} is not a regular expression", *s));
        s.reset();
      }
      if (s) a.validation_expression = *s;
      ok = ok && s.has_value();
    }
    if (!token) {
      for (auto [key, list] : {std::pair{"Headers", &a.identity_headers},
                               std::pair{"QueryStrings", &a.identity_query_strings},
                               std::pair{"StageVariables", &a.identity_stage_variables},
                               std::pair{"Context", &a.identity_context}}) {
        if (const TemplateValue* item = identity->find(key)) {
          auto values = reader.text_list(*item, fmt::format("{}.{}", ipath, key));
          if (values) *list = std::move(*values);
          ok = ok && values.has_value();
        }
      }
    }
    if (const TemplateValue* every = identity->find("ReauthorizeEvery")) {
      auto seconds = reader.integer(*every, ipath + ".ReauthorizeEvery", 0, kMaxReauthorizeSeconds);
      if (seconds) a.ttl_seconds = *seconds;
      ok = ok && seconds.has_value();
    }
  }
  if (a.type == HttpAuthorizer::Type::kToken && a.identity_headers.empty()) a.identity_headers = {"Authorization"};
  // An HTTP API caches results by identity sources; without any there is nothing to key them on.
  if (kind == HttpApiKind::kHttp && a.identity_headers.empty() && a.identity_query_strings.empty() &&
      a.identity_stage_variables.empty() && a.identity_context.empty()) {
    a.ttl_seconds = 0;
  }
  if (!ok) return std::nullopt;
  return a;
}

HttpApi* HttpTemplateReader::find_api(const std::string& id) {
  for (auto& api : out_.apis) {
    if (api.id == id) return &api;
  }
  return nullptr;
}

std::string HttpTemplateReader::event_api(HttpValueReader& reader, const TemplateValue& props, std::string_view path,
                                          bool rest, const std::map<std::string, std::string>& api_types) {
  const std::string_view key = rest ? "RestApiId" : "ApiId";
  const std::string_view type = rest ? kServerlessApiType : kServerlessHttpApiType;
  const TemplateValue* id = props.find(key);
  if (id == nullptr) {
    const std::string implicit(rest ? kImplicitRestApi : kImplicitHttpApi);
    if (find_api(implicit) == nullptr) {
      HttpApi api;
      api.id = implicit;
      api.kind = rest ? HttpApiKind::kRest : HttpApiKind::kHttp;
      api.implicit = true;
      api.line = props.line;
      // Globals.Api / Globals.HttpApi shape the implicit API; problems in them are Globals'.
      HttpValueReader globals_reader(sink_, "Globals");
      const auto& globals = rest ? rest_globals_ : http_globals_;
      TemplateValue merged;
      merged.kind = Kind::kMap;
      if (globals) merged = *globals;
      strip_no_value(merged);
      prefix_ = rest ? "Api" : "HttpApi";
      if (!read_api_properties(globals_reader, merged, api, false)) failed_apis_.insert(api.id);
      prefix_ = "Properties";
      out_.apis.push_back(std::move(api));
    }
    return implicit;
  }
  const std::string p = fmt::format("{}.{}", path, key);
  const std::string& named = id->text;  // a name, or the unresolvable expression
  if (id->is(Kind::kString)) {
    if (auto it = api_types.find(id->text); it != api_types.end() && it->second == type) return id->text;
  } else if (!id->is(Kind::kUnresolved)) {
    reader.text(*id, p);
    return {};
  }
  reader.warning(*id, p, fmt::format("{} names no {} of the template; the event is not served locally", named, type));
  return {};
}

void HttpTemplateReader::add_route(HttpValueReader& reader, const TemplateValue& at, HttpRoute route) {
  for (const auto& r : out_.routes) {
    if (r.api_id == route.api_id && r.method == route.method && r.path == route.path) {
      reader.error(at, route.source.substr(route.source.find('.') + 1),
                   fmt::format("{} {} of {} is already routed by {}", route.method, route.path, route.api_id, r.source));
      return;
    }
  }
  out_.routes.push_back(std::move(route));
}

void HttpTemplateReader::read_events(const HttpFunctionSource& function,
                                     const std::map<std::string, std::string>& api_types) {
  if (function.events == nullptr) return;
  HttpValueReader reader(sink_, function.logical_id);
  TemplateValue events = refs_.evaluate(*function.events);
  strip_no_value(events);
  if (!events.is(Kind::kMap)) return;  // not a mapping: nothing SAM would route either
  for (const auto& event : events.entries) read_event(reader, function, event, api_types);
}

void HttpTemplateReader::read_event(HttpValueReader& reader, const HttpFunctionSource& function,
                                    const TemplateEntry& event, const std::map<std::string, std::string>& api_types) {
  const std::string path = fmt::format("Properties.Events.{}", event.key);
  if (!event.value.is(Kind::kMap)) return;
  const TemplateValue* type = event.value.find("Type");
  if (type == nullptr || !type->is(Kind::kString) || (type->text != "Api" && type->text != "HttpApi")) return;
  const bool rest = type->text == "Api";
  const std::string ppath = path + ".Properties";
  const TemplateValue* props = event.value.find("Properties");
  TemplateValue empty;
  empty.kind = Kind::kMap;
  empty.line = event.value.line;
  if (props == nullptr) {
    if (rest) {
      reader.error(event.value, ppath, "required property is missing (Path and Method)");
      return;
    }
    props = &empty;
  }
  if (!reader.mapping(*props, ppath)) return;
  reader.warn_unknown_keys(*props, ppath, rest ? std::span<const std::string_view>(kApiEventKeys)
                                               : std::span<const std::string_view>(kHttpApiEventKeys),
                           rest ? "an Api event" : "an HttpApi event");

  HttpRoute route;
  route.function_name = function.name;
  route.source = fmt::format("{}.{}", function.logical_id, path);
  route.line = event.value.line;
  route.payload_format_version = rest ? "1.0" : "2.0";
  route.timeout_ms = rest ? kRestTimeoutMs : kHttpTimeoutMs;
  bool ok = true;

  const TemplateValue* p = props->find("Path");
  const TemplateValue* m = props->find("Method");
  if (rest && (p == nullptr || m == nullptr)) {
    reader.error(*props, fmt::format("{}.{}", ppath, p == nullptr ? "Path" : "Method"), "required property is missing");
    ok = false;
  }
  route.path = "$default";
  route.method = "ANY";
  if (p != nullptr) {
    if (auto s = reader.text(*p, ppath + ".Path")) {
      std::string problem;
      auto normal = (!rest && *s == "$default") ? std::optional<std::string>(*s) : normalise_http_path(*s, problem);
      if (normal) {
        route.path = std::move(*normal);
      } else {
        reader.error(*p, ppath + ".Path", problem);
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (m != nullptr) {
    if (auto s = reader.text(*m, ppath + ".Method")) {
      auto method = http_method(*s);
      if (method) {
        route.method = *method;
      } else {
        reader.error(*m, ppath + ".Method",
                     fmt::format("{} is not a method API Gateway routes (get, post, put, delete, patch, head, "
                                 "options, any)",
                                 *s));
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (!rest && ok && route.path == "$default" && route.method != "ANY") {
    reader.error(m != nullptr ? *m : *props, ppath + ".Method", "the $default route takes every method (any)");
    ok = false;
  }
  if (const TemplateValue* t = props->find("TimeoutInMillis")) {
    auto ms = reader.integer(*t, ppath + ".TimeoutInMillis", kMinTimeoutMs, route.timeout_ms);
    if (ms) route.timeout_ms = *ms;
    ok = ok && ms.has_value();
  }
  if (const TemplateValue* v = props->find("PayloadFormatVersion"); v && !rest) {
    if (auto s = reader.text(*v, ppath + ".PayloadFormatVersion")) {
      if (*s == "1.0" || *s == "2.0") {
        route.payload_format_version = *s;
      } else {
        reader.error(*v, ppath + ".PayloadFormatVersion", fmt::format("must be \"1.0\" or \"2.0\" (got {})", *s));
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (const TemplateValue* r = props->find("RequestParameters"); r && rest) {
    reader.warning(*r, ppath + ".RequestParameters", "required request parameters are not checked locally");
  }
  std::optional<std::string> authorizer;  // nullopt: the API's default
  const TemplateValue* auth = props->find("Auth");
  if (auth != nullptr && reader.mapping(*auth, ppath + ".Auth")) {
    if (const TemplateValue* a = auth->find("Authorizer")) {
      authorizer = reader.text(*a, ppath + ".Auth.Authorizer");
      ok = ok && authorizer.has_value();
    }
  } else if (auth != nullptr) {
    ok = false;
  }

  const std::size_t errors_before = sink_.error_count();
  route.api_id = event_api(reader, *props, ppath, rest, api_types);
  if (route.api_id.empty() || !ok || sink_.error_count() != errors_before) return;
  HttpApi* api = find_api(route.api_id);
  if (api == nullptr || failed_apis_.contains(route.api_id)) return;
  route.authorizer = api->default_authorizer;
  if (authorizer) {
    const TemplateValue& at = *auth->find("Authorizer");
    const std::string apath = ppath + ".Auth.Authorizer";
    const bool known = std::any_of(api->authorizers.begin(), api->authorizers.end(),
                                   [&](const HttpAuthorizer& a) { return a.name == *authorizer; });
    if (*authorizer == "NONE") {
      route.authorizer.clear();
    } else if (*authorizer == "AWS_IAM") {
      reader.warning(at, apath, "IAM authorization is not checked locally; the route is served without it");
      route.authorizer.clear();
    } else if (known) {
      route.authorizer = *authorizer;
    } else {
      reader.error(at, apath, fmt::format("{} is not an authorizer of {}", *authorizer, route.api_id));
      return;
    }
  }
  add_route(reader, event.value, std::move(route));
}

}  // namespace

HttpApis read_template_http(const EvaluationContext& context, const std::vector<HttpResourceSource>& resources,
                            const std::vector<HttpFunctionSource>& functions, const YamlValue* globals,
                            DiagnosticSink& sink) {
  // References between the HTTP resources (RestApiId: !Ref MyApi, Target: integrations/${Integ})
  // evaluate to the logical id they name; CloudFormation forbids a parameter of the same name.
  EvaluationContext with_refs = context;
  std::map<std::string, std::string> api_types;
  for (const auto& r : resources) {
    if (r.type == kServerlessApiType || r.type == kServerlessHttpApiType || r.type.starts_with(kApiGatewayV2Prefix)) {
      with_refs.parameters[r.logical_id] = TemplateValue::string(r.logical_id, r.line);
      api_types[r.logical_id] = r.type;
    }
  }
  IntrinsicEvaluator refs(std::move(with_refs));
  // Resources whose Condition is false do not exist; an unresolvable one is taken to exist.
  std::vector<HttpResourceSource> active;
  for (const auto& r : resources) {
    const YamlEntry* condition = api_types.contains(r.logical_id) ? r.node->find_entry("Condition") : nullptr;
    if (condition != nullptr && condition->value.is(YamlValue::Kind::kScalar)) {
      const TemplateValue v = refs.condition(condition->value.text, condition->key_line);
      if (v.is(Kind::kInvalid)) sink.error(condition->key_line, r.logical_id, "Condition", v.text);
      if (v.is(Kind::kInvalid) || (v.is(Kind::kString) && v.text == "false")) {
        api_types.erase(r.logical_id);
        continue;
      }
    } else if (condition != nullptr) {
      sink.error(condition->key_line, r.logical_id, "Condition", "must be the name of a condition");
      api_types.erase(r.logical_id);
      continue;
    }
    active.push_back(r);
  }
  std::set<std::string> names;
  for (const auto& f : functions) names.insert(f.name);

  HttpApis out;
  HttpTemplateReader reader(refs, names, sink, out);
  reader.read_globals(globals);
  for (const auto& r : active) {
    if (r.type == kServerlessApiType || r.type == kServerlessHttpApiType) reader.read_api(r);
  }
  for (const auto& f : functions) {
    reader.read_events(f, api_types);
    if (f.url_config != nullptr) {
      HttpValueReader url_reader(sink, f.logical_id);
      if (auto url = read_function_url(url_reader, *f.url_config, f.name)) out.urls.push_back(std::move(*url));
    }
  }
  read_websocket_apis(refs, active, names, sink, out);
  return out;
}

}  // namespace lambdad::config
