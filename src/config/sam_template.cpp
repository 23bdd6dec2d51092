// config: loading functions from an AWS SAM / CloudFormation template. This file owns the
// template-level work (sections, parameters, conditions, Globals, function names); the
// intrinsic evaluator and the per-function builder do the rest.
#include "source_file.hpp"
#include "lambdad/config/sam_template.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "diagnostic_sink.hpp"
#include "function_builder.hpp"
#include "globals_merge.hpp"
#include "http_reader.hpp"
#include "intrinsic_evaluator.hpp"
#include "key_lists.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;
using YKind = YamlValue::Kind;

constexpr std::string_view kNoFunctions = "no AWS::Serverless::Function or AWS::Lambda::Function resources";
constexpr std::string_view kSamTransform = "AWS::Serverless-2016-10-31";

constexpr std::array<std::string_view, 11> kTopLevelSections = {
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",   "Mappings",
    "Conditions",               "Transform",   "Resources", "Outputs",   "Globals"};

constexpr std::array<std::string_view, 7> kGlobalsSections = {"Function",     "Api",         "HttpApi",
                                                              "SimpleTable",  "StateMachine", "LayerVersion",
                                                              "CapacityProvider"};

// SAM refuses these in Globals.Function: they are per function by nature.
constexpr std::array<std::string_view, 4> kNotGlobalFunctionProperties = {"FunctionName", "Role", "Policies",
                                                                          "Events"};

// Properties the resource types define; anything else is probably a typo, worth a warning.
constexpr std::array<std::string_view, 51> kServerlessFunctionProperties = {
    "Architectures",
    "AssumeRolePolicyDocument",
    "AutoPublishAlias",
    "AutoPublishAliasAllProperties",
    "AutoPublishCodeSha256",
    "CapacityProviderConfig",
    "CodeSigningConfigArn",
    "CodeUri",
    "DeadLetterQueue",
    "DeploymentPreference",
    "Description",
    "DurableConfig",
    "Environment",
    "EphemeralStorage",
    "EventInvokeConfig",
    "Events",
    "FileSystemConfigs",
    "FunctionName",
    "FunctionScalingConfig",
    "FunctionUrlConfig",
    "Handler",
    "ImageConfig",
    "ImageUri",
    "InlineCode",
    "KmsKeyArn",
    "Layers",
    "LoggingConfig",
    "MemorySize",
    "PackageType",
    "PermissionsBoundary",
    "Policies",
    "PropagateTags",
    "ProvisionedConcurrencyConfig",
    "PublishToLatestPublished",
    "RecursiveLoop",
    "ReservedConcurrentExecutions",
    "Role",
    "RolePath",
    "Runtime",
    "RuntimeManagementConfig",
    "SnapStart",
    "SourceKMSKeyArn",
    "Tags",
    "TenancyConfig",
    "Timeout",
    "Tracing",
    "VersionDeletionPolicy",
    "VersionDescription",
    "VpcConfig",
    "Connectors",
    "Metadata",
};

constexpr std::array<std::string_view, 31> kLambdaFunctionProperties = {
    "Architectures",
    "CapacityProviderConfig",
    "Code",
    "CodeSigningConfigArn",
    "DeadLetterConfig",
    "Description",
    "DurableConfig",
    "Environment",
    "EphemeralStorage",
    "FileSystemConfigs",
    "FunctionName",
    "FunctionScalingConfig",
    "Handler",
    "ImageConfig",
    "KmsKeyArn",
    "Layers",
    "LoggingConfig",
    "MemorySize",
    "PackageType",
    "PublishToLatestPublished",
    "RecursiveLoop",
    "ReservedConcurrentExecutions",
    "Role",
    "Runtime",
    "RuntimeManagementConfig",
    "SnapStart",
    "Tags",
    "TenancyConfig",
    "Timeout",
    "TracingConfig",
    "VpcConfig",
};

bool is_function_type(std::string_view type) { return type == kServerlessFunctionType || type == kLambdaFunctionType; }

bool is_alphanumeric(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  (void)std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size();
}

void mark_from_globals(TemplateValue& v) {
  v.from_globals = true;
  for (auto& item : v.items) mark_from_globals(item);
  for (auto& entry : v.entries) mark_from_globals(entry.value);
}

struct ResourceEntry {
  std::string logical_id;
  std::string type;
  const YamlValue* node = nullptr;
  int line = 0;
};

