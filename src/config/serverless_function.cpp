// config (internal): one serverless.yml function -> the SAM properties FunctionBuilder checks.
// What is the Framework's own stays here: provider merging, the values it leaves out (null,
// CloudFormation intrinsics, unresolved variables), layer references, names, tracing and onError.
#include "serverless_function.hpp"

#include <algorithm>
#include <map>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "function_builder.hpp"
#include "key_lists.hpp"
#include "lambdad/config/function_names.hpp"
#include "serverless_variables.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

// The Framework's defaults, not Lambda's (128 MB, 3 s).
constexpr std::string_view kFrameworkMemoryMb = "1024";
constexpr std::string_view kFrameworkTimeoutSeconds = "6";
// For provisionedConcurrency the Framework publishes a version and points an alias named
// "provisioned" at it. lambdad's AutoPublishAlias model has the same shape (version 1 under one
// alias), so the sandbox provisions such a function exactly like a SAM one.
constexpr std::string_view kProvisionedAlias = "provisioned";

// function keys that only matter when deploying; ignored without a word.
constexpr std::array<std::string_view, 18> kFunctionKeysIgnored = {
    "role",        "kmsKeyArn",    "awsKmsKeyArn", "disableLogs",      "logRetentionInDays",
    "logDataProtectionPolicy",     "fileSystemConfig", "tags",         "vpc",
    "url",          "condition",    "dependsOn",        "snapStart",
    "runtimeManagement",           "logs",         "iamRoleStatements", "iamRoleStatementsName",
    "timezone"};

// How a Framework key becomes a SAM property.
enum class Shape {
  kScalar,    // the same value
  kOneItem,   // architecture: x -> Architectures: [x]
  kOwnRules,  // mapped by its own code below (merged, resolved or dependent on another key)
};

struct PropertyMapping {
  std::string_view key;
  std::string_view sam_path;
  bool inherited;  // provider's value applies when the function has none
  Shape shape;
};

// Serverless keys -> SAM properties. The builder's diagnostics name the properties back by it.
constexpr std::array<PropertyMapping, 14> kProperties = {{
    {"image", "ImageUri", false, Shape::kOwnRules},
    {"runtime", "Runtime", true, Shape::kOwnRules},
    {"handler", "Handler", false, Shape::kOwnRules},
    {"memorySize", "MemorySize", true, Shape::kScalar},
    {"timeout", "Timeout", true, Shape::kScalar},
    {"ephemeralStorageSize", "EphemeralStorage.Size", true, Shape::kScalar},
    {"architecture", "Architectures", true, Shape::kOneItem},
    {"description", "Description", false, Shape::kScalar},
    {"environment", "Environment.Variables", true, Shape::kOwnRules},
    {"layers", "Layers", true, Shape::kOwnRules},
    {"reservedConcurrency", "ReservedConcurrentExecutions", false, Shape::kScalar},
    {"provisionedConcurrency", "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions", false, Shape::kScalar},
    {"maximumEventAge", "EventInvokeConfig.MaximumEventAgeInSeconds", false, Shape::kScalar},
    {"maximumRetryAttempts", "EventInvokeConfig.MaximumRetryAttempts", false, Shape::kScalar},
}};

std::string serverless_property(std::string_view sam_path) {
  for (const auto& m : kProperties) {
    if (m.sam_path == sam_path) return std::string(m.key);
  }
  constexpr std::string_view kVariables = "Environment.Variables.";
  if (sam_path.starts_with(kVariables)) return "environment." + std::string(sam_path.substr(kVariables.size()));
  return std::string(sam_path);
}

// Sets the property at a dotted SAM path, making the mappings on the way.
void set_property(TemplateValue& map, std::string_view path, TemplateValue value) {
  const auto dot = path.find('.');
  const std::string key(path.substr(0, dot));
  auto it = std::find_if(map.entries.begin(), map.entries.end(), [&](const TemplateEntry& e) { return e.key == key; });
  if (it == map.entries.end()) {
    TemplateValue child;
    child.kind = Kind::kMap;
    child.line = value.line;
    it = map.entries.insert(map.entries.end(), TemplateEntry{key, std::move(child)});
  }
  if (dot == std::string_view::npos) {
    it->value = std::move(value);
  } else {
    set_property(it->value, path.substr(dot + 1), std::move(value));
  }
}

// One property as found: on the function, or inherited from provider.
struct Field {
  const YamlValue* value = nullptr;
  std::string resource;  // the function key, or "provider"
  std::string property;  // "memorySize", "environment.FOO", ...
};

