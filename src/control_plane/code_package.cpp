#include "lambdad/control_plane/code_package.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/error_types.hpp"
#include "errors.hpp"

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kChunk = 65536;
constexpr std::size_t kMaxSymlinkTarget = 4095;  // PATH_MAX less the terminating NUL
constexpr std::size_t kMaxResolvedPath = 4095;
constexpr int kMaxSymlinkHops = 40;  // the kernel's MAXSYMLINKS
// Bytes looked up while resolving all of an archive's symlinks; bounds the work a hostile
// archive (100000 links, each through 40 others) can cause. Real archives use a tiny fraction.
constexpr std::uint64_t kResolveBudget = std::uint64_t{1} << 28;

// ---- errors -------------------------------------------------------------------------------------

Error corrupt() {
  return invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
}

Error unsafe_entry(std::string_view name) {
  return invalid(fmt::format(
      "Could not unzip uploaded file: the entry '{}' would be written outside the function's code directory.",
      name));
}

Error unzipped_too_big(std::uint64_t limit) {
  return invalid(fmt::format("Unzipped size must be smaller than {} bytes", limit));
}

Error os_error(std::string_view what, const fs::path& path, int err) {
  return Error{ErrorKind::kInternal, std::string(error_types::kServiceException),
               fmt::format("{} {}: {}", what, path.string(), std::strerror(err))};
}

Error os_error(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return Error{ErrorKind::kInternal, std::string(error_types::kServiceException),
               fmt::format("{} {}: {}", what, path.string(), ec.message())};
}

// ---- RAII owners --------------------------------------------------------------------------------

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

struct ZipDiscard {
  void operator()(zip_t* za) const { zip_discard(za); }
};
struct ZipFileClose {
  void operator()(zip_file_t* zf) const { zip_fclose(zf); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipDiscard>;
using ZipFile = std::unique_ptr<zip_file_t, ZipFileClose>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Incremental SHA-256. OpenSSL fails here only when out of memory: a crash, not an Error.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) fail();
  }
  void update(std::string_view data) {
    if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) fail();
  }
  std::string finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md.data(), &len) != 1) fail();
    return std::string(reinterpret_cast<const char*>(md.data()), len);
  }

 private:
  [[noreturn]] static void fail() { throw std::runtime_error("OpenSSL SHA-256 failed"); }

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx_;
};

std::string sha256_raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

// ---- archive entries ----------------------------------------------------------------------------

enum class EntryKind { kFile, kDirectory, kSymlink };

struct Entry {
  zip_uint64_t index = 0;
  std::string name;                // as the archive spells it, for messages
  std::vector<std::string> parts;  // normalised: no empty, "." or ".." components
  std::string path;                // parts joined with '/'
  EntryKind kind = EntryKind::kFile;
  mode_t mode = 0;                 // the permission bits to give it
  std::string target;              // for symlinks
};

// The components of an entry name; nullopt when the name could leave the code directory.
// (libzip already turns a NUL inside a stored name into a space; the check is a second guard.)
std::optional<std::vector<std::string>> safe_parts(std::string_view name) {
  if (name.empty() || name.front() == '/') return std::nullopt;
  if (name.find('\\') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (part == "..") return std::nullopt;
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) out.push_back('/');
    out += parts[i];
  }
  return out;
}

