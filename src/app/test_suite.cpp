#include "test_suite.hpp"

#include "lambdad/events/generate_event.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>
#include <variant>

namespace lambdad::app {
namespace fs = std::filesystem;
using nlohmann::json;

std::string SuiteProblem::to_string() const {
  return line > 0 ? fmt::format("{}:{}: {}", file.string(), line, message) : fmt::format("{}: {}", file.string(), message);
}

int yaml_line(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

namespace {

// YAML (and so JSON) to JSON: plain scalars become numbers, booleans and null as YAML 1.2's core
// schema reads them; quoted ones stay strings.
json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;  // quoted
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(text, kInt)) {
    long long v = 0;
    auto [p, ec] = std::from_chars(text.data() + (text[0] == '+'), text.data() + text.size(), v);
    if (ec == std::errc{}) return v;
  }
  if (std::regex_match(text, kFloat)) return std::stod(text);
  return text;
}

class CaseReader {
 public:
  CaseReader(fs::path file, std::vector<SuiteProblem>& problems) : file_(std::move(file)), problems_(problems) {}

  void problem(const YAML::Node& at, std::string message) { problems_.push_back({file_, yaml_line(at), std::move(message)}); }

  std::optional<std::string> string_of(const YAML::Node& node, std::string_view key) {
    if (!node.IsScalar()) {
      problem(node, fmt::format("'{}' must be a string", key));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<TestCase> read(const YAML::Node& node, const std::string& default_function, int index) {
    if (!node.IsMap()) {
      problem(node, "a case must be a mapping (name, function, event, expect)");
      return std::nullopt;
    }
    static const std::set<std::string> kKeys = {"name", "function",       "qualifier", "event",  "eventFile",
                                                "eventTemplate", "type", "invocationType", "expect", "durable"};
    TestCase c;
    c.file = file_;
    c.line = yaml_line(node);
    c.id = fmt::format("{}#{}", file_.string(), index);
    c.function = default_function;
    bool ok = true;
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      if (!kKeys.count(key)) {
        problem(kv.first, fmt::format("unknown key '{}' (a case has: name, function, qualifier, event, eventFile, "
                                      "eventTemplate, invocationType, expect, durable)",
                                      key));
        ok = false;
      }
    }
    if (node["name"]) {
      auto v = string_of(node["name"], "name");
      ok = ok && v;
      if (v) c.name = *v;
    }
    if (c.name.empty()) {
      c.name = file_.stem().string();
      if (c.name.ends_with(".case")) c.name.resize(c.name.size() - 5);
      if (index > 0 || node_is_list_) c.name += fmt::format("[{}]", index);
    }
    if (node["function"]) {
      auto v = string_of(node["function"], "function");
      ok = ok && v;
      if (v) c.function = *v;
    }
    if (c.function.empty()) {
      problem(node, "the case names no function ('function:')");
      ok = false;
    }
    if (node["qualifier"]) {
      auto v = string_of(node["qualifier"], "qualifier");
      ok = ok && v;
      if (v) c.qualifier = *v;
    }
    if (node["invocationType"] && node["type"]) {
      problem(node["type"], "give either 'invocationType' or 'type', not both");
      ok = false;
    } else if (const YAML::Node type = node["invocationType"] ? node["invocationType"] : node["type"]) {
      const char* key = node["invocationType"] ? "invocationType" : "type";
      auto v = string_of(type, key);
      if (v && *v == "Event") {
        c.type = InvocationType::kEvent;
      } else if (v && *v != "RequestResponse") {
        problem(type, fmt::format("{} '{}' is not RequestResponse or Event", key, *v));
        ok = false;
      }
      ok = ok && v;
    }
    int sources = 0;
    for (const char* key : {"event", "eventFile", "eventTemplate"}) sources += node[key] ? 1 : 0;
    if (sources > 1) {
      problem(node, "give one of 'event', 'eventFile' and 'eventTemplate', not several");
      ok = false;
    } else if (node["eventTemplate"]) {
      ok = read_event_template(node["eventTemplate"], c.event) && ok;
    } else if (node["event"]) {
      c.event = to_json(node["event"]);
    } else if (node["eventFile"]) {
      auto v = string_of(node["eventFile"], "eventFile");
      if (!v) return std::nullopt;
      const fs::path path = file_.parent_path() / *v;
      try {
        c.event = to_json(YAML::LoadFile(path.string()));
      } catch (const std::exception& e) {
        problem(node["eventFile"], fmt::format("cannot read the event file {}: {}", path.string(), e.what()));
        ok = false;
      }
    }
    if (node["expect"]) ok = read_expect(node["expect"], c.expect) && ok;
    if (node["durable"]) ok = read_durable(node["durable"], c.durable.emplace(), problem_at()) && ok;
    const YAML::Node at = node["expect"] ? node["expect"] : node;
    if (c.type == InvocationType::kEvent) {
      if (!c.expect.destination && !(node["expect"] && node["expect"].IsMap() && node["expect"]["destination"])) {
        problem(at, "an Event case is checked through a destination: give 'destination: onSuccess' (or onFailure) "
                    "under 'expect'");
        ok = false;
      }
      if (c.expect.max_duration_ms) {
        problem(at["maxDurationMs"],
                "'maxDurationMs' does not apply to Event cases (a destination record has no duration)");
        ok = false;
      }
    } else if (c.expect.destination || c.expect.record) {
      problem(at[c.expect.destination ? "destination" : "record"],
              fmt::format("'{}' applies to Event cases only (invocationType: Event)",
                          c.expect.destination ? "destination" : "record"));
      ok = false;
    }
    if (!ok) return std::nullopt;
    return c;
  }

  bool node_is_list_ = false;

 private:
  ProblemAt problem_at() {
    return [this](const YAML::Node& at, std::string message) { problem(at, std::move(message)); };
  }

  // eventTemplate: "SERVICE EVENT", or {generate: "SERVICE EVENT", with: {OPTION: VALUE}, set: {PATH: VALUE}}:
  // the event `lambdad generate-event` prints for those options, with `set` applied after.
  bool read_event_template(const YAML::Node& node, json& event) {
    // (yaml-cpp's Node::operator= writes through to the node; only copies are made here.)
    const YAML::Node generate = node.IsMap() ? node["generate"] : node;
    const YAML::Node none(YAML::NodeType::Map);
    const YAML::Node with = node.IsMap() && node["with"] && !node["with"].IsNull() ? node["with"] : none;
    const YAML::Node set = node.IsMap() && node["set"] && !node["set"].IsNull() ? node["set"] : none;
    if (node.IsMap()) {
      bool ok = true;
      for (const auto& kv : node) {
        const std::string key = kv.first.as<std::string>();
        if (key != "generate" && key != "with" && key != "set") {
          problem(kv.first, fmt::format("unknown key '{}' in eventTemplate (generate, with, set)", key));
          ok = false;
        }
      }
      if (!ok) return false;
      if (!generate) {
        problem(node, "eventTemplate names no event: 'generate: SERVICE EVENT' (e.g. generate: s3 put)");
        return false;
      }
    }
    auto text = string_of(generate, "eventTemplate");
    if (!text) return false;
    std::istringstream words(*text);
    std::string service, name, extra;
    words >> service >> name >> extra;
    if (!extra.empty()) {
      problem(generate, fmt::format("eventTemplate is 'SERVICE EVENT' (e.g. s3 put), not '{}'", *text));
      return false;
    }
    // The options as `lambdad generate-event` takes them, so the names and checks are its own.
    CLI::App app;
    events::GenerateEventCommand command;
    CLI::App* cmd = events::add_generate_event_command(app, command);
    std::vector<std::string> args{"generate-event", service};
    if (!name.empty()) args.push_back(name);
    if (!with.IsMap()) {
      problem(with, "'with' maps generate-event's options (bucket, key, body, ...) to values");
      return false;
    }
    bool ok = true;
    for (const auto& kv : with) {
      std::string option = kv.first.as<std::string>();
      if (!option.starts_with("--")) option = "--" + option;
      if (option == "--help" || !cmd->get_option_no_throw(option)) {
        problem(kv.first, fmt::format("'{}' is not an option of lambdad generate-event (see lambdad generate-event {} "
                                      "--help)",
                                      kv.first.as<std::string>(), *text));
        ok = false;
        continue;
      }
      const YAML::Node& v = kv.second;
      if (option == "--fixed") {
        const json b = to_json(v);
        if (!b.is_boolean()) {
          problem(v, "'fixed' is true or false");
          ok = false;
        } else if (b.get<bool>()) {
          args.push_back(option);
        }
        continue;
      }
      auto add = [&](const YAML::Node& item) {
        args.push_back(option);
        // A mapping (an EventBridge detail, DynamoDB keys or images) is given as its JSON.
        args.push_back(item.IsScalar() ? item.Scalar() : to_json(item).dump());
      };
      if (v.IsSequence()) {
        for (const auto& item : v) add(item);
      } else {
        add(v);
      }
    }
    if (!ok) return false;
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    try {
      app.parse(std::move(args));
    } catch (const CLI::ParseError& e) {
      problem(with.size() > 0 ? with : generate, fmt::format("eventTemplate {}: {}", *text, e.what()));
      return false;
    }
    if (!command.unexpected.empty()) {
      problem(generate, fmt::format("eventTemplate is 'SERVICE EVENT' (e.g. s3 put), not '{}'", *text));
      return false;
    }
    auto generated = events::generate_event(command.service, command.event, command.options);
    if (!generated) {
      problem(generate, fmt::format("eventTemplate {}: {}", *text, generated.error().message));
      return false;
    }
    event = json::parse(generated->dump());
    if (!set.IsMap()) {
      problem(set, "'set' maps paths in the generated event ($.Records[0].s3.object.size) to values");
      return false;
    }
    for (const auto& kv : set) {
      const std::string path = kv.first.as<std::string>();
      if (!set_at_path(event, path, to_json(kv.second))) {
        problem(kv.first, fmt::format("'{}' does not lead into the {} event", path, *text));
        ok = false;
      }
    }
    return ok;
  }

  bool read_expect(const YAML::Node& node, Expectation& e) {
    if (!node.IsMap()) {
      problem(node, "'expect' must be a mapping");
      return false;
    }
    bool ok = true;
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "result") {
        e.result = to_json(v);
      } else if (key == "resultContains") {
        e.result_contains = to_json(v);
      } else if (key == "fields") {
        if (!v.IsMap()) {
          problem(v, "'fields' maps a path ($.a.b[0]) to the value expected there");
          ok = false;
          continue;
        }
        for (const auto& f : v) e.fields.emplace_back(f.first.as<std::string>(), to_json(f.second));
      } else if (key == "error") {
        auto s = string_of(v, key);
        ok = ok && s;
        if (s) e.error = *s;
      } else if (key == "errorMessage") {
        auto s = string_of(v, key);
        ok = ok && s;
        if (s) e.error_message = *s;
      } else if (key == "destination") {
        auto d = string_of(v, key);
        if (d && (*d == "onSuccess" || *d == "OnSuccess")) {
          e.destination = "onSuccess";
        } else if (d && (*d == "onFailure" || *d == "OnFailure")) {
          e.destination = "onFailure";
        } else {
          if (d) problem(v, fmt::format("'destination' is onSuccess or onFailure, not '{}'", *d));
          ok = false;
        }
      } else if (key == "record") {
        e.record = to_json(v);
        if (!e.record->is_object()) {
          problem(v, "'record' is a subset of the destination record: a mapping (requestContext: {condition: ...})");
          ok = false;
        }
      } else if (key == "maxDurationMs") {
        auto j = to_json(v);
        if (!j.is_number()) {
          problem(v, "'maxDurationMs' must be a number");
          ok = false;
        } else {
          e.max_duration_ms = j.get<double>();
        }
      } else if (key == "status" || key == "operations") {
        ok = read_durable_expectation(key, v, e, problem_at()) && ok;
      } else {
        problem(kv.first, fmt::format("unknown expectation '{}' (result, resultContains, fields, error, errorMessage, "
                                      "maxDurationMs, destination, record, status, operations)",
                                      key));
        ok = false;
      }
    }
    return ok;
  }

