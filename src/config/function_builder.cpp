// config (internal): one function resource's properties -> FunctionConfig.
#include "function_builder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <system_error>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "lambdad/common/limits.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

constexpr std::string_view kUnsupportedRuntimeHint =
    "supported: python3.x, nodejsN.x, provided, provided.al2, provided.al2023";
constexpr std::size_t kMaxHandler = 128;
constexpr std::size_t kMaxDescription = 256;

bool has_whitespace(std::string_view s) { return s.find_first_of(" \t\r\n\f\v") != std::string_view::npos; }


// The service an EventInvokeConfig destination Type delivers to; empty for an unknown Type.
std::string_view destination_service(std::string_view type) {
  if (type == "Lambda") return "lambda";
  if (type == "SQS") return "sqs";
  if (type == "SNS") return "sns";
  if (type == "EventBridge") return "events";
  if (type == "S3") return "s3";
  return {};
}

// What a destination Type's ARN names, for messages.
std::string_view destination_noun(std::string_view type) {
  if (type == "Lambda") return "a Lambda function";
  if (type == "SQS") return "an SQS queue";
  if (type == "SNS") return "an SNS topic";
  if (type == "EventBridge") return "an EventBridge event bus";
  return "an S3 bucket";
}

// A Lambda destination as !Ref gives it: NAME or NAME:QUALIFIER.
bool is_function_reference(std::string_view s) {
  const auto colon = s.find(':');
  if (!is_valid_function_name(s.substr(0, colon))) return false;
  return colon == std::string_view::npos || !s.substr(colon + 1).empty();
}

bool is_zip_archive(const std::filesystem::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".zip" || ext == ".jar";
}

}  // namespace

std::string unresolved_message(const TemplateValue& v, std::string_view consequence) {
  std::string message = v.text + " cannot be resolved locally";
  if (!v.hint.empty()) message += " (" + v.hint + ")";
  if (!consequence.empty()) message += fmt::format("; {}", consequence);
  return message;
}

std::string referenced_resource(std::string_view expression) {
  for (std::string_view prefix : {"!GetAtt ", "!Ref "}) {
    if (expression.starts_with(prefix)) {
      const std::string_view name = expression.substr(prefix.size());
      return std::string(name.substr(0, name.find('.')));
    }
  }
  return std::string(expression);
}

std::variant<std::filesystem::path, std::string> local_directory(const std::filesystem::path& base,
                                                                 const std::string& value) {
  if (value.starts_with("s3://")) {
    return fmt::format("S3 locations ({}) cannot be run locally; a local directory is required", value);
  }
  if (value.empty() || value.find('\0') != std::string::npos) return std::string("must name a local directory");
  std::filesystem::path dir = base / value;  // an absolute value replaces the base
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fmt::format("directory {} does not exist (resolved to {})", value, dir.lexically_normal().string());
  }
  if (!std::filesystem::is_directory(status)) {
    return is_zip_archive(dir) ? fmt::format("{} is an archive; lambdad runs code from a directory (unzip it)", value)
                               : fmt::format("{} is not a directory", value);
  }
  auto canonical = std::filesystem::weakly_canonical(dir, ec);
  if (ec) canonical = dir.lexically_normal();
  if (!canonical.has_filename() && canonical.has_parent_path()) canonical = canonical.parent_path();  // "dir/"
  return canonical;
}

FunctionBuilder::FunctionBuilder(const FunctionSource& source, std::filesystem::path template_dir,
                                 const LocalLayers& layers, DiagnosticSink& sink)
    : source_(source), template_dir_(std::move(template_dir)), layers_(layers), sink_(sink) {}

std::pair<std::string, std::string> FunctionBuilder::locate(bool inherited, std::string_view path) const {
  if (const FunctionDialect* d = source_.dialect) return {inherited ? d->inherited_from : d->function, d->property(path)};
  if (inherited) return {"Globals", fmt::format("Function.{}", path)};
  return {source_.logical_id, fmt::format("Properties.{}", path)};
}

const std::string& FunctionBuilder::function_name() const {
  return source_.dialect != nullptr ? source_.dialect->function : source_.logical_id;
}

void FunctionBuilder::error(const TemplateValue& at, std::string_view path, std::string message) {
  failed_ = true;
  auto [resource, property] = locate(at.from_globals, path);
  sink_.error(at.line, std::move(resource), std::move(property), std::move(message));
}

