// config (internal): local evaluation of CloudFormation intrinsic functions.
#include "intrinsic_evaluator.hpp"
#include "key_lists.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

// Short tags CloudFormation defines; each maps to Fn::<name> except !Ref and !Condition.
constexpr std::array<std::string_view, 17> kShortTags = {
    "Ref",    "Condition", "Sub", "GetAtt", "If",        "Join",        "Select", "Split", "Equals",
    "Not",    "And",       "Or",  "FindInMap", "ImportValue", "Base64", "GetAZs", "Cidr"};

// Long-form functions that need AWS (or a transform lambdad does not run) to produce a value.
constexpr std::array<std::string_view, 7> kAwsOnlyFunctions = {
    "Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString", "Fn::ForEach"};

constexpr std::size_t kMaxRenderedExpression = 120;

// Tag "!Sub" -> "Fn::Sub"; "!Ref" -> "Ref"; "" for nodes that carry no CloudFormation tag
// ("?" plain, "!" quoted, "tag:yaml.org,2002:..." for !!str and friends).
std::string function_of_tag(const std::string& tag) {
  if (tag.size() < 2 || tag[0] != '!' || tag[1] == '!') return "";
  std::string name = tag.substr(1);
  if (!contains(kShortTags, name)) return tag;  // unknown tag: reported as such when evaluated
  if (name == "Ref" || name == "Condition") return name;
  return "Fn::" + name;
}

// The function name of a long-form intrinsic ({"Fn::Sub": ...}), or "".
std::string function_of_map(const YamlValue& node, bool in_condition) {
  if (!node.is(YamlValue::Kind::kMap) || node.entries.size() != 1) return "";
  const YamlEntry& entry = node.entries.front();
  if (!entry.scalar_key()) return "";
  const std::string& name = entry.key;
  // {"Condition": name} is only a function inside Fn::And/Or/Not and the Conditions section;
  // elsewhere (an IAM statement, say) "Condition" is an ordinary key.
  if (name == "Ref" || name.starts_with("Fn::") || (in_condition && name == "Condition")) return name;
  return "";
}

std::string short_name(const std::string& function) {
  return function.starts_with("Fn::") ? function.substr(4) : function;
}

std::string partition_of(const std::string& region) {
  if (region.starts_with("cn-")) return "aws-cn";
  if (region.starts_with("us-gov-")) return "aws-us-gov";
  return "aws";
}

