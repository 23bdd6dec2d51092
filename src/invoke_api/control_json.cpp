#include "control_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <functional>
#include <regex>
#include <set>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/invocation/invocation.hpp"
#include "lambdad/invoke_api/service_error.hpp"
#include "lambdad/observability/platform_log.hpp"

namespace lambdad::invoke_api::control_json {

namespace cp = control_plane;
namespace et = error_types;
using nlohmann::json;

std::string Account::arn(const std::string& name, const std::string& qualifier) const {
  return invocation::function_arn(region, account_id, name, qualifier);
}

// --- parsing ----------------------------------------------------------------------------------

namespace {

constexpr int kListPageSize = 50;
constexpr std::string_view kLatest = config::kLatest;
constexpr std::string_view kInfo = "INFO";
constexpr std::size_t kMaxDescription = 256;  // Description, of a function, a version or an alias

Error invalid(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(et::kInvalidParameterValueException), std::move(message)};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "Lambda" for arn:aws:lambda:..., "SQS", "SNS", "EventBridge" (events), "S3"; nullopt otherwise.
std::optional<std::string> destination_type(const std::string& arn) {
  const auto type = config::destination_type_for_service(config::arn_service(arn));
  if (type.empty()) return std::nullopt;
  return std::string(type);
}

Status check_runtime(const std::string& runtime) {
  // Runtimes Lambda itself no longer accepts for CreateFunction / UpdateFunctionConfiguration.
  if (auto blocked = config::blocked_runtime_message(runtime)) return invalid(std::move(*blocked));
  if (config::runtime_family(runtime) == config::RuntimeFamily::kUnsupported) {
    return invalid(fmt::format(
        "The runtime parameter of {} is not one lambdad can run (python3.9 to python3.14, nodejs18.x to "
        "nodejs24.x, provided.al2023, provided.al2, provided).",
        runtime));
  }
  return Ok{};
}

Status check_role(const std::string& role) {
  static const std::regex kRole(R"(arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  if (!std::regex_match(role, kRole)) {
    return validation("role", role,
                      R"(Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  }
  return Ok{};
}

// An optional integer member: absent or null leaves `out` as it is.
Status optional_ranged(const json& req, const char* key, std::string_view field, long long lo, long long hi,
                       std::optional<int>& out) {
  if (!req.contains(key) || req[key].is_null()) return Ok{};
  auto v = ranged(field, req[key], lo, hi);
  if (!v) return v.error();
  out = *v;
  return Ok{};
}

std::optional<std::string> string_member(const json& req, const char* key) {
  if (req.is_object() && req.contains(key) && req[key].is_string()) return req[key].get<std::string>();
  return std::nullopt;
}

// Characters, not bytes, as the model's length constraints count them.
std::size_t characters(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

Result<std::map<std::string, std::string>> parse_environment(const json& environment) {
  std::map<std::string, std::string> vars;
  std::vector<std::string> reserved;
  const json variables = environment.value("Variables", json::object());
  // The model's check comes first, and its message names no value (the variables are sensitive).
  for (const auto& [k, val] : variables.items()) {
    if (!config::is_valid_environment_key(k)) {
      auto e = ServiceError::validation(
          "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must "
          "satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
      return Error{ErrorKind::kInvalidInput, std::move(e.type), std::move(e.message)};
    }
  }
  for (const auto& [k, val] : variables.items()) {
    if (!val.is_string()) return invalid(fmt::format("The value of environment variable {} must be a string.", k));
    if (config::is_reserved_environment_key(k)) reserved.push_back(k);
    vars[k] = val.get<std::string>();
  }
  if (!reserved.empty()) {
    return invalid(fmt::format(
        "Lambda was unable to configure your environment variables because the environment variables you have "
        "provided contains reserved keys that are currently not supported for modification. Reserved keys used in "
        "this request: {}",
        fmt::join(reserved, ", ")));
  }
  if (auto measured = config::environment_as_measured(vars); measured.size() > config::kMaxEnvironmentBytes) {
    return invalid(fmt::format(
        "Lambda was unable to configure your environment variables because the environment variables you have "
        "provided exceeded the 4KB limit. String measured: {}",
        measured));
  }
  return vars;
}

// The members of a LoggingConfig, each checked against Lambda's enum. Whether a level may go with
// the format is decided by the registry: it depends on the format the function has.
Result<cp::LoggingConfigChange> parse_logging_config(const json& req) {
  cp::LoggingConfigChange change;
  // Each member: its key, its name in messages, where it goes, Lambda's enum ("" = any text).
  struct Member {
    std::string_view key, member;
    std::optional<std::string>* field;
    std::string_view allowed;
  };
  const std::array<Member, 4> members = {{
      {"LogFormat", "loggingConfig.logFormat", &change.log_format, "JSON, Text"},
      {"ApplicationLogLevel", "loggingConfig.applicationLogLevel", &change.application_log_level,
       "TRACE, DEBUG, INFO, WARN, ERROR, FATAL"},
      {"SystemLogLevel", "loggingConfig.systemLogLevel", &change.system_log_level, "DEBUG, INFO, WARN"},
      {"LogGroup", "loggingConfig.logGroup", &change.log_group, ""},
  }};
  for (const auto& m : members) {
    const std::string key(m.key);
    if (!req.contains(key) || !req[key].is_string()) continue;
    const std::string value = req[key].get<std::string>();
    const std::string listed = fmt::format(", {}, ", m.allowed);
    if (!m.allowed.empty() && (value.empty() || listed.find(fmt::format(", {}, ", value)) == std::string::npos)) {
      return validation(m.member, value, fmt::format("Member must satisfy enum value set: [{}]", m.allowed));
    }
    *m.field = value;
  }
  change.names_a_level = req.contains("ApplicationLogLevel") || req.contains("SystemLogLevel");
  return change;
}

// The settings CreateFunction and UpdateFunctionConfiguration share.
Result<cp::ConfigurationChange> parse_settings(const json& req) {
  cp::ConfigurationChange s;
  if (req.contains("Runtime") && !req["Runtime"].is_null()) {
    if (!req["Runtime"].is_string()) return invalid("Runtime must be a string.");
    s.runtime = req["Runtime"].get<std::string>();
    if (auto st = check_runtime(*s.runtime); !st) return st.error();
  }
  s.handler = string_member(req, "Handler");
  if (auto role = string_member(req, "Role")) {
    if (auto st = check_role(*role); !st) return st.error();
    s.role = std::move(role);
  }
  s.description = string_member(req, "Description");
  if (s.description && characters(*s.description) > kMaxDescription) {
    return validation("description", *s.description,
                      fmt::format("Member must have length less than or equal to {}", kMaxDescription));
  }
  if (auto st = optional_ranged(req, "Timeout", "timeout", 1, limits::kMaxTimeoutSeconds, s.timeout_seconds); !st) {
    return st.error();
  }
  if (auto st = optional_ranged(req, "MemorySize", "memorySize", 128, limits::kMaxMemoryMb, s.memory_mb); !st) {
    return st.error();
  }
  if (req.contains("EphemeralStorage") && req["EphemeralStorage"].is_object()) {
    auto size = ranged("ephemeralStorage.size", req["EphemeralStorage"].value("Size", json(512)), 512, 10240);
    if (!size) return size.error();
    s.ephemeral_storage_mb = *size;
  }
  if (req.contains("SnapStart") && req["SnapStart"].is_object()) {
    const auto apply_on = req["SnapStart"].value("ApplyOn", std::string("None"));
    if (apply_on != "PublishedVersions" && apply_on != "None") {
      return validation("snapStart.applyOn", apply_on, "Member must satisfy enum value set: [PublishedVersions, None]");
    }
    s.snap_start = apply_on == "PublishedVersions";
  }
  if (req.contains("Environment") && req["Environment"].is_object()) {
    auto vars = parse_environment(req["Environment"]);
    if (!vars) return vars.error();
    s.environment = std::move(*vars);
  }
  if (req.contains("DeadLetterConfig") && req["DeadLetterConfig"].is_object()) {
    const std::string target = req["DeadLetterConfig"].value("TargetArn", "");
    if (target.empty()) {
      s.dead_letter.emplace(std::nullopt);
    } else {
      auto type = destination_type(target);
      if (!type || (*type != "SQS" && *type != "SNS")) {
        return invalid(fmt::format("The provided target arn {} is not a valid SQS queue or SNS topic ARN.", target));
      }
      s.dead_letter.emplace(config::DeadLetterConfig{*type, target});
    }
  }
  if (req.contains("LoggingConfig") && req["LoggingConfig"].is_object()) {
    auto logging = parse_logging_config(req["LoggingConfig"]);
    if (!logging) return logging.error();
    s.logging = std::move(*logging);
  }
  if (req.contains("TracingConfig") && req["TracingConfig"].is_object() && req["TracingConfig"].contains("Mode")) {
    const json& mode = req["TracingConfig"]["Mode"];
    auto parsed = mode.is_string() ? config::parse_tracing_mode(mode.get<std::string>()) : std::nullopt;
    if (!parsed) {
      return validation("tracingConfig.mode", mode.is_string() ? mode.get<std::string>() : mode.dump(),
                        "Member must satisfy enum value set: [Active, PassThrough]");
    }
    s.tracing = *parsed;
  }
  if (req.contains("Layers") && req["Layers"].is_array()) {
    std::vector<std::string> layers;
    for (const auto& l : req["Layers"]) {
      if (l.is_string()) layers.push_back(l.get<std::string>());
    }
    if (layers.size() > static_cast<std::size_t>(limits::kMaxLayers)) {
      return invalid(fmt::format("Cannot reference more than {} layers.", limits::kMaxLayers));
    }
    s.layers = std::move(layers);
  }
  if (req.contains("CapacityProviderConfig") && !req["CapacityProviderConfig"].is_null()) {
    auto managed = parse_capacity_provider_config(req["CapacityProviderConfig"]);
    if (!managed) return managed.error();
    s.managed_instances = std::move(*managed);
  }
  return s;
}

// The zip of a Code / UpdateFunctionCode request, decoded (the registry checks the archive).
Result<std::string> zip_of(const json& code) {
  if (code.contains("S3Bucket") || code.contains("S3Key")) {
    return invalid(
        "lambdad cannot fetch code from S3 (Code.S3Bucket / S3Key): there is no S3 here. Upload the zip itself "
        "(Code.ZipFile, or --zip-file fileb://function.zip with the AWS CLI).");
  }
  if (code.contains("ImageUri")) {
    return invalid("lambdad runs functions from zip archives only; container images (ImageUri) need a registry.");
  }
  if (!code.contains("ZipFile") || !code["ZipFile"].is_string()) {
    return invalid("Please provide a source for function code (Code.ZipFile).");
  }
  auto zip = base64::decode(code["ZipFile"].get<std::string>());
  if (!zip) return invalid("Code.ZipFile is not valid base64.");
  return std::move(*zip);
}

// Architectures: exactly one of x86_64 and arm64 (Lambda's model: a list of 1 to 1 enum values).
Result<std::optional<std::string>> architecture_of(const json& req) {
  if (!req.contains("Architectures") || req["Architectures"].is_null()) return std::optional<std::string>{};
  const json& list = req["Architectures"];
  std::vector<std::string> values;
  if (list.is_array()) {
    for (const auto& a : list) values.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  }
  const std::string shown = fmt::format("[{}]", fmt::join(values, ", "));  // as Lambda shows a list
  if (!list.is_array() || values.empty()) {
    return validation("architectures", shown, "Member must have length greater than or equal to 1");
  }
  if (values.size() > 1) return validation("architectures", shown, "Member must have length less than or equal to 1");
  if (values[0] != "x86_64" && values[0] != "arm64") {
    return validation("architectures", shown,
                      "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member "
                      "must not be null]");
  }
  return std::optional<std::string>(values[0]);
}

Result<std::optional<config::EventDestination>> parse_destination(const json& j) {
  if (!j.is_object() || !j.contains("Destination") || !j["Destination"].is_string()) {
    return std::optional<config::EventDestination>{};
  }
  const std::string arn = j["Destination"].get<std::string>();
  auto type = destination_type(arn);
  if (!type) {
    return invalid(fmt::format("The destination ARN {} is not a Lambda function, SQS queue, SNS topic, EventBridge "
                               "event bus or S3 bucket ARN.",
                               arn));
  }
  return std::optional<config::EventDestination>(config::EventDestination{*type, arn});
}

std::size_t page_size(std::optional<int> max_items) {
  return static_cast<std::size_t>(std::min(max_items.value_or(kListPageSize), kListPageSize));
}

}  // namespace

Error validation(std::string_view member, const std::string& value, std::string_view constraint) {
  auto e = ServiceError::invalid_member(member, value, {std::string(constraint)});
  return Error{ErrorKind::kInvalidInput, std::move(e.type), std::move(e.message)};
}

Result<int> ranged(std::string_view field, const json& value, long long lo, long long hi) {
  if (!value.is_number_integer()) return validation(field, value.dump(), "Member must be a number");
  auto v = value.get<long long>();
  if (v < lo) return validation(field, std::to_string(v), fmt::format("Member must have value greater than or equal to {}", lo));
  if (v > hi) return validation(field, std::to_string(v), fmt::format("Member must have value less than or equal to {}", hi));
  return static_cast<int>(v);
}

Result<cp::CreateFunctionRequest> parse_create_function(const json& req) {
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  cp::CreateFunctionRequest out;
  out.name = req.value("FunctionName", "");
  if (!config::is_valid_function_name(out.name)) {
    return validation("functionName", out.name,
                      "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length between 1 and 64");
  }
  if (!req.contains("Role") || !req["Role"].is_string()) return validation("role", "null", "Member must not be null");
  if (req.value("PackageType", "Zip") != "Zip") {
    return invalid("lambdad runs functions from zip archives only; PackageType Image needs a container registry.");
  }
  auto settings = parse_settings(req);
  if (!settings) return settings.error();
  out.settings = std::move(*settings);
  auto architecture = architecture_of(req);
  if (!architecture) return architecture.error();
  out.architecture = std::move(*architecture);
  auto zip = zip_of(req.value("Code", json::object()));
  if (!zip) return zip.error();
  out.zip = std::move(*zip);
  if (req.contains("Tags") && req["Tags"].is_object()) {
    for (const auto& [k, val] : req["Tags"].items()) {
      if (val.is_string()) out.tags[k] = val.get<std::string>();
    }
  }
  out.publish = req.value("Publish", false);
  if (req.contains("DurableConfig") && req["DurableConfig"].is_object()) {
    const auto& d = req["DurableConfig"];
    config::DurableConfig durable;
    if (d.contains("ExecutionTimeout")) {
      auto s = ranged("durableConfig.executionTimeout", d["ExecutionTimeout"], 1, config::kMaxDurableExecutionTimeoutSeconds);
      if (!s) return s.error();
      durable.execution_timeout_s = *s;
    }
    if (d.contains("RetentionPeriodInDays")) {
      auto days = ranged("durableConfig.retentionPeriodInDays", d["RetentionPeriodInDays"], 1, 90);
      if (!days) return days.error();
      durable.retention_days = *days;
    }
    out.durable = durable;
  }
  if (req.contains("TenancyConfig") && req["TenancyConfig"].is_object()) {
    const std::string mode = req["TenancyConfig"].value("TenantIsolationMode", "");
    if (mode != "PER_TENANT") {
      return validation("tenancyConfig.tenantIsolationMode", mode, "Member must satisfy enum value set: [PER_TENANT]");
    }
    out.tenant_isolation = true;
  }
  return out;
}

Result<cp::UpdateCodeRequest> parse_update_code(const json& req) {
  cp::UpdateCodeRequest out;
  auto zip = zip_of(req);
  if (!zip) return zip.error();
  out.zip = std::move(*zip);
  auto architecture = architecture_of(req);
  if (!architecture) return architecture.error();
  out.architecture = std::move(*architecture);
  out.revision_id = string_member(req, "RevisionId");
  out.dry_run = req.value("DryRun", false);
  out.publish = req.value("Publish", false);
  return out;
}

Result<cp::UpdateConfigurationRequest> parse_update_configuration(const json& req) {
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  auto settings = parse_settings(req);
  if (!settings) return settings.error();
  return cp::UpdateConfigurationRequest{std::move(*settings), string_member(req, "RevisionId")};
}

Result<cp::PublishVersionRequest> parse_publish_version(const json& req) {
  cp::PublishVersionRequest out;
  out.code_sha256 = string_member(req, "CodeSha256");
  if (req.contains("Description")) out.description = req["Description"].get<std::string>();
  out.revision_id = string_member(req, "RevisionId");
  return out;
}

Result<int> parse_put_concurrency(const json& req) {
  if (!req.is_object() || !req.contains("ReservedConcurrentExecutions")) {
    return validation("reservedConcurrentExecutions", "null", "Member must not be null");
  }
  return ranged("reservedConcurrentExecutions", req["ReservedConcurrentExecutions"], 0, 1000000);
}

Result<cp::EventInvokeConfigChange> parse_event_invoke_config(const json& req) {
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  cp::EventInvokeConfigChange out;
  if (auto st = optional_ranged(req, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2, out.maximum_retry_attempts);
      !st) {
    return st.error();
  }
  if (auto st = optional_ranged(req, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", 60, 21600,
                                out.maximum_event_age_seconds);
      !st) {
    return st.error();
  }
  if (req.contains("DestinationConfig") && req["DestinationConfig"].is_object()) {
    const auto& d = req["DestinationConfig"];
    if (d.contains("OnSuccess")) {
      auto on = parse_destination(d["OnSuccess"]);
      if (!on) return on.error();
      out.on_success = *on;
    }
    if (d.contains("OnFailure")) {
      auto on = parse_destination(d["OnFailure"]);
      if (!on) return on.error();
      out.on_failure = *on;
    }
  }
  return out;
}

namespace {

// An alias's FunctionVersion: $LATEST or a number (Lambda's model pattern).
Status check_alias_version(const std::string& version) {
  if (all_digits(version) || version == kLatest) return Ok{};
  return validation("functionVersion", version, "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
}

}  // namespace

Result<cp::CreateAliasRequest> parse_create_alias(const json& req) {
  cp::CreateAliasRequest out;
  out.name = req.is_object() ? req.value("Name", "") : "";
  if (!config::is_valid_alias_name(out.name)) {
    return validation("name", out.name, "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  }
  out.function_version = req.value("FunctionVersion", "");
  if (auto st = check_alias_version(out.function_version); !st) return st.error();
  out.description = req.value("Description", "");
  return out;
}

Result<cp::UpdateAliasRequest> parse_update_alias(const json& req) {
  auto version = string_member(req, "FunctionVersion");
  if (version) {
    if (auto st = check_alias_version(*version); !st) return st.error();
  }
  return cp::UpdateAliasRequest{std::move(version), string_member(req, "Description"), string_member(req, "RevisionId")};
}

namespace {

// A list member of Cors: at most `max_items` strings, each `min_length` to `max_length` long.
Result<std::vector<std::string>> cors_list(const json& cors, const char* key, std::string_view member,
                                           std::size_t max_items, std::size_t min_length, std::size_t max_length) {
  if (!cors.contains(key) || cors[key].is_null()) return std::vector<std::string>{};
  auto values = cors[key].get<std::vector<std::string>>();  // another type throws: unreadable content
  const std::string shown = fmt::format("[{}]", fmt::join(values, ", "));
  if (values.size() > max_items) {
    return validation(member, shown, fmt::format("Member must have length less than or equal to {}", max_items));
  }
  for (const auto& v : values) {
    if (characters(v) < min_length || characters(v) > max_length) {
      return validation(member, shown,
                        fmt::format("Member must satisfy constraint: [Member must have length {} than or equal to {}]",
                                    characters(v) < min_length ? "greater" : "less",
                                    characters(v) < min_length ? min_length : max_length));
    }
  }
  return values;
}

Result<config::HttpCors> parse_cors(const json& cors) {
  if (!cors.is_object()) return invalid("Cors must be an object.");
  config::HttpCors out;
  struct ListMember {
    const char* key;
    std::string_view member;
    std::vector<std::string>* field;
    std::size_t max_items, min_length, max_length;
  };
  const std::array<ListMember, 4> lists = {{
      {"AllowOrigins", "cors.allowOrigins", &out.allow_origins, 100, 1, 253},
      {"AllowMethods", "cors.allowMethods", &out.allow_methods, 6, 0, 6},
      {"AllowHeaders", "cors.allowHeaders", &out.allow_headers, 100, 0, 1024},
      {"ExposeHeaders", "cors.exposeHeaders", &out.expose_headers, 100, 0, 1024},
  }};
  for (const auto& l : lists) {
    auto values = cors_list(cors, l.key, l.member, l.max_items, l.min_length, l.max_length);
    if (!values) return values.error();
    *l.field = std::move(*values);
  }
  // The front compares methods in upper case; Lambda keeps them as given, so does the answer.
  if (auto st = optional_ranged(cors, "MaxAge", "cors.maxAge", 0, 86400, out.max_age_seconds); !st) return st.error();
  if (cors.contains("AllowCredentials") && !cors["AllowCredentials"].is_null()) {
    out.allow_credentials = cors["AllowCredentials"].get<bool>();
  }
  return out;
}

// The enum member `value` names, or Lambda's validation error listing `allowed` (its order).
template <class E>
Result<E> enum_member(std::string_view member, const std::string& value,
                      std::initializer_list<std::pair<std::string_view, E>> names, std::string_view allowed) {
  for (const auto& [name, e] : names) {
    if (value == name) return e;
  }
  return validation(member, value, fmt::format("Member must satisfy enum value set: [{}]", allowed));
}

Result<cp::FunctionUrlChange> parse_function_url(const json& req, bool creating) {
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  cp::FunctionUrlChange out;
  if (!req.contains("AuthType") || req["AuthType"].is_null()) {
    if (creating) return validation("authType", "null", "Member must not be null");
  } else {
    using Auth = config::FunctionUrl::AuthType;
    auto auth = enum_member<Auth>("authType", req["AuthType"].get<std::string>(),
                                  {{"NONE", Auth::kNone}, {"AWS_IAM", Auth::kAwsIam}}, "AWS_IAM, NONE");
    if (!auth) return auth.error();
    out.auth_type = *auth;
  }
  if (req.contains("InvokeMode") && !req["InvokeMode"].is_null()) {
    using Mode = config::FunctionUrl::InvokeMode;
    auto mode = enum_member<Mode>("invokeMode", req["InvokeMode"].get<std::string>(),
                                  {{"BUFFERED", Mode::kBuffered}, {"RESPONSE_STREAM", Mode::kResponseStream}},
                                  "RESPONSE_STREAM, BUFFERED");
    if (!mode) return mode.error();
    out.invoke_mode = *mode;
  }
  if (req.contains("Cors") && !req["Cors"].is_null()) {
    auto cors = parse_cors(req["Cors"]);
    if (!cors) return cors.error();
    out.cors = std::move(*cors);
  }
  return out;
}

}  // namespace

Result<cp::FunctionUrlChange> parse_create_function_url(const json& req) { return parse_function_url(req, true); }
Result<cp::FunctionUrlChange> parse_update_function_url(const json& req) { return parse_function_url(req, false); }

Status check_url_qualifier(const std::string& qualifier) {
  if (qualifier.empty() || (!all_digits(qualifier) && qualifier != kLatest)) return Ok{};
  return validation("qualifier", qualifier,
                    R"(Member must satisfy regular expression pattern: ((?!^\d+$)^[0-9a-zA-Z-_]+$))");
}

Result<ListRequest> parse_list_function_urls(std::string marker, std::optional<int> max_items) {
  if (max_items && (*max_items < 1 || *max_items > kListPageSize)) {
    return validation("maxItems", std::to_string(*max_items),
                      *max_items < 1 ? "Member must have value greater than or equal to 1"
                                     : "Member must have value less than or equal to 50");
  }
  return ListRequest{true, std::move(marker), page_size(max_items)};
}

Result<ListRequest> parse_list_functions(const std::optional<std::string>& function_version, std::string marker,
                                         std::optional<int> max_items) {
  if (function_version && *function_version != "ALL") {
    return validation("functionVersion", *function_version, "Member must satisfy enum value set: [ALL]");
  }
  if (max_items && (*max_items < 1 || *max_items > 10000)) {
    return validation("maxItems", std::to_string(*max_items),
                      *max_items < 1 ? "Member must have value greater than or equal to 1"
                                     : "Member must have value less than or equal to 10000");
  }
  return ListRequest{function_version.has_value(), std::move(marker), page_size(max_items)};
}

Result<ListRequest> parse_list_versions(std::string marker, std::optional<int> max_items) {
  if (max_items && (*max_items < 1 || *max_items > 10000)) {
    return validation("maxItems", std::to_string(*max_items), "Member must have value between 1 and 10000");
  }
  return ListRequest{true, std::move(marker), page_size(max_items)};
}

// --- rendering --------------------------------------------------------------------------------

namespace {

std::string marker_for(const cp::VersionView& v) { return base64::encode(v.version->config.name + "\n" + v.number); }

// One page of `entries` under `key`, from the entry `request.marker` names.
Result<json> page(const std::vector<cp::VersionView>& entries, const ListRequest& request, const char* key,
                  const std::function<json(const cp::VersionView&)>& render) {
  std::size_t start = 0;
  if (!request.marker.empty()) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return marker_for(e) == request.marker; });
    if (it == entries.end()) return invalid("Invalid marker: " + request.marker);
    start = static_cast<std::size_t>(it - entries.begin());
  }
  json list = json::array();
  for (std::size_t i = start; i < entries.size() && list.size() < request.page; ++i) list.push_back(render(entries[i]));
  json out = {{key, std::move(list)}};
  if (start + request.page < entries.size()) out["NextMarker"] = marker_for(entries[start + request.page]);
  return out;
}

json destination_json(const std::optional<config::EventDestination>& d) {
  if (!d) return json::object();
  return {{"Destination", d->destination}};
}

}  // namespace

json logging_config(const config::FunctionConfig& c) {
  const auto& l = c.logging;
  json j = {{"LogFormat", l.log_format}, {"LogGroup", l.log_group.empty() ? "/aws/lambda/" + c.name : l.log_group}};
  if (l.log_format == "JSON") {
    j["ApplicationLogLevel"] = l.application_log_level.empty() ? std::string(kInfo) : l.application_log_level;
    j["SystemLogLevel"] = l.system_log_level.empty() ? std::string(kInfo) : l.system_log_level;
  }
  return j;
}

json configuration(const cp::VersionView& view, const Account& account, bool qualified_arn, ConfigurationView shown) {
  const cp::FunctionRecord& fn = *view.function;
  const cp::VersionRecord& v = *view.version;
  cp::ensure_digest(v);
  const auto& c = v.config;
  const bool latest = view.number == kLatest;
  json j = {{"FunctionName", c.name},
            {"FunctionArn", account.arn(c.name, qualified_arn ? view.number : "")},
            {"Runtime", c.runtime},
            {"Role", v.role}};
  if (!c.handler.empty()) j["Handler"] = c.handler;
  j["CodeSize"] = v.code_size;
  j["Description"] = c.description;
  j["Timeout"] = c.timeout_seconds;
  j["MemorySize"] = c.memory_mb;
  j["LastModified"] = v.last_modified;
  j["CodeSha256"] = v.code_sha256;
  j["Version"] = view.number;
  if (!c.environment.empty()) j["Environment"] = {{"Variables", c.environment}};
  if (c.dead_letter) j["DeadLetterConfig"] = {{"TargetArn", c.dead_letter->target_arn}};
  j["TracingConfig"] = {{"Mode", config::tracing_mode_name(c.tracing)}};
  j["RevisionId"] = v.revision_id;
  if (!c.layers.empty()) {
    json layers = json::array();
    for (const auto& l : c.layers) layers.push_back({{"Arn", l}, {"CodeSize", 0}});
    j["Layers"] = std::move(layers);
  }
  if (shown == ConfigurationView::kFull) {
    const cp::FunctionState state = latest ? fn.state : cp::FunctionState::kActive;
    j["State"] = cp::state_name(state);
    if (latest && !fn.state_reason.empty()) j["StateReason"] = fn.state_reason;
    if (latest && !fn.state_reason_code.empty()) j["StateReasonCode"] = fn.state_reason_code;
    if (state != cp::FunctionState::kPending) {
      const cp::UpdateStatus update = latest ? fn.last_update : cp::UpdateStatus::kSuccessful;
      j["LastUpdateStatus"] = cp::update_status_name(update);
      if (latest && !fn.last_update_reason.empty()) j["LastUpdateStatusReason"] = fn.last_update_reason;
      if (latest && !fn.last_update_reason_code.empty()) j["LastUpdateStatusReasonCode"] = fn.last_update_reason_code;
    }
  }
  j["PackageType"] = "Zip";
  j["Architectures"] = c.architectures;
  j["EphemeralStorage"] = {{"Size", c.ephemeral_storage_mb}};
  // A published version of a SnapStart function is restored from its snapshot; $LATEST never is.
  j["SnapStart"] = {{"ApplyOn", c.snap_start ? "PublishedVersions" : "None"},
                    {"OptimizationStatus", c.snap_start && !latest ? "On" : "Off"}};
  j["LoggingConfig"] = logging_config(c);
  if (c.tenant_isolation) j["TenancyConfig"] = {{"TenantIsolationMode", "PER_TENANT"}};
  if (c.managed_instances) j["CapacityProviderConfig"] = capacity_provider_config(*c.managed_instances);
  if (c.durable) {
    j["DurableConfig"] = {{"RetentionPeriodInDays", c.durable->retention_days}};
    if (c.durable->execution_timeout_s > 0) j["DurableConfig"]["ExecutionTimeout"] = c.durable->execution_timeout_s;
  }
  // Every runtime lambdad runs is a managed one (provided.* too: Lambda versions those as well).
  j["RuntimeVersionConfig"] = {{"RuntimeVersionArn", observability::runtime_version_arn(c.runtime, account.region)}};
  return j;
}

json function(const cp::FunctionView& f, const Account& account, bool qualified_arn) {
  const cp::FunctionRecord& fn = *f.configuration.function;
  json out = {{"Configuration", configuration(f.configuration, account, qualified_arn)},
              {"Code", {{"RepositoryType", "S3"}, {"Location", f.code_location}}}};
  if (!fn.tags.empty()) out["Tags"] = fn.tags;
  if (fn.reserved) out["Concurrency"] = concurrency(fn.reserved);
  return out;
}

Result<json> function_page(const std::vector<cp::VersionView>& entries, const ListRequest& request,
                           const Account& account) {
  return page(entries, request, "Functions", [&](const cp::VersionView& v) {
    return configuration(v, account, request.all_versions, ConfigurationView::kListed);
  });
}

Result<json> version_page(const std::vector<cp::VersionView>& versions, const ListRequest& request,
                          const Account& account) {
  return page(versions, request, "Versions", [&](const cp::VersionView& v) { return configuration(v, account, true); });
}

json alias(const cp::AliasView& a, const std::string& function_name, const Account& account) {
  return {{"AliasArn", account.arn(function_name, a.name)},
          {"Name", a.name},
          {"FunctionVersion", a.function_version},
          {"Description", a.description},
          {"RevisionId", a.revision_id}};
}

json aliases(const std::vector<cp::AliasView>& all, const std::string& function_name, const Account& account) {
  json list = json::array();
  for (const auto& a : all) list.push_back(alias(a, function_name, account));
  return {{"Aliases", std::move(list)}};
}

json concurrency(std::optional<int> reserved) {
  if (!reserved) return json::object();
  return {{"ReservedConcurrentExecutions", *reserved}};
}

json event_invoke_config(const cp::EventInvokeConfigView& e, const std::string& function_arn) {
  const auto& c = e.config;
  return {{"LastModified", e.last_modified},
          {"FunctionArn", function_arn},
          {"MaximumRetryAttempts", c.maximum_retry_attempts},
          {"MaximumEventAgeInSeconds", c.maximum_event_age_seconds},
          {"DestinationConfig",
           {{"OnSuccess", destination_json(c.on_success)}, {"OnFailure", destination_json(c.on_failure)}}}};
}

json account_settings(const cp::AccountSettings& s) {
  return {{"AccountLimit",
           {{"TotalCodeSize", 80530636800LL},
            {"CodeSizeUnzipped", s.limits.max_unzipped},
            {"CodeSizeZipped", s.limits.max_zipped},
            {"ConcurrentExecutions", s.concurrent_executions},
            {"UnreservedConcurrentExecutions", s.unreserved_concurrent_executions}}},
          {"AccountUsage", {{"TotalCodeSize", s.total_code_size}, {"FunctionCount", s.function_count}}}};
}

namespace {

json strings_json(const std::vector<std::string>& v) { return v; }

}  // namespace

json function_url_config(const cp::FunctionUrlRecord& u, const Account& account, std::uint16_t port, UrlView view) {
  const auto& c = u.config;
  json j = {{"FunctionUrl", fmt::format("http://{}.lambda-url.localhost:{}/",
                                        config::function_url_label(c.function_name, c.qualifier), port)},
            {"FunctionArn", account.arn(c.function_name, c.qualifier)},
            {"AuthType", c.auth_type == config::FunctionUrl::AuthType::kAwsIam ? "AWS_IAM" : "NONE"}};
  if (c.cors) {
    json cors = {{"AllowCredentials", c.cors->allow_credentials}};
    if (!c.cors->allow_headers.empty()) cors["AllowHeaders"] = strings_json(c.cors->allow_headers);
    if (!c.cors->allow_methods.empty()) cors["AllowMethods"] = strings_json(c.cors->allow_methods);
    if (!c.cors->allow_origins.empty()) cors["AllowOrigins"] = strings_json(c.cors->allow_origins);
    if (!c.cors->expose_headers.empty()) cors["ExposeHeaders"] = strings_json(c.cors->expose_headers);
    if (c.cors->max_age_seconds) cors["MaxAge"] = *c.cors->max_age_seconds;
    j["Cors"] = std::move(cors);
  }
  j["CreationTime"] = u.creation_time;
  if (view == UrlView::kFull) j["LastModifiedTime"] = u.last_modified_time;
  j["InvokeMode"] = c.invoke_mode == config::FunctionUrl::InvokeMode::kResponseStream ? "RESPONSE_STREAM" : "BUFFERED";
  return j;
}

Result<json> function_url_page(const std::vector<const cp::FunctionUrlRecord*>& urls, const ListRequest& request,
                               const Account& account, std::uint16_t port) {
  auto marker_of = [](const cp::FunctionUrlRecord& u) { return base64::encode("url\n" + u.config.qualifier); };
  std::size_t start = 0;
  if (!request.marker.empty()) {
    auto it = std::find_if(urls.begin(), urls.end(), [&](const auto* u) { return marker_of(*u) == request.marker; });
    if (it == urls.end()) return invalid("Invalid marker: " + request.marker);
    start = static_cast<std::size_t>(it - urls.begin());
  }
  json list = json::array();
  for (std::size_t i = start; i < urls.size() && list.size() < request.page; ++i) {
    list.push_back(function_url_config(*urls[i], account, port));
  }
  json out = {{"FunctionUrlConfigs", std::move(list)}};
  if (start + request.page < urls.size()) out["NextMarker"] = marker_of(*urls[start + request.page]);
  return out;
}

}  // namespace lambdad::invoke_api::control_json
