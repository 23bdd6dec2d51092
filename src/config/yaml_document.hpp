// config (internal): a definitions file (template.yaml, serverless.yml) as one plain tree, read
// once from yaml-cpp's node graph. The reader is the one place that bounds depth and size (YAML
// aliases can make the graph cyclic or exponentially large), reports repeated keys and records
// line numbers; everything after it walks this tree, never yaml-cpp's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "diagnostic_sink.hpp"

namespace lambdad::config {

// Far above any real file (nodes after YAML aliases, and Serverless variables, are expanded);
// bounds the work of a hostile one.
inline constexpr std::size_t kMaxYamlNodes = 1'000'000;

struct YamlEntry;

struct YamlValue {
  enum class Kind { kNull, kScalar, kList, kMap };

  Kind kind = Kind::kNull;
  std::string text;         // kScalar
  bool quoted = false;      // kScalar written in quotes (or built from text): a string, never a number
  std::string tag;          // a local tag (!Ref, !GetAtt, !Unknown, ...); empty for plain and !!str nodes
  bool unresolved = false;  // Serverless variables: one in it could not be resolved (already reported)
  int line = 0;             // 1-based line of the node; 0 if unknown
  std::vector<YamlValue> items;
  std::vector<YamlEntry> entries;  // in file order

  bool is(Kind k) const { return kind == k; }
  // The value of the first entry whose key is the string `key`; nullptr when absent or not a map.
  const YamlValue* find(std::string_view key) const;
  const YamlEntry* find_entry(std::string_view key) const;

  // Defined after YamlEntry: clang needs YamlEntry complete to construct a YamlValue.
  static YamlValue scalar(std::string text, bool quoted, int line);
};

// Defined after YamlValue so that both are complete wherever a vector of them is used.
struct YamlEntry {
  std::string key;               // the key's text (a scalar key's, tag aside)
  int key_line = 0;
  std::vector<YamlValue> key_node;  // the key itself when it is tagged or not a scalar (one item), else empty
  YamlValue value;

  bool scalar_key() const { return key_node.empty() || key_node.front().is(YamlValue::Kind::kScalar); }
};

inline YamlValue YamlValue::scalar(std::string text, bool quoted, int line) {
  YamlValue v;
  v.kind = Kind::kScalar;
  v.text = std::move(text);
  v.quoted = quoted;
  v.line = line;
  return v;
}

inline const YamlEntry* YamlValue::find_entry(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.scalar_key() && entry.key == key) return &entry;
  }
  return nullptr;
}

inline const YamlValue* YamlValue::find(std::string_view key) const {
  const YamlEntry* entry = find_entry(key);
  return entry != nullptr ? &entry->value : nullptr;
}

// How the file's consumer reads YAML.
enum class YamlFlavor {
  // CloudFormation: a repeated key is reported and kept (lookups see the first); keys may be any
  // node; `<<` is an ordinary key.
  kCloudFormation,
  // The Serverless Framework (js-yaml): a repeated key is reported and dropped; keys must be
  // strings; `<<` merge keys are applied.
  kFramework,
};

// The tree of `root`; nullopt when it nests too deeply or is too large (reported, naming the file
// as `noun`: "the template nests too deeply ...").
std::optional<YamlValue> read_yaml_document(const YAML::Node& root, YamlFlavor flavor, std::string_view noun,
                                            DiagnosticSink& sink);

std::size_t count_nodes(const YamlValue& v);

}  // namespace lambdad::config