std::string url_suffix_of(const std::string& region) {
  return region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

std::string base64(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (std::uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                   (std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                   std::uint32_t{static_cast<unsigned char>(in[i + 2])};
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    auto n = std::uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (i + 1 < in.size()) n |= std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

TemplateValue boolean(bool b, int line) { return TemplateValue::string(b ? "true" : "false", line); }

// A condition operand as a bool; nullopt (with `failure` set) when it is not one.
std::optional<bool> as_condition(const TemplateValue& v, std::string_view function, int line,
                                 TemplateValue& failure) {
  if (v.failed()) {
    failure = v;
    return std::nullopt;
  }
  if (v.is(Kind::kString) && (v.text == "true" || v.text == "false")) return v.text == "true";
  failure = TemplateValue::invalid(
      fmt::format("{} expects conditions (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition)", function), line);
  return std::nullopt;
}

// The plain text of a literal scalar argument (a name); nullopt for anything else.
std::optional<std::string> literal_scalar(const YamlValue& node, bool is_tagged_self) {
  if (!node.is(YamlValue::Kind::kScalar)) return std::nullopt;
  if (!is_tagged_self && !function_of_tag(node.tag).empty()) return std::nullopt;
  return node.text;
}

bool is_list_of(const YamlValue& node, std::size_t size) {
  return node.is(YamlValue::Kind::kList) && node.items.size() == size;
}

std::string render(const YamlValue& node, bool ignore_tag);

std::string render_key(const YamlEntry& entry) {
  if (!entry.key_node.empty()) return render(entry.key_node.front(), false);
  return entry.key.empty() ? "''" : entry.key;
}

std::string render_call(const std::string& function, const YamlValue& arg, bool arg_is_tagged) {
  // !GetAtt [Table, Arn] and Fn::GetAtt: [Table, Arn] both read best as `!GetAtt Table.Arn`.
  if (function == "Fn::GetAtt" && is_list_of(arg, 2) && arg.items[0].is(YamlValue::Kind::kScalar) &&
      arg.items[1].is(YamlValue::Kind::kScalar)) {
    std::string out = "!GetAtt ";
    out.append(arg.items[0].text).append(".").append(arg.items[1].text);
    return out;
  }
  // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) on chained operator+.
  std::string out = "!";
  out.append(short_name(function)).append(" ").append(render(arg, arg_is_tagged));
  return out;
}

std::string render(const YamlValue& node, bool ignore_tag) {
  if (!ignore_tag) {
    const std::string function = function_of_tag(node.tag);
    if (!function.empty() && function[0] != '!') return render_call(function, node, true);
    if (!function.empty()) return function + " " + render(node, true);  // unknown tag, as written
  }
  if (const std::string function = function_of_map(node, true); !function.empty()) {
    return render_call(function, node.entries.front().value, false);
  }
  switch (node.kind) {
    case YamlValue::Kind::kScalar:
      return node.text.empty() ? "''" : node.text;
    case YamlValue::Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (i > 0) out += ", ";
        out += render(node.items[i], false);
      }
      return out + "]";
    }
    case YamlValue::Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& entry : node.entries) {
        if (!first) out += ", ";
        first = false;
        out += render_key(entry) + ": " + render(entry.value, false);
      }
      return out + "}";
    }
    case YamlValue::Kind::kNull:
      break;
  }
  return "null";
}

std::string shorten(std::string out) {
  if (out.size() > kMaxRenderedExpression) {
    out.resize(kMaxRenderedExpression - 3);
    out += "...";
  }
  return out;
}

}  // namespace

void strip_no_value(TemplateValue& value) {
  std::erase_if(value.items, [](const TemplateValue& v) { return v.is(Kind::kNoValue); });
  std::erase_if(value.entries, [](const TemplateEntry& e) { return e.value.is(Kind::kNoValue); });
  for (auto& item : value.items) strip_no_value(item);
  for (auto& entry : value.entries) strip_no_value(entry.value);
}

std::string render_expression(const YamlValue& node) { return shorten(render(node, false)); }

std::string render_key_expression(const YamlEntry& entry) { return shorten(render_key(entry)); }

namespace {

// A node that is not a call: a scalar's string, or a list or map of `child`'s values of its items
// (each entry's value on its key's line); `odd_key` gives the entry of a key that is not a scalar.
template <typename Child, typename OddKey>
TemplateValue plain_value(const YamlValue& node, const Child& child, const OddKey& odd_key) {
  TemplateValue v;
  v.line = node.line;
  switch (node.kind) {
    case YamlValue::Kind::kScalar:
      return TemplateValue::string(node.text, node.line);
    case YamlValue::Kind::kList:
      v.kind = Kind::kList;
      for (const auto& item : node.items) v.items.push_back(child(item));
      return v;
    case YamlValue::Kind::kMap:
      v.kind = Kind::kMap;
      for (const auto& entry : node.entries) {
        if (!entry.scalar_key()) {
          v.entries.push_back(odd_key(entry));
          continue;
        }
        TemplateValue value = child(entry.value);
        value.line = entry.key_line;
        v.entries.push_back(TemplateEntry{entry.key, std::move(value)});
      }
      return v;
    case YamlValue::Kind::kNull:
      break;
  }
  return v;
}

}  // namespace