// Reads a (small) entry completely; nullopt when it is longer than `max` or unreadable.
std::optional<std::string> read_small(zip_t* za, zip_uint64_t index, std::size_t max) {
  ZipFile zf(zip_fopen_index(za, index, 0));
  if (!zf) return std::nullopt;
  std::string out(max + 1, '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const zip_int64_t n = zip_fread(zf.get(), out.data() + got, out.size() - got);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max) return std::nullopt;
  out.resize(got);
  return out;
}

// Reads the central directory into Entries, checking every name and symlink target (no file
// system access yet).
Result<std::vector<Entry>> read_entries(zip_t* za, const CodeLimits& limits) {
  const zip_int64_t count = zip_get_num_entries(za, 0);
  if (count < 0) return corrupt();
  if (static_cast<std::uint64_t>(count) > limits.max_entries) {
    return invalid(fmt::format("Could not unzip uploaded file: the archive has more than {} entries.",
                               limits.max_entries));
  }
  std::vector<Entry> entries;
  entries.reserve(static_cast<std::size_t>(count));
  std::uint64_t declared = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, i, 0, &st) != 0 || (st.valid & ZIP_STAT_NAME) == 0 || st.name == nullptr) {
      return corrupt();
    }
    Entry e;
    e.index = i;
    e.name = st.name;
    auto parts = safe_parts(e.name);
    if (!parts) return unsafe_entry(e.name);
    e.parts = std::move(*parts);
    e.path = join(e.parts, e.parts.size());

    // A lower bound on the unpacked size: a bomb that declares its size is stopped here, before
    // anything is written; one that lies is stopped by counting what is written.
    if ((st.valid & ZIP_STAT_SIZE) != 0) {
      if (st.size > limits.max_unzipped - declared) return unzipped_too_big(limits.max_unzipped);
      declared += st.size;
    }

    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(za, i, 0, &opsys, &attributes) != 0) return corrupt();
    const bool unix_attributes = opsys == ZIP_OPSYS_UNIX;
    const auto unix_mode = static_cast<mode_t>(unix_attributes ? attributes >> 16 : 0);
    if (e.name.back() == '/' || (unix_attributes && S_ISDIR(unix_mode))) {
      e.kind = EntryKind::kDirectory;
      e.mode = (unix_mode & 0777) | 0755;
    } else if (unix_attributes && S_ISLNK(unix_mode)) {
      e.kind = EntryKind::kSymlink;
      auto target = read_small(za, i, kMaxSymlinkTarget);
      if (!target || target->empty()) return corrupt();
      if (target->front() == '/' || target->find('\0') != std::string::npos) return unsafe_entry(e.name);
      e.target = std::move(*target);
    } else {
      e.kind = EntryKind::kFile;
      e.mode = (unix_mode & 0777) | 0644;
    }
    if (e.kind != EntryKind::kDirectory && e.parts.empty()) return unsafe_entry(e.name);
    entries.push_back(std::move(e));
  }
  return entries;
}

enum class Resolution { kInside, kOutside, kTooComplex };

using LinkMap = std::unordered_map<std::string_view, std::string_view>;

// Follows `link` through the archive's symlinks as the kernel will once everything is unpacked
// (nothing else in the directory can be a symlink: it starts empty and nothing is written
// through one). Components that are not links are taken as directories, which can only make a
// target that escapes look inside when it is dangling, i.e. harmless.
Resolution resolve(const Entry& link, const LinkMap& links, std::uint64_t& budget) {
  std::vector<std::string_view> pending;  // still to walk; the next is at the back
  auto push_path = [&pending](std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
      const std::size_t end = std::min(path.find('/', start), path.size());
      parts.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    pending.insert(pending.end(), parts.rbegin(), parts.rend());
  };
  push_path(link.target);

  std::string current;               // the resolved path so far, relative to the code directory
  std::vector<std::size_t> lengths;  // current's length before each component was appended
  for (std::size_t i = 0; i + 1 < link.parts.size(); ++i) {
    lengths.push_back(current.size());
    if (!current.empty()) current.push_back('/');
    current += link.parts[i];
  }
  int hops = 0;
  while (!pending.empty()) {
    const std::string_view part = pending.back();
    pending.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (lengths.empty()) return Resolution::kOutside;
      current.resize(lengths.back());
      lengths.pop_back();
      continue;
    }
    lengths.push_back(current.size());
    if (!current.empty()) current.push_back('/');
    current += part;
    if (current.size() > kMaxResolvedPath || budget < current.size()) return Resolution::kTooComplex;
    budget -= current.size();
    if (auto it = links.find(current); it != links.end()) {
      if (++hops > kMaxSymlinkHops) return Resolution::kTooComplex;
      current.resize(lengths.back());  // the link's name is replaced by its target
      lengths.pop_back();
      push_path(it->second);
    }
  }
  return Resolution::kInside;
}