void FunctionBuilder::error_missing(std::string_view path, std::string message) {
  failed_ = true;
  auto [resource, property] = locate(false, path);
  sink_.error(source_.line, std::move(resource), std::move(property), std::move(message));
}

void FunctionBuilder::warning(const TemplateValue& at, std::string_view path, std::string message) {
  auto [resource, property] = locate(at.from_globals, path);
  sink_.warning(at.line, std::move(resource), std::move(property), std::move(message));
}

std::optional<std::string> FunctionBuilder::text(const TemplateValue& v, std::string_view path, Need need,
                                                 std::string_view consequence) {
  if (v.is(Kind::kString)) return v.text;
  if (!v.is(Kind::kUnresolved)) {
    error(v, path, not_text_message(v));
  } else if (need == Need::kRequired) {
    error(v, path, unresolved_message(v, "a local value is required"));
  } else {
    warning(v, path, unresolved_message(v, consequence));
  }
  return std::nullopt;
}

std::optional<int> FunctionBuilder::integer(const TemplateValue& v, std::string_view path, int min, int max,
                                            std::string_view range, std::string_view consequence) {
  if (!v.is(Kind::kString) && !v.failed() && !v.is(Kind::kNull)) {
    error(v, path, fmt::format("must be {} (got {})", range, kind_name(v.kind)));
    return std::nullopt;
  }
  auto s = text(v, path, Need::kOptional, consequence);
  if (!s) return std::nullopt;
  int value = 0;
  const char* end = s->data() + s->size();
  auto [ptr, ec] = std::from_chars(s->data(), end, value);
  if (s->empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    error(v, path, fmt::format("must be {} (got {})", range, s->empty() ? "''" : *s));
    return std::nullopt;
  }
  return value;
}

std::optional<FunctionConfig> FunctionBuilder::build() {
  FunctionConfig config;
  config.logical_id = source_.logical_id;
  config.name = source_.name;

  // An image function has no Runtime, Handler or code directory; one error says it all.
  if (is_image_function()) return std::nullopt;

  read_runtime_and_handler(config);
  read_code(config);

  if (const auto* v = source_.properties.find("MemorySize")) {
    const auto range = fmt::format("an integer between {} and {}", limits::kMinMemoryMb, limits::kMaxMemoryMb);
    const auto consequence = fmt::format("the default {} MB is used", limits::kDefaultMemoryMb);
    if (auto mb = integer(*v, "MemorySize", limits::kMinMemoryMb, limits::kMaxMemoryMb, range, consequence)) {
      config.memory_mb = *mb;
    }
  }
  if (const auto* v = source_.properties.find("Timeout")) {
    const auto range =
        fmt::format("an integer between {} and {}", limits::kMinTimeoutSeconds, limits::kMaxTimeoutSeconds);
    const auto consequence = fmt::format("the default {} seconds is used", limits::kDefaultTimeoutSeconds);
    if (auto seconds = integer(*v, "Timeout", limits::kMinTimeoutSeconds, limits::kMaxTimeoutSeconds, range,
                               consequence)) {
      config.timeout_seconds = *seconds;
    }
  }
  if (const auto* v = source_.properties.find("ReservedConcurrentExecutions")) {
    if (auto n = integer(*v, "ReservedConcurrentExecutions", 0, std::numeric_limits<int>::max(),
                         "a non-negative integer", "no concurrency is reserved")) {
      config.reserved_concurrency = *n;
    }
  }
  if (const auto* v = source_.properties.find("AutoPublishAlias")) {
    if (auto alias = text(*v, "AutoPublishAlias", Need::kOptional, "no version or alias is published")) {
      if (!is_valid_alias_name(*alias)) {
        error(*v, "AutoPublishAlias",
              fmt::format("'{}' is not an alias name: 1 to 128 of [a-zA-Z0-9-_], not only digits", *alias));
      } else {
        config.auto_publish_alias = std::move(*alias);
      }
    }
  }
  if (const auto* pc = source_.properties.find("ProvisionedConcurrencyConfig")) read_provisioned(*pc, config);
  if (const auto* storage = source_.properties.find("EphemeralStorage")) {
    if (const auto* v = storage->find("Size")) {
      if (auto mb = integer(*v, "EphemeralStorage.Size", 512, 10240, "an integer between 512 and 10240",
                            "/tmp gets the default 512 MB")) {
        config.ephemeral_storage_mb = *mb;
      }
    }
  }
  if (const auto* v = source_.properties.find("Description")) {
    if (auto description = text(*v, "Description", Need::kOptional, "the description is left empty")) {
      if (description->size() > kMaxDescription) {
        error(*v, "Description", fmt::format("must be at most {} characters", kMaxDescription));
      } else {
        config.description = std::move(*description);
      }
    }
  }
  read_environment(config);
  read_architectures(config);
  read_layers(config);
  read_event_invoke_config(config);
  read_dead_letter(config);
  read_logging_config(config);
  read_tracing(config);
  read_snap_start(config);
  read_durable_config(config);
  read_tenancy_config(config);
  read_managed_instances(config);  // last: it checks what the others read

  if (failed_) return std::nullopt;
  return config;
}

