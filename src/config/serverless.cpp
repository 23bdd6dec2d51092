// config: loading functions from a Serverless Framework service file (serverless.yml). This file
// owns the service: the YAML tree (read by the same reader as templates), the Framework's
// variables resolved on demand (only what the functions use is resolved, so plugin sections and
// `resources` never warn), provider, the service's layers and names; each function then becomes
// SAM properties (serverless_function) that FunctionBuilder checks as it checks a template's.
#include "source_file.hpp"
#include "lambdad/config/serverless.hpp"
#include "lambdad/config/function_names.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "diagnostic_sink.hpp"
#include "function_builder.hpp"
#include "key_lists.hpp"
#include "serverless_function.hpp"
#include "serverless_http.hpp"
#include "serverless_variables.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {
namespace {


constexpr std::array<std::string_view, 26> kTopLevelKeys = {
    "service",       "frameworkVersion",      "provider",          "functions",
    "custom",        "plugins",               "resources",         "package",
    "layers",        "useDotenv",             "variablesResolutionMode",
    "configValidationMode",                   "deprecationNotificationMode",
    "disabledDeprecations",                   "unresolvedVariablesNotificationMode",
    "params",        "org",                   "app",               "outputs",
    "stages",        "build",                 "license",           "console",
    "dashboard",     "enableLocalInstallationFallback",            "stepFunctions"};

// provider keys lambdad reads.
constexpr std::array<std::string_view, 12> kProviderKeysUsed = {
    "name",   "runtime",      "memorySize", "timeout", "environment",         "region",
    "stage",  "architecture", "layers",     "ephemeralStorageSize", "versionFunctions", "tracing"};

// provider keys that only matter when deploying; ignored without a word.
constexpr std::array<std::string_view, 52> kProviderKeysIgnored = {
    "profile",         "logRetentionInDays", "logDataProtectionPolicy",
    "iam",             "iamRoleStatements",  "iamManagedPolicies",
    "role",            "rolePermissionsBoundary", "cfnRole",
    "deploymentBucket", "deploymentPrefix",  "deploymentMethod",
    "stackName",       "stackTags",          "tags",
    "stackPolicy",     "stackParameters",    "apiName",
    "apiGateway",      "httpApi",            "websocket",
    "websocketsApiName", "websocketsApiRouteSelectionExpression", "websocketsDescription",
    "alb",             "vpc",                "vpcEndpointIds",
    "endpointType",    "logs",
    "lambdaHashingVersion", "kmsKeyArn",     "notificationArns",
    "rollbackConfiguration", "eventBridge",  "ecr",
    "s3",              "disableRollback",    "runtimeManagement",
    "timezone",        "usagePlan",          "resourcePolicy",
    "apiKeys",         "cloudFront",         "environmentVariables",
    "deploymentBucketObject", "shouldStartNameWithService", "tracingConfig",
    "architectureDefault", "resolvers",      "build",
    "memory",          "capacityProviders"};  // capacityProviders: the instances; a function names one

// The Framework's logical id of a layer: `my-deps` -> MyDashdepsLambdaLayer.
std::string framework_layer_logical_id(std::string_view key) {
  std::string id;
  for (char c : key) {
    if (c == '-') {
      id += "Dash";
    } else if (c == '_') {
      id += "Underscore";
    } else {
      id += c;
    }
  }
  if (!id.empty() && id.front() >= 'a' && id.front() <= 'z') id.front() = static_cast<char>(id.front() - 'a' + 'A');
  return id + "LambdaLayer";
}

// ---------------------------------------------------------------------------------------------
// The service.

class ServerlessLoader {
 public:
  ServerlessLoader(const YamlValue& root, const std::filesystem::path& file, const ServerlessOptions& options,
                   DiagnosticSink& sink)
      : root_(root), file_(file), account_id_(options.account_id), resolver_(root, options, sink), sink_(sink) {}

  std::vector<FunctionConfig> run();
  // The HTTP fronts routing to `functions` (what run() returned).
  HttpApis http(const std::vector<FunctionConfig>& functions);

 private:
  std::optional<std::string> service_name();
  std::optional<YamlValue> read_provider();
  std::optional<std::filesystem::path> service_dir();
  ServiceLayers read_layers(const std::filesystem::path& dir);
  YamlValue resolve_function(const std::string& key, const YamlValue& raw);
  template <std::size_t N>
  YamlValue resolve_keys(const YamlPath& path, const YamlValue& raw, const std::array<std::string_view, N>& keys);

