// Test helpers for the async module: a temporary state directory, a scripted Dispatcher, file
// reading.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::async::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lambdad-async-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(read_text(p));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Admits (or throttles, as scripted) and keeps every admitted invocation until the test
// completes it, the way a pool would answer later.
class FakeDispatcher final : public invocation::Dispatcher {
 public:
  std::set<std::string> functions{"fn", "other", "dest"};
  std::deque<invocation::Admission> script;  // next answers; admitted once empty
  std::vector<invocation::InvocationPtr> running;
  std::vector<invocation::InvocationPtr> admitted;  // every admitted attempt, in order
  int throttled = 0;

  bool has_function(const std::string& name) const override { return functions.count(name) != 0; }
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const override {
    if (!has_function(name)) return std::nullopt;
    if (qualifier == "$LATEST") return "$LATEST";
    if (qualifier == "1" || qualifier == "live") return "1";
    return std::nullopt;
  }
  invocation::Admission dispatch(invocation::InvocationPtr inv) override {
    if (!script.empty()) {
      auto a = script.front();
      script.pop_front();
      if (a != invocation::Admission::kAccepted) {
        ++throttled;
        return a;
      }
    }
    admitted.push_back(inv);
    running.push_back(std::move(inv));
    return invocation::Admission::kAccepted;
  }
  std::optional<std::size_t> evict(const std::string&) override { return 0; }
  void status(nlohmann::json&) const override {}

  // Completes the oldest running invocation (of `who`, a function name or a request id, if given).
  void complete(invocation::Outcome outcome, std::string payload, const std::string& who = {}) {
    for (auto it = running.begin(); it != running.end(); ++it) {
      if (!who.empty() && (*it)->function_name != who && (*it)->request_id != who) continue;
      auto inv = *it;
      running.erase(it);
      invocation::InvocationResult r;
      r.outcome = outcome;
      r.payload = std::move(payload);
      r.executed_version = inv->version;
      if (outcome == invocation::Outcome::kFunctionError) r.error_type = "Unhandled";
      inv->on_complete(std::move(r));
      return;
    }
    throw std::logic_error("no running invocation to complete");
  }
  void succeed(std::string payload = R"({"ok":true})", const std::string& who = {}) {
    complete(invocation::Outcome::kSuccess, std::move(payload), who);
  }
  void fail(const std::string& who = {}) {
    complete(invocation::Outcome::kFunctionError, R"({"errorMessage":"boom","errorType":"Exception"})", who);
  }
};

}  // namespace lambdad::async::test