void FunctionBuilder::read_provisioned(const TemplateValue& pc, FunctionConfig& config) {
  // The Framework publishes its own alias, and provisions nothing for 0.
  const std::string alias = source_.dialect != nullptr ? source_.dialect->provisioned_alias : "";
  // Lambda provisions a version or alias, never $LATEST; SAM refuses it without an alias.
  if (alias.empty() && !source_.properties.find("AutoPublishAlias")) {
    error(pc, "ProvisionedConcurrencyConfig", "needs AutoPublishAlias: provisioned concurrency applies to an alias");
  }
  if (const auto* v = pc.find("ProvisionedConcurrentExecutions")) {
    const int min = alias.empty() ? 1 : 0;
    if (auto n = integer(*v, "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions", min,
                         std::numeric_limits<int>::max(), min == 1 ? "a positive integer" : "a non-negative integer",
                         "no environments are provisioned");
        n && *n > 0) {
      config.provisioned_concurrency = *n;
      if (!alias.empty()) config.auto_publish_alias = alias;
    }
  }
}

bool FunctionBuilder::is_image_function() {
  constexpr std::string_view kImageError = "container image functions are not supported";
  bool image = false;
  if (const auto* v = source_.properties.find("PackageType")) {
    if (auto type = text(*v, "PackageType", Need::kOptional, "Zip is assumed")) {
      if (*type == "Image") {
        error(*v, "PackageType", std::string(kImageError));
        image = true;
      } else if (*type != "Zip") {
        error(*v, "PackageType", fmt::format("must be Zip or Image (got {})", *type));
      }
    }
  }
  const bool serverless = source_.type == kServerlessFunctionType;
  if (const auto* v = serverless ? source_.properties.find("ImageUri") : nullptr; v != nullptr && !image) {
    error(*v, "ImageUri", std::string(kImageError));
    image = true;
  }
  if (const auto* code = serverless ? nullptr : source_.properties.find("Code"); code != nullptr && !image) {
    if (const auto* v = code->find("ImageUri")) {
      error(*v, "Code.ImageUri", std::string(kImageError));
      image = true;
    }
  }
  return image;
}

void FunctionBuilder::read_runtime_and_handler(FunctionConfig& config) {
  RuntimeFamily family = RuntimeFamily::kUnsupported;
  const auto* runtime = source_.properties.find("Runtime");
  if (runtime == nullptr) {
    const std::string hint = source_.dialect != nullptr ? " (" + source_.dialect->runtime_hint + ")" : "";
    error_missing("Runtime", "required property is missing" + hint);
  } else if (auto id = text(*runtime, "Runtime", Need::kRequired, "")) {
    family = runtime_family(*id);
    if (auto blocked = blocked_runtime_message(*id)) {
      error(*runtime, "Runtime", std::move(*blocked));  // as Lambda refuses the deploy
    } else if (family == RuntimeFamily::kUnsupported) {
      error(*runtime, "Runtime",
            fmt::format("runtime {} is not supported by lambdad ({})", *id, kUnsupportedRuntimeHint));
    }
    config.runtime = std::move(*id);
  }

  const auto* handler = source_.properties.find("Handler");
  if (handler == nullptr) {
    // provided runtimes find their bootstrap themselves; the others need module.function.
    if (family == RuntimeFamily::kPython || family == RuntimeFamily::kNode) {
      const std::string python =
          source_.dialect != nullptr ? source_.dialect->python_handler_example : "app.lambda_handler";
      error_missing("Handler", fmt::format("required property is missing ({} functions need one, e.g. {})",
                                           config.runtime, family == RuntimeFamily::kPython ? python : "index.handler"));
    }
    return;
  }
  const bool required = family != RuntimeFamily::kProvided;
  auto value = text(*handler, "Handler", required ? Need::kRequired : Need::kOptional, "no handler is set");
  if (!value) return;
  if (value->empty() || value->size() > kMaxHandler || has_whitespace(*value)) {
    error(*handler, "Handler", fmt::format("must be 1 to {} characters without whitespace", kMaxHandler));
    return;
  }
  config.handler = std::move(*value);
}

