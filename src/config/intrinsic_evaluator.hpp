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

#include "template_value.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {

struct EvaluationContext {
  std::string region;
  std::string account_id;
  std::string stack_name;
  std::map<std::string, TemplateValue> parameters;    // by name; kUnresolved when no value is known
  std::map<std::string, std::string> resource_types;  // logical id -> Type, for every resource
  std::map<std::string, std::string> function_names;  // logical id -> function name
  std::map<std::string, std::string> layer_arns;      // logical id -> ARN, for the template's local layers
  const YamlValue* mappings = nullptr;    // the Mappings section; nullptr when absent
  const YamlValue* conditions = nullptr;  // the Conditions section; nullptr when absent
};

class IntrinsicEvaluator {
 public:
  explicit IntrinsicEvaluator(EvaluationContext context);

  // Evaluates a node and everything below it. AWS::NoValue map entries and list items stay in
  // the result as kNoValue, because SAM merges Globals before CloudFormation drops them;
  // strip_no_value() removes them afterwards.
  TemplateValue evaluate(const YamlValue& node);
  // Conditions.<name> as kString "true"/"false", or kUnresolved/kInvalid. `line` is the use site.
  TemplateValue condition(const std::string& name, int line);

  // Function names are only known after FunctionName properties were evaluated.
  void set_function_names(std::map<std::string, std::string> names);
  // Likewise layer ARNs, known once LayerName properties were evaluated.
  void set_layer_arns(std::map<std::string, std::string> arns);
  const EvaluationContext& context() const { return context_; }

 private:
  TemplateValue evaluate_node(const YamlValue& node, bool ignore_tag, bool in_condition);
  TemplateValue call(const std::string& function, const YamlValue& arg, bool arg_is_tagged,
                     const YamlValue& whole);
  TemplateValue evaluate_arg(const YamlValue& arg, bool arg_is_tagged);
  // Evaluates the two items of [first, second]: the failure to answer with when `arg` is not a
  // list of two (`usage` says what it needs) or an item failed; nothing when both are values.
  std::optional<TemplateValue> two_args(const YamlValue& arg, int line, std::string_view usage, TemplateValue& first,
                                        TemplateValue& second);

  TemplateValue ref(const std::string& name, int line);
  TemplateValue pseudo_parameter(const std::string& name, int line);
  TemplateValue get_att(const std::string& resource, const std::string& attribute, int line);
  TemplateValue get_att_call(const YamlValue& arg, int line);
  TemplateValue sub(const YamlValue& arg, int line);
  TemplateValue sub_variable(const std::string& name, const YamlValue* variables, int line);
  TemplateValue join(const YamlValue& arg, int line);
  TemplateValue select(const YamlValue& arg, int line);
  TemplateValue split(const YamlValue& arg, int line);
  TemplateValue find_in_map(const YamlValue& arg, int line);
  TemplateValue fn_if(const YamlValue& arg, int line);
  TemplateValue equals(const YamlValue& arg, int line);
  TemplateValue fn_not(const YamlValue& arg, int line);
  TemplateValue and_or(const YamlValue& arg, bool is_and, int line);

  EvaluationContext context_;
  std::map<std::string, TemplateValue> condition_cache_;
  std::set<std::string> conditions_in_progress_;  // cycle guard: A refers to B refers to A
};

// Drops kNoValue map entries and list items, recursively.
void strip_no_value(TemplateValue& value);

// A node rendered for a message in the short-tag style users write (`!GetAtt Table.Arn`).
std::string render_expression(const YamlValue& node);
// A map key rendered the same way (a plain key is its text).
std::string render_key_expression(const YamlEntry& entry);

// A node that must be a plain literal (Mappings, parameter defaults): intrinsics are kInvalid.
TemplateValue literal_value(const YamlValue& node, std::string_view section);

}  // namespace lambdad::config
