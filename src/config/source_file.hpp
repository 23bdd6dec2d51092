// config (private): reading a definitions file (template.yaml, serverless.yml) whole, with the one
// error that says why it cannot be read.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include <yaml-cpp/yaml.h>

#include "lambdad/config/sam_template.hpp"

namespace lambdad::config {

// The file's text, or a TemplateLoad holding the error ("cannot read <what>: ...").
std::variant<std::string, TemplateLoad> read_source_file(const std::filesystem::path& file, std::string_view what);

// A TemplateLoad holding one error of `file`, at `line` (0: the whole file).
TemplateLoad single_error(const std::filesystem::path& file, int line, std::string message);

// What `load` makes of the YAML document of `text`; instead its syntax error with the line, or an
// exception `load` let escape (only a bug of ours: said so rather than crash a daemon start),
// naming the file as `noun` ("internal error while reading the template: ...").
TemplateLoad load_yaml(const std::string& text, const std::filesystem::path& file, std::string_view noun,
                       const std::function<TemplateLoad(const YAML::Node&)>& load);

}  // namespace lambdad::config