class TemplateLoader {
 public:
  TemplateLoader(const std::filesystem::path& file, const TemplateOptions& options)
      : file_(file), options_(options), sink_(file.string()) {}

  TemplateLoad run(const YAML::Node& yaml);

 private:
  // Function resources whose Condition lets them exist, in template order, and their names.
  struct ActiveFunctions {
    std::vector<const ResourceEntry*> resources;
    std::map<std::string, std::string> names;  // logical id -> function name
  };

  TemplateLoad finish(TemplateLoad& load);
  EvaluationContext make_context(const std::vector<ResourceEntry>& resources);
  ActiveFunctions name_functions(IntrinsicEvaluator& evaluator, const std::vector<ResourceEntry>& resources);
  std::vector<FunctionConfig> build_functions(IntrinsicEvaluator& evaluator, const ActiveFunctions& active,
                                              const LocalLayers& layers);
  LocalLayers read_layers(IntrinsicEvaluator& evaluator, const std::vector<ResourceEntry>& resources);
  std::string layer_name(const ResourceEntry& resource, const TemplateValue& properties);
  void read_layer_content(const ResourceEntry& resource, const TemplateValue& properties, LocalLayer& layer);
  std::optional<TemplateValue> read_properties(IntrinsicEvaluator& evaluator, const ResourceEntry& resource,
                                               const YamlEntry& properties);
  void check_top_level();
  std::map<std::string, TemplateValue> read_parameters();
  TemplateValue parameter_value(const std::string& name, const YamlEntry& entry);
  std::vector<ResourceEntry> read_resources();
  std::optional<TemplateValue> read_globals(IntrinsicEvaluator& evaluator);
  // Whether the resource's Condition lets it exist; nullopt when the Condition is in error.
  std::optional<bool> is_active(IntrinsicEvaluator& evaluator, const ResourceEntry& resource);
  std::string function_name(IntrinsicEvaluator& evaluator, const ResourceEntry& resource);
  void warn_unknown_properties(const ResourceEntry& resource, const TemplateValue& properties);
  std::filesystem::path template_dir() const;

  YamlValue root_;
  std::vector<HttpFunctionSource> http_functions_;  // the functions built, for their Events and URLs
  std::deque<TemplateValue> url_configs_;           // what http_functions_ point at
  std::filesystem::path file_;
  const TemplateOptions& options_;
  DiagnosticSink sink_;
};

TemplateLoad TemplateLoader::run(const YAML::Node& yaml) {
  TemplateLoad load;
  if (yaml.IsNull()) {
    sink_.error(0, "", "", "template is empty");
    return finish(load);
  }
  if (!yaml.IsMap()) {
    sink_.error(std::max(yaml.Mark().line + 1, 0), "", "", "template must be a YAML mapping of sections (Resources, ...)");
    return finish(load);
  }
  std::optional<YamlValue> document = read_yaml_document(yaml, YamlFlavor::kCloudFormation, "template", sink_);
  if (!document) return finish(load);
  root_ = std::move(*document);
  check_top_level();

  const std::vector<ResourceEntry> resources = read_resources();
  IntrinsicEvaluator evaluator(make_context(resources));
  // Names first: !Ref and !GetAtt ... .Arn of a function resolve to its name in every property.
  const ActiveFunctions active = name_functions(evaluator, resources);
  evaluator.set_function_names(active.names);
  // Then layers: a function's Layers items are !Ref of them, which gives their ARNs.
  const LocalLayers layers = read_layers(evaluator, resources);
  load.functions = build_functions(evaluator, active, layers);
  std::vector<HttpResourceSource> others;
  for (const auto& r : resources) {
    if (!is_function_type(r.type)) others.push_back(HttpResourceSource{r.logical_id, r.type, r.node, r.line});
  }
  load.http = read_template_http(evaluator.context(), others, http_functions_, root_.find("Globals"), sink_);
  return finish(load);
}

EvaluationContext TemplateLoader::make_context(const std::vector<ResourceEntry>& resources) {
  EvaluationContext context;
  context.region = options_.region;
  context.account_id = options_.account_id;
  context.stack_name = options_.stack_name;
  context.parameters = read_parameters();
  for (std::string_view section : {"Mappings", "Conditions"}) {
    auto entry = root_.find_entry(section);
    if (!entry) continue;
    if (!entry->value.is(YKind::kMap)) {
      sink_.error(entry->key_line, std::string(section), "", "must be a mapping");
      continue;
    }
    (section == "Mappings" ? context.mappings : context.conditions) = &entry->value;
  }
  for (const auto& r : resources) context.resource_types[r.logical_id] = r.type;
  return context;
}

