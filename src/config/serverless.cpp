// config: loading functions from a Serverless Framework service file (serverless.yml). This file
// owns the whole path: YAML -> a plain value tree, the Framework's variables resolved on demand
// (only what the functions use is resolved, so plugin sections and `resources` never warn), then
// provider defaults merged into each function and every property checked like the SAM loader does.
#include "source_file.hpp"
#include "lambdad/config/serverless.hpp"
#include "lambdad/config/function_names.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "diagnostic_sink.hpp"
#include "function_builder.hpp"
#include "lambdad/common/limits.hpp"
#include "serverless_variables.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {
namespace {

// The Framework's defaults, not Lambda's (128 MB, 3 s).
constexpr int kFrameworkMemoryMb = 1024;
constexpr int kFrameworkTimeoutSeconds = 6;
// For provisionedConcurrency the Framework publishes a version and points an alias named
// "provisioned" at it. lambdad's AutoPublishAlias model has the same shape (version 1 under one
// alias), so the sandbox provisions such a function exactly like a SAM one.
constexpr std::string_view kProvisionedAlias = "provisioned";
constexpr std::size_t kMaxHandler = 128;
constexpr std::size_t kMaxDescription = 256;
constexpr std::size_t kMaxEnvironmentBytes = 4096;  // Lambda: "the total size ... doesn't exceed 4 KB"

constexpr std::string_view kUnsupportedRuntimeHint =
    "supported: python3.x, nodejsN.x, provided, provided.al2, provided.al2023";

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
constexpr std::array<std::string_view, 51> kProviderKeysIgnored = {
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
    "memory"};

// function keys lambdad reads.
constexpr std::array<std::string_view, 21> kFunctionKeysUsed = {
    "name",         "description",         "handler",         "runtime",
    "memorySize",   "timeout",             "environment",     "reservedConcurrency",
    "provisionedConcurrency", "layers",    "ephemeralStorageSize", "architecture",
    "events",       "package",             "maximumEventAge", "maximumRetryAttempts",
    "onError",      "image",               "destinations",    "versionFunction",
    "tracing"};

// function keys that only matter when deploying; ignored without a word.
constexpr std::array<std::string_view, 18> kFunctionKeysIgnored = {
    "role",        "kmsKeyArn",    "awsKmsKeyArn", "disableLogs",      "logRetentionInDays",
    "logDataProtectionPolicy",     "fileSystemConfig", "tags",         "vpc",
    "url",          "condition",    "dependsOn",        "snapStart",
    "runtimeManagement",           "logs",         "iamRoleStatements", "iamRoleStatementsName",
    "timezone"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// ---------------------------------------------------------------------------------------------
// Functions.

// Lambda's pattern for variable names: [a-zA-Z]([a-zA-Z0-9_])+
bool is_valid_environment_key(std::string_view key) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (key.size() < 2 || !letter(key.front())) return false;
  return std::all_of(key.begin(), key.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '_'; });
}

bool has_whitespace(std::string_view s) { return s.find_first_of(" \t\r\n\f\v") != std::string_view::npos; }


// A layer of the service's top-level `layers:` section, found by the logical id the Framework
// gives it (NameLambdaLayer, what `{Ref: ...}` names) or by the ARN that Ref gives.
struct ServiceLayer {
  std::string key;                  // its key under layers:
  std::string logical_id;
  std::string arn;
  std::filesystem::path dir;        // empty when it cannot be used
  std::string problem;              // why not
};
using ServiceLayers = std::vector<ServiceLayer>;

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

// One property as found: on the function, or inherited from provider.
struct Field {
  const YamlValue* value = nullptr;
  std::string resource;  // the function key, or "provider"
  std::string property;  // "memorySize", "environment.FOO", ...
};

class FunctionReader {
 public:
  FunctionReader(std::string key, const YamlValue& function, const YamlValue& provider, const ServiceLayers& layers,
                 DiagnosticSink& sink)
      : key_(std::move(key)), function_(function), provider_(provider), layers_(layers), sink_(sink) {}

  // The function, or nullopt when any of its properties is in error (all of them reported).
  std::optional<FunctionConfig> read(const std::string& service, const std::string& stage,
                                     const std::filesystem::path& code_dir);

 private:
  enum class Need { kRequired, kOptional };

  // The function's own value of `key`, else provider's when `inherited`; value nullptr when neither.
  Field field(std::string_view key, bool inherited) const;
  void error(const Field& at, std::string message);
  void error_missing(std::string_view property, std::string message);
  void warning(const Field& at, std::string message);
  std::optional<std::string> text(const Field& f, Need need);
  std::optional<int> integer(const Field& f, int min, int max, std::string_view range);