void FunctionBuilder::read_code(FunctionConfig& config) {
  constexpr std::string_view kLocalOnly = "a local directory is required";
  if (source_.type == kServerlessFunctionType) {
    const auto* code_uri = source_.properties.find("CodeUri");
    if (const auto* inline_code = source_.properties.find("InlineCode")) {
      error(*inline_code, "InlineCode",
            fmt::format("inline code is not supported; {} (CodeUri: ./path)", kLocalOnly));
      return;
    }
    if (code_uri == nullptr) {
      error_missing("CodeUri", fmt::format("required property is missing; {}", kLocalOnly));
      return;
    }
    if (code_uri->is(Kind::kMap)) {
      error(*code_uri, "CodeUri", fmt::format("S3 locations cannot be run locally; {}", kLocalOnly));
      return;
    }
    if (auto dir = code_directory(*code_uri, "CodeUri")) config.code_dir = std::move(*dir);
    return;
  }

  const auto* code = source_.properties.find("Code");
  if (code == nullptr) {
    error_missing("Code", fmt::format("required property is missing; {}", kLocalOnly));
    return;
  }
  if (code->is(Kind::kMap)) {
    if (const auto* zip = code->find("ZipFile")) {
      error(*zip, "Code.ZipFile", fmt::format("inline code is not supported; {} (Code: ./path)", kLocalOnly));
    } else if (code->find("S3Bucket") != nullptr || code->find("S3Key") != nullptr) {
      error(*code, "Code", fmt::format("S3 code cannot be run locally; {} (Code: ./path)", kLocalOnly));
    } else {
      error(*code, "Code", fmt::format("must be a path; {}", kLocalOnly));
    }
    return;
  }
  if (auto dir = code_directory(*code, "Code")) config.code_dir = std::move(*dir);
}

std::optional<std::filesystem::path> FunctionBuilder::code_directory(const TemplateValue& v, std::string_view path) {
  auto value = text(v, path, Need::kRequired, "");
  if (!value) return std::nullopt;
  auto dir = local_directory(template_dir_, *value);
  if (auto* problem = std::get_if<std::string>(&dir)) {
    error(v, path, std::move(*problem));
    return std::nullopt;
  }
  return std::get<std::filesystem::path>(std::move(dir));
}

void FunctionBuilder::read_environment(FunctionConfig& config) {
  const auto* environment = source_.properties.find("Environment");
  if (environment == nullptr) return;
  if (environment->is(Kind::kUnresolved)) {
    warning(*environment, "Environment", unresolved_message(*environment, "no environment variables are set"));
    return;
  }
  if (environment->is(Kind::kInvalid)) return error(*environment, "Environment", environment->text);
  if (!environment->is(Kind::kMap)) {
    return error(*environment, "Environment",
                 fmt::format("must be a mapping with Variables, not {}", kind_name(environment->kind)));
  }
  const auto* variables = environment->find("Variables");
  if (variables == nullptr) return;
  if (variables->is(Kind::kUnresolved)) {
    warning(*variables, "Environment.Variables",
            unresolved_message(*variables, "no environment variables are set"));
    return;
  }
  if (variables->is(Kind::kInvalid)) return error(*variables, "Environment.Variables", variables->text);
  if (!variables->is(Kind::kMap)) {
    return error(*variables, "Environment.Variables",
                 fmt::format("must be a mapping of names to strings, not {}", kind_name(variables->kind)));
  }

  for (const auto& [key, value] : variables->entries) {
    const std::string path = "Environment.Variables." + key;
    if (!is_valid_environment_key(key)) {
      error(value, path,
            "names must start with a letter and contain only letters, digits and _ (at least 2 characters)");
      continue;
    }
    if (is_reserved_environment_key(key)) {
      error(value, path, fmt::format("{} is reserved by Lambda and cannot be set", key));
      continue;
    }
    if (value.is(Kind::kNoValue)) {  // serverless.yml: `NAME:` with nothing after it
      warning(value, path, "has no value; the variable is left out");
      continue;
    }
    auto text_value = text(value, path, Need::kOptional, "the variable is left out");
    if (!text_value) continue;
    config.environment[key] = std::move(*text_value);
  }
  if (const auto measured = environment_as_measured(config.environment).size(); measured > kMaxEnvironmentBytes) {
    error(*variables, "Environment.Variables",
          fmt::format("environment variables take {} bytes as Lambda measures them (as JSON); Lambda allows at "
                      "most 4 KB", measured));
  }
}