TemplateLoader::ActiveFunctions TemplateLoader::name_functions(IntrinsicEvaluator& evaluator,
                                                               const std::vector<ResourceEntry>& resources) {
  ActiveFunctions active;
  std::map<std::string, const ResourceEntry*> owner_of_name;
  bool any_function_resource = false;
  bool any_disabled = false;
  for (const auto& r : resources) {
    if (!is_function_type(r.type)) continue;
    any_function_resource = true;
    const std::optional<bool> exists = is_active(evaluator, r);
    if (!exists || !*exists) {
      any_disabled = any_disabled || exists.has_value();
      continue;
    }
    std::string name = function_name(evaluator, r);
    if (auto [it, inserted] = owner_of_name.emplace(name, &r); !inserted) {
      sink_.error(r.line, r.logical_id, "",
                  fmt::format("function name {} is already used by {}", name, it->second->logical_id));
    }
    active.names[r.logical_id] = std::move(name);
    active.resources.push_back(&r);
  }
  if (!any_function_resource) {
    const YamlEntry* entry = root_.find_entry("Resources");
    sink_.error(entry != nullptr ? entry->key_line : 0, "", "", std::string(kNoFunctions));
  } else if (active.resources.empty() && any_disabled) {
    sink_.error(0, "", "", "every function resource is disabled by its Condition; there is nothing to run");
  }
  return active;
}

std::vector<FunctionConfig> TemplateLoader::build_functions(IntrinsicEvaluator& evaluator,
                                                            const ActiveFunctions& active,
                                                            const LocalLayers& layers) {
  std::optional<TemplateValue> globals;
  const bool any_serverless = std::any_of(active.resources.begin(), active.resources.end(),
                                          [](const ResourceEntry* r) { return r->type == kServerlessFunctionType; });
  if (any_serverless) {
    globals = read_globals(evaluator);
    if (!root_.find_entry("Transform")) {
      sink_.warning(0, "", "",
                    fmt::format("AWS::Serverless::Function resources need 'Transform: {}' to deploy", kSamTransform));
    }
  }

  std::vector<FunctionConfig> functions;
  const std::filesystem::path dir = template_dir();
  for (const ResourceEntry* r : active.resources) {
    FunctionSource source;
    source.logical_id = r->logical_id;
    source.type = r->type;
    source.name = active.names.at(r->logical_id);
    source.line = r->line;
    source.region = options_.region;
    source.account_id = options_.account_id;
    source.properties.kind = Kind::kMap;
    if (auto properties = r->node->find_entry("Properties")) {
      auto local = read_properties(evaluator, *r, *properties);
      if (!local) continue;
      source.properties = std::move(*local);
    }
    if (r->type == kServerlessFunctionType && globals) {
      source.properties = merge_globals(*globals, std::move(source.properties));
    }
    strip_no_value(source.properties);
    FunctionBuilder builder(source, dir, layers, sink_);
    if (auto config = builder.build()) {
      HttpFunctionSource http{r->logical_id, config->name, nullptr, nullptr};
      if (auto properties = r->node->find("Properties")) http.events = properties->find("Events");
      if (const auto* url = source.properties.find("FunctionUrlConfig")) http.url_config = &url_configs_.emplace_back(*url);
      http_functions_.push_back(std::move(http));
      functions.push_back(std::move(*config));
    }
  }
  return functions;
}