  void read_name(FunctionConfig& config, const std::string& service, const std::string& stage);
  void read_runtime_and_handler(FunctionConfig& config);
  void read_environment(FunctionConfig& config);
  void read_layers(FunctionConfig& config);
  void read_concurrency(FunctionConfig& config);
  void read_event_invoke(FunctionConfig& config);
  void read_tracing(FunctionConfig& config);
  void read_package();
  void warn_unknown_keys();

  std::string key_;
  const YamlValue& function_;
  const YamlValue& provider_;
  const ServiceLayers& layers_;
  DiagnosticSink& sink_;
  bool failed_ = false;
};

Field FunctionReader::field(std::string_view key, bool inherited) const {
  if (const YamlValue* v = function_.find(key)) return Field{v, key_, std::string(key)};
  if (inherited) {
    if (const YamlValue* v = provider_.find(key)) return Field{v, "provider", std::string(key)};
  }
  return Field{nullptr, key_, std::string(key)};
}

void FunctionReader::error(const Field& at, std::string message) {
  failed_ = true;
  sink_.error(at.value->line, at.resource, at.property, std::move(message));
}

void FunctionReader::error_missing(std::string_view property, std::string message) {
  failed_ = true;
  sink_.error(function_.line, key_, std::string(property), std::move(message));
}

void FunctionReader::warning(const Field& at, std::string message) {
  sink_.warning(at.value->line, at.resource, at.property, std::move(message));
}

std::optional<std::string> FunctionReader::text(const Field& f, Need need) {
  const YamlValue& v = *f.value;
  if (is_intrinsic(v)) {
    const std::string message =
        fmt::format("{} is a CloudFormation intrinsic function, which cannot be resolved locally", describe_intrinsic(v));
    if (need == Need::kRequired) {
      error(f, message);
    } else {
      warning(f, message + "; it is left out");
    }
    return std::nullopt;
  }
  if (v.is(YamlValue::Kind::kScalar)) {
    if (v.unresolved && v.text.empty()) {
      // The variable was reported; a required property cannot do without it.
      if (need == Need::kRequired) error(f, "is empty because its variable could not be resolved");
      return std::nullopt;
    }
    return js_text(v);
  }
  if (v.is(YamlValue::Kind::kNull)) {
    if (need == Need::kRequired) error(f, "must not be empty");
    return std::nullopt;
  }
  error(f, fmt::format("must be a string, not {}", kind_name(v)));
  return std::nullopt;
}

std::optional<int> FunctionReader::integer(const Field& f, int min, int max, std::string_view range) {
  auto s = text(f, Need::kOptional);
  if (!s) return std::nullopt;
  int value = 0;
  const char* end = s->data() + s->size();
  auto [ptr, ec] = std::from_chars(s->data(), end, value);
  if (s->empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    error(f, fmt::format("must be {} (got {})", range, s->empty() ? "''" : *s));
    return std::nullopt;
  }
  return value;
}

std::optional<FunctionConfig> FunctionReader::read(const std::string& service, const std::string& stage,
                                                   const std::filesystem::path& code_dir) {
  FunctionConfig config;
  config.logical_id = serverless_logical_id(key_);
  config.short_name = key_;
  config.code_dir = code_dir;
  config.memory_mb = kFrameworkMemoryMb;
  config.timeout_seconds = kFrameworkTimeoutSeconds;

  if (const Field image = field("image", false); image.value != nullptr) {
    error(image, "container image functions are not supported");
    return std::nullopt;
  }
  read_name(config, service, stage);
  read_runtime_and_handler(config);
  read_package();

  if (const Field f = field("memorySize", true); f.value != nullptr) {
    const auto range = fmt::format("an integer between {} and {}", limits::kMinMemoryMb, limits::kMaxMemoryMb);
    if (auto mb = integer(f, limits::kMinMemoryMb, limits::kMaxMemoryMb, range)) config.memory_mb = *mb;
  }
  if (const Field f = field("timeout", true); f.value != nullptr) {
    const auto range =
        fmt::format("an integer between {} and {}", limits::kMinTimeoutSeconds, limits::kMaxTimeoutSeconds);
    if (auto seconds = integer(f, limits::kMinTimeoutSeconds, limits::kMaxTimeoutSeconds, range)) {
      config.timeout_seconds = *seconds;
    }
  }
  if (const Field f = field("ephemeralStorageSize", true); f.value != nullptr) {
    if (auto mb = integer(f, 512, 10240, "an integer between 512 and 10240")) config.ephemeral_storage_mb = *mb;
  }
  if (const Field f = field("architecture", true); f.value != nullptr) {
    if (auto architecture = text(f, Need::kOptional)) {
      if (*architecture != "x86_64" && *architecture != "arm64") {
        error(f, fmt::format("unknown architecture {} (x86_64 or arm64)", *architecture));
      } else {
        config.architectures = {std::move(*architecture)};
      }
    }
  }
  if (const Field f = field("description", false); f.value != nullptr) {
    if (auto description = text(f, Need::kOptional)) {
      if (description->size() > kMaxDescription) {
        error(f, fmt::format("must be at most {} characters", kMaxDescription));
      } else {
        config.description = std::move(*description);
      }
    }
  }
  read_environment(config);
  read_layers(config);
  read_concurrency(config);
  read_event_invoke(config);
  read_tracing(config);
  warn_unknown_keys();

  if (failed_) return std::nullopt;
  return config;
}

