// Code packages: unpacking untrusted zips (built here with libzip, some then patched byte by byte
// into shapes no honest zipper makes), CodeSha256, and the digest of a code directory.
#include "lambdad/control_plane/code_package.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zip.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr std::string_view kCorrupt =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

std::string unsafe(std::string_view name) {
  return "Could not unzip uploaded file: the entry '" + std::string(name) +
         "' would be written outside the function's code directory.";
}

// A directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-code-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Builds a zip archive in memory with libzip.
class ZipBuilder {
 public:
  ZipBuilder() {
    zip_error_t error;
    zip_error_init(&error);
    source_ = zip_source_buffer_create(nullptr, 0, 0, &error);
    zip_source_keep(source_);
    archive_ = zip_open_from_source(source_, ZIP_TRUNCATE, &error);
    zip_error_fini(&error);
  }
  ~ZipBuilder() {
    if (archive_ != nullptr) zip_discard(archive_);
    zip_source_free(source_);
  }
  ZipBuilder(const ZipBuilder&) = delete;
  ZipBuilder& operator=(const ZipBuilder&) = delete;

  // A file with Unix attributes; `mode` may include S_IFLNK for a symlink.
  ZipBuilder& file(const std::string& name, std::string content, mode_t mode = S_IFREG | 0644,
                   bool store = false) {
    const zip_int64_t index = add(name, std::move(content));
    zip_file_set_external_attributes(archive_, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_UNIX,
                                     static_cast<zip_uint32_t>(mode) << 16);
    if (store) zip_set_file_compression(archive_, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    return *this;
  }
  // A file as a DOS/Windows zipper records it: no Unix permission bits.
  ZipBuilder& dos_file(const std::string& name, std::string content) {
    const zip_int64_t index = add(name, std::move(content));
    zip_file_set_external_attributes(archive_, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_DOS, 0);
    return *this;
  }
  ZipBuilder& dir(const std::string& name, mode_t mode = 0755) {
    const zip_int64_t index = zip_dir_add(archive_, name.c_str(), ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << name << ": " << zip_strerror(archive_);
    zip_file_set_external_attributes(archive_, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_UNIX,
                                     static_cast<zip_uint32_t>(S_IFDIR | mode) << 16);
    return *this;
  }
  ZipBuilder& symlink(const std::string& name, const std::string& target) {
    return file(name, target, S_IFLNK | 0777);
  }

  std::string bytes() {
    EXPECT_EQ(zip_close(archive_), 0);
    archive_ = nullptr;
    zip_stat_t st;
    zip_stat_init(&st);
    EXPECT_EQ(zip_source_stat(source_, &st), 0);
    std::string out(static_cast<std::size_t>(st.size), '\0');
    EXPECT_EQ(zip_source_open(source_), 0);
    EXPECT_EQ(zip_source_read(source_, out.data(), out.size()), static_cast<zip_int64_t>(out.size()));
    zip_source_close(source_);
    return out;
  }

 private:
  zip_int64_t add(const std::string& name, std::string content) {
    const std::string& data = contents_.emplace_back(std::move(content));  // must outlive zip_close
    zip_source_t* source = zip_source_buffer(archive_, data.data(), data.size(), 0);
    const zip_int64_t index = zip_file_add(archive_, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << name << ": " << zip_strerror(archive_);
    if (index < 0) zip_source_free(source);
    return index;
  }

  zip_source_t* source_ = nullptr;
  zip_t* archive_ = nullptr;
  std::deque<std::string> contents_;
};

// Replaces every occurrence of `from` with `to` (same length) in raw archive bytes: names
// appear twice (local header and central directory).
std::string patch(std::string bytes, std::string_view from, std::string_view to) {
  EXPECT_EQ(from.size(), to.size());
  std::size_t hits = 0;
  for (std::size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + 1)) {
    bytes.replace(at, from.size(), to);
    ++hits;
  }
  EXPECT_GT(hits, 0U) << from;
  return bytes;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void put(const fs::path& p, std::string_view content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

void expect_invalid(const Result<UnpackedCode>& r, std::string_view message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().type, "InvalidParameterValueException");
  EXPECT_EQ(r.error().message, message);
}

// Sets the umask for one test, so modes are shown not to depend on it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// ---- unpack_zip: good archives ------------------------------------------------------------------

TEST(UnpackZip, UnpacksFilesAndDirectoriesKeepingUnixModes) {
  TempDir tmp;
  ScopedUmask mask(077);
  const std::string zip = ZipBuilder()
                              .file("index.py", "def handler(e, c):\n    return 1\n", S_IFREG | 0644)
                              .file("bootstrap", "#!/bin/sh\necho hi\n", S_IFREG | 0755)
                              .dir("lib/", 0700)
                              .file("lib/pkg/mod.py", "X = 1\n", S_IFREG | 0600)
                              .file("lib/pkg/shared.txt", "shared", S_IFREG | 0666)
                              .file("setuid", "s", S_IFREG | 06755)
                              .dir("sticky/", 01777)
                              .dos_file("README.TXT", "from windows")
                              .bytes();
  const fs::path dest = tmp.path() / "functions" / "f1" / "code";  // parents are created
  auto r = unpack_zip(zip, dest);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 6U);
  EXPECT_EQ(r->unzipped_size, 32U + 18U + 6U + 6U + 1U + 12U);

  EXPECT_EQ(slurp(dest / "index.py"), "def handler(e, c):\n    return 1\n");
  EXPECT_EQ(slurp(dest / "bootstrap"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(slurp(dest / "lib" / "pkg" / "mod.py"), "X = 1\n");
  EXPECT_EQ(slurp(dest / "README.TXT"), "from windows");

  EXPECT_EQ(mode_of(dest), 0755U);
  EXPECT_EQ(mode_of(dest / "index.py"), 0644U);
  EXPECT_EQ(mode_of(dest / "bootstrap"), 0755U) << "a custom runtime's bootstrap stays executable";
  EXPECT_EQ(mode_of(dest / "lib"), 0755U) << "directories are at least 0755";
  EXPECT_EQ(mode_of(dest / "lib" / "pkg"), 0755U) << "implied directories too, whatever the umask";
  EXPECT_EQ(mode_of(dest / "lib" / "pkg" / "mod.py"), 0644U) << "files are at least 0644";
  EXPECT_EQ(mode_of(dest / "lib" / "pkg" / "shared.txt"), 0666U);
  EXPECT_EQ(mode_of(dest / "setuid"), 0755U) << "never setuid or setgid";
  EXPECT_EQ(mode_of(dest / "sticky"), 0777U) << "never sticky";
  EXPECT_EQ(mode_of(dest / "README.TXT"), 0644U) << "no Unix attributes: 0644";
}

TEST(UnpackZip, AcceptsAnEmptyExistingDestination) {
  TempDir tmp;
  fs::create_directory(tmp.path() / "code");
  auto r = unpack_zip(ZipBuilder().file("./a/./b.txt", "b").dir("./").bytes(), tmp.path() / "code");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(tmp.path() / "code" / "a" / "b.txt"), "b");
}

TEST(UnpackZip, RefusesANonEmptyDestinationAndLeavesItAlone) {
  TempDir tmp;
  put(tmp.path() / "code" / "keep.txt", "mine");
  auto r = unpack_zip(ZipBuilder().file("a.txt", "a").bytes(), tmp.path() / "code");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(r.error().type, "ServiceException");
  EXPECT_THAT(r.error().message, HasSubstr((tmp.path() / "code").string()));
  EXPECT_EQ(slurp(tmp.path() / "code" / "keep.txt"), "mine");
}

TEST(UnpackZip, ReportsADestinationItCannotCreate) {
  TempDir tmp;
  put(tmp.path() / "file", "x");
  auto r = unpack_zip(ZipBuilder().file("a.txt", "a").bytes(), tmp.path() / "file" / "code");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(r.error().type, "ServiceException");
  EXPECT_THAT(r.error().message, HasSubstr("cannot create"));
  EXPECT_THAT(r.error().message, HasSubstr((tmp.path() / "file").string()));
}

TEST(UnpackZip, KeepsSymlinksThatStayInside) {
  TempDir tmp;
  const std::string zip = ZipBuilder()
                              .file("data/v1/x.txt", "one")
                              .symlink("lib/current", "../data/v1")
                              .symlink("top", ".")
                              .symlink("via", "top/data/./v1/x.txt")
                              .symlink("dangling", "missing/file")
                              .bytes();
  const fs::path dest = tmp.path() / "code";
  auto r = unpack_zip(zip, dest);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 5U);
  ASSERT_TRUE(fs::is_symlink(dest / "lib" / "current"));
  EXPECT_EQ(fs::read_symlink(dest / "lib" / "current"), "../data/v1");
  EXPECT_EQ(slurp(dest / "lib" / "current" / "x.txt"), "one");
  EXPECT_EQ(slurp(dest / "via"), "one");
  EXPECT_EQ(fs::read_symlink(dest / "dangling"), "missing/file");
}

// ---- unpack_zip: bad archives -------------------------------------------------------------------

TEST(UnpackZip, RejectsBytesThatAreNotAZip) {
  TempDir tmp;
  const fs::path dest = tmp.path() / "code";
  expect_invalid(unpack_zip("this is not a zip file, just some bytes", dest), kCorrupt);
  expect_invalid(unpack_zip("", dest), kCorrupt);
  const std::string zip = ZipBuilder().file("a.txt", std::string(1000, 'a')).bytes();
  expect_invalid(unpack_zip(std::string_view(zip).substr(0, zip.size() / 2), dest), kCorrupt);
  EXPECT_FALSE(fs::exists(dest));
}

TEST(UnpackZip, RejectsDamagedDataAndRemovesWhatItWrote) {
  TempDir tmp;
  const std::string zip = ZipBuilder()
                              .file("first.txt", "written before the damage is found")
                              .file("second.txt", "HELLO-CRC-CHECK", S_IFREG | 0644, /*store=*/true)
                              .bytes();
  const fs::path dest = tmp.path() / "code";
  expect_invalid(unpack_zip(patch(zip, "HELLO-CRC-CHECK", "HELLO-CRC-CHECX"), dest), kCorrupt);
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_TRUE(fs::exists(tmp.path()));
}

class UnsafeName : public ::testing::TestWithParam<const char*> {};

TEST_P(UnsafeName, IsRejectedBeforeAnythingIsWritten) {
  TempDir tmp;
  const std::string name = GetParam();
  const fs::path dest = tmp.path() / "deep" / "code";
  expect_invalid(unpack_zip(ZipBuilder().file("ok.txt", "ok").file(name, "pwned").bytes(), dest),
                 unsafe(name));
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(tmp.path() / "deep" / "evil"));
  EXPECT_FALSE(fs::exists(tmp.path() / "evil"));
}

INSTANTIATE_TEST_SUITE_P(UnpackZip, UnsafeName,
                         ::testing::Values("../evil", "a/../../evil", "a/..", "/abs", "/tmp/evil",
                                           "a\\..\\..\\evil", "..", "."));

TEST(UnpackZip, RemovesAnEmptyExistingDestinationOnFailure) {
  TempDir tmp;
  fs::create_directory(tmp.path() / "code");
  expect_invalid(unpack_zip(ZipBuilder().file("../evil", "x").bytes(), tmp.path() / "code"),
                 unsafe("../evil"));
  EXPECT_FALSE(fs::exists(tmp.path() / "code"));
}

TEST(UnpackZip, NeverCreatesATruncatedNameFromANul) {
  // libzip turns a NUL in a stored name into a space, so "a\0b" cannot become "a".
  TempDir tmp;
  const std::string zip = patch(ZipBuilder().file("aXb", "x").bytes(), "aXb", std::string_view("a\0b", 3));
  const fs::path dest = tmp.path() / "code";
  auto r = unpack_zip(zip, dest);
  EXPECT_FALSE(fs::exists(dest / "a"));
  if (r.ok()) {
    EXPECT_EQ(slurp(dest / "a b"), "x");
  }
}

class EscapingSymlink : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(EscapingSymlink, IsRejected) {
  TempDir tmp;
  const auto [name, target] = GetParam();
  const fs::path dest = tmp.path() / "code";
  const std::string zip = ZipBuilder().dir("sub/").symlink("top", ".").symlink(name, target).bytes();
  expect_invalid(unpack_zip(zip, dest), unsafe(name));
  EXPECT_FALSE(fs::exists(dest));
}

INSTANTIATE_TEST_SUITE_P(
    UnpackZip, EscapingSymlink,
    ::testing::Values(std::pair{"link", ".."}, std::pair{"link", "../outside"},
                      std::pair{"sub/link", "../../x"}, std::pair{"sub/link", "../sub/../../x"},
                      std::pair{"link", "/etc/passwd"}, std::pair{"link", "/"},
                      // Lexically inside, but "top" is the code directory itself: top/.. is its parent.
                      std::pair{"link", "top/.."}, std::pair{"sub/link", "../top/../x"},
                      // A loop can be shown neither inside nor outside.
                      std::pair{"link", "link"}));

TEST(UnpackZip, RejectsASymlinkChainLeadingOutside) {
  TempDir tmp;
  const std::string zip = ZipBuilder()
                              .symlink("a/b/up", "..")    // -> a
                              .symlink("a/upup", "b/up/..")  // -> a/b/up/.. -> a/.. -> the root
                              .symlink("a/out", "upup/..")   // -> the root's parent
                              .bytes();
  expect_invalid(unpack_zip(zip, tmp.path() / "code"), unsafe("a/out"));
  EXPECT_FALSE(fs::exists(tmp.path() / "code"));
}

TEST(UnpackZip, NeverWritesThroughASymlink) {
  TempDir tmp;
  const fs::path dest = tmp.path() / "code";
  // The link points inside, so it passes the target check; the file behind it must not be written.
  const std::string through_dir =
      ZipBuilder().dir("real/").symlink("alias", "real").file("alias/x.txt", "x").bytes();
  expect_invalid(unpack_zip(through_dir, dest), unsafe("alias/x.txt"));
  EXPECT_FALSE(fs::exists(dest));

  // The same name twice: first a symlink, then a file (written with O_NOFOLLOW).
  const std::string duplicate = patch(
      ZipBuilder().file("real.txt", "r").symlink("dupA1", "real.txt").file("dupA2", "overwrite").bytes(),
      "dupA2", "dupA1");
  expect_invalid(unpack_zip(duplicate, dest), unsafe("dupA1"));
  EXPECT_FALSE(fs::exists(dest));
}

TEST(UnpackZip, StopsAZipBomb) {
  TempDir tmp;
  const fs::path dest = tmp.path() / "code";
  CodeLimits limits;
  limits.max_unzipped = 1048576;
  const std::string bomb = ZipBuilder().file("zeros", std::string(2 * 1048576, '\0')).bytes();
  ASSERT_LT(bomb.size(), 16384U);
  expect_invalid(unpack_zip(bomb, dest, limits), "Unzipped size must be smaller than 1048576 bytes");
  EXPECT_FALSE(fs::exists(dest));

  // Many entries, each under the limit.
  ZipBuilder many;
  for (int i = 0; i < 3; ++i) many.file("part" + std::to_string(i), std::string(400000, 'z'));
  expect_invalid(unpack_zip(many.bytes(), dest, limits), "Unzipped size must be smaller than 1048576 bytes");
  EXPECT_FALSE(fs::exists(dest));

  // Exactly at the limit is allowed.
  auto r = unpack_zip(ZipBuilder().file("zeros", std::string(1048576, '\0')).bytes(), dest, limits);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->unzipped_size, 1048576U);
}

