// config (internal): local evaluation of CloudFormation intrinsic functions, written as short YAML
// tags (!Sub) or in long form (Fn::Sub), over what the template alone determines: parameters,
// pseudo parameters, mappings, conditions, and the names and ARNs of the template's functions and layers.
// Everything else (other resources' attributes, imports, AZs) comes back kUnresolved, never thrown.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "template_value.hpp"

namespace lambdad::config {

struct EvaluationContext {
  std::string region;
  std::string account_id;
  std::string stack_name;
  std::map<std::string, TemplateValue> parameters;    // by name; kUnresolved when no value is known
  std::map<std::string, std::string> resource_types;  // logical id -> Type, for every resource
  std::map<std::string, std::string> function_names;  // logical id -> function name
  std::map<std::string, std::string> layer_arns;      // logical id -> ARN, for the template's local layers
  YAML::Node mappings;    // the Mappings section; null when absent
  YAML::Node conditions;  // the Conditions section; null when absent
};

class IntrinsicEvaluator {
 public:
  explicit IntrinsicEvaluator(EvaluationContext context);

  // Evaluates a node and everything below it. AWS::NoValue map entries and list items stay in
  // the result as kNoValue, because SAM merges Globals before CloudFormation drops them;
  // strip_no_value() removes them afterwards.
  TemplateValue evaluate(const YAML::Node& node);
  // Conditions.<name> as kString "true"/"false", or kUnresolved/kInvalid. `line` is the use site.
  TemplateValue condition(const std::string& name, int line);

  // Function names are only known after FunctionName properties were evaluated.
  void set_function_names(std::map<std::string, std::string> names);
  // Likewise layer ARNs, known once LayerName properties were evaluated.
  void set_layer_arns(std::map<std::string, std::string> arns);
  const EvaluationContext& context() const { return context_; }

 private:
  TemplateValue evaluate_node(const YAML::Node& node, bool ignore_tag, bool in_condition);
  TemplateValue call(const std::string& function, const YAML::Node& arg, bool arg_is_tagged,
                     const YAML::Node& whole);
  TemplateValue evaluate_arg(const YAML::Node& arg, bool arg_is_tagged);

  TemplateValue ref(const std::string& name, int line);
  TemplateValue pseudo_parameter(const std::string& name, int line);
  TemplateValue get_att(const std::string& resource, const std::string& attribute, int line);
  TemplateValue get_att_call(const YAML::Node& arg, int line);
  TemplateValue sub(const YAML::Node& arg, int line);
  TemplateValue sub_variable(const std::string& name, const YAML::Node* variables, int line);
  TemplateValue join(const YAML::Node& arg, int line);
  TemplateValue select(const YAML::Node& arg, int line);
  TemplateValue split(const YAML::Node& arg, int line);
  TemplateValue find_in_map(const YAML::Node& arg, int line);
  TemplateValue fn_if(const YAML::Node& arg, int line);
  TemplateValue equals(const YAML::Node& arg, int line);
  TemplateValue fn_not(const YAML::Node& arg, int line);
  TemplateValue and_or(const YAML::Node& arg, bool is_and, int line);

  EvaluationContext context_;
  std::map<std::string, TemplateValue> condition_cache_;
  std::set<std::string> conditions_in_progress_;  // cycle guard: A refers to B refers to A
};

struct MapEntry {
  YAML::Node key;
  YAML::Node value;
};
// The first entry of a YAML map whose scalar key is `key`; nullopt if absent or not a map.
std::optional<MapEntry> find_entry(const YAML::Node& map, std::string_view key);

// 1-based line of a node; 0 when yaml-cpp has no position for it.
int line_of(const YAML::Node& node);

// Drops kNoValue map entries and list items, recursively.
void strip_no_value(TemplateValue& value);

// A node rendered for a message in the short-tag style users write (`!GetAtt Table.Arn`).
std::string render_expression(const YAML::Node& node);

// A node that must be a plain literal (Mappings, parameter defaults): intrinsics are kInvalid.
TemplateValue literal_value(const YAML::Node& node, std::string_view section);

}  // namespace lambdad::config