Status check_symlinks(const std::vector<Entry>& entries) {
  LinkMap links;
  for (const Entry& e : entries) {
    if (e.kind == EntryKind::kSymlink) links.emplace(e.path, e.target);
  }
  std::uint64_t budget = kResolveBudget;
  for (const Entry& e : entries) {
    if (e.kind != EntryKind::kSymlink) continue;
    if (resolve(e, links, budget) != Resolution::kInside) return unsafe_entry(e.name);
  }
  return Ok{};
}

// ---- writing ------------------------------------------------------------------------------------

// Removes the destination unless the unpacking succeeded.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnFailure() {
    if (armed_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  RemoveOnFailure(const RemoveOnFailure&) = delete;
  RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
  void disarm() { armed_ = false; }

 private:
  fs::path path_;
  bool armed_ = true;
};

class Unpacker {
 public:
  Unpacker(zip_t* za, const fs::path& dest, Fd root, const CodeLimits& limits)
      : za_(za), dest_(dest), root_(std::move(root)), limits_(limits), buffer_(kChunk, '\0') {}

  Status write(const Entry& e) {
    if (e.kind == EntryKind::kDirectory && e.parts.empty()) return Ok{};  // "./"
    const std::size_t depth = e.parts.size() - 1;
    auto parent = open_parent(e, depth);
    if (!parent) return parent.error();
    const int dir = *parent;
    const std::string& name = e.parts.back();
    switch (e.kind) {
      case EntryKind::kDirectory: {
        auto fd = open_directory(dir, name, e);
        if (!fd) return fd.error();
        if (::fchmod(fd->get(), e.mode) != 0) return os_error("cannot chmod", dest_ / e.path, errno);
        return Ok{};
      }
      case EntryKind::kSymlink:
        if (auto st = count(e.target.size()); !st) return st;
        if (::symlinkat(e.target.c_str(), dir, name.c_str()) != 0) {
          if (errno == EEXIST) return corrupt();  // a duplicate name
          return os_error("cannot create", dest_ / e.path, errno);
        }
        ++result_.files;
        return Ok{};
      case EntryKind::kFile:
        return write_file(dir, name, e);
    }
    return Ok{};
  }

  const UnpackedCode& result() const { return result_; }

 private:
  // The directory holding the entry's first `depth` components, created as needed (0755).
  Result<int> open_parent(const Entry& e, std::size_t depth) {
    if (depth == 0) return root_.get();
    std::string path = join(e.parts, depth);
    if (cached_.valid() && cached_path_ == path) return cached_.get();
    Fd current;
    for (std::size_t i = 0; i < depth; ++i) {
      const int at = current.valid() ? current.get() : root_.get();
      auto next = open_directory(at, e.parts[i], e);
      if (!next) return next.error();
      current = std::move(*next);
    }
    cached_ = std::move(current);
    cached_path_ = std::move(path);
    return cached_.get();
  }

  // Creates (if missing) and opens a directory, never following a symlink.
  Result<Fd> open_directory(int at, const std::string& name, const Entry& e) {
    const bool created = ::mkdirat(at, name.c_str(), 0755) == 0;
    if (!created && errno != EEXIST) return os_error("cannot create", dest_ / e.path, errno);
    Fd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return open_failure(at, name, e, errno);
    // mkdir's mode is masked by the umask; Lambda's directories are at least 0755.
    if (created && ::fchmod(fd.get(), 0755) != 0) return os_error("cannot chmod", dest_ / e.path, errno);
    return fd;
  }