void FunctionBuilder::read_architectures(FunctionConfig& config) {
  const auto* architectures = source_.properties.find("Architectures");
  if (architectures == nullptr) return;
  constexpr std::string_view kPath = "Architectures";
  if (architectures->is(Kind::kUnresolved)) {
    warning(*architectures, kPath, unresolved_message(*architectures, "x86_64 is used"));
    return;
  }
  if (architectures->is(Kind::kInvalid)) return error(*architectures, kPath, architectures->text);
  if (!architectures->is(Kind::kList)) {
    return error(*architectures, kPath,
                 fmt::format("must be a list holding x86_64 or arm64, not {}", kind_name(architectures->kind)));
  }
  if (architectures->items.size() != 1) {
    return error(*architectures, kPath,
                 fmt::format("must hold exactly one architecture, x86_64 or arm64 (got {})",
                             architectures->items.size()));
  }
  const auto& item = architectures->items.front();
  auto value = text(item, kPath, Need::kOptional, "x86_64 is used");
  if (!value) return;
  if (*value != "x86_64" && *value != "arm64") {
    return error(item, kPath, fmt::format("unknown architecture {} (x86_64 or arm64)", *value));
  }
  config.architectures = {std::move(*value)};
}

// SAM Tracing (Active, PassThrough, or Disabled: no TracingConfig, which Lambda reports as
// PassThrough); CloudFormation TracingConfig.Mode (Active or PassThrough).
void FunctionBuilder::read_tracing(FunctionConfig& config) {
  const bool serverless = source_.type == kServerlessFunctionType;
  const TemplateValue* v = nullptr;
  std::string_view path = "Tracing";
  if (serverless) {
    v = source_.properties.find("Tracing");
  } else if (const auto* tracing_config = source_.properties.find("TracingConfig")) {
    if (!mapping(*tracing_config, "TracingConfig", "tracing stays PassThrough")) return;
    v = tracing_config->find("Mode");
    path = "TracingConfig.Mode";
  }
  if (v == nullptr) return;
  auto mode = text(*v, path, Need::kOptional, "tracing stays PassThrough");
  if (!mode) return;
  if (serverless && *mode == "Disabled") return;
  if (auto parsed = parse_tracing_mode(*mode)) {
    config.tracing = *parsed;
  } else {
    error(*v, path,
          fmt::format("must be {} (got {})", serverless ? "Active, PassThrough or Disabled" : "Active or PassThrough",
                      mode->empty() ? "''" : *mode));
  }
}

// SnapStart: {ApplyOn: PublishedVersions | None} (docs/decisions/023).
void FunctionBuilder::read_snap_start(FunctionConfig& config) {
  const auto* snap = source_.properties.find("SnapStart");
  if (snap == nullptr || !mapping(*snap, "SnapStart", "SnapStart stays off")) return;
  const auto* v = snap->find("ApplyOn");
  if (v == nullptr) {
    error(*snap, "SnapStart.ApplyOn", "is required (PublishedVersions or None)");
    return;
  }
  auto apply_on = text(*v, "SnapStart.ApplyOn", Need::kOptional, "SnapStart stays off");
  if (!apply_on || *apply_on == "None") return;
  if (*apply_on != "PublishedVersions") {
    error(*v, "SnapStart.ApplyOn", fmt::format("must be PublishedVersions or None (got {})", apply_on->empty() ? "''" : *apply_on));
    return;
  }
  if (auto refusal = snap_start_refusal(config.runtime)) {
    error(*v, "SnapStart", std::move(*refusal));  // as Lambda refuses the deploy
    return;
  }
  config.snap_start = true;
}

// DurableConfig: {ExecutionTimeout (SAM and CloudFormation require it), RetentionPeriodInDays}.
void FunctionBuilder::read_durable_config(FunctionConfig& config) {
  const auto* durable = source_.properties.find("DurableConfig");
  if (durable == nullptr || !mapping(*durable, "DurableConfig", "the function is not durable")) return;
  DurableConfig out;
  if (const auto* v = durable->find("ExecutionTimeout")) {
    if (auto s = integer(*v, "DurableConfig.ExecutionTimeout", 1, static_cast<int>(kMaxDurableExecutionTimeoutSeconds),
                         "an integer between 1 and 31622400 (seconds)", "the function is not durable")) {
      out.execution_timeout_s = *s;
    } else {
      return;
    }
  } else {
    error(*durable, "DurableConfig.ExecutionTimeout", "is required (seconds, 1 to 31622400)");
    return;
  }
  if (const auto* v = durable->find("RetentionPeriodInDays")) {
    if (auto days = integer(*v, "DurableConfig.RetentionPeriodInDays", 1, 90, "an integer between 1 and 90",
                            "the function is not durable")) {
      out.retention_days = *days;
    } else {
      return;
    }
  }
  config.durable = out;
}