LocalLayers TemplateLoader::read_layers(IntrinsicEvaluator& evaluator, const std::vector<ResourceEntry>& resources) {
  LocalLayers layers;
  std::map<std::string, std::string> arns;            // logical id -> ARN
  std::map<std::string, std::string> owner_of_name;   // LayerName -> logical id
  for (const auto& r : resources) {
    if (r.type != kServerlessLayerType && r.type != kLambdaLayerType) continue;
    const std::optional<bool> exists = is_active(evaluator, r);
    if (!exists || !*exists) continue;
    TemplateValue properties;
    properties.kind = Kind::kMap;
    if (auto entry = r.node->find_entry("Properties")) {
      properties = evaluator.evaluate(entry->value);
      strip_no_value(properties);
      if (!properties.is(Kind::kMap)) {
        sink_.error(entry->key_line, r.logical_id, "Properties",
                    properties.is(Kind::kInvalid) ? properties.text : "must be a mapping that can be resolved locally");
        continue;
      }
    }
    std::string name = layer_name(r, properties);
    if (auto [it, inserted] = owner_of_name.emplace(name, r.logical_id); !inserted) {
      sink_.error(r.line, r.logical_id, "Properties.LayerName",
                  fmt::format("layer name {} is already used by {}", name, it->second));
      continue;
    }
    LocalLayer layer;
    layer.logical_id = r.logical_id;
    read_layer_content(r, properties, layer);
    if (const auto* runtimes = properties.find("CompatibleRuntimes"); runtimes && runtimes->is(Kind::kList)) {
      for (const auto& item : runtimes->items) {
        if (item.is(Kind::kString)) layer.compatible_runtimes.push_back(item.text);
      }
    }
    if (auto metadata = r.node->find_entry("Metadata"); metadata && metadata->value.find_entry("BuildMethod")) {
      sink_.warning(metadata->key_line, r.logical_id, "Metadata.BuildMethod",
                    "lambdad does not build layers; the content directory is used as it is (run sam build and "
                    "pass .aws-sam/build/template.yaml to use the built layer)");
    }
    std::string arn = local_layer_arn(options_.region, options_.account_id, name);
    arns[r.logical_id] = arn;
    layers.emplace(std::move(arn), std::move(layer));
  }
  evaluator.set_layer_arns(std::move(arns));
  return layers;
}

std::string TemplateLoader::layer_name(const ResourceEntry& resource, const TemplateValue& properties) {
  const auto* v = properties.find("LayerName");
  if (v == nullptr) return resource.logical_id;
  if (v->is(Kind::kString)) {
    if (is_valid_layer_name(v->text)) return v->text;
    sink_.error(v->line, resource.logical_id, "Properties.LayerName",
                fmt::format("{} is not a valid layer name (1 to 140 of a-z A-Z 0-9 - _)", v->text));
  } else if (v->is(Kind::kUnresolved)) {
    sink_.warning(v->line, resource.logical_id, "Properties.LayerName",
                  fmt::format("{} cannot be resolved locally; the layer is named {}", v->text, resource.logical_id));
  } else {
    sink_.error(v->line, resource.logical_id, "Properties.LayerName",
                v->is(Kind::kInvalid) ? v->text : "must be a string");
  }
  return resource.logical_id;
}

// SAM's ContentUri, or CloudFormation's Content as a local path (what `sam build` and
// `aws cloudformation package` accept before they upload it).
void TemplateLoader::read_layer_content(const ResourceEntry& resource, const TemplateValue& properties,
                                        LocalLayer& layer) {
  const bool serverless = resource.type == kServerlessLayerType;
  const std::string key = serverless ? "ContentUri" : "Content";
  const std::string property = "Properties." + key;
  const auto* v = properties.find(key);
  if (v == nullptr) {
    sink_.error(resource.line, resource.logical_id, property, "required property is missing; a local directory is required");
    layer.problem = fmt::format("it has no {}", key);
    return;
  }
  // Content in S3 (or where only AWS knows) is fine for a layer no function uses; a function
  // that uses it is an error naming this reason.
  if (v->is(Kind::kMap) || (v->is(Kind::kString) && v->text.starts_with("s3://"))) {
    layer.problem = fmt::format("its {} is an S3 location; lambdad needs a local directory ({}: ./layer-dir)", key, key);
    return;
  }
  if (v->is(Kind::kUnresolved)) {
    layer.problem = fmt::format("its {} ({}) cannot be resolved locally", key, v->text);
    return;
  }
  if (!v->is(Kind::kString)) {
    sink_.error(v->line, resource.logical_id, property, v->is(Kind::kInvalid) ? v->text : "must be a local directory");
    layer.problem = fmt::format("its {} is in error", key);
    return;
  }
  auto dir = local_directory(template_dir(), v->text);
  if (auto* problem = std::get_if<std::string>(&dir)) {
    sink_.error(v->line, resource.logical_id, property, *problem);
    layer.problem = fmt::format("its {} is in error ({})", key, *problem);
    return;
  }
  layer.dir = std::get<std::filesystem::path>(std::move(dir));
}