  // Why an openat of a name that should be ours failed: a symlink in the way (the entry would
  // be written through it), a file where a directory is needed or the reverse (a malformed
  // archive), or the file system.
  Error open_failure(int at, const std::string& name, const Entry& e, int err) {
    struct stat st {};
    if (::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISLNK(st.st_mode)) return unsafe_entry(e.name);
      if (err == ENOTDIR || err == EISDIR || err == EEXIST) return corrupt();
    }
    return os_error("cannot open", dest_ / e.path, err);
  }

  Status count(std::uint64_t bytes) {
    if (bytes > limits_.max_unzipped - result_.unzipped_size) return unzipped_too_big(limits_.max_unzipped);
    result_.unzipped_size += bytes;
    return Ok{};
  }

  Status write_file(int dir, const std::string& name, const Entry& e) {
    Fd fd(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return open_failure(dir, name, e, errno);
    ZipFile zf(zip_fopen_index(za_, e.index, 0));
    if (!zf) return corrupt();  // encrypted, or a compression method libzip lacks
    for (;;) {
      const zip_int64_t n = zip_fread(zf.get(), buffer_.data(), buffer_.size());
      if (n < 0) return corrupt();  // bad data or CRC
      if (n == 0) break;
      // Counted before writing: the declared sizes are not trusted.
      if (auto st = count(static_cast<std::uint64_t>(n)); !st) return st;
      std::string_view bytes(buffer_.data(), static_cast<std::size_t>(n));
      while (!bytes.empty()) {
        const ssize_t w = ::write(fd.get(), bytes.data(), bytes.size());
        if (w < 0) {
          if (errno == EINTR) continue;
          return os_error("cannot write", dest_ / e.path, errno);
        }
        bytes.remove_prefix(static_cast<std::size_t>(w));
      }
    }
    if (::fchmod(fd.get(), e.mode) != 0) return os_error("cannot chmod", dest_ / e.path, errno);
    ++result_.files;
    return Ok{};
  }

  zip_t* za_;
  const fs::path& dest_;
  Fd root_;
  const CodeLimits& limits_;
  std::string buffer_;
  Fd cached_;  // the last parent directory opened, as most archives list a directory's files together
  std::string cached_path_;
  UnpackedCode result_;
};

// Creates `dest` (and its parents), or accepts it when it is an empty directory.
// Not a symlink to one: removing it after a failure must remove what was unpacked.
Status prepare_destination(const fs::path& dest) {
  std::error_code ec;
  const auto st = fs::symlink_status(dest, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
    return os_error("cannot stat", dest, ec);
  }
  if (fs::exists(st)) {
    if (!fs::is_directory(st) || !fs::is_empty(dest, ec) || ec) {
      return Error{ErrorKind::kInternal, std::string(error_types::kServiceException),
                   fmt::format("cannot unpack into {}: not an empty directory", dest.string())};
    }
    return Ok{};
  }
  fs::create_directories(dest, ec);
  if (ec) return os_error("cannot create", dest, ec);
  // Lambda's code directory is readable by all, whatever the daemon's umask.
  fs::permissions(dest, fs::perms(0755), fs::perm_options::replace, ec);
  if (ec) return os_error("cannot chmod", dest, ec);
  return Ok{};
}

// An archive whose entries passed every check that needs no file system.
struct CheckedArchive {
  ZipArchive archive;
  std::vector<Entry> entries;
};

Result<CheckedArchive> open_checked(std::string_view zip, const CodeLimits& limits) {
  if (zip.size() > limits.max_zipped) {
    return invalid(fmt::format("Zipped size must be smaller than {} bytes", limits.max_zipped));
  }
  if (zip.empty()) return corrupt();

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip.data(), zip.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return corrupt();
  }
  ZipArchive za(zip_open_from_source(source, ZIP_RDONLY, &error));
  zip_error_fini(&error);
  if (!za) {
    zip_source_free(source);  // only an opened archive owns its source
    return corrupt();
  }
  auto entries = read_entries(za.get(), limits);
  if (!entries) return entries.error();
  if (auto st = check_symlinks(*entries); !st) return st.error();
  return CheckedArchive{std::move(za), std::move(entries).value()};
}