  fs::path file_;
  std::vector<SuiteProblem>& problems_;
};

// The line of the first byte sequence that is not UTF-8, or 0 when the text is valid UTF-8.
int invalid_utf8_line(std::string_view text) {
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') ++line;
    std::size_t n = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 && b >= 0xc2 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return line;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return line;
    }
    if (n == 3) {  // no overlong forms, no surrogates
      const auto b1 = static_cast<unsigned char>(text[i + 1]);
      if ((b == 0xe0 && b1 < 0xa0) || (b == 0xed && b1 >= 0xa0)) return line;
    } else if (n == 4) {  // no overlong forms, nothing past U+10FFFF
      const auto b1 = static_cast<unsigned char>(text[i + 1]);
      if ((b == 0xf0 && b1 < 0x90) || (b == 0xf4 && b1 >= 0x90)) return line;
    }
    i += n;
  }
  return 0;
}

// One case file: its text when given, else read from `file`. Its strings end up in JSON, so
// the text must be UTF-8 (as YAML and JSON require).
void load_file(const fs::path& file, Suite& suite, const std::string* text = nullptr) {
  std::string content;
  if (!text) {
    std::ifstream in(file, std::ios::binary);
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
      suite.problems.push_back({file, 0, "cannot read the file"});
      return;
    }
    text = &content;
  }
  if (const int line = invalid_utf8_line(*text); line != 0) {
    suite.problems.push_back({file, line, "not valid UTF-8 text"});
    return;
  }
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::ParserException& e) {
    suite.problems.push_back({file, e.mark.line + 1, e.msg});
    return;
  } catch (const std::exception& e) {
    suite.problems.push_back({file, 0, e.what()});
    return;
  }
  // A document YAML parses can still be one the reader cannot convert (a mapping or a list as a
  // key, a scalar where a node of another kind is needed): a problem at its line, never a throw.
  try {
    [&] {
      CaseReader reader(file, suite.problems);
      if (root.IsMap() && root["cases"]) {
        std::string function;
        if (root["function"] && root["function"].IsScalar()) function = root["function"].Scalar();
        for (const auto& kv : root) {
          const std::string key = kv.first.as<std::string>();
          if (key != "cases" && key != "function") {
            reader.problem(kv.first, fmt::format("unknown key '{}' (a suite file has: function, cases)", key));
          }
        }
        if (!root["cases"].IsSequence()) {
          reader.problem(root["cases"], "'cases' must be a list");
          return;
        }
        reader.node_is_list_ = true;
        int index = 0;
        for (const auto& node : root["cases"]) {
          if (auto c = reader.read(node, function, index)) suite.cases.push_back(std::move(*c));
          ++index;
        }
        return;
      }
      if (auto c = reader.read(root, "", 0)) suite.cases.push_back(std::move(*c));
    }();
  } catch (const YAML::Exception& e) {
    suite.problems.push_back({file, e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg});
  } catch (const std::exception& e) {
    suite.problems.push_back({file, 0, e.what()});
  }
}