// The function's `tracing` (Active, PassThrough, true = Active, false = none), else provider's
// `tracing.lambda` (the same values).
void FunctionReader::read_tracing(FunctionConfig& config) {
  Field f = field("tracing", false);
  if (f.value == nullptr) {
    const YamlValue* provider_tracing = provider_.find("tracing");
    if (provider_tracing == nullptr || !provider_tracing->is(YamlValue::Kind::kMap)) return;
    f = Field{provider_tracing->find("lambda"), "provider", "tracing.lambda"};
    if (f.value == nullptr) return;
  }
  auto mode = text(f, Need::kOptional);
  if (!mode || *mode == "false") return;
  if (*mode == "true") {
    config.tracing = TracingMode::kActive;
  } else if (auto parsed = parse_tracing_mode(*mode)) {
    config.tracing = *parsed;
  } else {
    error(f, fmt::format("must be Active, PassThrough, true or false (got {})", mode->empty() ? "''" : *mode));
  }
}

void FunctionReader::read_name(FunctionConfig& config, const std::string& service, const std::string& stage) {
  if (const Field f = field("name", false); f.value != nullptr) {
    auto name = text(f, Need::kRequired);
    if (!name) return;
    if (!is_valid_function_name(*name)) {
      error(f, fmt::format("{} is not a valid function name (1 to 64 of a-z A-Z 0-9 - _)", *name));
      return;
    }
    config.name = std::move(*name);
    return;
  }
  // The Framework's deployed name.
  std::string name = fmt::format("{}-{}-{}", service, stage, key_);
  if (!is_valid_function_name(name)) {
    error_missing("name", fmt::format("the deployed name {} is not a valid function name (1 to 64 of a-z A-Z 0-9 "
                                      "- _); set name:",
                                      name));
    return;
  }
  config.name = std::move(name);
}

void FunctionReader::read_runtime_and_handler(FunctionConfig& config) {
  RuntimeFamily family = RuntimeFamily::kUnsupported;
  const Field runtime = field("runtime", true);
  if (runtime.value == nullptr) {
    error_missing("runtime", "required property is missing (set provider.runtime or the function's runtime)");
  } else if (auto id = text(runtime, Need::kRequired)) {
    family = runtime_family(*id);
    if (auto blocked = blocked_runtime_message(*id)) {
      error(runtime, std::move(*blocked));  // as Lambda refuses the deploy
    } else if (family == RuntimeFamily::kUnsupported) {
      error(runtime, fmt::format("runtime {} is not supported by lambdad ({})", *id, kUnsupportedRuntimeHint));
    }
    config.runtime = std::move(*id);
  }

  const Field handler = field("handler", false);
  const bool needed = family == RuntimeFamily::kPython || family == RuntimeFamily::kNode;
  if (handler.value == nullptr || handler.value->is(YamlValue::Kind::kNull)) {
    // provided runtimes find their bootstrap themselves; the others need module.function.
    if (needed) {
      error_missing("handler", fmt::format("required property is missing ({} functions need one, e.g. {})",
                                           config.runtime,
                                           family == RuntimeFamily::kPython ? "handler.hello" : "index.handler"));
    }
    return;
  }
  auto value = text(handler, family == RuntimeFamily::kProvided ? Need::kOptional : Need::kRequired);
  if (!value) return;
  if (value->empty() || value->size() > kMaxHandler || has_whitespace(*value)) {
    error(handler, fmt::format("must be 1 to {} characters without whitespace", kMaxHandler));
    return;
  }
  config.handler = std::move(*value);
}