class FunctionReader {
 public:
  FunctionReader(const std::string& key, const YamlValue& function, const ServiceContext& service,
                 DiagnosticSink& sink);

  std::optional<FunctionConfig> read();

 private:
  enum class Need { kRequired, kOptional };

  // The function's own value of `key`, else provider's when `inherited`; value nullptr when neither.
  Field field(std::string_view key, bool inherited) const;
  void error(const Field& at, std::string message);
  void warning(const Field& at, std::string message);
  // A scalar as the SAM value the builder checks, or kInvalid (the builder reports it) when the
  // Framework's rules refuse it; nullopt when it is left out: an intrinsic (with a warning), a
  // null or an unresolved variable (already reported) that is not required.
  std::optional<TemplateValue> scalar(const Field& f, Need need);
  // The same as text, with kInvalid reported here.
  std::optional<std::string> text(const Field& f, Need need);

  TemplateValue properties();
  void map_runtime_and_handler(TemplateValue& properties);
  void map_environment(TemplateValue& properties);
  void map_layers(TemplateValue& properties);
  void map_capacity_provider(TemplateValue& properties);
  std::string read_name();
  std::optional<TracingMode> read_tracing();
  std::optional<DeadLetterConfig> read_on_error();
  void read_package();
  void warn_unknown_keys();

  std::string key_;
  const YamlValue& function_;
  const ServiceContext& service_;
  DiagnosticSink& sink_;
  FunctionDialect dialect_;
  bool failed_ = false;
};

FunctionReader::FunctionReader(const std::string& key, const YamlValue& function, const ServiceContext& service,
                               DiagnosticSink& sink)
    : key_(key), function_(function), service_(service), sink_(sink) {
  dialect_.function = key;
  dialect_.inherited_from = "provider";
  dialect_.property = serverless_property;
  dialect_.runtime_hint = "set provider.runtime or the function's runtime";
  dialect_.python_handler_example = "handler.hello";
  dialect_.not_a_layer =
      "service: layer ARNs cannot be downloaded; define the layer under the top-level layers: with a local path and "
      "use {Ref: NameLambdaLayer}";
  dialect_.provisioned_alias = std::string(kProvisionedAlias);
}

Field FunctionReader::field(std::string_view key, bool inherited) const {
  if (const YamlValue* v = function_.find(key)) return Field{v, key_, std::string(key)};
  if (inherited) {
    if (const YamlValue* v = service_.provider.find(key)) return Field{v, "provider", std::string(key)};
  }
  return Field{nullptr, key_, std::string(key)};
}

void FunctionReader::error(const Field& at, std::string message) {
  failed_ = true;
  sink_.error(at.value->line, at.resource, at.property, std::move(message));
}

void FunctionReader::warning(const Field& at, std::string message) {
  sink_.warning(at.value->line, at.resource, at.property, std::move(message));
}

std::optional<TemplateValue> FunctionReader::scalar(const Field& f, Need need) {
  const YamlValue& v = *f.value;
  auto located = [&](TemplateValue t) {
    t.line = v.line;
    t.from_globals = f.resource == "provider";
    return t;
  };
  auto invalid = [&](std::string message) { return located(TemplateValue::invalid(std::move(message), 0)); };
  if (is_intrinsic(v)) {
    const std::string message =
        fmt::format("{} is a CloudFormation intrinsic function, which cannot be resolved locally", describe_intrinsic(v));
    if (need == Need::kRequired) return invalid(message);
    warning(f, message + "; it is left out");
    return std::nullopt;
  }
  if (v.is(YamlValue::Kind::kScalar)) {
    if (v.unresolved && v.text.empty()) {
      // The variable was reported; a required property cannot do without it.
      if (need == Need::kRequired) return invalid("is empty because its variable could not be resolved");
      return std::nullopt;
    }
    return located(TemplateValue::string(js_text(v), 0));
  }
  if (v.is(YamlValue::Kind::kNull)) {
    if (need == Need::kRequired) return invalid("must not be empty");
    return std::nullopt;
  }
  return invalid(fmt::format("must be a string, not {}", kind_name(v)));
}

std::optional<std::string> FunctionReader::text(const Field& f, Need need) {
  auto v = scalar(f, need);
  if (!v) return std::nullopt;
  if (v->is(Kind::kInvalid)) {
    error(f, std::move(v->text));
    return std::nullopt;
  }
  return std::move(v->text);
}