// TenancyConfig: {TenantIsolationMode: PER_TENANT} (its only value).
void FunctionBuilder::read_tenancy_config(FunctionConfig& config) {
  const auto* tenancy = source_.properties.find("TenancyConfig");
  if (tenancy == nullptr || !mapping(*tenancy, "TenancyConfig", "the function is not tenant-isolated")) return;
  const auto* v = tenancy->find("TenantIsolationMode");
  if (v == nullptr) {
    error(*tenancy, "TenancyConfig.TenantIsolationMode", "is required (PER_TENANT)");
    return;
  }
  auto mode = text(*v, "TenancyConfig.TenantIsolationMode", Need::kOptional, "the function is not tenant-isolated");
  if (!mode) return;
  if (*mode != "PER_TENANT") {
    error(*v, "TenancyConfig.TenantIsolationMode", fmt::format("must be PER_TENANT (got {})", mode->empty() ? "''" : *mode));
    return;
  }
  // What Lambda refuses beside tenant isolation (lambda-spec §12).
  for (const auto& [on, what] : {std::pair{config.snap_start, "SnapStart"},
                                 std::pair{config.provisioned_concurrency > 0, "provisioned concurrency"},
                                 std::pair{source_.properties.find("FunctionUrlConfig") != nullptr, "a Function URL"}}) {
    if (on) {
      error(*tenancy, "TenancyConfig", fmt::format("a tenant-isolated function cannot have {}", what));
      return;
    }
  }
  config.tenant_isolation = true;
}

void FunctionBuilder::read_layers(FunctionConfig& config) {
  const auto* layers = source_.properties.find("Layers");
  if (layers == nullptr) return;
  constexpr std::string_view kPath = "Layers";
  if (layers->is(Kind::kUnresolved)) {
    return error(*layers, kPath, unresolved_message(*layers, fmt::format("the layers of {} must be local: {}",
                                                                         source_.logical_id, kLayerNotLocal)));
  }
  if (layers->is(Kind::kInvalid)) return error(*layers, kPath, layers->text);
  if (!layers->is(Kind::kList)) {
    return error(*layers, kPath, fmt::format("must be a list of layers (!Ref MyLayer), not {}", kind_name(layers->kind)));
  }
  if (layers->items.size() > static_cast<std::size_t>(limits::kMaxLayers)) {
    return error(*layers, kPath, "Cannot reference more than 5 layers.");  // Lambda's own words
  }
  for (const auto& item : layers->items) {
    // Globals' items are reported under Globals, so they name the function in the message.
    const std::string of = item.from_globals ? fmt::format(" (a layer of {})", function_name()) : "";
    if (item.is(Kind::kUnresolved)) {
      error(item, kPath, fmt::format("{}{} cannot be resolved locally{}: {}", item.text, of,
                                     item.hint.empty() ? "" : " (" + item.hint + ")", kLayerNotLocal));
      continue;
    }
    auto arn = text(item, kPath, Need::kRequired, "");
    if (!arn) continue;
    const auto it = layers_.find(*arn);
    if (it == layers_.end()) {
      const std::string why = source_.dialect != nullptr ? source_.dialect->not_a_layer
                                                         : fmt::format("template: {}", kLayerNotLocal);
      error(item, kPath, fmt::format("{}{} is not a layer of this {}", arn->empty() ? "''" : *arn, of, why));
      continue;
    }
    const LocalLayer& layer = it->second;
    if (!layer.problem.empty()) {
      error(item, kPath, fmt::format("layer {}{} cannot be used locally: {}", layer.logical_id, of, layer.problem));
      continue;
    }
    const auto& compatible = layer.compatible_runtimes;
    if (!compatible.empty() && !config.runtime.empty() &&
        std::find(compatible.begin(), compatible.end(), config.runtime) == compatible.end()) {
      warning(item, kPath, fmt::format("layer {} does not list {} in its CompatibleRuntimes; it is used anyway",
                                       layer.logical_id, config.runtime));
    }
    config.layers.push_back(std::move(*arn));
    config.layer_dirs.push_back(layer.dir);
  }
}

