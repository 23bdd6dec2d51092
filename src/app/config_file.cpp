#include "config_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

namespace lambdad::app {

namespace {

// Appends code point cp as UTF-8; false if it is not a Unicode scalar value.
bool append_utf8(std::string& out, std::uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return true;
}

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A recursive-descent reader of the TOML subset. Each method consumes what it names or throws
// ParseFailure with the line where it stopped.
class TomlReader {
 public:
  TomlReader(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Result<ConfigFile> read() {
    ConfigFile file;
    file.name = name_;
    try {
      read_document(file);
    } catch (const Failure& f) {
      return invalid_input(fmt::format("{}:{}: {}", name_, line_, f.what));
    }
    return file;
  }

 private:
  struct Failure {
    std::string what;
  };
  [[noreturn]] void fail(std::string what) const { throw Failure{std::move(what)}; }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  void advance() {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }

  void skip_blanks() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) advance();
  }
  void skip_comment() {
    if (peek() != '#') return;
    while (!at_end() && peek() != '\n') advance();
  }
  // Blanks, comments and newlines (between statements and inside arrays).
  void skip_space() {
    for (;;) {
      skip_blanks();
      skip_comment();
      if (peek() == '\r' && peek(1) == '\n') advance();
      if (at_end() || peek() != '\n') return;
      advance();
    }
  }
  // After a statement: blanks, a comment, then the end of the line.
  void expect_line_end() {
    skip_blanks();
    skip_comment();
    if (peek() == '\r' && peek(1) == '\n') advance();
    if (at_end()) return;
    if (peek() != '\n') fail(fmt::format("unexpected '{}' after the value (one key = value per line)", peek()));
    advance();
  }

  void read_document(ConfigFile& file) {
    std::string section;
    std::set<std::string> sections_seen;
    std::map<std::pair<std::string, std::string>, int> keys_seen;  // (section, key) -> line
    for (;;) {
      skip_space();
      if (at_end()) return;
      if (peek() == '[') {
        advance();
        if (peek() == '[') fail("arrays of tables ([[...]]) are not used by lambdad's config");
        skip_blanks();
        section = read_key();
        skip_blanks();
        if (peek() == '.') {
          fail(fmt::format("nested tables ([{}.…]) are not used; sections are subcommands, e.g. [serve]", section));
        }
        if (peek() != ']') fail("expected ']' to close the section name");
        advance();
        if (!sections_seen.insert(section).second) fail(fmt::format("section [{}] appears twice", section));
        expect_line_end();
        continue;
      }
      const int line = line_;
      std::string key = read_key();
      skip_blanks();
      if (peek() == '.') {
        fail(fmt::format("dotted keys ({}.…) are not used; put the key in a [{}] section", key, key));
      }
      if (peek() != '=') fail(fmt::format("expected '=' after the key '{}'", key));
      advance();
      skip_blanks();
      ConfigValue value = read_value();
      auto [it, fresh] = keys_seen.emplace(std::make_pair(section, key), line);
      if (!fresh) {
        line_ = line;
        fail(fmt::format("key '{}' is set twice{} (first on line {})", key,
                         section.empty() ? std::string() : fmt::format(" in [{}]", section), it->second));
      }
      file.entries.push_back(ConfigEntry{section, std::move(key), std::move(value), line});
      expect_line_end();
    }
  }

  std::string read_key() {
    if (peek() == '"') return read_basic_string();
    if (peek() == '\'') return read_literal_string();
    std::string key;
    while (!at_end() && is_bare_key_char(peek())) {
      key.push_back(peek());
      advance();
    }
    if (key.empty()) {
      if (at_end() || peek() == '\n') fail("expected a key");
      fail(fmt::format("expected a key, not '{}'", peek()));
    }
    return key;
  }