std::optional<FunctionConfig> FunctionReader::read() {
  FunctionSource source;
  source.logical_id = serverless_logical_id(key_);
  source.type = kServerlessFunctionType;
  source.line = function_.line;
  source.properties.kind = Kind::kMap;
  source.dialect = &dialect_;
  LocalLayers layers;
  if (const Field image = field("image", false); image.value != nullptr) {
    TemplateValue uri;
    uri.line = image.value->line;
    set_property(source.properties, "ImageUri", std::move(uri));
    (void)FunctionBuilder(source, service_.dir, layers, sink_).build();  // says image functions are not supported
    return std::nullopt;
  }
  source.name = read_name();
  read_package();
  source.properties = properties();
  for (const auto& layer : service_.layers) {
    layers.emplace(layer.arn, LocalLayer{layer.key, layer.dir, layer.problem, {}});
  }
  auto config = FunctionBuilder(source, service_.dir, layers, sink_).build();
  const std::optional<TracingMode> tracing = read_tracing();
  const std::optional<DeadLetterConfig> dead_letter = read_on_error();
  if (const Field f = field("destinations", false); f.value != nullptr) {
    warning(f, "destinations are not supported locally yet; ignored");
  }
  warn_unknown_keys();
  if (!config || failed_) return std::nullopt;
  config->short_name = key_;
  if (tracing) config->tracing = *tracing;
  if (dead_letter) config->dead_letter = *dead_letter;
  return config;
}

TemplateValue FunctionReader::properties() {
  TemplateValue properties;
  properties.kind = Kind::kMap;
  // The function is its service directory's code: the Framework packages that directory.
  set_property(properties, "CodeUri", TemplateValue::string(service_.dir.string(), function_.line));
  if (field("maximumEventAge", false).value != nullptr || field("maximumRetryAttempts", false).value != nullptr) {
    TemplateValue eic;
    eic.kind = Kind::kMap;
    set_property(properties, "EventInvokeConfig", std::move(eic));
  }
  map_runtime_and_handler(properties);
  for (const auto& m : kProperties) {
    if (m.shape == Shape::kOwnRules) continue;
    const Field f = field(m.key, m.inherited);
    if (f.value == nullptr) continue;
    auto v = scalar(f, Need::kOptional);
    if (!v) continue;
    if (m.shape == Shape::kOneItem) {
      TemplateValue list;
      list.kind = Kind::kList;
      list.line = v->line;
      list.from_globals = v->from_globals;
      list.items.push_back(std::move(*v));
      v = std::move(list);
    }
    set_property(properties, m.sam_path, std::move(*v));
  }
  map_capacity_provider(properties);
  if (!properties.find("MemorySize")) {
    set_property(properties, "MemorySize", TemplateValue::string(std::string(kFrameworkMemoryMb), 0));
  }
  if (!properties.find("Timeout")) {
    set_property(properties, "Timeout", TemplateValue::string(std::string(kFrameworkTimeoutSeconds), 0));
  }
  map_environment(properties);
  map_layers(properties);
  return properties;
}

void FunctionReader::map_runtime_and_handler(TemplateValue& properties) {
  RuntimeFamily family = RuntimeFamily::kUnsupported;
  if (const Field runtime = field("runtime", true); runtime.value != nullptr) {
    if (auto v = scalar(runtime, Need::kRequired)) {
      if (v->is(Kind::kString)) family = runtime_family(v->text);
      set_property(properties, "Runtime", std::move(*v));
    }
  }
  // A null handler is a missing one; provided runtimes find their bootstrap themselves.
  const Field handler = field("handler", false);
  if (handler.value == nullptr || handler.value->is(YamlValue::Kind::kNull)) return;
  if (auto v = scalar(handler, family == RuntimeFamily::kProvided ? Need::kOptional : Need::kRequired)) {
    set_property(properties, "Handler", std::move(*v));
  }
}

