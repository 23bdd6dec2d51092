// config (internal): reading the HTTP fronts of a template (decision 020). The loaders hand over
// what they already know (resources, functions with their deployed names); this reads Events of
// Type Api / HttpApi, AWS::Serverless::Api / HttpApi, FunctionUrlConfig and the WebSocket
// resources of AWS::ApiGatewayV2 into config::HttpApis, reporting every malformed value.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostic_sink.hpp"
#include "intrinsic_evaluator.hpp"
#include "lambdad/config/http_apis.hpp"
#include "resource_types.hpp"
#include "template_value.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {

inline constexpr std::string_view kImplicitRestApi = "ServerlessRestApi";
inline constexpr std::string_view kImplicitHttpApi = "ServerlessHttpApi";

// A resource of the template other than a function, as the HTTP reader needs it.
struct HttpResourceSource {
  std::string logical_id;
  std::string type;
  const YamlValue* node = nullptr;  // the resource's mapping (Type, Properties, ...)
  int line = 0;
};

// A function that loaded, with what the HTTP reader needs of it.
struct HttpFunctionSource {
  std::string logical_id;
  std::string name;                          // deployed name (FunctionConfig::name)
  const YamlValue* events = nullptr;         // Properties.Events as written; nullptr when absent
  const TemplateValue* url_config = nullptr;  // Properties.FunctionUrlConfig after Globals; nullptr when absent
};

// Reads values at one resource's property paths, reporting what is wrong to the sink.
class HttpValueReader {
 public:
  HttpValueReader(DiagnosticSink& sink, std::string resource) : sink_(sink), resource_(std::move(resource)) {}

  void error(const TemplateValue& at, std::string_view path, std::string message) {
    sink_.error(at.line, resource_, std::string(path), std::move(message));
  }
  void warning(const TemplateValue& at, std::string_view path, std::string message) {
    sink_.warning(at.line, resource_, std::string(path), std::move(message));
  }
  const std::string& resource() const { return resource_; }

  // A scalar; an unresolvable value is an error (a route needs it locally).
  std::optional<std::string> text(const TemplateValue& v, std::string_view path);
  // "true"/"false" (YAML booleans arrive as text).
  std::optional<bool> boolean(const TemplateValue& v, std::string_view path);
  std::optional<int> integer(const TemplateValue& v, std::string_view path, int min, int max);
  // A list of scalars (a single scalar is a list of one when `single` is set).
  std::optional<std::vector<std::string>> text_list(const TemplateValue& v, std::string_view path,
                                                    bool single = false);
  // Stage variables: a mapping of names ([A-Za-z0-9_]+) to scalar values; nullopt when malformed.
  std::optional<std::map<std::string, std::string>> stage_variables(const TemplateValue& v, std::string_view path);
  // A mapping; otherwise reported.
  bool mapping(const TemplateValue& v, std::string_view path);
  // Warns about keys of `v` not in `known` ("unknown property of <what>; ignored").
  void warn_unknown_keys(const TemplateValue& v, std::string_view path, std::span<const std::string_view> known,
                         std::string_view what);

 private:
  DiagnosticSink& sink_;
  std::string resource_;
};

// A path as API Gateway takes it, normalised (leading '/', no trailing '/'); nullopt with `problem`
// set when it is not one.
std::optional<std::string> normalise_http_path(std::string_view path, std::string& problem);
// "get" / "ANY" -> "GET" / "ANY"; nullopt for anything but an HTTP method API Gateway routes.
std::optional<std::string> http_method(std::string_view method);
// The deployed function name an ARN or invocation URI names, when it is one of `functions`; else
// nullopt. Accepts a function ARN (optionally qualified), an API Gateway invocation URI
// (arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations), or a name.
std::optional<std::string> function_of_arn(std::string_view arn, const std::set<std::string>& functions);

// A WebSocket authorizer's identity source, `route.request.header.<name>`,
// `route.request.querystring.<name>`, `stageVariables.<name>` or `context.<name>`, added to
// `authorizer`'s; false (nothing added) for another.
bool add_websocket_identity_source(std::string_view source, HttpAuthorizer& authorizer);

// Function URL Cors, REST Cors (SAM's quoted strings), HTTP API CorsConfiguration.
std::optional<HttpCors> read_url_cors(HttpValueReader& reader, const TemplateValue& v, std::string_view path);
std::optional<HttpCors> read_rest_cors(HttpValueReader& reader, const TemplateValue& v, std::string_view path);
std::optional<HttpCors> read_http_api_cors(HttpValueReader& reader, const TemplateValue& v, std::string_view path);
// A function's FunctionUrlConfig; nullopt when malformed (reported).
std::optional<FunctionUrl> read_function_url(HttpValueReader& reader, const TemplateValue& v,
                                             const std::string& function_name);

// The whole of a template's HTTP fronts. `context` is the loader's evaluation context once
// function names are known; `globals` the Globals section (nullptr when absent).
HttpApis read_template_http(const EvaluationContext& context, const std::vector<HttpResourceSource>& resources,
                            const std::vector<HttpFunctionSource>& functions, const YamlValue* globals,
                            DiagnosticSink& sink);

// Internal to read_template_http: the WebSocket APIs of AWS::ApiGatewayV2 resources.
void read_websocket_apis(IntrinsicEvaluator& refs, const std::vector<HttpResourceSource>& resources,
                         const std::set<std::string>& functions, DiagnosticSink& sink, HttpApis& out);

}  // namespace lambdad::config