// Overwrites the 4-byte little-endian uncompressed size in every local and central header.
std::string lie_about_sizes(std::string zip, std::uint32_t size) {
  const char le[4] = {static_cast<char>(size & 0xff), static_cast<char>((size >> 8) & 0xff),
                      static_cast<char>((size >> 16) & 0xff), static_cast<char>((size >> 24) & 0xff)};
  for (std::size_t at = zip.find("PK\x03\x04"); at != std::string::npos; at = zip.find("PK\x03\x04", at + 4)) {
    zip.replace(at + 22, 4, le, 4);
  }
  for (std::size_t at = zip.find("PK\x01\x02"); at != std::string::npos; at = zip.find("PK\x01\x02", at + 4)) {
    zip.replace(at + 24, 4, le, 4);
  }
  return zip;
}

TEST(UnpackZip, CountsWhatItWritesNotWhatTheArchiveDeclares) {
  TempDir tmp;
  const fs::path dest = tmp.path() / "code";
  CodeLimits limits;
  limits.max_unzipped = 1048576;
  const std::string liar = lie_about_sizes(ZipBuilder().file("zeros", std::string(4 * 1048576, '\0')).bytes(), 100);
  auto r = unpack_zip(liar, dest, limits);
  // libzip may itself notice the lie at the end of the entry; the count stops it before that.
  expect_invalid(r, "Unzipped size must be smaller than 1048576 bytes");
  EXPECT_FALSE(fs::exists(dest));
}