void FunctionReader::map_environment(TemplateValue& properties) {
  // The Framework merges key by key: provider.environment, then the function's (which wins).
  std::map<std::string, Field> merged;
  bool any = false;
  for (const auto& [owner, resource] :
       {std::pair{&service_.provider, std::string("provider")}, std::pair{&function_, key_}}) {
    const YamlValue* environment = owner->find("environment");
    if (environment == nullptr || environment->is(YamlValue::Kind::kNull)) continue;
    const Field whole{environment, resource, "environment"};
    if (environment->unresolved && environment->is(YamlValue::Kind::kScalar)) continue;  // reported
    if (!environment->is(YamlValue::Kind::kMap) || is_intrinsic(*environment)) {
      error(whole, fmt::format("must be a mapping of names to values, not {}", kind_name(*environment)));
      continue;
    }
    any = true;
    for (const auto& entry : environment->entries) {
      merged[entry.key] = Field{&entry.value, resource, "environment." + entry.key};
    }
  }
  if (!any) return;
  TemplateValue variables;
  variables.kind = Kind::kMap;
  variables.line = function_.line;  // the size of the whole is the function's
  for (const auto& [name, f] : merged) {
    TemplateValue value;
    if (!is_valid_environment_key(name)) {
      value = TemplateValue::string("", 0);  // the builder refuses the name; the value does not matter
    } else if (f.value->is(YamlValue::Kind::kNull)) {
      value.kind = Kind::kNoValue;  // the builder says it is left out
    } else if (f.value->unresolved && f.value->text.empty()) {
      value = TemplateValue::string("", 0);  // its variable was reported; the value is left empty
    } else if (auto v = scalar(f, Need::kOptional)) {
      value = std::move(*v);
    } else {
      continue;
    }
    value.line = f.value->line;
    value.from_globals = f.resource == "provider";
    variables.entries.push_back(TemplateEntry{name, std::move(value)});
  }
  set_property(properties, "Environment.Variables", std::move(variables));
}

void FunctionReader::map_layers(TemplateValue& properties) {
  // A function's layers replace provider.layers (they are not merged).
  const Field f = field("layers", true);
  if (f.value == nullptr || f.value->is(YamlValue::Kind::kNull)) return;
  if (f.value->unresolved && f.value->is(YamlValue::Kind::kScalar)) return;  // reported
  if (!f.value->is(YamlValue::Kind::kList)) {
    error(f, fmt::format("must be a list of layers ({{Ref: NameLambdaLayer}}), not {}", kind_name(*f.value)));
    return;
  }
  TemplateValue list;
  list.kind = Kind::kList;
  list.line = f.value->line;
  list.from_globals = f.resource == "provider";
  for (const auto& item : f.value->items) {
    // {Ref: NameLambdaLayer} or !Ref NameLambdaLayer is a layer of this service: its ARN. Any
    // other reference stays as written, which no layer's ARN is.
    std::optional<TemplateValue> arn;
    const YamlValue* ref = item.is(YamlValue::Kind::kMap) && item.entries.size() == 1 ? item.find("Ref") : nullptr;
    if (ref != nullptr || item.tag == "!Ref") {
      const YamlValue& target = ref != nullptr ? *ref : item;
      auto it = std::find_if(service_.layers.begin(), service_.layers.end(), [&](const ServiceLayer& l) {
        return target.is(YamlValue::Kind::kScalar) && l.logical_id == target.text;
      });
      arn = TemplateValue::string(it != service_.layers.end() ? it->arn : "Ref " + target.text, 0);
    } else if (is_intrinsic(item)) {
      arn = TemplateValue::string(describe_intrinsic(item), 0);
    } else {
      arn = scalar(Field{&item, f.resource, f.property}, Need::kRequired);
      if (!arn) continue;
    }
    arn->line = item.line;
    arn->from_globals = list.from_globals;
    list.items.push_back(std::move(*arn));
  }
  set_property(properties, "Layers", std::move(list));
}

std::string FunctionReader::read_name() {
  if (const Field f = field("name", false); f.value != nullptr) {
    auto name = text(f, Need::kRequired);
    if (!name) return "";
    if (!is_valid_function_name(*name)) {
      error(f, fmt::format("{} is not a valid function name (1 to 64 of a-z A-Z 0-9 - _)", *name));
      return "";
    }
    return *name;
  }
  // The Framework's deployed name.
  std::string name = fmt::format("{}-{}-{}", service_.service, service_.stage, key_);
  if (!is_valid_function_name(name)) {
    failed_ = true;
    sink_.error(function_.line, key_, "name",
                fmt::format("the deployed name {} is not a valid function name (1 to 64 of a-z A-Z 0-9 - _); set "
                            "name:",
                            name));
    return "";
  }
  return name;
}

