// config (internal): turns one function resource's evaluated properties into a FunctionConfig,
// checking each property the way Lambda and CloudFormation would and reporting every problem.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "diagnostic_sink.hpp"
#include "lambdad/config/function_config.hpp"
#include "resource_types.hpp"
#include "template_value.hpp"

namespace lambdad::config {

// A layer the template defines, as a function's Layers item finds it: by the ARN its !Ref gives.
struct LocalLayer {
  std::string logical_id;
  std::filesystem::path dir;  // its content, canonical; empty when it cannot be used
  std::string problem;        // why it cannot be used (content in S3, ...); empty when it can
  std::vector<std::string> compatible_runtimes;  // empty: not declared
};
using LocalLayers = std::map<std::string, LocalLayer>;  // by ARN

// The local directory `value` names, relative to `base` (an absolute value replaces it), made
// canonical; or why it cannot be one ("directory x does not exist (resolved to /abs/x)").
std::variant<std::filesystem::path, std::string> local_directory(const std::filesystem::path& base,
                                                                 const std::string& value);

// Where another front end than a template (serverless.yml) differs from SAM in what the builder
// reports: the names of the function and its properties, a few hints, and one rule.
struct FunctionDialect {
  std::string function;        // how diagnostics name the function ("hello")
  std::string inherited_from;  // where inherited values (from_globals) are reported ("provider")
  // The front end's name for a SAM property path ("MemorySize" -> "memorySize").
  std::function<std::string(std::string_view sam_path)> property;
  std::string runtime_hint;            // why a missing Runtime is missing, as the front end sets it
  std::string python_handler_example;  // a Handler a Python function could have
  std::string not_a_layer;             // what follows "<arn> is not a layer of this ..."
  // Provisioning publishes this alias itself (no AutoPublishAlias), and 0 means none.
  std::string provisioned_alias;
};

struct FunctionSource {
  std::string logical_id;
  std::string type;       // kServerlessFunctionType or kLambdaFunctionType
  std::string name;       // decided beforehand from FunctionName (names must be known to resolve !Ref)
  int line = 0;           // line of the logical id
  TemplateValue properties;  // kMap, merged with Globals, AWS::NoValue already removed
  const FunctionDialect* dialect = nullptr;  // nullptr: a template's function
  // Whose ARNs the function's made-up ones are (a capacity provider that exists only in AWS).
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
};

// "<expression> cannot be resolved locally (<hint>); <consequence>".
std::string unresolved_message(const TemplateValue& v, std::string_view consequence);
// "!GetAtt Queue.Arn" / "!Ref Topic" -> "Queue" / "Topic": what still names a resource whose ARN
// exists only in AWS (a queue or capacity provider the template creates).
std::string referenced_resource(std::string_view expression);

class FunctionBuilder {
 public:
  FunctionBuilder(const FunctionSource& source, std::filesystem::path template_dir, const LocalLayers& layers,
                  DiagnosticSink& sink);

  // The function, or nullopt when any of its properties is in error (all of them reported).
  std::optional<FunctionConfig> build();

 private:
  enum class Need { kRequired, kOptional };

  // (resource, property) a diagnostic about `path` names.
  std::pair<std::string, std::string> locate(bool inherited, std::string_view path) const;
  const std::string& function_name() const;
  void error(const TemplateValue& at, std::string_view path, std::string message);
  void error_missing(std::string_view path, std::string message);
  void warning(const TemplateValue& at, std::string_view path, std::string message);

  // The text of a scalar property, or nullopt when it is unusable (already reported). An
  // unresolvable value is an error when required, else a warning ending in `consequence`.
  std::optional<std::string> text(const TemplateValue& v, std::string_view path, Need need,
                                  std::string_view consequence);
  std::optional<int> integer(const TemplateValue& v, std::string_view path, int min, int max,
                             std::string_view range, std::string_view consequence);

  bool is_image_function();
  void read_provisioned(const TemplateValue& pc, FunctionConfig& config);
  void read_runtime_and_handler(FunctionConfig& config);
  void read_code(FunctionConfig& config);
  std::optional<std::filesystem::path> code_directory(const TemplateValue& v, std::string_view path);
  void read_environment(FunctionConfig& config);
  void read_architectures(FunctionConfig& config);
  void read_layers(FunctionConfig& config);
  void read_event_invoke_config(FunctionConfig& config);
  std::optional<EventDestination> read_destination(const TemplateValue& destinations, std::string_view key);
  void read_dead_letter(FunctionConfig& config);
  void read_logging_config(FunctionConfig& config);
  void read_tracing(FunctionConfig& config);
  void read_snap_start(FunctionConfig& config);
  void read_durable_config(FunctionConfig& config);
  void read_tenancy_config(FunctionConfig& config);
  // CapacityProviderConfig and FunctionScalingConfig (lambda-spec §11), in managed_instances.cpp.
  void read_managed_instances(FunctionConfig& config);
  std::optional<ManagedInstancesConfig> read_capacity_provider(const TemplateValue& cpc);
  bool read_function_scaling(const TemplateValue& scaling, ManagedInstancesConfig& out);
  // Whether v is a mapping; reports it when not (an unresolvable value only as a warning ending
  // in `consequence`).
  bool mapping(const TemplateValue& v, std::string_view path, std::string_view consequence);

  const FunctionSource& source_;
  std::filesystem::path template_dir_;
  const LocalLayers& layers_;
  DiagnosticSink& sink_;
  bool failed_ = false;
};

}  // namespace lambdad::config
