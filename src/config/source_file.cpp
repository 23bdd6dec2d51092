#include "source_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

namespace lambdad::config {

TemplateLoad single_error(const std::filesystem::path& file, int line, std::string message) {
  TemplateLoad load;
  load.errors.push_back(Diagnostic{Diagnostic::Severity::kError, file.string(), line, "", "", std::move(message)});
  return load;
}

TemplateLoad load_yaml(const std::string& text, const std::filesystem::path& file, std::string_view noun,
                       const std::function<TemplateLoad(const YAML::Node&)>& load) {
  auto line_of = [](const YAML::Mark& mark) { return mark.line >= 0 ? mark.line + 1 : 0; };
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    return single_error(file, line_of(e.mark), "YAML syntax error: the document nests too deeply");
  } catch (const YAML::ParserException& e) {
    return single_error(file, line_of(e.mark), fmt::format("YAML syntax error: {}", e.msg));
  } catch (const YAML::Exception& e) {
    return single_error(file, line_of(e.mark), fmt::format("cannot read YAML: {}", e.msg));
  }
  try {
    return load(root);
  } catch (const YAML::Exception& e) {
    return single_error(file, line_of(e.mark), fmt::format("internal error while reading the {}: {}", noun, e.msg));
  } catch (const std::exception& e) {
    return single_error(file, 0, fmt::format("internal error while reading the {}: {}", noun, e.what()));
  }
}

std::variant<std::string, TemplateLoad> read_source_file(const std::filesystem::path& file, std::string_view what) {
  auto fail = [&](std::string_view why) { return single_error(file, 0, fmt::format("cannot read {}: {}", what, why)); };
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) return fail("no such file");
  if (std::filesystem::is_directory(status)) return fail("it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail("read error");
  return text.str();
}

}  // namespace lambdad::config