TemplateValue literal_value(const YamlValue& node, std::string_view section) {
  if (!function_of_tag(node.tag).empty() || !function_of_map(node, false).empty()) {
    return TemplateValue::invalid(
        fmt::format("intrinsic functions are not allowed in {} ({})", section, render_expression(node)), node.line);
  }
  const auto child = [section](const YamlValue& item) { return literal_value(item, section); };
  return plain_value(node, child, [&](const YamlEntry& entry) {
    TemplateValue value = child(entry.value);
    value.line = entry.key_line;
    return TemplateEntry{render_key_expression(entry), std::move(value)};
  });
}

IntrinsicEvaluator::IntrinsicEvaluator(EvaluationContext context) : context_(std::move(context)) {}

void IntrinsicEvaluator::set_function_names(std::map<std::string, std::string> names) {
  context_.function_names = std::move(names);
}

void IntrinsicEvaluator::set_layer_arns(std::map<std::string, std::string> arns) {
  context_.layer_arns = std::move(arns);
}

TemplateValue IntrinsicEvaluator::evaluate(const YamlValue& node) { return evaluate_node(node, false, false); }

TemplateValue IntrinsicEvaluator::evaluate_node(const YamlValue& node, bool ignore_tag, bool in_condition) {
  const int line = node.line;
  if (!ignore_tag) {
    const std::string function = function_of_tag(node.tag);
    if (!function.empty() && function[0] == '!') {
      return TemplateValue::invalid(fmt::format("unknown tag {}", function), line);
    }
    if (!function.empty()) {
      TemplateValue v = call(function, node, true, node);
      v.line = line;
      v.intrinsic = true;
      return v;
    }
  }
  if (const std::string function = function_of_map(node, in_condition); !function.empty()) {
    TemplateValue v = call(function, node.entries.front().value, false, node);
    v.line = line;
    v.intrinsic = true;
    return v;
  }

  return plain_value(
      node, [this](const YamlValue& item) { return evaluate_node(item, false, false); },
      [](const YamlEntry& entry) {
        return TemplateEntry{render_key_expression(entry),
                             TemplateValue::invalid("mapping keys must be strings", entry.key_line)};
      });
}

TemplateValue IntrinsicEvaluator::evaluate_arg(const YamlValue& arg, bool arg_is_tagged) {
  return evaluate_node(arg, arg_is_tagged, false);
}

TemplateValue IntrinsicEvaluator::call(const std::string& function, const YamlValue& arg, bool arg_is_tagged,
                                       const YamlValue& whole) {
  const int line = whole.line;
  if (function == "Ref") {
    auto name = literal_scalar(arg, arg_is_tagged);
    if (!name) return TemplateValue::invalid("Ref needs the name of a parameter or resource", line);
    return ref(trim(*name), line);
  }
  if (function == "Condition") {
    auto name = literal_scalar(arg, arg_is_tagged);
    if (!name) return TemplateValue::invalid("Condition needs the name of a condition", line);
    return condition(trim(*name), line);
  }
  if (function == "Fn::GetAtt") return get_att_call(arg, line);
  if (function == "Fn::Sub") {
    // The template string must be literal: Fn::Sub: !Ref X is not a string to substitute into.
    if (arg.is(YamlValue::Kind::kScalar) && !literal_scalar(arg, arg_is_tagged)) {
      return TemplateValue::invalid("Fn::Sub needs a string or [string, {variables}]", line);
    }
    return sub(arg, line);
  }
  if (function == "Fn::Join") return join(arg, line);
  if (function == "Fn::Select") return select(arg, line);
  if (function == "Fn::Split") return split(arg, line);
  if (function == "Fn::FindInMap") return find_in_map(arg, line);
  if (function == "Fn::If") return fn_if(arg, line);
  if (function == "Fn::Equals") return equals(arg, line);
  if (function == "Fn::Not") return fn_not(arg, line);
  if (function == "Fn::And") return and_or(arg, true, line);
  if (function == "Fn::Or") return and_or(arg, false, line);
  if (function == "Fn::Base64") {
    TemplateValue v = evaluate_arg(arg, arg_is_tagged);
    if (v.failed()) return v;
    if (!v.is(Kind::kString)) return TemplateValue::invalid("Fn::Base64 needs a string", line);
    return TemplateValue::string(base64(v.text), line);
  }
  if (contains(kAwsOnlyFunctions, function)) return TemplateValue::unresolved(render_expression(whole), "", line);
  return TemplateValue::invalid(fmt::format("unknown intrinsic function {}", function), line);
}