TEST(UnpackZip, RejectsAnArchiveOverTheZippedLimit) {
  TempDir tmp;
  const fs::path dest = tmp.path() / "code";
  expect_invalid(unpack_zip(std::string(52428801, 'x'), dest), "Zipped size must be smaller than 52428800 bytes");
  CodeLimits limits;
  limits.max_zipped = 100;
  const std::string zip = ZipBuilder().file("a.txt", std::string(500, 'a'), S_IFREG | 0644, /*store=*/true).bytes();
  expect_invalid(unpack_zip(zip, dest, limits), "Zipped size must be smaller than 100 bytes");
  EXPECT_FALSE(fs::exists(dest));
}

TEST(UnpackZip, RejectsTooManyEntries) {
  TempDir tmp;
  CodeLimits limits;
  limits.max_entries = 2;
  const std::string zip = ZipBuilder().file("a", "a").file("b", "b").file("c", "c").bytes();
  auto r = unpack_zip(zip, tmp.path() / "code", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "InvalidParameterValueException");
  EXPECT_THAT(r.error().message, HasSubstr("more than 2 entries"));
  EXPECT_FALSE(fs::exists(tmp.path() / "code"));
}

// ---- CodeSha256 ---------------------------------------------------------------------------------

TEST(Sha256, MatchesTheFipsTestVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_base64("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_base64(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(sha256_hex(std::string_view("a\0b", 3)), sha256_hex(std::string("a\0b", 3)));
  EXPECT_NE(sha256_hex(std::string_view("a\0b", 3)), sha256_hex("a"));
}

// ---- digest_directory ---------------------------------------------------------------------------

void make_tree(const fs::path& root) {
  put(root / "app.py", "def handler(e, c):\n    return 1\n");
  put(root / "lib" / "util.py", "X = 1\n");
  put(root / "lib" / "deep" / "data.bin", std::string("\0\1\2\3", 4));
  fs::create_symlink("lib/util.py", root / "util_link.py");
  fs::create_directories(root / "empty");
}

TEST(DigestDirectory, EqualTreesHaveEqualDigests) {
  TempDir a;
  TempDir b;
  make_tree(a.path());
  make_tree(b.path());
  auto da = digest_directory(a.path());
  auto db = digest_directory(b.path());
  ASSERT_TRUE(da.ok()) << da.error().message;
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(da->size, 32U + 6U + 4U) << "regular files only; the symlink is not followed";
  EXPECT_EQ(da->size, db->size);
  EXPECT_EQ(da->sha256_base64, db->sha256_base64);
  EXPECT_EQ(da->sha256_base64.size(), 44U);
  auto slash = digest_directory(a.path() / "");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->sha256_base64, da->sha256_base64) << "a trailing slash changes nothing";
}