bool is_case_file(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.ends_with(".case.json") || name.ends_with(".case.yaml") || name.ends_with(".case.yml");
}

// "$.a.b[0].c", "a.b[0].c" or "$['a.b']" as keys and indexes; nullopt when malformed.
using PathStep = std::variant<std::string, std::size_t>;

std::optional<std::vector<PathStep>> split_path(const std::string& path) {
  std::string_view p = path;
  if (p.starts_with("$")) p.remove_prefix(1);
  std::vector<PathStep> steps;
  std::size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '[') {
      const std::size_t end = p.find(']', i);
      if (end == std::string_view::npos) return std::nullopt;
      const std::string inner(p.substr(i + 1, end - i - 1));
      if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') && inner.back() == inner.front()) {
        steps.emplace_back(inner.substr(1, inner.size() - 2));
      } else {
        std::size_t idx = 0;
        auto [ptr, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), idx);
        if (ec != std::errc{} || ptr != inner.data() + inner.size()) return std::nullopt;
        steps.emplace_back(idx);
      }
      i = end + 1;
      continue;
    }
    // ".key", or a key at the start of a path without "$.".
    if (p[i] == '.') ++i;
    const std::size_t end = p.find_first_of(".[", i);
    const std::string key(p.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    if (key.empty()) return std::nullopt;
    steps.emplace_back(key);
    i = end == std::string_view::npos ? p.size() : end;
  }
  return steps;
}