TemplateValue IntrinsicEvaluator::ref(const std::string& name, int line) {
  if (name.starts_with("AWS::")) return pseudo_parameter(name, line);
  const std::string expression = "!Ref " + name;
  if (auto it = context_.parameters.find(name); it != context_.parameters.end()) {
    TemplateValue v = it->second;
    if (v.is(Kind::kUnresolved)) v.text = expression;
    v.line = line;
    return v;
  }
  if (auto it = context_.function_names.find(name); it != context_.function_names.end()) {
    return TemplateValue::string(it->second, line);
  }
  if (auto it = context_.layer_arns.find(name); it != context_.layer_arns.end()) {
    return TemplateValue::string(it->second, line);  // a layer version's Ref is its ARN
  }
  if (auto it = context_.resource_types.find(name); it != context_.resource_types.end()) {
    return TemplateValue::unresolved(expression, fmt::format("resource {} ({}) exists only in AWS", name, it->second),
                                     line);
  }
  return TemplateValue::unresolved(expression, fmt::format("the template has no parameter or resource named {}", name),
                                   line);
}

TemplateValue IntrinsicEvaluator::pseudo_parameter(const std::string& name, int line) {
  if (name == "AWS::NoValue") {
    TemplateValue v;
    v.kind = Kind::kNoValue;
    v.line = line;
    return v;
  }
  if (name == "AWS::Region") return TemplateValue::string(context_.region, line);
  if (name == "AWS::AccountId") return TemplateValue::string(context_.account_id, line);
  if (name == "AWS::StackName") return TemplateValue::string(context_.stack_name, line);
  if (name == "AWS::Partition") return TemplateValue::string(partition_of(context_.region), line);
  if (name == "AWS::URLSuffix") return TemplateValue::string(url_suffix_of(context_.region), line);
  if (name == "AWS::StackId") {
    // A well-formed stack ARN; the id part is fixed because no real stack exists.
    return TemplateValue::string(
        fmt::format("arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                    partition_of(context_.region), context_.region, context_.account_id, context_.stack_name),
        line);
  }
  if (name == "AWS::NotificationARNs") {
    TemplateValue v;
    v.kind = Kind::kList;
    v.line = line;
    return v;
  }
  return TemplateValue::invalid(fmt::format("unknown pseudo parameter {}", name), line);
}

TemplateValue IntrinsicEvaluator::get_att(const std::string& resource, const std::string& attribute, int line) {
  if (auto it = context_.function_names.find(resource); it != context_.function_names.end() && attribute == "Arn") {
    return TemplateValue::string(fmt::format("arn:{}:lambda:{}:{}:function:{}", partition_of(context_.region),
                                             context_.region, context_.account_id, it->second),
                                 line);
  }
  if (auto it = context_.layer_arns.find(resource); it != context_.layer_arns.end() && attribute == "LayerVersionArn") {
    return TemplateValue::string(it->second, line);
  }
  std::string hint;
  if (!context_.resource_types.contains(resource)) {
    hint = fmt::format("the template has no resource named {}", resource);
  }
  return TemplateValue::unresolved(fmt::format("!GetAtt {}.{}", resource, attribute), std::move(hint), line);
}

TemplateValue IntrinsicEvaluator::get_att_call(const YamlValue& arg, int line) {
  if (arg.is(YamlValue::Kind::kScalar)) {
    const std::string& text = arg.text;
    const auto dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
      return TemplateValue::invalid(fmt::format("Fn::GetAtt needs Resource.Attribute (got {})", text), line);
    }
    return get_att(text.substr(0, dot), text.substr(dot + 1), line);
  }
  if (is_list_of(arg, 2) && arg.items[0].is(YamlValue::Kind::kScalar)) {
    // The attribute name may itself be computed (Fn::GetAtt: [Res, !Ref AttrParam]).
    TemplateValue attribute = evaluate_arg(arg.items[1], false);
    if (attribute.failed()) return attribute;
    if (!attribute.is(Kind::kString)) return TemplateValue::invalid("Fn::GetAtt attribute must be a string", line);
    return get_att(arg.items[0].text, attribute.text, line);
  }
  return TemplateValue::invalid("Fn::GetAtt needs [Resource, Attribute] or Resource.Attribute", line);
}