bool FunctionBuilder::mapping(const TemplateValue& v, std::string_view path, std::string_view consequence) {
  if (v.is(Kind::kMap)) return true;
  if (v.is(Kind::kUnresolved)) {
    warning(v, path, unresolved_message(v, consequence));
  } else if (v.is(Kind::kInvalid)) {
    error(v, path, v.text);
  } else {
    error(v, path, fmt::format("must be a mapping, not {}", kind_name(v.kind)));
  }
  return false;
}

void FunctionBuilder::read_event_invoke_config(FunctionConfig& config) {
  // SAM only: AWS::Lambda::Function has no such property (the template loader warns about it).
  if (source_.type != kServerlessFunctionType) return;
  const auto* eic = source_.properties.find("EventInvokeConfig");
  if (eic == nullptr || !mapping(*eic, "EventInvokeConfig", "Lambda's defaults are used")) return;
  EventInvokeConfig out;
  if (const auto* v = eic->find("MaximumEventAgeInSeconds")) {
    if (auto n = integer(*v, "EventInvokeConfig.MaximumEventAgeInSeconds", 60, 21600,
                         "an integer between 60 and 21600", "the default 21600 is used")) {
      out.maximum_event_age_seconds = *n;
    }
  }
  if (const auto* v = eic->find("MaximumRetryAttempts")) {
    if (auto n = integer(*v, "EventInvokeConfig.MaximumRetryAttempts", 0, 2, "an integer between 0 and 2",
                         "the default 2 is used")) {
      out.maximum_retry_attempts = *n;
    }
  }
  if (const auto* destinations = eic->find("DestinationConfig")) {
    if (mapping(*destinations, "EventInvokeConfig.DestinationConfig", "no destinations are used")) {
      out.on_success = read_destination(*destinations, "OnSuccess");
      out.on_failure = read_destination(*destinations, "OnFailure");
    }
  }
  config.event_invoke_config = std::move(out);
}

std::optional<EventDestination> FunctionBuilder::read_destination(const TemplateValue& destinations,
                                                                  std::string_view key) {
  const auto* d = destinations.find(key);
  const std::string path = fmt::format("EventInvokeConfig.DestinationConfig.{}", key);
  if (d == nullptr || !mapping(*d, path, "the destination is left out")) return std::nullopt;
  const auto* type_value = d->find("Type");
  if (type_value == nullptr) {
    error(*d, path + ".Type", "required property is missing (Lambda, SQS, SNS, EventBridge or S3)");
    return std::nullopt;
  }
  auto type = text(*type_value, path + ".Type", Need::kRequired, "");
  if (!type) return std::nullopt;
  const std::string_view service = destination_service(*type);
  if (service.empty()) {
    error(*type_value, path + ".Type", fmt::format("must be Lambda, SQS, SNS, EventBridge or S3 (got {})", *type));
    return std::nullopt;
  }
  const auto* value = d->find("Destination");
  if (value == nullptr) {
    // SAM creates a queue or topic for these; it exists only in AWS, so its name is made up
    // from the function's logical id, as SAM names the resource.
    if (*type == "SQS" || *type == "SNS") {
      return EventDestination{*type, fmt::format("{}EventInvokeConfig{}{}", source_.logical_id, key,
                                                 *type == "SQS" ? "Queue" : "Topic")};
    }
    error(*d, path + ".Destination", fmt::format("required property is missing (Type {} needs an ARN)", *type));
    return std::nullopt;
  }
  if (value->is(Kind::kUnresolved) && *type != "Lambda") {
    std::string name = referenced_resource(value->text);
    warning(*value, path + ".Destination",
            unresolved_message(*value, fmt::format("its records are written to a local file named after {}", name)));
    return EventDestination{*type, std::move(name)};
  }
  auto destination = text(*value, path + ".Destination", Need::kOptional, "the destination is left out");
  if (!destination) return std::nullopt;
  const std::string_view arn_of = arn_service(*destination);
  const bool ok = arn_of == service || (*type == "Lambda" && arn_of.empty() && is_function_reference(*destination));
  if (!ok) {
    error(*value, path + ".Destination",
          fmt::format("must be the ARN of {} (got {})", destination_noun(*type),
                      destination->empty() ? "''" : *destination));
    return std::nullopt;
  }
  return EventDestination{*type, std::move(*destination)};
}