std::optional<TemplateValue> TemplateLoader::read_properties(IntrinsicEvaluator& evaluator,
                                                             const ResourceEntry& resource,
                                                             const YamlEntry& properties) {
  TemplateValue local = evaluator.evaluate(properties.value);
  const int line = properties.key_line;
  if (local.is(Kind::kInvalid)) {
    sink_.error(line, resource.logical_id, "Properties", local.text);
    return std::nullopt;
  }
  if (local.is(Kind::kUnresolved)) {
    sink_.error(line, resource.logical_id, "Properties",
                fmt::format("{} cannot be resolved locally; the properties are required", local.text));
    return std::nullopt;
  }
  if (!local.is(Kind::kMap)) {
    sink_.error(line, resource.logical_id, "Properties", "must be a mapping");
    return std::nullopt;
  }
  local.intrinsic = false;  // Properties chosen by !If still merge with Globals key by key
  warn_unknown_properties(resource, local);
  return local;
}

TemplateLoad TemplateLoader::finish(TemplateLoad& load) {
  load.errors = sink_.take_errors();
  load.warnings = sink_.take_warnings();
  return std::move(load);
}

void TemplateLoader::check_top_level() {
  for (const auto& entry : root_.entries) {
    const std::string key = entry.scalar_key() ? entry.key : render_key_expression(entry);
    if (!contains(kTopLevelSections, key)) {
      sink_.warning(entry.key_line, key, "", "unknown template section; ignored");
    }
  }
  if (auto version = root_.find_entry("AWSTemplateFormatVersion")) {
    if (!version->value.is(YKind::kScalar) || version->value.text != "2010-09-09") {
      sink_.error(version->key_line, "AWSTemplateFormatVersion", "",
                  "the only template format version is 2010-09-09");
    }
  }
}

std::map<std::string, TemplateValue> TemplateLoader::read_parameters() {
  std::map<std::string, TemplateValue> parameters;
  auto section = root_.find_entry("Parameters");
  if (section && !section->value.is(YKind::kMap) && !section->value.is(YKind::kNull)) {
    sink_.error(section->key_line, "Parameters", "", "must be a mapping of parameter names to definitions");
    section = nullptr;
  }
  if (section && section->value.is(YKind::kMap)) {
    for (const auto& entry : section->value.entries) {
      if (!entry.scalar_key()) continue;
      parameters[entry.key] = parameter_value(entry.key, entry);
    }
  }
  for (const auto& [name, value] : options_.parameter_overrides) {
    if (!parameters.contains(name)) {
      sink_.warning(0, "", "",
                    fmt::format("parameter override {} matches no parameter of the template; ignored", name));
    }
  }
  return parameters;
}

