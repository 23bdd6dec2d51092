#include "source_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lambdad::config {

std::variant<std::string, TemplateLoad> read_source_file(const std::filesystem::path& file, std::string_view what) {
  auto fail = [&](std::string_view why) {
    TemplateLoad load;
    load.errors.push_back(Diagnostic{Diagnostic::Severity::kError, file.string(), 0, "", "",
                                     fmt::format("cannot read {}: {}", what, why)});
    return load;
  };
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
