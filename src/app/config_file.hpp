// app: the command line's config file, lambdad.toml or lambdad.json, read into a flat list of
// settings (section, key, value, line). What the keys mean is settings_layers' business; this file
// only knows the two syntaxes. TOML is the subset a flag file needs: [section] tables, key = value,
// strings, integers, floats, booleans and arrays of them, comments.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"

namespace lambdad::app {

struct ConfigValue {
  enum class Type { kString, kInteger, kFloat, kBoolean, kArray };
  Type type = Type::kString;
  std::string text;                // a scalar as the command line would spell it ("3005", "true", "eu-west-1")
  std::vector<ConfigValue> items;  // kArray

  bool is_array() const { return type == Type::kArray; }
};

// "string", "integer", "boolean", "array", ... for messages.
std::string_view type_name(ConfigValue::Type type);

struct ConfigEntry {
  std::string section;  // "" = top level, else the [section] (a subcommand's name)
  std::string key;      // as written in the file
  ConfigValue value;
  int line = 0;  // 1-based; 0 where the syntax keeps no lines (JSON)
};

struct ConfigFile {
  std::string name;                  // the path as given, for messages
  std::vector<ConfigEntry> entries;  // in file order

  // "lambdad.toml:4" or "lambdad.json", the start of a message about the entry.
  std::string where(const ConfigEntry& entry) const;
};

// Errors are kInvalidInput with "NAME:LINE: what is wrong" (JSON: "NAME: ...").
Result<ConfigFile> parse_toml_config(std::string_view text, const std::string& name);
Result<ConfigFile> parse_json_config(std::string_view text, const std::string& name);

// A .json file is JSON, anything else TOML. An unreadable file is an error naming it.
Result<ConfigFile> load_config_file(const std::filesystem::path& path);

}  // namespace lambdad::app