// The value at `path`, or nullopt.
std::optional<json> at_path(const json& doc, const std::string& path) {
  auto steps = split_path(path);
  if (!steps) return std::nullopt;
  const json* cur = &doc;
  for (const auto& step : *steps) {
    if (const auto* key = std::get_if<std::string>(&step)) {
      if (!cur->is_object() || !cur->contains(*key)) return std::nullopt;
      cur = &(*cur)[*key];
    } else {
      const std::size_t idx = std::get<std::size_t>(step);
      if (!cur->is_array() || idx >= cur->size()) return std::nullopt;
      cur = &(*cur)[idx];
    }
  }
  return *cur;
}

// The first place where `actual` does not contain `expected`, as a path; empty when it does.
std::optional<std::string> first_difference(const json& expected, const json& actual, const std::string& path) {
  if (expected.is_object()) {
    if (!actual.is_object()) return path;
    for (const auto& [k, v] : expected.items()) {
      if (!actual.contains(k)) return path + "." + k;
      if (auto d = first_difference(v, actual[k], path + "." + k)) return d;
    }
    return std::nullopt;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) return path;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (auto d = first_difference(expected[i], actual[i], fmt::format("{}[{}]", path, i))) return d;
    }
    return std::nullopt;
  }
  return expected == actual ? std::nullopt : std::optional<std::string>(path);
}

