// app: the layers under the command line. A flag that argv leaves unset takes its LAMBDAD_*
// environment variable, else its key in the config file (the subcommand's [section] before the top
// level), else its default: command line > environment > file > defaults. Applied once, right after
// CLI11 has parsed argv, through each option's own conversion and checks, so a value means the same
// wherever it is written. Problems are collected and reported together, each naming the variable
// or the file, line and key.
//
// (CLI11's own config and envname support is not used: it reads the file before the environment,
// which gives file > environment, and its messages name only the flag.)
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config_file.hpp"

namespace lambdad::app {

// Reads one environment variable; nullopt when unset. Empty values count as unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// The key of a flag in config files: its long name ("idle-timeout"). Files may also write it with
// underscores ("idle_timeout").
std::string config_key(const CLI::Option& option);
// Its environment variable: "LAMBDAD_IDLE_TIMEOUT".
std::string environment_variable(const CLI::Option& option);
// The flags of command that the environment and files may set: every named option except those
// marked configurable(false) (help, --config, --print-config, generate-event's event fields).
// Positional arguments are the command line's only.
std::vector<CLI::Option*> settable_options(CLI::App& command);

// The config file to read: the --config value (flag_value, non-empty when given), else
// LAMBDAD_CONFIG, else lambdad.toml, else lambdad.json in dir. nullopt when none applies; a file
// named by the flag or the variable that does not exist is an error naming them.
Result<std::optional<ConfigFile>> load_settings_file(const std::string& flag_value, const EnvLookup& env,
                                                      const std::filesystem::path& dir);

enum class Origin { kDefault, kFile, kEnvironment, kCommandLine };

struct Setting {
  const CLI::Option* option = nullptr;
  Origin origin = Origin::kDefault;
  std::string where;                // "command line", "LAMBDAD_REGION", "lambdad.toml:3 [serve]", "default"
  std::vector<std::string> values;  // as the flag took them; with kDefault, its default (empty: unset)
};

class SettingsLayers {
 public:
  // Records every subcommand's flag defaults; call after declaring the options, before parsing.
  explicit SettingsLayers(CLI::App& app);

  // Every section that is no subcommand, every key that no flag of its section (or, at the top
  // level, of any subcommand) is, and every value of the wrong shape, in file order.
  std::vector<std::string> check(const ConfigFile& file) const;

  // Fills the settable flags of command that argv left unset from env, then from file (may be
  // null). Returns every problem; settings() then describes each flag of command.
  std::vector<std::string> apply(CLI::App& command, const ConfigFile* file, const EnvLookup& env);

  const std::vector<Setting>& settings() const { return settings_; }

  // The settings of command as a TOML [section], each with where it came from.
  std::string render(const CLI::App& command, const ConfigFile* file) const;

 private:
  CLI::App& app_;
  std::map<const CLI::Option*, std::string> defaults_;
  std::vector<Setting> settings_;
};

}  // namespace lambdad::app