TemplateValue IntrinsicEvaluator::sub(const YamlValue& arg, int line) {
  std::string text;
  const YamlValue* variables = nullptr;
  if (arg.is(YamlValue::Kind::kScalar)) {
    text = arg.text;
  } else if (is_list_of(arg, 2) && arg.items[0].is(YamlValue::Kind::kScalar) &&
             arg.items[1].is(YamlValue::Kind::kMap)) {
    text = arg.items[0].text;
    variables = &arg.items[1];
  } else {
    return TemplateValue::invalid("Fn::Sub needs a string or [string, {variables}]", line);
  }

  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("${", pos);
    if (open == std::string::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string::npos) break;  // no closing brace: CloudFormation keeps the text as is
    out.append(text, pos, open - pos);
    const std::string_view inner = std::string_view(text).substr(open + 2, close - open - 2);
    if (inner.starts_with('!')) {
      // ${!Literal} writes a literal ${Literal}.
      out += "${";
      out += inner.substr(1);
      out += '}';
    } else {
      TemplateValue v = sub_variable(trim(inner), variables, line);
      if (v.failed()) return v;
      out += v.text;
    }
    pos = close + 1;
  }
  if (pos < text.size()) out.append(text, pos, std::string::npos);
  return TemplateValue::string(std::move(out), line);
}

TemplateValue IntrinsicEvaluator::sub_variable(const std::string& name, const YamlValue* variables, int line) {
  TemplateValue v;
  if (const YamlValue* value = variables != nullptr ? variables->find(name) : nullptr) {
    v = evaluate_node(*value, false, false);
  } else if (const auto dot = name.find('.'); dot != std::string::npos && !name.starts_with("AWS::")) {
    v = get_att(name.substr(0, dot), name.substr(dot + 1), line);
  } else {
    v = ref(name, line);
  }
  if (v.failed()) return v;
  if (!v.is(Kind::kString)) {
    return TemplateValue::invalid(fmt::format("Fn::Sub variable ${{{}}} must be a string", name), line);
  }
  return v;
}

std::optional<TemplateValue> IntrinsicEvaluator::two_args(const YamlValue& arg, int line, std::string_view usage,
                                                         TemplateValue& first, TemplateValue& second) {
  if (!is_list_of(arg, 2)) return TemplateValue::invalid(std::string(usage), line);
  first = evaluate_arg(arg.items[0], false);
  if (first.failed()) return first;
  second = evaluate_arg(arg.items[1], false);
  if (second.failed()) return second;
  return std::nullopt;
}

TemplateValue IntrinsicEvaluator::join(const YamlValue& arg, int line) {
  TemplateValue delimiter, list;
  if (auto failed = two_args(arg, line, "Fn::Join needs [delimiter, [values]]", delimiter, list)) return std::move(*failed);
  if (!delimiter.is(Kind::kString) || !list.is(Kind::kList)) {
    return TemplateValue::invalid("Fn::Join needs [delimiter, [values]]", line);
  }
  std::string out;
  bool first = true;
  for (const auto& item : list.items) {
    if (item.is(Kind::kNoValue)) continue;
    if (item.failed()) return item;
    if (!item.is(Kind::kString)) return TemplateValue::invalid("Fn::Join values must be strings", line);
    if (!first) out += delimiter.text;
    first = false;
    out += item.text;
  }
  return TemplateValue::string(std::move(out), line);
}