std::string show(const json& j) { return j.dump(2); }

// Expected and actual side by side, each line marked, for a failure message.
std::string diff_block(const json& expected, const json& actual) {
  std::string out = "      expected:\n";
  std::istringstream e(show(expected));
  for (std::string line; std::getline(e, line);) out += "        - " + line + "\n";
  out += "      actual:\n";
  std::istringstream a(show(actual));
  for (std::string line; std::getline(a, line);) out += "        + " + line + "\n";
  return out;
}

}  // namespace

json yaml_to_json(const YAML::Node& node) { return to_json(node); }

std::string show_difference(const json& expected, const json& actual) { return diff_block(expected, actual); }

Suite load_suite(const std::vector<fs::path>& paths) {
  Suite suite;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
        if (entry.is_regular_file() && is_case_file(entry.path())) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) suite.problems.push_back({path, 0, "no case files (*.case.json, *.case.yaml) here"});
      for (const auto& f : files) load_file(f, suite);
    } else if (fs::exists(path, ec)) {
      load_file(path, suite);
    } else {
      suite.problems.push_back({path, 0, "no such file or directory"});
    }
  }
  return suite;
}

Suite load_suite_text(const std::string& text, const fs::path& file) {
  Suite suite;
  load_file(file, suite, &text);
  return suite;
}

Observed observe(bool function_error, std::string error_type, std::string payload, const std::string& log) {
  Observed o;
  o.function_error = function_error;
  o.payload = std::move(payload);
  o.error_type = std::move(error_type);
  if (function_error) {
    // The runtime's own errorType (an exception name) when the payload says one.
    auto body = json::parse(o.payload, nullptr, false);
    if (body.is_object() && body.contains("errorType") && body["errorType"].is_string()) {
      o.error_type = body["errorType"].get<std::string>();
    }
  }
  static const std::regex kDuration(R"(\tDuration: ([0-9.]+) ms)");
  std::smatch m;
  if (std::regex_search(log, m, kDuration)) o.duration_ms = std::stod(m[1].str());
  o.cold_start = log.find("Init Duration:") != std::string::npos;
  return o;
}

std::string check(const Expectation& expect, const Observed& o) {
  std::string out;
  auto payload = json::parse(o.payload, nullptr, false);
  const json actual = payload.is_discarded() ? json(o.payload) : payload;
  if (expect.error) {
    if (!o.function_error) {
      out += fmt::format("    expected the error {}, but the function succeeded with:\n{}", *expect.error,
                         diff_block(json(*expect.error), actual));
    } else if (o.error_type != *expect.error) {
      out += fmt::format("    expected the error {}, got {}:\n{}", *expect.error, o.error_type, diff_block(json(*expect.error), actual));
    }
  } else if (o.function_error) {
    // Nothing else is worth comparing with an error body.
    return fmt::format("    the function failed with {}:\n{}", o.error_type, diff_block(json("a result"), actual));
  }
  if (expect.error_message) {
    const std::string message = actual.is_object() ? actual.value("errorMessage", "") : "";
    if (message.find(*expect.error_message) == std::string::npos) {
      out += fmt::format("    errorMessage does not contain \"{}\": \"{}\"\n", *expect.error_message, message);
    }
  }
  if (expect.result && *expect.result != actual) {
    out += fmt::format("    result differs:\n{}", diff_block(*expect.result, actual));
  }
  if (expect.result_contains) {
    if (auto d = first_difference(*expect.result_contains, actual, "$")) {
      out += fmt::format("    result does not contain what is expected (first difference at {}):\n{}", *d,
                         diff_block(*expect.result_contains, actual));
    }
  }
  for (const auto& [path, want] : expect.fields) {
    auto got = at_path(actual, path);
    if (!got) {
      out += fmt::format("    {} is missing; expected {}\n", path, want.dump());
    } else if (*got != want) {
      out += fmt::format("    {}: expected {}, got {}\n", path, want.dump(), got->dump());
    }
  }
  if (expect.max_duration_ms && o.duration_ms > *expect.max_duration_ms) {
    out += fmt::format("    took {:.2f} ms, more than maxDurationMs {}\n", o.duration_ms, *expect.max_duration_ms);
  }
  return out;
}

