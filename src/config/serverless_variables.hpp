// config (internal): the Serverless Framework's variables (${self:...}, ${env:...}, ${opt:...},
// ${sls:...}, ${aws:...}, ${param:...}, with fallbacks) resolved locally over the document tree, on
// demand: only what is asked for is resolved, so sections lambdad never reads never warn.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostic_sink.hpp"
#include "lambdad/config/serverless.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {

// A place in the document: {"functions", "hello", "memorySize"}.
using YamlPath = std::vector<std::string>;

// "a list", "a mapping", "null", "a string", or "a CloudFormation intrinsic function" (a tagged node).
std::string_view kind_name(const YamlValue& v);
// A CloudFormation intrinsic in its long form ({Ref: X}, {"Fn::GetAtt": [...]}) or short form (!Ref X).
bool is_intrinsic(const YamlValue& v);
// "!Ref X", "!GetAtt", "Fn::GetAtt": how messages name an intrinsic.
std::string describe_intrinsic(const YamlValue& v);
// The text of a scalar as the Framework hands it on (`1.50` -> "1.5", `True` -> "true").
std::string js_text(const YamlValue& v);
// What an unresolvable variable leaves behind: an empty string marked unresolved.
YamlValue unresolved_empty(int line);

class VariableResolver {
 public:
  VariableResolver(const YamlValue& root, const ServerlessOptions& options, DiagnosticSink& sink)
      : root_(root), options_(options), sink_(sink) {}

  // The value at `path` with every variable in it resolved; nullopt when the file has none there.
  std::optional<YamlValue> get(const YamlPath& path);
  // The stage: --stage if given, else provider.stage, else "dev".
  std::string stage();
  // The region: --region if given, else provider.region, else the default region.
  std::string region();

 private:
  struct Setting {
    std::optional<std::string> value;
    bool resolving = false;  // provider.<key> is being resolved: a variable in it cannot use the setting
  };
  struct Lookup {
    enum class Status {
      kFound,
      kMissing,      // no value there; a fallback may supply one
      kUnsupported,  // a source only AWS (or a plugin) can answer; a fallback may supply one
      kFailed,       // an error was reported (a cycle); no fallback
    };
    Status status = Status::kMissing;
    YamlValue value;
    std::string reason;

    static Lookup found(YamlValue v) { return Lookup{Status::kFound, std::move(v), {}}; }
    static Lookup missing(std::string why) { return Lookup{Status::kMissing, {}, std::move(why)}; }
    static Lookup unsupported(std::string why) { return Lookup{Status::kUnsupported, {}, std::move(why)}; }
    static Lookup failed() { return Lookup{Status::kFailed, {}, {}}; }
  };

  Lookup lookup_path(const YamlPath& path, int depth);
  std::optional<YamlValue> resolve_at(const YamlPath& path, const YamlValue& raw, int depth, bool remember);
  YamlValue resolve_string(const std::string& text, int line, const YamlPath& where, int depth);
  YamlValue evaluate(std::string_view body, int line, const YamlPath& where, int depth);
  Lookup fallback(std::string_view argument, bool more_follow, int line, const YamlPath& where, int depth);
  Lookup lookup(std::string_view reference, bool has_fallback, int line, const YamlPath& where, int depth);
  Lookup lookup_param(std::string_view name, int line, const YamlPath& where, int depth);
  // --stage / --region when given, else provider.<key>, else `fallback`; resolved once.
  std::string setting(const std::string& key, Setting& setting, bool given, const std::string& option,
                      std::string_view fallback);
  // Consumes `nodes` of the expansion budget; false (reported once) when it is exhausted.
  bool charge(std::size_t nodes, int line);
  void error(int line, const YamlPath& where, std::string message);
  void warning(int line, const YamlPath& where, std::string message);

  const YamlValue& root_;
  const ServerlessOptions& options_;
  DiagnosticSink& sink_;
  std::map<std::string, YamlValue> memo_;  // resolved values by path, for paths that were referenced
  std::vector<std::string> stack_;     // paths being resolved, outermost first: a repeat is a cycle
  Setting stage_;
  Setting region_;
  std::size_t budget_ = kMaxYamlNodes;
  bool exhausted_ = false;
};

}  // namespace lambdad::config