void FunctionBuilder::read_dead_letter(FunctionConfig& config) {
  // SAM's DeadLetterQueue names its Type; Lambda's DeadLetterConfig has only the ARN.
  const bool serverless = source_.type == kServerlessFunctionType;
  const std::string path(serverless ? "DeadLetterQueue" : "DeadLetterConfig");
  const auto* dlq = source_.properties.find(path);
  if (dlq == nullptr || !mapping(*dlq, path, "no dead-letter queue is used")) return;
  std::string type;
  if (serverless) {
    const auto* type_value = dlq->find("Type");
    if (type_value == nullptr) return error(*dlq, path + ".Type", "required property is missing (SQS or SNS)");
    auto t = text(*type_value, path + ".Type", Need::kRequired, "");
    if (!t) return;
    if (*t != "SQS" && *t != "SNS") return error(*type_value, path + ".Type", fmt::format("must be SQS or SNS (got {})", *t));
    type = std::move(*t);
  }
  const auto* target = dlq->find("TargetArn");
  if (target == nullptr) {
    if (serverless) error(*dlq, path + ".TargetArn", "required property is missing");
    return;  // Lambda's DeadLetterConfig: {} means none
  }
  if (target->is(Kind::kUnresolved)) {
    // A queue or topic the template creates: !GetAtt Queue.Arn, or !Ref Topic (a topic's Ref is its ARN).
    std::string name = referenced_resource(target->text);
    if (type.empty()) type = target->text.starts_with("!Ref ") ? "SNS" : "SQS";
    warning(*target, path + ".TargetArn",
            unresolved_message(*target, fmt::format("dead letters are written to a local file named after {}", name)));
    config.dead_letter = DeadLetterConfig{std::move(type), std::move(name)};
    return;
  }
  auto arn = text(*target, path + ".TargetArn", Need::kOptional, "no dead-letter queue is used");
  if (!arn) return;
  const std::string_view service = arn_service(*arn);
  const std::string_view expected = type == "SNS" ? "sns" : type == "SQS" ? "sqs" : std::string_view{};
  if ((service != "sqs" && service != "sns") || (!expected.empty() && service != expected)) {
    return error(*target, path + ".TargetArn",
                 fmt::format("must be the ARN of {} (got {})", expected.empty() ? "an SQS queue or SNS topic"
                                                               : expected == "sqs" ? "an SQS queue" : "an SNS topic",
                             arn->empty() ? "''" : *arn));
  }
  if (type.empty()) type = service == "sqs" ? "SQS" : "SNS";
  config.dead_letter = DeadLetterConfig{std::move(type), std::move(*arn)};
}

void FunctionBuilder::read_logging_config(FunctionConfig& config) {
  const auto* logging = source_.properties.find("LoggingConfig");
  if (logging == nullptr || !mapping(*logging, "LoggingConfig", "the logs are Text")) return;
  LoggingConfig out;
  // Each member: its path, where it goes, the values Lambda accepts ("" = any).
  const std::array<std::tuple<std::string_view, std::string*, std::string_view>, 4> members = {{
      {"LogFormat", &out.log_format, "Text, JSON"},
      {"ApplicationLogLevel", &out.application_log_level, "TRACE, DEBUG, INFO, WARN, ERROR, FATAL"},
      {"SystemLogLevel", &out.system_log_level, "DEBUG, INFO, WARN"},
      {"LogGroup", &out.log_group, ""},
  }};
  bool ok = true;
  for (const auto& [key, field, allowed] : members) {
    const auto* v = logging->find(key);
    if (v == nullptr) continue;
    const std::string path = fmt::format("LoggingConfig.{}", key);
    auto value = text(*v, path, Need::kOptional, "Lambda's default is used");
    if (!value) continue;
    const std::string listed = fmt::format(", {}, ", allowed);
    if (!allowed.empty() && (value->empty() || listed.find(fmt::format(", {}, ", *value)) == std::string::npos)) {
      error(*v, path, fmt::format("must be one of {} (got {})", allowed, value->empty() ? "''" : *value));
      ok = false;
      continue;
    }
    *field = std::move(*value);
  }
  if (ok && out.log_format == "Text" && (!out.application_log_level.empty() || !out.system_log_level.empty())) {
    // Lambda's words (CloudFormation shows them).
    return error(*logging, "LoggingConfig",
                 "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or "
                 "change the LogFormat to \"Json\" and try again.");
  }
  if (ok) config.logging = std::move(out);
}

}  // namespace lambdad::config