// The function's `tracing` (Active, PassThrough, true = Active, false = none), else provider's
// `tracing.lambda` (the same values).
std::optional<TracingMode> FunctionReader::read_tracing() {
  Field f = field("tracing", false);
  if (f.value == nullptr) {
    const YamlValue* provider_tracing = service_.provider.find("tracing");
    if (provider_tracing == nullptr || !provider_tracing->is(YamlValue::Kind::kMap)) return std::nullopt;
    f = Field{provider_tracing->find("lambda"), "provider", "tracing.lambda"};
    if (f.value == nullptr) return std::nullopt;
  }
  auto mode = text(f, Need::kOptional);
  if (!mode || *mode == "false") return std::nullopt;
  if (*mode == "true") return TracingMode::kActive;
  if (auto parsed = parse_tracing_mode(*mode)) return parsed;
  error(f, fmt::format("must be Active, PassThrough, true or false (got {})", mode->empty() ? "''" : *mode));
  return std::nullopt;
}

// onError: the ARN of an SNS topic (or SQS queue) receiving failed Event invocations.
std::optional<DeadLetterConfig> FunctionReader::read_on_error() {
  const Field f = field("onError", false);
  if (f.value == nullptr) return std::nullopt;
  auto arn = text(f, Need::kOptional);
  if (!arn) return std::nullopt;
  const std::string_view service = arn_service(*arn);
  if (service != "sns" && service != "sqs") {
    error(f, fmt::format("must be the ARN of an SNS topic or SQS queue (got {})", arn->empty() ? "''" : *arn));
    return std::nullopt;
  }
  return DeadLetterConfig{service == "sns" ? "SNS" : "SQS", *arn};
}

void FunctionReader::read_package() {
  const Field f = field("package", false);
  if (f.value == nullptr || !f.value->is(YamlValue::Kind::kMap)) return;
  if (const YamlValue* artifact = f.value->find("artifact")) {
    error(Field{artifact, key_, "package.artifact"}, "zip artifacts are not supported; point at a directory");
  }
  // individually, patterns, include, exclude: only shape the zip the Framework would upload.
}

// capacityProvider (Lambda Managed Instances, decision 028): the name of a provider of
// provider.capacityProviders, or `default`, which the Framework creates. It becomes SAM's
// CapacityProviderConfig with that provider's local ARN, and the function's memorySize defaults to
// 2048 MB, as the Framework's does for such a function. As a mapping it is `name` with the
// function's settings the Framework documents: maxConcurrency, memoryPerVCpu, scaling.min/max.
void FunctionReader::map_capacity_provider(TemplateValue& properties) {
  const Field f = field("capacityProvider", false);
  if (f.value == nullptr) return;
  const YamlValue* settings = f.value->is(YamlValue::Kind::kMap) ? f.value : nullptr;
  const YamlValue* name = settings ? settings->find("name") : f.value;
  if (name == nullptr || !name->is(YamlValue::Kind::kScalar) || name->text.empty()) {
    return error(f, "must name a capacity provider (capacityProvider: NAME, or a mapping with name)");
  }
  set_property(properties, "CapacityProviderConfig.Arn",
               TemplateValue::string(local_capacity_provider_arn(service_.region, service_.account_id, name->text),
                                     name->line));
  auto copy = [&](const YamlValue& from, std::string_view key, std::string_view sam_path) {
    const YamlValue* v = from.find(key);
    if (v == nullptr) return;
    if (auto s = scalar(Field{v, key_, fmt::format("capacityProvider.{}", key)}, Need::kOptional)) {
      set_property(properties, sam_path, std::move(*s));
    }
  };
  if (settings) {
    copy(*settings, "maxConcurrency", "CapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency");
    copy(*settings, "memoryPerVCpu", "CapacityProviderConfig.ExecutionEnvironmentMemoryGiBPerVCpu");
    if (const YamlValue* scaling = settings->find("scaling"); scaling && scaling->is(YamlValue::Kind::kMap)) {
      copy(*scaling, "min", "FunctionScalingConfig.MinExecutionEnvironments");
      copy(*scaling, "max", "FunctionScalingConfig.MaxExecutionEnvironments");
    }
  }
  if (field("memorySize", true).value == nullptr) {
    set_property(properties, "MemorySize", TemplateValue::string("2048", 0));
  }
}

void FunctionReader::warn_unknown_keys() {
  for (const auto& entry : function_.entries) {
    if (contains(kFunctionKeysUsed, entry.key) || contains(kFunctionKeysIgnored, entry.key)) continue;
    sink_.warning(entry.value.line, key_, entry.key, "unknown function property; ignored");
  }
}

}  // namespace

std::optional<FunctionConfig> read_serverless_function(const std::string& key, const YamlValue& function,
                                                       const ServiceContext& service, DiagnosticSink& sink) {
  return FunctionReader(key, function, service, sink).read();
}

}  // namespace lambdad::config
