// config (private): reading a definitions file (template.yaml, serverless.yml) whole, with the one
// error that says why it cannot be read.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <variant>

#include "lambdad/config/sam_template.hpp"

namespace lambdad::config {

// The file's text, or a TemplateLoad holding the error ("cannot read <what>: ...").
std::variant<std::string, TemplateLoad> read_source_file(const std::filesystem::path& file, std::string_view what);

}  // namespace lambdad::config
