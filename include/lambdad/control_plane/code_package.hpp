// control_plane: a function's code package. Unpacks uploaded zips (CreateFunction,
// UpdateFunctionCode) strictly, since they are untrusted, and computes CodeSha256 and CodeSize
// for zips and for code directories (a SAM template's CodeUri).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "lambdad/common/result.hpp"

namespace lambdad::control_plane {

// Lambda's code size quotas (docs/decisions/008-control-plane.md, "Limits and validation").
struct CodeLimits {
  std::uint64_t max_zipped = 52428800;     // 50 MB
  std::uint64_t max_unzipped = 262144000;  // 250 MB, Lambda's CodeSizeUnzipped
  std::size_t max_entries = 100000;
};

struct UnpackedCode {
  std::uint64_t unzipped_size = 0;  // bytes written: file contents plus symlink targets
  std::size_t files = 0;            // regular files and symlinks (directories not counted)
};

// Unpacks a zip archive held in memory into `dest` (created with parents; it must not exist yet,
// or must be empty). On any error `dest` is removed again (no half-unpacked directory is left),
// unless it was there and not empty: that is refused (ServiceException) and it is left alone.
// Every entry name and symlink target is checked before the first file is written; nothing is
// ever written through a symlink. Unix permission bits are kept (at least 0644 for files, 0755
// for directories; never setuid, setgid or sticky). Bad archives are InvalidParameterValueException
// with AWS's messages; file system failures are ServiceException naming the path.
Result<UnpackedCode> unpack_zip(std::string_view zip, const std::filesystem::path& dest,
                                const CodeLimits& limits = {});

// CodeSha256: base64 (standard alphabet, padded) of the SHA-256 of the bytes; and lowercase hex.
// What unpack_zip checks before it writes anything (size, a readable archive, every name and
// symlink), without writing: CreateFunction answers a bad zip at once, then unpacks it later.
// unpack_zip still counts the bytes it writes (declared sizes can lie).
Status check_zip(std::string_view zip, const CodeLimits& limits = {});

std::string sha256_base64(std::string_view data);
std::string sha256_hex(std::string_view data);

// For a function whose code is a directory (a SAM template's CodeUri): total bytes of regular
// files (CodeSize) and a SHA-256 (base64) over the sorted relative paths and file contents, so it
// changes when any file changes (or is added, removed, renamed, or gains or loses its owner
// executable bit). Symlinks are not followed (their target text is hashed); sockets and FIFOs are
// skipped; empty directories do not count.
struct DirDigest {
  std::uint64_t size = 0;
  std::string sha256_base64;
};
Result<DirDigest> digest_directory(const std::filesystem::path& dir);

}  // namespace lambdad::control_plane