Result<UnpackedCode> unpack(std::string_view zip, const fs::path& dest, const CodeLimits& limits) {
  // Every check that needs no file system comes before the first side effect.
  auto checked = open_checked(zip, limits);
  if (!checked) return checked.error();
  ZipArchive za = std::move(checked->archive);
  const std::vector<Entry>& entries = checked->entries;

  if (auto st = prepare_destination(dest); !st) return st.error();
  RemoveOnFailure cleanup(dest);
  Fd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return os_error("cannot open", dest, errno);

  Unpacker unpacker(za.get(), dest, std::move(root), limits);
  for (const Entry& e : entries) {
    if (auto st = unpacker.write(e); !st) return st.error();
  }
  cleanup.disarm();
  return unpacker.result();
}

}  // namespace

Status check_zip(std::string_view zip, const CodeLimits& limits) {
  auto checked = open_checked(zip, limits);
  if (!checked) return checked.error();
  return Ok{};
}

Result<UnpackedCode> unpack_zip(std::string_view zip, const fs::path& dest, const CodeLimits& limits) {
  auto result = unpack(zip, dest, limits);
  // An empty destination that was there before is removed too, so that after any failure there
  // is no directory (rmdir removes only an empty directory, and never follows a symlink).
  if (!result) ::rmdir(dest.c_str());
  return result;
}

std::string sha256_base64(std::string_view data) { return base64::encode(sha256_raw(data)); }

std::string sha256_hex(std::string_view data) {
  constexpr char kHex[] = "0123456789abcdef";
  const std::string raw = sha256_raw(data);
  std::string out;
  out.reserve(raw.size() * 2);
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<DirDigest> digest_directory(const fs::path& dir) {
  struct Item {
    std::string relative;
    bool symlink = false;
  };
  std::vector<Item> items;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto st = it->symlink_status(ec);
    if (ec) return os_error("cannot stat", it->path(), ec);
    if (!fs::is_regular_file(st) && !fs::is_symlink(st)) continue;  // directories, FIFOs, sockets
    items.push_back(Item{it->path().lexically_relative(dir).generic_string(), fs::is_symlink(st)});
  }
  if (ec) return os_error("cannot read", dir, ec);
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.relative < b.relative; });

  // One record per entry: a type byte, the relative path, NUL, and the SHA-256 of the content
  // (the link's target text for a symlink). Fixed-size inner digests keep records unambiguous.
  DirDigest digest;
  Sha256 outer;
  std::string buffer(kChunk, '\0');
  for (const Item& item : items) {
    const fs::path path = dir / item.relative;
    char type = 'l';
    std::string content_digest;
    if (item.symlink) {
      const fs::path target = fs::read_symlink(path, ec);
      if (ec) return os_error("cannot read", path, ec);
      content_digest = sha256_raw(target.native());
    } else {
      Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd.valid()) return os_error("cannot open", path, errno);
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) return os_error("cannot stat", path, errno);
      type = (st.st_mode & S_IXUSR) != 0 ? 'x' : 'f';
      Sha256 inner;
      for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          return os_error("cannot read", path, errno);
        }
        if (n == 0) break;
        inner.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        digest.size += static_cast<std::uint64_t>(n);
      }
      content_digest = inner.finish();
    }
    outer.update(std::string_view(&type, 1));
    outer.update(item.relative);
    outer.update(std::string_view("\0", 1));
    outer.update(content_digest);
  }
  digest.sha256_base64 = base64::encode(outer.finish());
  return digest;
}

}  // namespace lambdad::control_plane