std::chrono::milliseconds event_case_deadline(int timeout_seconds, int maximum_retry_attempts,
                                              std::chrono::milliseconds retry_base) {
  using std::chrono::seconds;
  const int retries = std::max(0, maximum_retry_attempts);
  const std::chrono::milliseconds per_attempt = seconds(timeout_seconds) + seconds(10);
  return per_attempt * (retries + 1) + retry_base * (retries * (retries + 1) / 2) + seconds(5);
}

bool set_at_path(json& doc, const std::string& path, json value) {
  auto steps = split_path(path);
  if (!steps || steps->empty()) return false;
  json* cur = &doc;
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const bool last = i + 1 == steps->size();
    if (const auto* key = std::get_if<std::string>(&(*steps)[i])) {
      if (!cur->is_object() || (!last && !cur->contains(*key))) return false;
      cur = &(*cur)[*key];
    } else {
      const std::size_t idx = std::get<std::size_t>((*steps)[i]);
      if (!cur->is_array() || idx >= cur->size()) return false;
      cur = &(*cur)[idx];
    }
  }
  *cur = std::move(value);
  return true;
}

Observed observe_record(const json& record) {
  Observed o;
  const json* context = record.is_object() && record.contains("responseContext") ? &record["responseContext"] : nullptr;
  o.function_error = context && context->is_object() && context->contains("functionError");
  if (record.is_object() && record.contains("responsePayload")) {
    const json& payload = record["responsePayload"];
    // A payload that was not JSON is kept as a string in the record: compare the text itself.
    o.payload = payload.is_string() && !json::accept(payload.get<std::string>()) ? payload.get<std::string>()
                                                                                 : payload.dump();
    if (payload.is_object() && payload.contains("errorType") && payload["errorType"].is_string()) {
      o.error_type = payload["errorType"].get<std::string>();
    }
  }
  if (o.function_error && o.error_type.empty() && (*context)["functionError"].is_string()) {
    o.error_type = (*context)["functionError"].get<std::string>();
  }
  return o;
}

std::string check_event(const Expectation& expect, const DeliveredRecord& delivered) {
  const std::string want = expect.destination.value_or("onSuccess");
  const json& record = delivered.record;
  std::string ended = "?";
  if (auto condition = at_path(record, "$.requestContext.condition")) {
    ended = condition->is_string() ? condition->get<std::string>() : condition->dump();
  }
  if (auto count = at_path(record, "$.requestContext.approximateInvokeCount")) {
    ended += fmt::format(" after {} attempt{}", count->dump(), *count == 1 ? "" : "s");
  }
  auto side = [](const std::string& s) { return s == "onSuccess" ? "OnSuccess" : "OnFailure"; };
  json expected{{"destination", want}};
  if (expect.record) expected["record"] = *expect.record;
  const json actual{{"destination", delivered.went_to}, {"record", record}};
  if (delivered.went_to != want) {
    std::string where = delivered.destination.empty()
                            ? fmt::format("it has no {} destination, so it went nowhere", side(delivered.went_to))
                            : fmt::format("its record went to {} ({})", side(delivered.went_to), delivered.destination);
    return fmt::format("    expected a record at {}, but the event ended {} and {}:\n{}", side(want), ended, where,
                       diff_block(expected, actual));
  }
  if (delivered.destination.empty()) {
    return fmt::format("    the event ended {}, but the function has no {} destination: no record was delivered "
                       "(what it would have been is below)\n{}",
                       ended, side(want), diff_block(expected, actual));
  }
  std::string out;
  if (expect.record) {
    if (auto d = first_difference(*expect.record, record, "$")) {
      out += fmt::format("    the {} record does not contain what is expected (first difference at {}):\n{}",
                         side(want), *d, diff_block(*expect.record, record));
    }
  }
  const bool checks_payload = expect.result || expect.result_contains || !expect.fields.empty() || expect.error ||
                              expect.error_message;
  if (checks_payload) {
    if (!record.contains("responsePayload")) {
      out += fmt::format("    the record has no responsePayload (the function never ran: {})\n", ended);
    } else {
      Expectation payload_checks = expect;
      payload_checks.max_duration_ms.reset();
      std::string failure = check(payload_checks, observe_record(record));
      if (!failure.empty()) out += "    in the record's responsePayload:\n" + failure;
    }
  }
  return out;
}

int shard_of(const std::string& case_id, int shards) {
  // FNV-1a: the same case lands in the same shard on every machine and run.
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : case_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(shards)) + 1;
}

}  // namespace lambdad::app
