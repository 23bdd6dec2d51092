#include "lambdad/control_plane/function_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/observability/logging.hpp"
#include "record_json.hpp"

namespace lambdad::control_plane {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kRecordFile = "function.json";
constexpr std::string_view kTrash = ".trash";

Error internal(std::string message) {
  return Error{ErrorKind::kInternal, std::string(error_types::kServiceException), std::move(message)};
}

Status write_file_atomically(const fs::path& path, std::string_view data, bool durable) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return internal(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
  std::size_t off = 0;
  while (off < data.size()) {
    auto n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return internal(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
    }
    off += static_cast<std::size_t>(n);
  }
  if (durable) ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return internal(fmt::format("cannot rename {}: {}", tmp.string(), ec.message()));
  return Ok{};
}

}  // namespace

FunctionStore::FunctionStore(fs::path functions_dir, bool durable)
    : dir_(std::move(functions_dir)), durable_(durable) {}

fs::path FunctionStore::code_root(const std::string& name) const { return dir_ / name / "code"; }

fs::path FunctionStore::code_dir(const std::string& name, const std::string& hex) const {
  return code_root(name) / hex;
}

fs::path FunctionStore::zip_path(const std::string& name, const std::string& hex) const {
  return code_root(name) / (hex + ".zip");
}

std::string FunctionStore::record_text(const FunctionRecord& fn) { return record_to_json(fn).dump(2); }

Status FunctionStore::write_record(const std::string& name, std::string_view text) const {
  const fs::path dir = dir_ / name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  return write_file_atomically(dir / kRecordFile, text, durable_);
}

Status FunctionStore::save(const std::string& name, const FunctionRecord& fn) const {
  return write_record(name, record_text(fn));
}

std::vector<FunctionStore::Stored> FunctionStore::load() const {
  auto log = observability::daemon_log();
  std::error_code ec;
  fs::create_directories(dir_, ec);
  fs::remove_all(dir_ / kTrash, ec);
  std::vector<Stored> stored;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.starts_with(".")) continue;
    const fs::path file = entry.path() / kRecordFile;
    std::ifstream in(file);
    if (!in) continue;
    auto parsed = nlohmann::json::parse(in, nullptr, false);
    auto record = parsed.is_discarded() ? Result<FunctionRecord>(Error{ErrorKind::kInvalidInput, {}, "not JSON"})
                                        : record_from_json(parsed, code_root(name));
    if (!record) {
      log->error("cannot load the function stored in {}: {}", file.string(), record.error().message);
      continue;
    }
    stored.push_back(Stored{name, std::move(record).value()});
  }
  return stored;
}

void FunctionStore::remove_unused_code(const std::string& name, const std::set<std::string>& used) const {
  std::error_code ec;
  for (const auto& code : fs::directory_iterator(code_root(name), ec)) {
    auto stem = code.path().filename().string();
    if (auto dot = stem.find('.'); dot != std::string::npos) stem.resize(dot);
    if (!used.count(stem)) fs::remove_all(code.path(), ec);
  }
}

void FunctionStore::remove(const std::string& name) const {
  std::error_code ec;
  const fs::path trash = dir_ / kTrash;
  fs::create_directories(trash, ec);
  fs::rename(dir_ / name, trash / fmt::format("{}.{}", name, ids::hex_id(8)), ec);
  if (ec) fs::remove_all(dir_ / name, ec);
}

Status FunctionStore::store_code(const std::string& name, std::string_view zip, const std::string& hex,
                                 const CodeLimits& limits) const {
  const fs::path root = code_root(name);
  const fs::path dir = root / hex;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    const fs::path partial = root / (hex + ".partial");
    fs::remove_all(partial, ec);
    fs::create_directories(root, ec);
    auto unpacked = unpack_zip(zip, partial, limits);
    if (!unpacked) return unpacked.error();
    fs::rename(partial, dir, ec);
    if (ec) return internal(fmt::format("cannot rename {}: {}", partial.string(), ec.message()));
  }
  return write_file_atomically(zip_path(name, hex), zip, false);
}

}  // namespace lambdad::control_plane
