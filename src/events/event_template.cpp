// The engine that fills in a sample event's template. In brief (the whole format, with every
// helper: docs/decisions/017-sample-event-templates.md):
//   - A template is {"summary", "options": {"--name": default}, "let": {name: value}, "event"}.
//   - "${name}" in a string is the value bound to name ("${request.path}", "${message.0}" reach
//     into it); a string that is one reference alone keeps the value's type.
//   - {"$helper": ARG}, an object of one member whose name starts with $, calls a helper; one that
//     takes several arguments takes an array of them.
//   - A value may be absent (an option with no default, not given): a member or an element that
//     comes out absent is left out, and a string or helper call that uses one is absent too, except
//     in $default (the first present) and $if.
//   - Names are bound in order: account, region, epoch_ms, each option (without its dashes), then
//     each name under "let"; then "event" is filled in, in document order. Ids are drawn in that
//     order, so --fixed prints the same bytes every time.
#include "event_template.hpp"

#include <fmt/args.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <regex.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <random>
#include <utility>

#include "event_helpers.hpp"
#include "lambdad/common/base64.hpp"

namespace lambdad::events {

std::string SampleEvent::option_list() const {
  std::string text;
  for (auto it = options.begin(); it != options.end(); ++it) text += (text.empty() ? "" : " ") + it.key();
  return text;
}

const std::vector<SampleEvent>& sample_events() {
  // The build checked that each file is JSON with these members (cmake/EmbedSampleEvents.cmake).
  static const std::vector<SampleEvent> events = [] {
    std::vector<SampleEvent> out;
    for (const auto& file : sample_event_files()) {
      const auto doc = nlohmann::ordered_json::parse(file.json);
      out.push_back({std::string(file.service), std::string(file.event), doc.at("summary").get<std::string>(),
                     doc.at("options"), doc.value("let", nlohmann::ordered_json::object()), doc.at("event")});
    }
    return out;
  }();
  return events;
}

namespace template_helpers {

std::string text_of(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return value.dump();
  throw TemplateFault("expected a string or an integer, not " + value.dump());
}

std::string lower(std::string text) {
  for (auto& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string upper(std::string text) {
  for (auto& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

std::string url_encode(std::string_view text, std::string_view keep) {
  std::string out;
  for (char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '~';
    if (unreserved || keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

constexpr std::uint64_t kFixedSeed = 0x6c616d6264616421;  // "lambdad!"
constexpr std::int64_t kFixedEpochMs = 1717243200123;     // 2024-06-01T12:00:00.123Z

// One generator per event; with --fixed it starts from a constant seed and a constant clock.
class Source {
 public:
  explicit Source(bool fixed)
      : rng_(fixed ? kFixedSeed : random_seed()), epoch_ms_(fixed ? kFixedEpochMs : now_ms()) {}

  std::int64_t epoch_ms() const { return epoch_ms_; }

  std::string bytes(std::size_t n) {
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(rng_() & 0xff);
    return out;
  }
  // Lowercase UUID v4.
  std::string uuid() {
    auto b = bytes(16);
    b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
    const std::string h = to_hex(b);
    return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4),
                       h.substr(20));
  }
  // N characters of `alphabet`.
  std::string pick(const Json& n, std::string_view alphabet) {
    std::string out;
    for (auto i = n.get<std::size_t>(); i > 0; --i) out.push_back(alphabet[rng_() % alphabet.size()]);
    return out;
  }

 private:
  static std::uint64_t random_seed() {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }
  static std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  std::mt19937_64 rng_;
  std::int64_t epoch_ms_;
};

}  // namespace template_helpers

namespace {

using namespace template_helpers;

// The clock in UTC: %Y %m %d %H %M %S as strftime's, %b the English month, %L the milliseconds.
std::string format_time(const std::string& format, std::int64_t epoch_ms) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out.push_back(format[i]);
      continue;
    }
    switch (format[++i]) {
      case 'Y': out += fmt::format("{:04}", tm.tm_year + 1900); break;
      case 'm': out += fmt::format("{:02}", tm.tm_mon + 1); break;
      case 'd': out += fmt::format("{:02}", tm.tm_mday); break;
      case 'H': out += fmt::format("{:02}", tm.tm_hour); break;
      case 'M': out += fmt::format("{:02}", tm.tm_min); break;
      case 'S': out += fmt::format("{:02}", tm.tm_sec); break;
      case 'b': out += kMonths[static_cast<std::size_t>(tm.tm_mon)]; break;
      case 'L': out += fmt::format("{:03}", epoch_ms % 1000); break;
      case '%': out.push_back('%'); break;
      default: throw TemplateFault(fmt::format("$time: unknown %{}", format[i]));
    }
  }
  return out;
}

std::string md5_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

Result<Json> gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error{ErrorKind::kInternal, "", "zlib: deflateInit2 failed"};
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Error{ErrorKind::kInternal, "", "zlib: deflate did not finish"};
  return Json(std::move(out));
}

// The whole of `text` matches the POSIX extended regular expression. (glibc's matcher needs time
// and memory in proportion to the text; std::regex recurses per character.) POSIX's . skips NUL:
// a NUL in the text is matched as \x01, so that . is any byte.
bool matches(std::string text, const std::string& pattern) {
  std::replace(text.begin(), text.end(), '\0', '\x01');
  regex_t re;
  if (::regcomp(&re, ("^(" + pattern + ")$").c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
    throw TemplateFault("$matches: not a regular expression: " + pattern);
  }
  const bool match = ::regexec(&re, text.c_str(), 0, nullptr, 0) == 0;
  ::regfree(&re);
  return match;
}

// Integers while both are, else doubles.
Json arithmetic(const Json& a, const Json& b, char op) {
  if (!a.is_number() || !b.is_number()) throw TemplateFault(a.dump() + " " + op + " " + b.dump() + ": not numbers");
  if (a.is_number_integer() && b.is_number_integer()) {
    const auto x = a.get<std::int64_t>();
    const auto y = b.get<std::int64_t>();
    if (op == '/' && y == 0) throw TemplateFault("division by zero");
    return op == '+' ? x + y : x / y;
  }
  const auto x = a.get<double>();
  const auto y = b.get<double>();
  return op == '+' ? x + y : x / y;
}

std::string encode(const Args& a, bool form) {
  std::string out;
  for (char c : a[0].get<std::string>()) {
    out += form && c == ' ' ? "+" : url_encode(std::string_view(&c, 1), a[1].get<std::string>());
  }
  return out;
}

const Helper kHelpers[] = {
    // Ids, drawn from the event's source.
    {"$hex", 1, 1, [](Args& a, Source& s) -> Result<Json> { return Json(s.pick(a[0], "0123456789abcdef")); }},
    {"$digits", 1, 1, [](Args& a, Source& s) -> Result<Json> { return Json(s.pick(a[0], "0123456789")); }},
    {"$upper_alnum", 1, 1,
     [](Args& a, Source& s) -> Result<Json> { return Json(s.pick(a[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")); }},
    {"$lower_alnum", 1, 1,
     [](Args& a, Source& s) -> Result<Json> { return Json(s.pick(a[0], "abcdefghijklmnopqrstuvwxyz0123456789")); }},
    {"$bytes", 1, 1, [](Args& a, Source& s) -> Result<Json> { return Json(s.bytes(a[0].get<std::size_t>())); }},
    {"$uuid", 1, 1, [](Args&, Source& s) -> Result<Json> { return Json(s.uuid()); }},
    {"$time", 1, 1,
     [](Args& a, Source& s) -> Result<Json> { return Json(format_time(a[0].get<std::string>(), s.epoch_ms())); }},
    // Text and encodings.
    {"$upper", 1, 1, [](Args& a, Source&) -> Result<Json> { return Json(upper(a[0].get<std::string>())); }},
    {"$format", 1, 16,
     [](Args& a, Source&) -> Result<Json> {
       fmt::dynamic_format_arg_store<fmt::format_context> store;
       for (std::size_t i = 1; i < a.size(); ++i) {
         if (a[i].is_string()) {
           store.push_back(a[i].get<std::string>());
         } else if (a[i].is_number_unsigned()) {
           store.push_back(a[i].get<std::uint64_t>());
         } else if (a[i].is_number_integer()) {
           store.push_back(a[i].get<std::int64_t>());
         } else {
           throw TemplateFault("$format: " + a[i].dump() + " is not a string or an integer");
         }
       }
       return Json(fmt::vformat(a[0].get<std::string>(), store));
     }},
    {"$url_encode", 2, 2, [](Args& a, Source&) -> Result<Json> { return Json(encode(a, false)); }},
    {"$form_encode", 2, 2, [](Args& a, Source&) -> Result<Json> { return Json(encode(a, true)); }},
    {"$base64", 1, 1, [](Args& a, Source&) -> Result<Json> { return Json(base64::encode(a[0].get<std::string>())); }},
    {"$md5", 1, 1, [](Args& a, Source&) -> Result<Json> { return Json(md5_hex(a[0].get<std::string>())); }},
    {"$gzip", 1, 1, [](Args& a, Source&) { return gzip(a[0].get<std::string>()); }},
    {"$dump", 1, 1,
     [](Args& a, Source&) -> Result<Json> { return Json(a[0].dump(-1, ' ', false, Json::error_handler_t::replace)); }},
    // Tests and arithmetic.
    {"$is_json", 1, 1,
     [](Args& a, Source&) -> Result<Json> { return Json(nlohmann::json::accept(a[0].get<std::string>())); }},
    {"$length", 1, 1,
     [](Args& a, Source&) -> Result<Json> {
       if (!a[0].is_string() && !a[0].is_array()) throw TemplateFault("$length of " + a[0].dump());
       return Json(a[0].is_string() ? a[0].get_ref<const std::string&>().size() : a[0].size());
     }},
    {"$matches", 2, 2,
     [](Args& a, Source&) -> Result<Json> { return Json(matches(text_of(a[0]), a[1].get<std::string>())); }},
    {"$eq", 2, 2, [](Args& a, Source&) -> Result<Json> { return Json(a[0] == a[1]); }},
    {"$type", 1, 1, [](Args& a, Source&) -> Result<Json> { return Json(a[0].type_name()); }},
    {"$add", 2, 16,
     [](Args& a, Source&) -> Result<Json> {
       Json sum = a[0];
       for (std::size_t i = 1; i < a.size(); ++i) sum = arithmetic(sum, a[i], '+');
       return sum;
     }},
    {"$div", 2, 2, [](Args& a, Source&) -> Result<Json> { return arithmetic(a[0], a[1], '/'); }},
    {"$merge", 2, 16,
     [](Args& a, Source&) -> Result<Json> {
       Json out = a[0];
       for (std::size_t i = 1; i < a.size(); ++i) {
         for (auto it = a[i].begin(); it != a[i].end(); ++it) out[it.key()] = it.value();
       }
       return out;
     }},
};

const Helper* find_helper(std::string_view name) {
  for (const auto& helper : kHelpers) {
    if (helper.name == name) return &helper;
  }
  for (const auto& helper : aws_helpers()) {
    if (helper.name == name) return &helper;
  }
  return nullptr;
}

bool truthy(const Json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  return !value.is_null() && !((value.is_array() || value.is_object()) && value.empty());
}

class Renderer {
 public:
  explicit Renderer(bool fixed) : source_(fixed) {}

  std::int64_t epoch_ms() const { return source_.epoch_ms(); }
  void bind(std::string name, Json value) { names_.emplace_back(std::move(name), std::move(value)); }

  Result<Json> eval(const Json& expr) {
    if (expr.is_string()) return interpolate(expr.get_ref<const std::string&>());
    if (expr.is_array()) {
      Json out = Json::array();
      for (const auto& item : expr) {
        auto value = eval(item);
        if (!value) return value;
        if (!value->is_discarded()) out.push_back(std::move(*value));
      }
      return out;
    }
    if (!expr.is_object()) return expr;
    if (expr.size() == 1 && expr.begin().key().starts_with('$')) return call(expr.begin().key(), expr.begin().value());
    Json out = Json::object();
    for (auto it = expr.begin(); it != expr.end(); ++it) {
      auto value = eval(it.value());
      if (!value) return value;
      if (!value->is_discarded()) out[it.key()] = std::move(*value);
    }
    return out;
  }

 private:
  Result<Json> interpolate(const std::string& text) const {
    auto open = text.find("${");
    if (open == std::string::npos) return Json(text);
    if (open == 0 && text.find('}') == text.size() - 1) return lookup(text.substr(2, text.size() - 3));
    std::string out;
    std::size_t at = 0;
    for (; open != std::string::npos; open = text.find("${", at)) {
      const auto close = text.find('}', open);
      if (close == std::string::npos) throw TemplateFault("no } after ${ in " + text);
      out.append(text, at, open - at);
      const auto value = lookup(text.substr(open + 2, close - open - 2));
      if (value.is_discarded()) return absent();
      out += text_of(value);
      at = close + 1;
    }
    out.append(text, at);
    return Json(std::move(out));
  }

  // name, or name.key.index... into it.
  Json lookup(const std::string& reference) const {
    auto dot = reference.find('.');
    const auto name = reference.substr(0, dot);
    const Json* value = nullptr;
    for (auto it = names_.rbegin(); it != names_.rend() && !value; ++it) {
      if (it->first == name) value = &it->second;
    }
    if (!value) throw TemplateFault("unknown name " + name);
    while (dot != std::string::npos && !value->is_discarded()) {
      const auto next = reference.find('.', dot + 1);
      const auto key = reference.substr(dot + 1, next == std::string::npos ? next : next - dot - 1);
      value = value->is_array() ? &value->at(std::stoul(key)) : &value->at(key);
      dot = next;
    }
    return *value;
  }

  Result<Json> call(const std::string& name, const Json& arg) {
    if (name == "$default") return first_present(arg);
    if (name == "$if") return if_then_else(arg);
    if (name == "$for") return for_each(arg);
    if (name == "$expect") return expect(arg);
    const Helper* helper = find_helper(name);
    if (!helper) throw TemplateFault("unknown helper " + name);
    if (helper->max_args > 1 && !arg.is_array()) throw TemplateFault(name + " takes an array of arguments");
    Args args;
    bool present = true;  // every argument is evaluated, so that what is drawn does not depend on it
    for (const auto& item : helper->max_args > 1 ? arg : Json::array({arg})) {
      auto value = eval(item);
      if (!value) return value;
      present = present && !value->is_discarded();
      args.push_back(std::move(*value));
    }
    if (args.size() < helper->min_args || args.size() > helper->max_args) {
      throw TemplateFault(fmt::format("{} takes {} to {} arguments", name, helper->min_args, helper->max_args));
    }
    return present ? helper->function(args, source_) : absent();
  }

  // {"$default": [A, B, ...]}: the first that is present; the rest are not evaluated.
  Result<Json> first_present(const Json& arg) {
    for (const auto& item : arg) {
      auto value = eval(item);
      if (!value || !value->is_discarded()) return value;
    }
    return absent();
  }

  // {"$if": [COND, THEN, ELSE]}: THEN unless COND is false, null or empty; without ELSE, absent.
  Result<Json> if_then_else(const Json& arg) {
    auto cond = eval(arg.at(0));
    if (!cond || cond->is_discarded()) return cond;
    if (truthy(*cond)) return eval(arg.at(1));
    return arg.size() > 2 ? eval(arg.at(2)) : absent();
  }

  // {"$for": [N or ARRAY, BODY]}: BODY for each i from 0, with item the array's element.
  Result<Json> for_each(const Json& arg) {
    auto over = eval(arg.at(0));
    if (!over || over->is_discarded()) return over;
    const auto n = over->is_array() ? over->size() : over->get<std::size_t>();
    Json out = Json::array();
    for (std::size_t i = 0; i < n; ++i) {
      bind("i", static_cast<std::int64_t>(i));
      if (over->is_array()) bind("item", (*over)[i]);
      auto value = eval(arg.at(1));
      names_.resize(names_.size() - (over->is_array() ? 2 : 1));
      if (!value) return value;
      if (!value->is_discarded()) out.push_back(std::move(*value));
    }
    return out;
  }

  // {"$expect": [VALUE, COND, MESSAGE]}: VALUE, or MESSAGE as the error when COND is false, null or
  // empty; COND and MESSAGE see VALUE as ${value}.
  Result<Json> expect(const Json& arg) {
    auto value = eval(arg.at(0));
    if (!value || value->is_discarded()) return value;
    bind("value", *value);
    auto cond = eval(arg.at(1));
    Result<Json> out = value;
    if (!cond) {
      out = cond;
    } else if (cond->is_discarded() || !truthy(*cond)) {
      auto message = eval(arg.at(2));
      out = message ? invalid(text_of(*message)) : message;
    }
    names_.pop_back();
    return out;
  }

  Source source_;
  std::vector<std::pair<std::string, Json>> names_;
};

}  // namespace

Result<nlohmann::ordered_json> render_sample_event(const SampleEvent& event, const RenderInput& input) {
  try {
    Renderer renderer(input.fixed);
    renderer.bind("account", input.account);
    renderer.bind("region", input.region);
    renderer.bind("epoch_ms", renderer.epoch_ms());
    for (auto it = event.options.begin(); it != event.options.end(); ++it) {
      Result<Json> value = absent();
      if (input.given.contains(it.key())) {
        value = input.given.at(it.key());
      } else if (!it.value().is_null()) {
        value = renderer.eval(it.value());
      }
      if (!value) return value;
      renderer.bind(it.key().substr(2), std::move(*value));
    }
    for (auto it = event.let.begin(); it != event.let.end(); ++it) {
      auto value = renderer.eval(it.value());
      if (!value) return value;
      renderer.bind(it.key(), std::move(*value));
    }
    return renderer.eval(event.shape);
  } catch (const std::exception& e) {
    return Error{ErrorKind::kInternal, "", fmt::format("sample event {} {}: {}", event.service, event.event, e.what())};
  }
}

}  // namespace lambdad::events
