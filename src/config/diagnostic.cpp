// config: rendering a Diagnostic the way compilers do, so editors can jump to the line.
#include "lambdad/config/diagnostic.hpp"

#include <array>

namespace lambdad::config {

std::string Diagnostic::to_string() const {
  std::string location = file;
  if (line > 0) {
    location += location.empty() ? "line " : ":";
    location += std::to_string(line);
  }
  std::string subject = resource;
  if (!property.empty()) {
    if (!subject.empty()) subject += '.';
    subject += property;
  }
  std::string out;
  for (const std::string* part : std::array<const std::string*, 3>{&location, &subject, &message}) {
    if (part->empty()) continue;
    if (!out.empty()) out += ": ";
    out += *part;
  }
  return out;
}

}  // namespace lambdad::config