void FunctionReader::read_environment(FunctionConfig& config) {
  // The Framework merges key by key: provider.environment, then the function's (which wins).
  std::map<std::string, Field> merged;
  for (const auto& [owner, resource] : {std::pair{&provider_, std::string("provider")}, std::pair{&function_, key_}}) {
    const YamlValue* environment = owner->find("environment");
    if (environment == nullptr || environment->is(YamlValue::Kind::kNull)) continue;
    const Field whole{environment, resource, "environment"};
    if (environment->unresolved && environment->is(YamlValue::Kind::kScalar)) continue;  // reported
    if (!environment->is(YamlValue::Kind::kMap) || is_intrinsic(*environment)) {
      error(whole, fmt::format("must be a mapping of names to values, not {}", kind_name(*environment)));
      continue;
    }
    for (const auto& entry : environment->entries) {
      merged[entry.key] = Field{&entry.value, resource, "environment." + entry.key};
    }
  }
  std::size_t total_bytes = 0;
  for (const auto& [name, f] : merged) {
    if (!is_valid_environment_key(name)) {
      error(f, "names must start with a letter and contain only letters, digits and _ (at least 2 characters)");
      continue;
    }
    if (f.value->is(YamlValue::Kind::kNull)) {
      warning(f, "has no value; the variable is left out");
      continue;
    }
    if (f.value->unresolved && f.value->text.empty()) {
      config.environment[name] = "";  // its variable was reported; the value is left empty
      continue;
    }
    auto value = text(f, Need::kOptional);
    if (!value) continue;
    total_bytes += name.size() + value->size();
    config.environment[name] = std::move(*value);
  }
  if (total_bytes > kMaxEnvironmentBytes) {
    error_missing("environment",
                  fmt::format("environment variables take {} bytes; Lambda allows at most 4 KB", total_bytes));
  }
}

void FunctionReader::read_layers(FunctionConfig& config) {
  // A function's layers replace provider.layers (they are not merged).
  const Field f = field("layers", true);
  if (f.value == nullptr || f.value->is(YamlValue::Kind::kNull)) return;
  if (f.value->unresolved && f.value->is(YamlValue::Kind::kScalar)) return;  // reported
  if (!f.value->is(YamlValue::Kind::kList)) {
    error(f, fmt::format("must be a list of layers ({{Ref: NameLambdaLayer}}), not {}", kind_name(*f.value)));
    return;
  }
  if (f.value->items.size() > static_cast<std::size_t>(limits::kMaxLayers)) {
    error(f, "Cannot reference more than 5 layers.");  // Lambda's own words
    return;
  }
  // provider.layers are reported under provider, so they name the function in the message.
  const std::string of = f.resource == key_ ? "" : fmt::format(" (a layer of {})", key_);
  for (const auto& item : f.value->items) {
    const Field at{&item, f.resource, f.property};
    const ServiceLayer* found = nullptr;
    std::string named;
    // {Ref: NameLambdaLayer} or !Ref NameLambdaLayer: a layer of this service.
    const YamlValue* ref = item.is(YamlValue::Kind::kMap) && item.entries.size() == 1 ? item.find("Ref") : nullptr;
    if (ref != nullptr || item.tag == "!Ref") {
      const YamlValue& target = ref != nullptr ? *ref : item;
      named = "Ref " + target.text;
      if (target.is(YamlValue::Kind::kScalar)) {
        auto it = std::find_if(layers_.begin(), layers_.end(),
                               [&](const ServiceLayer& l) { return l.logical_id == target.text; });
        if (it != layers_.end()) found = &*it;
      }
    } else if (is_intrinsic(item)) {
      named = describe_intrinsic(item);
    } else {
      auto arn = text(at, Need::kRequired);
      if (!arn) continue;
      named = arn->empty() ? "''" : *arn;
      auto it = std::find_if(layers_.begin(), layers_.end(), [&](const ServiceLayer& l) { return l.arn == *arn; });
      if (it != layers_.end()) found = &*it;
    }
    if (found == nullptr) {
      error(at, fmt::format("{}{} is not a layer of this service: layer ARNs cannot be downloaded; define the layer "
                            "under the top-level layers: with a local path and use {{Ref: NameLambdaLayer}}",
                            named, of));
      continue;
    }
    if (!found->problem.empty()) {
      error(at, fmt::format("layer {}{} cannot be used locally: {}", found->key, of, found->problem));
      continue;
    }
    config.layers.push_back(found->arn);
    config.layer_dirs.push_back(found->dir);
  }
}