TemplateValue IntrinsicEvaluator::select(const YamlValue& arg, int line) {
  TemplateValue index, list;
  if (auto failed = two_args(arg, line, "Fn::Select needs [index, [values]]", index, list)) return std::move(*failed);
  if (!index.is(Kind::kString) || !list.is(Kind::kList)) {
    return TemplateValue::invalid("Fn::Select needs [index, [values]]", line);
  }
  std::size_t i = 0;
  const char* end = index.text.data() + index.text.size();
  auto [ptr, ec] = std::from_chars(index.text.data(), end, i);
  if (index.text.empty() || ec != std::errc{} || ptr != end) {
    return TemplateValue::invalid(fmt::format("Fn::Select index must be a non-negative integer (got {})", index.text),
                                  line);
  }
  std::erase_if(list.items, [](const TemplateValue& v) { return v.is(Kind::kNoValue); });
  if (i >= list.items.size()) {
    return TemplateValue::invalid(
        fmt::format("Fn::Select index {} is out of range (the list has {} items)", i, list.items.size()), line);
  }
  return std::move(list.items[i]);
}

TemplateValue IntrinsicEvaluator::split(const YamlValue& arg, int line) {
  TemplateValue delimiter, source;
  if (auto failed = two_args(arg, line, "Fn::Split needs [delimiter, string]", delimiter, source)) return std::move(*failed);
  if (!delimiter.is(Kind::kString) || !source.is(Kind::kString) || delimiter.text.empty()) {
    return TemplateValue::invalid("Fn::Split needs [delimiter, string] with a non-empty delimiter", line);
  }
  TemplateValue out;
  out.kind = Kind::kList;
  out.line = line;
  std::size_t pos = 0;
  while (true) {
    const auto next = source.text.find(delimiter.text, pos);
    out.items.push_back(TemplateValue::string(source.text.substr(pos, next - pos), line));
    if (next == std::string::npos) break;
    pos = next + delimiter.text.size();
  }
  return out;
}

TemplateValue IntrinsicEvaluator::find_in_map(const YamlValue& arg, int line) {
  if (!arg.is(YamlValue::Kind::kList) || arg.items.size() < 3 || arg.items.size() > 4) {
    return TemplateValue::invalid("Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey]", line);
  }
  std::array<std::string, 3> keys;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    TemplateValue key = evaluate_arg(arg.items[i], false);
    if (key.failed()) return key;
    if (!key.is(Kind::kString)) return TemplateValue::invalid("Fn::FindInMap keys must be strings", line);
    keys[i] = key.text;
  }
  // AWS::LanguageExtensions adds a fourth argument {DefaultValue: ...} used when a key is missing.
  const YamlValue* fallback = nullptr;
  if (arg.items.size() == 4) {
    fallback = arg.items[3].find("DefaultValue");
    if (fallback == nullptr) {
      return TemplateValue::invalid("Fn::FindInMap fourth argument must be {DefaultValue: value}", line);
    }
  }
  auto missing = [&](std::string message) {
    if (fallback != nullptr) {
      TemplateValue v = evaluate_node(*fallback, false, false);
      v.line = line;
      return v;
    }
    return TemplateValue::invalid(std::move(message), line);
  };
  const YamlValue* map = context_.mappings != nullptr ? context_.mappings->find(keys[0]) : nullptr;
  if (map == nullptr) return missing(fmt::format("Fn::FindInMap: mapping {} is not defined in Mappings", keys[0]));
  const YamlValue* top = map->find(keys[1]);
  if (top == nullptr) return missing(fmt::format("Fn::FindInMap: key {} is not in mapping {}", keys[1], keys[0]));
  const YamlValue* second = top->find(keys[2]);
  if (second == nullptr) {
    return missing(fmt::format("Fn::FindInMap: key {} is not in {}.{}", keys[2], keys[0], keys[1]));
  }
  TemplateValue v = literal_value(*second, "Mappings");
  v.line = line;
  return v;
}