  ConfigValue read_value() {
    const char c = peek();
    if (c == '"' || c == '\'') {
      if (peek(1) == c && peek(2) == c) fail("multi-line strings are not used by lambdad's config");
      return ConfigValue{ConfigValue::Type::kString, c == '"' ? read_basic_string() : read_literal_string(), {}};
    }
    if (c == '[') return read_array();
    if (c == '{') fail("inline tables ({...}) are not used; sections are subcommands, e.g. [serve]");
    if (at_end() || c == '\n' || c == '#') fail("expected a value after '='");
    return read_bare_value();
  }

  std::string read_basic_string() {
    advance();  // "
    std::string out;
    for (;;) {
      if (at_end() || peek() == '\n') fail("unterminated string (a closing \" on the same line)");
      char c = peek();
      advance();
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_end()) fail("unterminated string");
      char e = peek();
      advance();
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u':
        case 'U': {
          const std::size_t digits = e == 'u' ? 4 : 8;
          std::uint32_t cp = 0;
          for (std::size_t i = 0; i < digits; ++i) {
            char h = peek();
            const int v = (h >= '0' && h <= '9')   ? h - '0'
                          : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                   : -1;
            if (v < 0) fail(fmt::format("\\{} needs {} hex digits", e, digits));
            cp = cp * 16 + static_cast<std::uint32_t>(v);
            advance();
          }
          if (!append_utf8(out, cp)) fail(fmt::format("\\{} escape is not a Unicode scalar value", e));
          break;
        }
        default: fail(fmt::format("unknown escape \\{} in a string (use '...' for backslashes as they are)", e));
      }
    }
  }

  std::string read_literal_string() {
    advance();  // '
    std::string out;
    for (;;) {
      if (at_end() || peek() == '\n') fail("unterminated string (a closing ' on the same line)");
      char c = peek();
      advance();
      if (c == '\'') return out;
      out.push_back(c);
    }
  }

  ConfigValue read_array() {
    advance();  // [
    ConfigValue array{ConfigValue::Type::kArray, {}, {}};
    for (;;) {
      skip_space();
      if (at_end()) fail("unterminated array (a closing ])");
      if (peek() == ']') break;
      array.items.push_back(read_value());
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') break;
      if (at_end()) fail("unterminated array (a closing ])");
      fail(fmt::format("expected ',' or ']' in the array, not '{}'", peek()));
    }
    advance();  // ]
    return array;
  }

  // true, false, integers (decimal, 0x, 0o, 0b, with _), floats (with exponent, inf, nan).
  ConfigValue read_bare_value() {
    std::string word;
    while (!at_end()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' || c == '#') break;
      word.push_back(c);
      advance();
    }
    if (word == "true" || word == "false") return ConfigValue{ConfigValue::Type::kBoolean, word, {}};
    static const std::regex kDecimal(R"([+-]?(0|[1-9](_?[0-9])*))");
    static const std::regex kRadix(R"(0x[0-9A-Fa-f](_?[0-9A-Fa-f])*|0o[0-7](_?[0-7])*|0b[01](_?[01])*)");
    static const std::regex kFloat(
        R"([+-]?(0|[1-9](_?[0-9])*))"                                               // integer part
        R"(((\.[0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?|[eE][+-]?[0-9](_?[0-9])*))"  // fraction, exponent
        R"(|[+-]?(inf|nan))");
    auto strip = [](std::string s) {
      std::erase(s, '_');
      if (!s.empty() && s.front() == '+') s.erase(0, 1);
      return s;
    };
    if (std::regex_match(word, kDecimal)) return ConfigValue{ConfigValue::Type::kInteger, strip(word), {}};
    if (std::regex_match(word, kRadix)) {
      const int base = word[1] == 'x' ? 16 : word[1] == 'o' ? 8 : 2;
      std::string digits = strip(word.substr(2));
      try {
        return ConfigValue{ConfigValue::Type::kInteger, std::to_string(std::stoull(digits, nullptr, base)), {}};
      } catch (const std::out_of_range&) {
        fail(fmt::format("{} is too large", word));
      }
    }
    if (std::regex_match(word, kFloat)) return ConfigValue{ConfigValue::Type::kFloat, strip(word), {}};
    if (word.empty()) fail("expected a value");
    fail(fmt::format("'{}' is not a TOML value (strings need quotes: \"{}\")", word, word));
  }

  std::string_view text_;
  const std::string& name_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