void FunctionReader::read_concurrency(FunctionConfig& config) {
  if (const Field f = field("reservedConcurrency", false); f.value != nullptr) {
    if (auto n = integer(f, 0, std::numeric_limits<int>::max(), "a non-negative integer")) {
      config.reserved_concurrency = *n;
    }
  }
  if (const Field f = field("provisionedConcurrency", false); f.value != nullptr) {
    if (auto n = integer(f, 0, std::numeric_limits<int>::max(), "a non-negative integer"); n && *n > 0) {
      config.provisioned_concurrency = *n;
      config.auto_publish_alias = std::string(kProvisionedAlias);
    }
  }
}

void FunctionReader::read_event_invoke(FunctionConfig& config) {
  const Field age = field("maximumEventAge", false);
  const Field retries = field("maximumRetryAttempts", false);
  if (age.value != nullptr || retries.value != nullptr) {
    EventInvokeConfig eic;
    if (age.value != nullptr) {
      if (auto n = integer(age, 60, 21600, "an integer between 60 and 21600")) eic.maximum_event_age_seconds = *n;
    }
    if (retries.value != nullptr) {
      if (auto n = integer(retries, 0, 2, "an integer between 0 and 2")) eic.maximum_retry_attempts = *n;
    }
    config.event_invoke_config = eic;
  }
  if (const Field f = field("destinations", false); f.value != nullptr) {
    warning(f, "destinations are not supported locally yet; ignored");
  }
  if (const Field f = field("onError", false); f.value != nullptr) {
    // onError: the ARN of an SNS topic (or SQS queue) receiving failed Event invocations.
    if (auto arn = text(f, Need::kOptional)) {
      const std::string_view service = arn_service(*arn);
      if (service != "sns" && service != "sqs") {
        error(f, fmt::format("must be the ARN of an SNS topic or SQS queue (got {})", arn->empty() ? "''" : *arn));
      } else {
        config.dead_letter = DeadLetterConfig{service == "sns" ? "SNS" : "SQS", *arn};
      }
    }
  }
}

void FunctionReader::read_package() {
  const Field f = field("package", false);
  if (f.value == nullptr || !f.value->is(YamlValue::Kind::kMap)) return;
  if (const YamlValue* artifact = f.value->find("artifact")) {
    error(Field{artifact, key_, "package.artifact"}, "zip artifacts are not supported; point at a directory");
  }
  // individually, patterns, include, exclude: only shape the zip the Framework would upload.
}

void FunctionReader::warn_unknown_keys() {
  for (const auto& entry : function_.entries) {
    if (contains(kFunctionKeysUsed, entry.key) || contains(kFunctionKeysIgnored, entry.key)) continue;
    sink_.warning(entry.value.line, key_, entry.key, "unknown function property; ignored");
  }
}

// ---------------------------------------------------------------------------------------------
// The service.

class ServerlessLoader {
 public:
  ServerlessLoader(const YamlValue& root, const std::filesystem::path& file, const ServerlessOptions& options,
                   DiagnosticSink& sink)
      : root_(root), file_(file), account_id_(options.account_id), resolver_(root, options, sink), sink_(sink) {}

  std::vector<FunctionConfig> run();

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
    FunctionReader reader(entry.key, definition, *provider, layers, sink_);
    auto config = reader.read(*service, stage, *dir);
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
  const std::string file_name = file.string();
  auto parsed = parse_yaml(text, file);
  if (auto* failed = std::get_if<TemplateLoad>(&parsed)) return std::move(*failed);
  const YAML::Node root = std::get<YAML::Node>(std::move(parsed));
  try {
    DiagnosticSink sink(file_name);
    TemplateLoad load;
    std::optional<YamlValue> document = read_yaml_document(root, YamlFlavor::kFramework, "file", sink);
    if (document) adopt_key_lines(*document);
    if (document && sink.error_count() == 0) {
      load.functions = ServerlessLoader(*document, file, options, sink).run();
    }
    load.errors = sink.take_errors();
    load.warnings = sink.take_warnings();
    return load;
  } catch (const YAML::Exception& e) {
    // Only a bug of ours lands here; say so rather than crash a daemon start.
    return single_error(file, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                        fmt::format("internal error while reading the file: {}", e.msg));
  } catch (const std::exception& e) {
    return single_error(file, 0, fmt::format("internal error while reading the file: {}", e.what()));
  }
}

TemplateLoad load_serverless(const std::filesystem::path& file, const ServerlessOptions& options) {
  auto text = read_source_file(file, "serverless.yml");
  if (auto* failed = std::get_if<TemplateLoad>(&text)) return std::move(*failed);
  return load_serverless_text(std::get<std::string>(text), file, options);
}

}  // namespace lambdad::config
