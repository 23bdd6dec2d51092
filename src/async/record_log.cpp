#include "lambdad/async/record_log.hpp"

#include <cctype>
#include <utility>

#include "posix_file.hpp"

namespace lambdad::async {
namespace {

constexpr std::size_t kMaxNameChars = 200;  // well under NAME_MAX (255) with the suffix

}  // namespace

std::string destination_file_name(std::string_view type, std::string_view arn) {
  std::string name;
  for (char c : type) name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  name.push_back('-');
  for (char c : arn) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    name.push_back(keep ? c : '_');
  }
  if (name.size() > kMaxNameChars) name.resize(kMaxNameChars);
  if (name.back() == '.') name.back() = '_';  // never "..", never a hidden-looking tail
  return name + ".jsonl";
}

RecordLog::RecordLog(std::filesystem::path dir, bool durable) : dir_(std::move(dir)), durable_(durable) {}

Status RecordLog::append(const std::string& file_name, std::string_view json) {
  std::string line(json);
  line.push_back('\n');
  // Only the first append of this run can follow a torn line: ours are written whole.
  const bool first = checked_.insert(file_name).second;
  auto st = posix::append_file(dir_ / file_name, line, durable_, first);
  if (!st) checked_.erase(file_name);  // a failed write may have left part of the line
  return st;
}

}  // namespace lambdad::async