Result<ConfigValue> from_json(const nlohmann::ordered_json& j, const std::string& at) {
  using Type = ConfigValue::Type;
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::string: return ConfigValue{Type::kString, j.get<std::string>(), {}};
    case nlohmann::ordered_json::value_t::boolean:
      return ConfigValue{Type::kBoolean, j.get<bool>() ? "true" : "false", {}};
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned: return ConfigValue{Type::kInteger, j.dump(), {}};
    case nlohmann::ordered_json::value_t::number_float: return ConfigValue{Type::kFloat, j.dump(), {}};
    case nlohmann::ordered_json::value_t::array: {
      ConfigValue array{Type::kArray, {}, {}};
      for (const auto& item : j) {
        auto v = from_json(item, at);
        if (!v) return v.error();
        array.items.push_back(std::move(*v));
      }
      return array;
    }
    case nlohmann::ordered_json::value_t::null:
      return invalid_input(fmt::format("{} is null; leave the key out for the default", at));
    default: return invalid_input(fmt::format("{} is an object; only the top level holds sections", at));
  }
}

}  // namespace

std::string_view type_name(ConfigValue::Type type) {
  switch (type) {
    case ConfigValue::Type::kString: return "string";
    case ConfigValue::Type::kInteger: return "integer";
    case ConfigValue::Type::kFloat: return "float";
    case ConfigValue::Type::kBoolean: return "boolean";
    case ConfigValue::Type::kArray: return "array";
  }
  return "value";
}

std::string ConfigFile::where(const ConfigEntry& entry) const {
  return entry.line > 0 ? fmt::format("{}:{}", name, entry.line) : name;
}

Result<ConfigFile> parse_toml_config(std::string_view text, const std::string& name) {
  return TomlReader(text, name).read();
}

Result<ConfigFile> parse_json_config(std::string_view text, const std::string& name) {
  nlohmann::ordered_json doc;  // keeps the file's order for messages and --print-config
  try {
    doc = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::ordered_json::parse_error& e) {
    // e.byte is 1-based; name the line as an editor would.
    const auto upto = text.substr(0, std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size()));
    const auto line = 1 + std::count(upto.begin(), upto.end(), '\n');
    std::string what = e.what();
    if (auto at = what.find("syntax error"); at != std::string::npos) what = what.substr(at);
    return invalid_input(fmt::format("{}:{}: {}", name, line, what));
  }
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected a JSON object of settings", name));
  ConfigFile file;
  file.name = name;
  auto add = [&](const std::string& section, const std::string& key, const nlohmann::ordered_json& value) -> Status {
    const auto at = section.empty() ? fmt::format("{}: key '{}'", name, key)
                                    : fmt::format("{}: key '{}' in [{}]", name, key, section);
    auto v = from_json(value, at);
    if (!v) return v.error();
    file.entries.push_back(ConfigEntry{section, key, std::move(*v), 0});
    return Ok{};
  };
  for (const auto& [key, value] : doc.items()) {
    if (value.is_object()) {
      for (const auto& [inner_key, inner] : value.items()) {
        if (auto s = add(key, inner_key, inner); !s) return s.error();
      }
      continue;
    }
    if (auto s = add("", key, value); !s) return s.error();
  }
  return file;
}

Result<ConfigFile> load_config_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return invalid_input(fmt::format("config file {} does not exist", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    return invalid_input(fmt::format("cannot read config file {}", path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (path.extension() == ".json") return parse_json_config(text.str(), path.string());
  return parse_toml_config(text.str(), path.string());
}

}  // namespace lambdad::app