TemplateValue TemplateLoader::parameter_value(const std::string& name, const YamlEntry& entry) {
  const int line = entry.key_line;
  auto fail = [&](int at, std::string message) {
    sink_.error(at, "Parameters", name, std::move(message));
    return TemplateValue::invalid(fmt::format("parameter {} is invalid", name), line);
  };
  if (!entry.value.is(YKind::kMap)) return fail(line, "must be a mapping with a Type");
  std::string type = "String";
  if (auto t = entry.value.find_entry("Type"); t && t->value.is(YKind::kScalar)) {
    type = t->value.text;
  } else {
    fail(line, "every parameter needs a Type");
  }

  std::string text;
  int value_line = line;
  const char* origin = "parameter override";
  if (auto it = options_.parameter_overrides.find(name); it != options_.parameter_overrides.end()) {
    text = it->second;
  } else if (auto d = entry.value.find_entry("Default")) {
    TemplateValue v = literal_value(d->value, "Parameters");
    value_line = d->key_line;
    origin = "Default";
    if (v.is(Kind::kInvalid)) return fail(value_line, v.text);
    if (!v.is(Kind::kString)) return fail(value_line, "Default must be a string");
    if (type.starts_with("AWS::SSM::Parameter::Value<")) {
      // The Default names an SSM parameter whose value lives in AWS Systems Manager.
      return TemplateValue::unresolved(
          "!Ref " + name, fmt::format("parameter {} is read from SSM parameter {}; pass a parameter override", name,
                                      v.text),
          line);
    }
    text = v.text;
  } else {
    return TemplateValue::unresolved(
        "!Ref " + name, fmt::format("parameter {} has no Default and no override was given", name), line);
  }

  const bool is_list = type == "CommaDelimitedList" || type.starts_with("List<");
  std::vector<std::string> values;
  if (is_list) {
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) values.push_back(item);
    if (text.empty() || text.back() == ',') values.emplace_back();
  } else {
    values.push_back(text);
  }

  bool ok = true;
  if (type == "Number" || type == "List<Number>") {
    for (const auto& v : values) {
      if (!is_number(v)) {
        sink_.error(value_line, "Parameters", name, fmt::format("{} {} is not a number", origin, v));
        ok = false;
      }
    }
  }
  if (auto allowed = entry.value.find_entry("AllowedValues"); allowed && allowed->value.is(YKind::kList)) {
    std::set<std::string> accepted;
    for (const auto& a : allowed->value.items) {
      if (a.is(YKind::kScalar)) accepted.insert(a.text);
    }
    for (const auto& v : values) {
      if (!accepted.contains(v)) {
        sink_.error(value_line, "Parameters", name,
                    fmt::format("{} {} is not one of AllowedValues {}", origin, v, render_expression(allowed->value)));
        ok = false;
      }
    }
  }
  if (auto pattern = entry.value.find_entry("AllowedPattern"); pattern && pattern->value.is(YKind::kScalar)) {
    try {
      const std::regex re(pattern->value.text);
      for (const auto& v : values) {
        if (!std::regex_match(v, re)) {
          sink_.error(value_line, "Parameters", name,
                      fmt::format("{} {} does not match AllowedPattern {}", origin, v, pattern->value.text));
          ok = false;
        }
      }
    } catch (const std::regex_error&) {
      // CloudFormation uses Java regular expressions; a pattern std::regex cannot read is not checked.
      sink_.warning(pattern->key_line, "Parameters", name, "AllowedPattern cannot be checked locally");
    }
  }
  if (!ok) return TemplateValue::invalid(fmt::format("parameter {} has an invalid value", name), line);

  if (!is_list) return TemplateValue::string(std::move(text), line);
  TemplateValue list;
  list.kind = Kind::kList;
  list.line = line;
  for (auto& v : values) list.items.push_back(TemplateValue::string(std::move(v), line));
  return list;
}

std::vector<ResourceEntry> TemplateLoader::read_resources() {
  std::vector<ResourceEntry> resources;
  auto section = root_.find_entry("Resources");
  if (!section) return resources;
  if (!section->value.is(YKind::kMap)) {
    sink_.error(section->key_line, "Resources", "", "must be a mapping of logical ids to resources");
    return resources;
  }
  for (const auto& entry : section->value.entries) {
    const int line = entry.key_line;
    if (!entry.scalar_key()) {
      sink_.error(line, "Resources", "", "logical ids must be strings");
      continue;
    }
    const std::string& id = entry.key;
    if (id.starts_with("Fn::ForEach::")) {
      sink_.warning(line, id, "", "Fn::ForEach is not expanded locally; the resources it generates are left out");
      continue;
    }
    if (!is_alphanumeric(id)) {
      sink_.error(line, id, "", "logical ids must be alphanumeric (A-Za-z0-9)");
      continue;
    }
    if (!entry.value.is(YKind::kMap)) {
      sink_.error(line, id, "", "a resource must be a mapping with a Type");
      continue;
    }
    const YamlEntry* type = entry.value.find_entry("Type");
    if (!type || !type->value.is(YKind::kScalar)) {
      sink_.error(line, id, "Type", "every resource needs a Type");
      continue;
    }
    resources.push_back(ResourceEntry{id, type->value.text, &entry.value, line});
  }
  return resources;
}

std::optional<TemplateValue> TemplateLoader::read_globals(IntrinsicEvaluator& evaluator) {
  auto section = root_.find_entry("Globals");
  if (!section) return std::nullopt;
  if (!section->value.is(YKind::kMap)) {
    sink_.error(section->key_line, "Globals", "", "must be a mapping of resource kinds (Function, Api, ...)");
    return std::nullopt;
  }
  for (const auto& entry : section->value.entries) {
    if (!entry.scalar_key() || !contains(kGlobalsSections, entry.key)) {
      sink_.warning(entry.key_line, "Globals", render_key_expression(entry), "unknown Globals section; ignored");
    }
  }
  auto function = section->value.find_entry("Function");
  if (!function) return std::nullopt;
  if (!function->value.is(YKind::kMap)) {
    sink_.error(function->key_line, "Globals", "Function", "must be a mapping of function properties");
    return std::nullopt;
  }
  TemplateValue globals = evaluator.evaluate(function->value);
  std::erase_if(globals.entries, [&](const TemplateEntry& entry) {
    if (!contains(kNotGlobalFunctionProperties, entry.key)) return false;
    sink_.error(entry.value.line, "Globals", "Function." + entry.key,
                fmt::format("'{}' is not a supported property of 'Function' in Globals", entry.key));
    return true;
  });
  mark_from_globals(globals);
  return globals;
}