TemplateValue IntrinsicEvaluator::condition(const std::string& name, int line) {
  if (auto it = condition_cache_.find(name); it != condition_cache_.end()) {
    TemplateValue v = it->second;
    v.line = line;
    return v;
  }
  if (conditions_in_progress_.contains(name)) {
    return TemplateValue::invalid(fmt::format("condition {} refers to itself", name), line);
  }
  const YamlValue* definition = context_.conditions != nullptr ? context_.conditions->find(name) : nullptr;
  if (definition == nullptr) {
    return TemplateValue::invalid(fmt::format("condition {} is not defined in Conditions", name), line);
  }

  conditions_in_progress_.insert(name);
  TemplateValue v = evaluate_node(*definition, false, true);
  conditions_in_progress_.erase(name);
  TemplateValue failure;
  if (!as_condition(v, fmt::format("condition {}", name), definition->line, failure)) v = failure;
  condition_cache_[name] = v;
  v.line = line;
  return v;
}

TemplateValue IntrinsicEvaluator::fn_if(const YamlValue& arg, int line) {
  if (!is_list_of(arg, 3) || !arg.items[0].is(YamlValue::Kind::kScalar)) {
    return TemplateValue::invalid("Fn::If needs [ConditionName, value_if_true, value_if_false]", line);
  }
  TemplateValue chosen = condition(trim(arg.items[0].text), line);
  if (chosen.failed()) return chosen;
  // Only the chosen branch is evaluated: the other may reference things that do not exist.
  return evaluate_node(arg.items[chosen.text == "true" ? 1 : 2], false, false);
}

TemplateValue IntrinsicEvaluator::equals(const YamlValue& arg, int line) {
  TemplateValue a, b;
  if (auto failed = two_args(arg, line, "Fn::Equals needs [value, value]", a, b)) return std::move(*failed);
  return boolean(same_value(a, b), line);
}

TemplateValue IntrinsicEvaluator::fn_not(const YamlValue& arg, int line) {
  if (!is_list_of(arg, 1)) return TemplateValue::invalid("Fn::Not needs [condition]", line);
  TemplateValue failure;
  auto value = as_condition(evaluate_node(arg.items[0], false, true), "Fn::Not", line, failure);
  if (!value) return failure;
  return boolean(!*value, line);
}

TemplateValue IntrinsicEvaluator::and_or(const YamlValue& arg, bool is_and, int line) {
  const char* function = is_and ? "Fn::And" : "Fn::Or";
  constexpr std::size_t kMinOperands = 2;
  constexpr std::size_t kMaxOperands = 10;
  if (!arg.is(YamlValue::Kind::kList) || arg.items.size() < kMinOperands || arg.items.size() > kMaxOperands) {
    return TemplateValue::invalid(fmt::format("{} needs 2 to 10 conditions", function), line);
  }
  // A decisive operand (false for And, true for Or) settles the result even when another
  // operand cannot be evaluated locally.
  std::optional<TemplateValue> undecided;
  for (const auto& operand : arg.items) {
    TemplateValue failure;
    auto value = as_condition(evaluate_node(operand, false, true), function, line, failure);
    if (!value) {
      if (failure.is(Kind::kInvalid)) return failure;
      if (!undecided) undecided = std::move(failure);
      continue;
    }
    if (*value != is_and) return boolean(*value, line);
  }
  if (undecided) return *undecided;
  return boolean(is_and, line);
}

}  // namespace lambdad::config
