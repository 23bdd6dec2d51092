// config (internal): a CloudFormation value after its intrinsic functions were evaluated locally.
// Evaluation never fails outright: what only AWS knows becomes kUnresolved, what is wrong in the
// template becomes kInvalid, and the caller decides per property whether that is an error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambdad::config {

struct TemplateEntry;

struct TemplateValue {
  enum class Kind {
    kNull,        // `Key:` or `~`; CloudFormation rejects null property values
    kString,      // every scalar: CloudFormation hands numbers and booleans on as text
    kList,
    kMap,
    kNoValue,     // !Ref AWS::NoValue: the enclosing property or list element disappears
    kUnresolved,  // depends on something only AWS knows (an attribute, an export, a missing parameter)
    kInvalid,     // the template is wrong (bad intrinsic arguments, unknown mapping key)
  };

  Kind kind = Kind::kNull;
  std::string text;  // kString: the value; kUnresolved: the expression; kInvalid: the message
  std::string hint;  // kUnresolved: why, when the expression alone does not say
  std::vector<TemplateValue> items;    // kList
  std::vector<TemplateEntry> entries;  // kMap, in template order
  int line = 0;                // 1-based line of the node (of the key, for map entries); 0 if unknown
  bool intrinsic = false;      // produced by an intrinsic function: SAM Globals treat it as a scalar
  bool from_globals = false;   // came from Globals.Function (diagnostics name Globals, not the function)

  static TemplateValue string(std::string text, int line);
  static TemplateValue unresolved(std::string expression, std::string hint, int line);
  static TemplateValue invalid(std::string message, int line);

  bool is(Kind k) const { return kind == k; }
  // Unresolved or invalid: an intrinsic that consumes this value cannot produce a result either.
  bool failed() const { return kind == Kind::kUnresolved || kind == Kind::kInvalid; }
  // The value of a kMap entry; nullptr when absent.
  const TemplateValue* find(std::string_view key) const;
};

// Defined after TemplateValue so that both are complete wherever a vector of them is used
// (a std::pair member would need TemplateValue complete inside its own definition).
struct TemplateEntry {
  std::string key;
  TemplateValue value;
};

// "a list", "a mapping", "null", "a string"; "a value" otherwise.
inline std::string_view kind_name(TemplateValue::Kind kind) {
  switch (kind) {
    case TemplateValue::Kind::kList:
      return "a list";
    case TemplateValue::Kind::kMap:
      return "a mapping";
    case TemplateValue::Kind::kNull:
      return "null";
    case TemplateValue::Kind::kString:
      return "a string";
    case TemplateValue::Kind::kNoValue:
    case TemplateValue::Kind::kUnresolved:
    case TemplateValue::Kind::kInvalid:
      break;
  }
  return "a value";
}

// Why `v`, neither a string nor unresolvable (each reader decides on those), is not text.
inline std::string not_text_message(const TemplateValue& v) {
  if (v.is(TemplateValue::Kind::kInvalid)) return v.text;
  if (v.is(TemplateValue::Kind::kNull)) return "'null' values are not allowed in templates";
  return "must be a string, not " + std::string(kind_name(v.kind));
}

inline TemplateValue TemplateValue::string(std::string text, int line) {
  TemplateValue v;
  v.kind = Kind::kString;
  v.text = std::move(text);
  v.line = line;
  return v;
}

inline TemplateValue TemplateValue::unresolved(std::string expression, std::string hint, int line) {
  TemplateValue v = string(std::move(expression), line);
  v.kind = Kind::kUnresolved;
  v.hint = std::move(hint);
  return v;
}

inline TemplateValue TemplateValue::invalid(std::string message, int line) {
  TemplateValue v = string(std::move(message), line);
  v.kind = Kind::kInvalid;
  return v;
}

inline const TemplateValue* TemplateValue::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

// Structural equality, as Fn::Equals compares (lines and flags do not matter).
inline bool same_value(const TemplateValue& a, const TemplateValue& b) {
  if (a.kind != b.kind || a.text != b.text || a.items.size() != b.items.size() ||
      a.entries.size() != b.entries.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (!same_value(a.items[i], b.items[i])) return false;
  }
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    if (a.entries[i].key != b.entries[i].key || !same_value(a.entries[i].value, b.entries[i].value)) return false;
  }
  return true;
}

}  // namespace lambdad::config
