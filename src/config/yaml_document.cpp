// config (internal): yaml-cpp's node graph -> the plain tree every later pass walks.
#include "yaml_document.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

namespace lambdad::config {
namespace {

constexpr int kMaxDepth = 128;

int node_line(const YAML::Node& node) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

class YamlReader {
 public:
  YamlReader(YamlFlavor flavor, std::string_view noun, DiagnosticSink& sink)
      : flavor_(flavor), noun_(noun), sink_(sink) {}

  std::optional<YamlValue> convert(const YAML::Node& node, int depth);

 private:
  bool convert_map(const YAML::Node& node, int depth, YamlValue& v);
  void merge(const YamlValue& source, int line, std::vector<YamlEntry>& merged);

  YamlFlavor flavor_;
  std::string_view noun_;
  DiagnosticSink& sink_;
  std::size_t budget_ = kMaxYamlNodes;
};

std::optional<YamlValue> YamlReader::convert(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth || budget_ == 0) {
    sink_.error(node_line(node), "", "",
                depth > kMaxDepth ? fmt::format("the {} nests too deeply (or a YAML alias refers to itself)", noun_)
                                  : fmt::format("the {} is too large once YAML aliases are expanded", noun_));
    return std::nullopt;
  }
  --budget_;
  YamlValue v;
  v.line = node_line(node);
  const std::string& tag = node.Tag();
  if (tag.size() > 1 && tag.front() == '!' && tag[1] != '!') v.tag = tag;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return v;
    case YAML::NodeType::Scalar:
      v.kind = YamlValue::Kind::kScalar;
      v.text = node.Scalar();
      v.quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
      return v;
    case YAML::NodeType::Sequence:
      v.kind = YamlValue::Kind::kList;
      for (const auto& item : node) {
        auto converted = convert(item, depth + 1);
        if (!converted) return std::nullopt;
        v.items.push_back(std::move(*converted));
      }
      return v;
    case YAML::NodeType::Map:
      break;
  }
  v.kind = YamlValue::Kind::kMap;
  if (!convert_map(node, depth, v)) return std::nullopt;
  return v;
}

bool YamlReader::convert_map(const YAML::Node& node, int depth, YamlValue& v) {
  const bool framework = flavor_ == YamlFlavor::kFramework;
  std::vector<YamlEntry> merged;
  std::map<std::string, int> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    YamlEntry entry;
    entry.key_line = node_line(it->first);
    if (!it->first.IsScalar() && framework) {
      sink_.error(entry.key_line, "", "", "mapping keys must be strings");
      continue;
    }
    if (!it->first.IsScalar() || it->first.Tag().size() > 1) {
      auto key = convert(it->first, depth + 1);
      if (!key) return false;
      entry.key_node.push_back(std::move(*key));
    }
    if (it->first.IsScalar()) entry.key = it->first.Scalar();
    // CloudFormation reports a repeated key before what is under it, the Framework after.
    bool duplicate = false;
    int first_line = 0;
    if (it->first.IsScalar() && !(framework && entry.key == "<<" && it->first.Tag() == "?")) {
      auto [prev, inserted] = seen.emplace(entry.key, entry.key_line);
      duplicate = !inserted;
      first_line = prev->second;
    }
    auto report_duplicate = [&] {
      sink_.error(entry.key_line, "", "", fmt::format("duplicate key {} (first at line {})", entry.key, first_line));
    };
    if (duplicate && !framework) report_duplicate();
    auto converted = convert(it->second, depth + 1);
    if (!converted) return false;
    entry.value = std::move(*converted);
    if (framework && entry.key == "<<" && it->first.Tag() == "?") {
      merge(entry.value, entry.key_line, merged);
      continue;
    }
    if (duplicate && framework) {
      report_duplicate();
      continue;
    }
    v.entries.push_back(std::move(entry));
  }
  // Explicit keys win over merged ones; among merged mappings the first wins (YAML merge key spec).
  for (auto& entry : merged) {
    if (seen.emplace(entry.key, entry.key_line).second) v.entries.push_back(std::move(entry));
  }
  return true;
}

void YamlReader::merge(const YamlValue& source, int line, std::vector<YamlEntry>& merged) {
  if (source.is(YamlValue::Kind::kList)) {
    for (const auto& item : source.items) merge(item, line, merged);
    return;
  }
  if (!source.is(YamlValue::Kind::kMap)) {
    sink_.error(line, "", "<<", "a merge key needs a mapping or a list of mappings");
    return;
  }
  for (const auto& entry : source.entries) {
    const bool present =
        std::any_of(merged.begin(), merged.end(), [&](const YamlEntry& e) { return e.key == entry.key; });
    if (!present) merged.push_back(entry);
  }
}

}  // namespace

std::optional<YamlValue> read_yaml_document(const YAML::Node& root, YamlFlavor flavor, std::string_view noun,
                                            DiagnosticSink& sink) {
  return YamlReader(flavor, noun, sink).convert(root, 0);
}

std::size_t count_nodes(const YamlValue& v) {
  std::size_t n = 1;
  for (const auto& item : v.items) n += count_nodes(item);
  for (const auto& entry : v.entries) n += count_nodes(entry.value);
  return n;
}

}  // namespace lambdad::config
