#include "settings_layers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

namespace lambdad::app {

namespace fs = std::filesystem;

namespace {

std::string normalize_key(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

bool is_flag(const CLI::Option& option) { return option.get_expected_max() == 0; }
bool is_repeatable(const CLI::Option& option) { return option.get_items_expected_max() > 1; }

std::vector<CLI::App*> subcommands_of(CLI::App& app) {
  return app.get_subcommands([](CLI::App*) { return true; });
}

// The option of command whose long name is key, settable or not.
CLI::Option* find_option(CLI::App& command, const std::string& key) {
  for (auto* option : command.get_options([](CLI::Option*) { return true; })) {
    const auto& names = option->get_lnames();
    if (std::find(names.begin(), names.end(), key) != names.end()) return option;
  }
  return nullptr;
}

bool is_settable(const CLI::App& command, const CLI::Option& option) {
  return !option.get_positional() && !option.get_lnames().empty() && option.get_configurable() &&
         &option != command.get_help_ptr() && &option != command.get_help_all_ptr();
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'port'?)" when one candidate is close enough to be a typo.
std::string suggestion(const std::string& word, const std::set<std::string>& candidates, const char* quote_open = "'",
                       const char* quote_close = "'") {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const auto d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean {}{}{}?)", quote_open, best, quote_close);
}

std::optional<bool> parse_boolean(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return std::nullopt;
}

std::string describe(const ConfigFile& file, const ConfigEntry& entry) {
  return entry.section.empty() ? fmt::format("{}: key '{}'", file.where(entry), entry.key)
                               : fmt::format("{}: key '{}' in [{}]", file.where(entry), entry.key, entry.section);
}

// The strings a flag takes for a file value, or why the value has the wrong shape.
Result<std::vector<std::string>> file_values(const CLI::Option& option, const ConfigValue& value) {
  using Type = ConfigValue::Type;
  if (is_flag(option)) {
    if (value.type == Type::kBoolean) return std::vector<std::string>{value.text};
    if (value.type != Type::kArray) {
      if (auto b = parse_boolean(value.text)) return std::vector<std::string>{*b ? "true" : "false"};
    }
    return invalid_input(fmt::format("expects true or false, not {} {}", type_name(value.type),
                               value.is_array() ? std::string("[...]") : "'" + value.text + "'"));
  }
  if (!value.is_array()) return std::vector<std::string>{value.text};
  if (!is_repeatable(option)) return invalid_input("takes one value, not an array");
  std::vector<std::string> values;
  for (const auto& item : value.items) {
    if (item.is_array()) return invalid_input("takes an array of strings, not an array of arrays");
    values.push_back(item.text);
  }
  return values;
}

// The strings a flag takes for an environment value: booleans for flags, comma-separated lists
// for repeatable flags.
Result<std::vector<std::string>> environment_values(const CLI::Option& option, const std::string& text) {
  if (is_flag(option)) {
    if (auto b = parse_boolean(text)) return std::vector<std::string>{*b ? "true" : "false"};
    return invalid_input(fmt::format("expects true, false, 1 or 0, not '{}'", text));
  }
  if (!is_repeatable(option)) return std::vector<std::string>{text};
  std::vector<std::string> values;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    // SAM's ParameterKey=K,ParameterValue=V spelling keeps its comma.
    if (item.rfind("ParameterKey=", 0) == 0 && comma != std::string::npos &&
        text.compare(comma + 1, 15, "ParameterValue=") == 0) {
      const auto next = text.find(',', comma + 1);
      item = text.substr(start, next == std::string::npos ? std::string::npos : next - start);
      if (!item.empty()) values.push_back(item);
      if (next == std::string::npos) break;
      start = next + 1;
      continue;
    }
    if (!item.empty()) values.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

// What went wrong converting or checking a value, without CLI11's "--flag: " prefix.
std::string explain(const CLI::Error& e, const CLI::Option& option, const std::vector<std::string>& values) {
  std::string what = e.what();
  const std::string prefix = option.get_name() + ": ";
  if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    auto type = option.get_type_name();
    if (auto colon = type.find(':'); colon != std::string::npos) type.erase(colon);
    const std::string shown = values.size() == 1 ? values.front() : CLI::detail::join(values, ",");
    const char* expected = type == "UINT"    ? "a non-negative integer in range"
                           : type == "INT"   ? "an integer in range"
                           : type == "FLOAT" ? "a number"
                                             : "a valid value";
    return fmt::format("'{}' is not {} for {}", shown, expected, option.get_name());
  }
  return fmt::format("{}: {}", option.get_name(), what);
}

// Feeds values to the option as if argv had held them, running its conversion and checks.
Status give(CLI::Option& option, const std::vector<std::string>& values) {
  try {
    option.clear();
    for (const auto& v : values) option.add_result(v);
    option.run_callback();
  } catch (const CLI::Error& e) {
    return invalid_input(explain(e, option, values));
  }
  return Ok{};
}

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string toml_scalar(const CLI::Option& option, const std::string& text) {
  if (is_flag(option)) return text;
  auto type = option.get_type_name();
  const bool numeric = type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0 || type.rfind("FLOAT", 0) == 0;
  if (numeric && !text.empty() && text.find_first_not_of("+-0123456789.eE") == std::string::npos) return text;
  return toml_string(text);
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

std::string config_key(const CLI::Option& option) {
  const auto& names = option.get_lnames();
  return names.empty() ? option.get_single_name() : names.front();
}

std::string environment_variable(const CLI::Option& option) {
  std::string name = "LAMBDAD_";
  for (char c : config_key(option)) {
    name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return name;
}

std::vector<CLI::Option*> settable_options(CLI::App& command) {
  std::vector<CLI::Option*> out;
  for (auto* option : command.get_options([](CLI::Option*) { return true; })) {
    if (is_settable(command, *option)) out.push_back(option);
  }
  return out;
}

Result<std::optional<ConfigFile>> load_settings_file(const std::string& flag_value, const EnvLookup& env,
                                                      const fs::path& dir) {
  auto load = [](const fs::path& path, const std::string& named_by) -> Result<std::optional<ConfigFile>> {
    std::error_code ec;
    if (!named_by.empty() && !fs::exists(path, ec)) {
      return invalid_input(fmt::format("{} names {}, which does not exist", named_by, path.string()));
    }
    auto file = load_config_file(path);
    if (!file) return file.error();
    return std::optional<ConfigFile>(std::move(*file));
  };
  if (!flag_value.empty()) return load(flag_value, "--config");
  if (auto named = env("LAMBDAD_CONFIG")) return load(*named, "LAMBDAD_CONFIG");
  std::error_code ec;
  for (const char* name : {"lambdad.toml", "lambdad.json"}) {
    if (fs::exists(dir / name, ec)) {
      auto file = load(dir / name, "");
      // Messages name the file as the user would: relative to where lambdad runs.
      if (file && *file && dir == fs::path(".")) (*file)->name = name;
      return file;
    }
  }
  return std::optional<ConfigFile>();
}

SettingsLayers::SettingsLayers(CLI::App& app) : app_(app) {
  for (auto* command : subcommands_of(app)) {
    for (auto* option : command->get_options([](CLI::Option*) { return true; })) {
      const auto shown = option->get_default_str();  // what --help prints; keep it
      option->capture_default_str();
      auto value = option->get_default_str();
      if (value == "[]") value.clear();
      defaults_[option] = value;
      option->default_str(shown);
    }
  }
}

std::vector<std::string> SettingsLayers::check(const ConfigFile& file) const {
  std::vector<std::string> problems;
  std::set<std::string> section_names;
  for (auto* command : subcommands_of(app_)) section_names.insert(command->get_name());
  const auto sections_list = CLI::detail::join(section_names, ", ");

  // Why a key that names no settable flag is refused: given on the command line only, or unknown.
  auto refuse = [&](const ConfigEntry& entry, const std::string& key, const std::vector<CLI::App*>& commands,
                    const std::set<std::string>& keys) {
    for (auto* command : commands) {
      if (find_option(*command, key) != nullptr) {
        return fmt::format("{}: --{} is given on the command line only", describe(file, entry), key);
      }
      for (auto* option : command->get_options([](CLI::Option*) { return true; })) {
        if (option->get_positional() && option->get_single_name() == key) {
          return fmt::format("{}: {} is a positional argument of {}: give it on the command line",
                             describe(file, entry), key, command->get_name());
        }
      }
    }
    if (entry.section.empty() && section_names.count(key) != 0) {
      return fmt::format("{}: {} is a section: write [{}] and its keys below it", describe(file, entry), key, key);
    }
    return fmt::format("{}: unknown key '{}'{}{}", file.where(entry), entry.key,
                       entry.section.empty() ? std::string() : " in [" + entry.section + "]", suggestion(key, keys));
  };

  std::map<std::pair<std::string, std::string>, const ConfigEntry*> seen;
  for (const auto& entry : file.entries) {
    const auto key = normalize_key(entry.key);
    if (!entry.section.empty() && section_names.count(entry.section) == 0) {
      // One message per unknown section, on its first key.
      if (seen.emplace(std::make_pair(entry.section, std::string()), &entry).second) {
        problems.push_back(fmt::format("{}: unknown section [{}]{}; sections are the subcommands: {}",
                                       file.where(entry), entry.section,
                                       suggestion(entry.section, section_names, "[", "]"), sections_list));
      }
      continue;
    }
    if (auto [it, fresh] = seen.emplace(std::make_pair(entry.section, key), &entry); !fresh) {
      problems.push_back(fmt::format("{}: the same setting as key '{}' ({})", describe(file, entry), it->second->key,
                                     file.where(*it->second)));
      continue;
    }
    // The flags this key sets: in its section's subcommand, or at the top level in each that has it.
    std::vector<CLI::App*> commands;
    for (auto* command : subcommands_of(app_)) {
      if (entry.section.empty() || command->get_name() == entry.section) commands.push_back(command);
    }
    const CLI::Option* target = nullptr;
    std::set<std::string> keys;
    for (auto* command : commands) {
      for (auto* option : settable_options(*command)) {
        keys.insert(config_key(*option));
        if (!target && config_key(*option) == key) target = option;
      }
    }
    if (target == nullptr) {
      problems.push_back(refuse(entry, key, commands, keys));
      continue;
    }
    if (auto values = file_values(*target, entry.value); !values) {
      problems.push_back(fmt::format("{}: {}", describe(file, entry), values.error().message));
    }
  }
  return problems;
}

std::vector<std::string> SettingsLayers::apply(CLI::App& command, const ConfigFile* file, const EnvLookup& env) {
  std::vector<std::string> problems;
  settings_.clear();
  // The file's entry for a key: the command's section first, then the top level.
  auto entry_for = [&](const std::string& key) -> const ConfigEntry* {
    if (file == nullptr) return nullptr;
    const ConfigEntry* top = nullptr;
    for (const auto& entry : file->entries) {
      if (normalize_key(entry.key) != key) continue;
      if (entry.section == command.get_name()) return &entry;
      if (entry.section.empty() && top == nullptr) top = &entry;
    }
    return top;
  };
  for (auto* option : settable_options(command)) {
    Setting setting;
    setting.option = option;
    if (option->count() > 0) {
      setting.origin = Origin::kCommandLine;
      setting.where = "command line";
      setting.values = option->results();
      if (is_flag(*option)) {  // --flag, or --flag=false
        const auto b = parse_boolean(option->results().back());
        setting.values = {b.value_or(true) ? "true" : "false"};
      }
      settings_.push_back(std::move(setting));
      continue;
    }
    const auto variable = environment_variable(*option);
    if (auto text = env(variable)) {
      setting.origin = Origin::kEnvironment;
      setting.where = variable;
      auto values = environment_values(*option, *text);
      if (!values) {
        problems.push_back(fmt::format("{}: {}", variable, values.error().message));
      } else if (auto given = give(*option, *values); !given) {
        problems.push_back(fmt::format("{}: {}", variable, given.error().message));
      } else {
        setting.values = std::move(*values);
      }
      settings_.push_back(std::move(setting));
      continue;
    }
    if (const auto* entry = entry_for(config_key(*option))) {
      setting.origin = Origin::kFile;
      setting.where = entry->section.empty() ? file->where(*entry)
                                             : fmt::format("{} [{}]", file->where(*entry), entry->section);
      auto values = file_values(*option, entry->value);
      if (!values) {
        problems.push_back(fmt::format("{}: {}", describe(*file, *entry), values.error().message));
      } else if (values->empty()) {
        setting.values.clear();  // an empty array: the flag stays unset
      } else if (auto given = give(*option, *values); !given) {
        problems.push_back(fmt::format("{}: {}", describe(*file, *entry), given.error().message));
      } else {
        setting.values = std::move(*values);
      }
      settings_.push_back(std::move(setting));
      continue;
    }
    setting.origin = Origin::kDefault;
    setting.where = "default";
    if (is_flag(*option)) {
      setting.values = {"false"};
    } else if (auto it = defaults_.find(option); it != defaults_.end() && !it->second.empty()) {
      setting.values = {it->second};
    }
    settings_.push_back(std::move(setting));
  }
  return problems;
}

std::string SettingsLayers::render(const CLI::App& command, const ConfigFile* file) const {
  std::vector<std::pair<std::string, std::string>> lines;  // "key = value", where from
  for (const auto& s : settings_) {
    const auto key = config_key(*s.option);
    if (s.values.empty()) {
      lines.emplace_back("# " + key, "not set");
      continue;
    }
    std::string value;
    if (is_repeatable(*s.option)) {
      std::vector<std::string> items;
      for (const auto& v : s.values) items.push_back(toml_scalar(*s.option, v));
      value = "[" + CLI::detail::join(items, ", ") + "]";
    } else {
      value = toml_scalar(*s.option, s.values.back());
    }
    lines.emplace_back(key + " = " + value, s.where);
  }
  std::size_t width = 0;
  for (const auto& [text, _] : lines) width = std::max(width, text.size());
  std::string out = fmt::format(
      "# lambdad {}: effective settings (command line > LAMBDAD_* environment > config file > defaults)\n"
      "# config file: {}\n[{}]\n",
      command.get_name(), file ? file->name : "none", command.get_name());
  for (const auto& [text, where] : lines) out += fmt::format("{:<{}}  # {}\n", text, width, where);
  return out;
}

}  // namespace lambdad::app