TEST(DigestDirectory, ChangesWhenAnyFileChanges) {
  TempDir tmp;
  make_tree(tmp.path());
  const auto base = digest_directory(tmp.path());
  ASSERT_TRUE(base.ok()) << base.error().message;
  auto digest_after = [&](auto change) {
    TempDir t;
    make_tree(t.path());
    change(t.path());
    auto d = digest_directory(t.path());
    EXPECT_TRUE(d.ok()) << d.error().message;
    return d.ok() ? d->sha256_base64 : std::string();
  };
  EXPECT_NE(base->sha256_base64, digest_after([](const fs::path& r) {
    put(r / "lib" / "deep" / "data.bin", std::string("\0\1\2\4", 4));  // one byte
  }));
  EXPECT_NE(base->sha256_base64, digest_after([](const fs::path& r) { put(r / "new.txt", ""); }));
  EXPECT_NE(base->sha256_base64, digest_after([](const fs::path& r) { fs::remove(r / "lib" / "util.py"); }));
  EXPECT_NE(base->sha256_base64,
            digest_after([](const fs::path& r) { fs::rename(r / "app.py", r / "lib" / "app.py"); }));
  EXPECT_NE(base->sha256_base64, digest_after([](const fs::path& r) {
    fs::remove(r / "util_link.py");
    fs::create_symlink("app.py", r / "util_link.py");
  }));
  EXPECT_NE(base->sha256_base64, digest_after([](const fs::path& r) {
    fs::permissions(r / "app.py", fs::perms::owner_exec, fs::perm_options::add);
  }));
  EXPECT_EQ(base->sha256_base64, digest_after([](const fs::path& r) { fs::create_directories(r / "more" / "empty"); }))
      << "empty directories do not count";
}

TEST(DigestDirectory, ReportsAMissingDirectory) {
  TempDir tmp;
  auto d = digest_directory(tmp.path() / "missing");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, ErrorKind::kInternal);
  EXPECT_THAT(d.error().message, HasSubstr((tmp.path() / "missing").string()));
}

TEST(DigestDirectory, MatchesWhatUnpackZipWrote) {
  // The same files unpacked from a zip and written directly digest the same.
  TempDir tmp;
  const std::string zip = ZipBuilder()
                              .file("app.py", "def handler(e, c):\n    return 1\n")
                              .file("lib/util.py", "X = 1\n")
                              .file("lib/deep/data.bin", std::string("\0\1\2\3", 4))
                              .symlink("util_link.py", "lib/util.py")
                              .dir("empty/")
                              .bytes();
  auto r = unpack_zip(zip, tmp.path() / "unzipped");
  ASSERT_TRUE(r.ok()) << r.error().message;
  make_tree(tmp.path() / "direct");
  auto a = digest_directory(tmp.path() / "unzipped");
  auto b = digest_directory(tmp.path() / "direct");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->sha256_base64, b->sha256_base64);
  EXPECT_EQ(a->size, b->size);
}

}  // namespace
}  // namespace lambdad::control_plane