  const YamlValue& root_;
  std::filesystem::path file_;
  std::string account_id_;
  VariableResolver resolver_;
  DiagnosticSink& sink_;
};

std::vector<FunctionConfig> ServerlessLoader::run() {
  std::vector<FunctionConfig> functions;
  if (root_.is(YamlValue::Kind::kNull)) {
    sink_.error(0, "", "", "the file is empty");
    return functions;
  }
  if (!root_.is(YamlValue::Kind::kMap)) {
    sink_.error(root_.line, "", "", "serverless.yml must be a mapping (service, provider, functions)");
    return functions;
  }
  for (const auto& entry : root_.entries) {
    if (!contains(kTopLevelKeys, entry.key)) {
      sink_.warning(entry.value.line, "", entry.key, "unknown top-level property; ignored");
    }
  }

  const std::optional<std::string> service = service_name();
  const std::optional<YamlValue> provider = read_provider();
  const std::string stage = resolver_.stage();
  const std::optional<std::filesystem::path> dir = service_dir();
  if (auto package = resolver_.get(YamlPath{"package"}); package && package->is(YamlValue::Kind::kMap)) {
    if (const YamlValue* artifact = package->find("artifact")) {
      sink_.error(artifact->line, "", "package.artifact", "zip artifacts are not supported; point at a directory");
    }
  }

  const YamlValue* section = root_.find("functions");
  std::optional<YamlValue> resolved_section;
  if (section != nullptr && !section->is(YamlValue::Kind::kMap)) {
    // functions: ${file(...)} and the like: the whole section is one variable.
    resolved_section = resolver_.get(YamlPath{"functions"});
    section = &*resolved_section;
  }
  if (section == nullptr || section->is(YamlValue::Kind::kNull) ||
      (section->is(YamlValue::Kind::kMap) && section->entries.empty()) || section->unresolved) {
    sink_.error(section != nullptr ? section->line : 0, "", "functions",
                section != nullptr && section->unresolved ? "cannot be resolved; there is nothing to run"
                                                         : "no functions; there is nothing to run");
    return functions;
  }
  if (!section->is(YamlValue::Kind::kMap)) {
    sink_.error(section->line, "", "functions", "must be a mapping of function names to definitions");
    return functions;
  }
  if (!service || !provider || !dir) return functions;
  const ServiceLayers layers = read_layers(*dir);

  std::map<std::string, std::string> owner_of_name;
  for (const auto& entry : section->entries) {
    const std::size_t errors_before = sink_.error_count();
    YamlValue definition = resolved_section ? entry.value : resolve_function(entry.key, entry.value);
    if (sink_.error_count() != errors_before) continue;  // a variable of this function is in error
    if (definition.is(YamlValue::Kind::kNull)) definition.kind = YamlValue::Kind::kMap;  // `hello:` with nothing set
    if (!definition.is(YamlValue::Kind::kMap)) {
      sink_.error(entry.value.line, entry.key, "", "a function must be a mapping (handler, runtime, ...)");
      continue;
    }
    auto config = read_serverless_function(entry.key, definition, ServiceContext{*service, stage, *dir, *provider, layers,
                                                                          resolver_.region(), account_id_},
                                           sink_);
    if (!config) continue;
    if (auto [it, inserted] = owner_of_name.emplace(config->name, entry.key); !inserted) {
      sink_.error(entry.value.line, entry.key, "name",
                  fmt::format("function name {} is already used by {}", config->name, it->second));
      continue;
    }
    functions.push_back(std::move(*config));
  }
  return functions;
}

HttpApis ServerlessLoader::http(const std::vector<FunctionConfig>& functions) {
  std::vector<ServerlessHttpFunction> loaded;
  for (const auto& f : functions) loaded.push_back(ServerlessHttpFunction{f.short_name, f.name});
  return read_serverless_http(resolver_, root_, resolver_.stage(), loaded, sink_);
}

// Only the keys lambdad reads are resolved: events, iam, vpc and the like often name things only
// AWS knows (${cf:...}, ${ssm:...}), and warning about what is never used would be noise.
template <std::size_t N>
YamlValue ServerlessLoader::resolve_keys(const YamlPath& path, const YamlValue& raw, const std::array<std::string_view, N>& keys) {
  if (!raw.is(YamlValue::Kind::kMap)) return resolver_.get(path).value_or(YamlValue{});
  YamlValue out;
  out.kind = YamlValue::Kind::kMap;
  out.line = raw.line;
  YamlPath child = path;
  child.emplace_back();
  for (const auto& entry : raw.entries) {
    child.back() = entry.key;
    YamlValue placeholder;
    placeholder.line = entry.value.line;
    const bool used = contains(keys, entry.key) && entry.key != "events";
    out.entries.push_back(YamlEntry{entry.key, entry.key_line, {}, used ? resolver_.get(child).value_or(placeholder) : placeholder});
  }
  return out;
}

YamlValue ServerlessLoader::resolve_function(const std::string& key, const YamlValue& raw) {
  return resolve_keys(YamlPath{"functions", key}, raw, kFunctionKeysUsed);
}

std::optional<std::string> ServerlessLoader::service_name() {
  const std::size_t errors_before = sink_.error_count();
  std::optional<YamlValue> service = resolver_.get(YamlPath{"service"});
  if (sink_.error_count() != errors_before) return std::nullopt;  // its variable is in error
  if (service && service->is(YamlValue::Kind::kMap)) {
    // Framework v1 wrote `service: {name: ...}`.
    const YamlValue* name = service->find("name");
    service = name != nullptr ? std::optional<YamlValue>(*name) : std::nullopt;
  }
  if (!service || service->is(YamlValue::Kind::kNull)) {
    sink_.error(0, "", "service", "required property is missing (the service name)");
    return std::nullopt;
  }
  if (!service->is(YamlValue::Kind::kScalar) || !service->tag.empty()) {
    sink_.error(service->line, "", "service", fmt::format("must be a string, not {}", kind_name(*service)));
    return std::nullopt;
  }
  std::string name = js_text(*service);
  if (name.empty()) {
    sink_.error(service->line, "", "service",
                service->unresolved ? "is empty because its variable could not be resolved" : "must not be empty");
    return std::nullopt;
  }
  return name;
}

std::optional<YamlValue> ServerlessLoader::read_provider() {
  const YamlValue* raw = root_.find("provider");
  std::optional<YamlValue> provider;
  const std::size_t errors_before = sink_.error_count();
  if (raw != nullptr) provider = resolve_keys(YamlPath{"provider"}, *raw, kProviderKeysUsed);
  bool ok = sink_.error_count() == errors_before;  // a variable of provider is in error
  if (!provider || provider->is(YamlValue::Kind::kNull)) {
    sink_.error(0, "", "provider", "required property is missing (provider: {name: aws, runtime: ...})");
    return std::nullopt;
  }
  if (!provider->is(YamlValue::Kind::kMap)) {
    sink_.error(provider->line, "", "provider", fmt::format("must be a mapping, not {}", kind_name(*provider)));
    return std::nullopt;
  }
  const YamlValue* name = provider->find("name");
  if (name == nullptr) {
    sink_.error(provider->line, "provider", "name", "required property is missing (name: aws)");
    ok = false;
  } else if (!name->is(YamlValue::Kind::kScalar) || name->text != "aws") {
    sink_.error(name->line, "provider", "name",
                fmt::format("provider {} is not supported; lambdad runs AWS Lambda functions (name: aws)",
                            name->is(YamlValue::Kind::kScalar) ? name->text : std::string(kind_name(*name))));
    ok = false;
  }
  for (const auto& entry : provider->entries) {
    if (!contains(kProviderKeysUsed, entry.key) && !contains(kProviderKeysIgnored, entry.key)) {
      sink_.warning(entry.value.line, "provider", entry.key, "unknown provider property; ignored");
    }
  }
  if (!ok) return std::nullopt;
  return provider;
}

// The top-level `layers:` section: NAME: {path: dir, name: ..., compatibleRuntimes: [...], ...}.
ServiceLayers ServerlessLoader::read_layers(const std::filesystem::path& dir) {
  ServiceLayers layers;
  if (root_.find("layers") == nullptr) return layers;
  const std::optional<YamlValue> section = resolver_.get(YamlPath{"layers"});
  if (!section || section->is(YamlValue::Kind::kNull)) return layers;
  if (!section->is(YamlValue::Kind::kMap)) {
    sink_.error(section->line, "", "layers", "must be a mapping of layer names to definitions (path: ./dir)");
    return layers;
  }
  for (const auto& entry : section->entries) {
    ServiceLayer layer;
    layer.key = entry.key;
    layer.logical_id = framework_layer_logical_id(entry.key);
    const YamlValue& definition = entry.value;
    std::string name = entry.key;
    if (!definition.is(YamlValue::Kind::kMap)) {
      sink_.error(definition.line, "layers", entry.key, "a layer must be a mapping with a path");
      continue;
    }
    if (const YamlValue* n = definition.find("name"); n != nullptr && n->is(YamlValue::Kind::kScalar) && !n->text.empty()) {
      name = js_text(*n);
    }
    if (!is_valid_layer_name(name)) {
      sink_.error(definition.line, "layers", entry.key,
                  fmt::format("{} is not a valid layer name (1 to 140 of a-z A-Z 0-9 - _)", name));
      continue;
    }
    layer.arn = local_layer_arn(resolver_.region(), account_id_, name);
    const YamlValue* path = definition.find("path");
    if (const YamlValue* package = definition.find("package"); package != nullptr && package->find("artifact") != nullptr) {
      // Fine while no function uses it; a function that does is an error.
      layer.problem = "its package.artifact is a zip; lambdad needs a local directory (path: ./dir)";
    } else if (path == nullptr || !path->is(YamlValue::Kind::kScalar) || path->text.empty()) {
      sink_.error(definition.line, "layers", entry.key + ".path",
                  "required property is missing; a local directory is required");
      layer.problem = "it has no path";
    } else {
      auto resolved = local_directory(dir, path->text);
      if (auto* problem = std::get_if<std::string>(&resolved)) {
        sink_.error(path->line, "layers", entry.key + ".path", *problem);
        layer.problem = fmt::format("its path is in error ({})", *problem);
      } else {
        layer.dir = std::get<std::filesystem::path>(std::move(resolved));
      }
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

std::optional<std::filesystem::path> ServerlessLoader::service_dir() {
  // The Framework packages the service directory: the one holding serverless.yml.
  std::error_code ec;
  std::filesystem::path dir = file_.parent_path();
  if (dir.empty()) dir = ".";
  auto absolute = std::filesystem::absolute(dir, ec);
  if (!ec) dir = absolute;
  const auto status = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::is_directory(status)) {
    sink_.error(0, "", "", fmt::format("the service directory {} does not exist", dir.lexically_normal().string()));
    return std::nullopt;
  }
  auto canonical = std::filesystem::weakly_canonical(dir, ec);
  if (ec) canonical = dir.lexically_normal();
  if (!canonical.has_filename() && canonical.has_parent_path()) canonical = canonical.parent_path();  // "dir/"
  return canonical;
}

// Every value is reported at its key's line, as the user finds it (`memorySize: x` on line 8, a
// block `environment:` on the line that names it).
void adopt_key_lines(YamlValue& v) {
  for (auto& item : v.items) adopt_key_lines(item);
  for (auto& entry : v.entries) {
    adopt_key_lines(entry.value);
    entry.value.line = entry.key_line;
  }
}

}  // namespace

TemplateLoad load_serverless_text(const std::string& text, const std::filesystem::path& file,
                                  const ServerlessOptions& options) {
  return load_yaml(text, file, "file", [&](const YAML::Node& root) {
    DiagnosticSink sink(file.string());
    TemplateLoad load;
    std::optional<YamlValue> document = read_yaml_document(root, YamlFlavor::kFramework, "file", sink);
    if (document) adopt_key_lines(*document);
    if (document && sink.error_count() == 0) {
      ServerlessLoader loader(*document, file, options, sink);
      load.functions = loader.run();
      load.http = loader.http(load.functions);
    }
    load.errors = sink.take_errors();
    load.warnings = sink.take_warnings();
    return load;
  });
}

TemplateLoad load_serverless(const std::filesystem::path& file, const ServerlessOptions& options) {
  auto text = read_source_file(file, "serverless.yml");
  if (auto* failed = std::get_if<TemplateLoad>(&text)) return std::move(*failed);
  return load_serverless_text(std::get<std::string>(text), file, options);
}

}  // namespace lambdad::config
