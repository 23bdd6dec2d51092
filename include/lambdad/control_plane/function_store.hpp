// control_plane: where functions created through the API persist (docs/decisions/008, "State
// directory"): <functions_dir>/<name>/function.json (format 1) and the code under
// <name>/code/<sha256-hex>/ with its zip beside it. A record is written to a temporary file,
// fsynced and renamed, so a kill leaves the old or the new one.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/control_plane/code_package.hpp"
#include "lambdad/control_plane/function_record.hpp"

namespace lambdad::control_plane {

class FunctionStore {
 public:
  // durable: fsync each record before it replaces the old one.
  FunctionStore(std::filesystem::path functions_dir, bool durable);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path code_root(const std::string& name) const;  // <dir>/<name>/code
  std::filesystem::path code_dir(const std::string& name, const std::string& hex) const;
  std::filesystem::path zip_path(const std::string& name, const std::string& hex) const;

  // function.json's text for `fn` (made where the record lives: the io thread).
  static std::string record_text(const FunctionRecord& fn);
  // Writes `text` (record_text) as the function's record. Blocking: StoreWriter calls it on the pool.
  Status write_record(const std::string& name, std::string_view text) const;
  // record_text, then write_record.
  Status save(const std::string& name, const FunctionRecord& fn) const;

  struct Stored {
    std::string name;
    FunctionRecord record;
  };
  // Every record earlier runs stored, by name; the trash is emptied first. A record that cannot be
  // read (torn, not JSON, another format) is left out, and the log says which and why.
  std::vector<Stored> load() const;
  // Removes the code of `name` whose digest `used` does not name (uploads no version runs).
  void remove_unused_code(const std::string& name, const std::set<std::string>& used) const;
  // Moves the function's directory into the trash: environments still finishing an invoke may
  // read its code. The trash is emptied at the next load.
  void remove(const std::string& name) const;

  // Unpacks `zip` into code/<hex>/ (unless it is there) by way of a partial directory renamed
  // into place, so a directory named by the digest is always complete; then keeps the zip as
  // code/<hex>.zip. Blocking: called on a worker thread, it touches nothing but files.
  Status store_code(const std::string& name, std::string_view zip, const std::string& hex,
                    const CodeLimits& limits) const;

 private:
  std::filesystem::path dir_;
  bool durable_;
};

}  // namespace lambdad::control_plane