std::optional<bool> TemplateLoader::is_active(IntrinsicEvaluator& evaluator, const ResourceEntry& resource) {
  auto condition = resource.node->find_entry("Condition");
  if (!condition) return true;
  const int line = condition->key_line;
  if (!condition->value.is(YKind::kScalar)) {
    sink_.error(line, resource.logical_id, "Condition", "must be the name of a condition");
    return std::nullopt;
  }
  TemplateValue v = evaluator.condition(condition->value.text, line);
  if (v.is(Kind::kInvalid)) {
    sink_.error(line, resource.logical_id, "Condition", v.text);
    return std::nullopt;
  }
  if (v.is(Kind::kUnresolved)) {
    sink_.warning(line, resource.logical_id, "Condition",
                  fmt::format("{} cannot be resolved locally{}; the function is created", v.text,
                              v.hint.empty() ? "" : " (" + v.hint + ")"));
    return true;
  }
  return v.text == "true";
}

std::string TemplateLoader::function_name(IntrinsicEvaluator& evaluator, const ResourceEntry& resource) {
  const std::string& id = resource.logical_id;
  const YamlEntry* entry = nullptr;
  if (auto properties = resource.node->find_entry("Properties")) entry = properties->value.find_entry("FunctionName");
  if (!entry) {
    if (!is_valid_function_name(id)) {
      sink_.error(resource.line, id, "", "the logical id is longer than 64 characters; set FunctionName");
    }
    return id;
  }
  const int line = entry->key_line;
  const std::string property = "Properties.FunctionName";
  TemplateValue v = evaluator.evaluate(entry->value);
  strip_no_value(v);
  switch (v.kind) {
    case Kind::kString:
      if (!is_valid_function_name(v.text)) {
        sink_.error(line, id, property,
                    fmt::format("{} is not a valid function name (1 to 64 of a-z A-Z 0-9 - _)", v.text));
        return id;
      }
      return v.text;
    case Kind::kNoValue:
      return id;
    case Kind::kUnresolved:
      sink_.warning(line, id, property,
                    fmt::format("{} cannot be resolved locally{}; the function is named {}", v.text,
                                v.hint.empty() ? "" : " (" + v.hint + ")", id));
      return id;
    case Kind::kInvalid:
      sink_.error(line, id, property, v.text);
      return id;
    case Kind::kNull:
      sink_.error(line, id, property, "'null' values are not allowed in templates");
      return id;
    case Kind::kList:
    case Kind::kMap:
      break;
  }
  sink_.error(line, id, property, "must be a string");
  return id;
}

void TemplateLoader::warn_unknown_properties(const ResourceEntry& resource, const TemplateValue& properties) {
  const bool serverless = resource.type == kServerlessFunctionType;
  for (const auto& [key, value] : properties.entries) {
    const bool known =
        serverless ? contains(kServerlessFunctionProperties, key) : contains(kLambdaFunctionProperties, key);
    if (!known) {
      sink_.warning(value.line, resource.logical_id, "Properties." + key,
                    fmt::format("unknown property of {}; ignored", resource.type));
    }
  }
}

std::filesystem::path TemplateLoader::template_dir() const {
  std::error_code ec;
  std::filesystem::path dir = file_.parent_path();
  if (dir.empty()) dir = ".";
  auto absolute = std::filesystem::absolute(dir, ec);
  return ec ? dir : absolute.lexically_normal();
}

}  // namespace

TemplateLoad load_sam_template_text(const std::string& text, const std::filesystem::path& file,
                                    const TemplateOptions& options) {
  return load_yaml(text, file, "template", [&](const YAML::Node& root) { return TemplateLoader(file, options).run(root); });
}

TemplateLoad load_sam_template(const std::filesystem::path& file, const TemplateOptions& options) {
  auto text = read_source_file(file, "template");
  if (auto* failed = std::get_if<TemplateLoad>(&text)) return std::move(*failed);
  return load_sam_template_text(std::get<std::string>(text), file, options);
}

}  // namespace lambdad::config
