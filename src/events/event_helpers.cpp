// Helpers that know the shapes of AWS's events: HTTP requests as API Gateway and load balancers
// pass them on, DynamoDB JSON, JSON given as an option. Headers travel as {"Name": [values...]},
// in the order they were first set; query strings as [[name, value], ...], in the order given.
#include "event_helpers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace lambdad::events::template_helpers {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// --query and --header items: NAME=VALUE each.
Result<Json> parse_pairs(const Json& items, std::string_view option) {
  Json pairs = Json::array();
  for (const auto& item : items) {
    const auto& text = item.get_ref<const std::string&>();
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) return invalid(fmt::format("{} '{}': expected NAME=VALUE", option, text));
    pairs.push_back(Json::array({text.substr(0, eq), text.substr(eq + 1)}));
  }
  return pairs;
}

// {"method": M, "path": P, "query": [...], "header": [...], "headers": {default headers, one value
// each, in the event's own case}} to {"method", "path", "query": [[name, value], ...], "headers":
// {"Name": [values...]}}: --header replaces a default of the same name (case insensitive), and a
// name it repeats keeps every value.
Result<Json> http_request(Args& a, Source&) {
  static constexpr std::array<std::string_view, 7> kMethods = {"GET",  "POST",   "PUT",    "PATCH",
                                                                "HEAD", "DELETE", "OPTIONS"};
  const Json& in = a[0];
  const auto method = upper(in.at("method").get<std::string>());
  if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
    return invalid(fmt::format("--method {}: expected GET, POST, PUT, PATCH, HEAD, DELETE or OPTIONS", method));
  }
  auto path = in.at("path").get<std::string>();
  if (path.find('?') != std::string::npos) return invalid("--path " + path + ": give the query string with --query");
  if (path.empty() || path[0] != '/') {
    // Not path.insert: GCC 12 at -O3 reports a false -Wrestrict for a string insert.
    std::string rooted(1, '/');
    rooted += path;
    path = std::move(rooted);
  }
  auto query = parse_pairs(in.at("query"), "--query");
  if (!query) return query;
  Json headers = Json::object();
  for (auto it = in.at("headers").begin(); it != in.at("headers").end(); ++it) {
    headers[it.key()] = Json::array({it.value()});
  }
  auto given = parse_pairs(in.at("header"), "--header");
  if (!given) return given;
  std::vector<std::string> seen;
  for (const auto& pair : *given) {
    const auto name = pair[0].get<std::string>();
    const bool again = std::find(seen.begin(), seen.end(), lower(name)) != seen.end();
    Json* slot = nullptr;
    for (auto it = headers.begin(); it != headers.end() && !slot; ++it) {
      if (lower(it.key()) == lower(name)) slot = &it.value();
    }
    if (!slot) {
      headers[name] = Json::array({pair[1]});
    } else {
      if (!again) slot->clear();
      slot->push_back(pair[1]);
    }
    seen.push_back(lower(name));
  }
  return Json{{"method", method}, {"path", path}, {"query", std::move(*query)}, {"headers", std::move(headers)}};
}

// Path parameters of a resource ("/items/{id}", "/{proxy+}") matched against a path: null when the
// resource has none; an error when the path does not match it.
Result<Json> path_parameters(std::string_view resource, std::string_view path, std::string_view option) {
  auto want = split(resource.substr(1), '/');
  auto have = split(path.substr(1), '/');
  Json params = Json::object();
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto w = want[i];
    const bool param = w.size() > 2 && w.front() == '{' && w.back() == '}';
    const bool greedy = param && w[w.size() - 2] == '+';
    if (greedy && i < have.size() && !have[i].empty()) {
      params[std::string(w.substr(1, w.size() - 3))] = std::string(path.substr(
          static_cast<std::size_t>(have[i].data() - path.data())));
      return params;
    }
    if (i >= have.size() || have.size() != want.size() || (!param && w != have[i]) || (param && have[i].empty())) {
      return invalid(fmt::format("{} {} does not match --path {}", option, resource, path));
    }
    if (param) params[std::string(w.substr(1, w.size() - 2))] = std::string(have[i]);
  }
  if (params.empty()) return Json(nullptr);
  return params;
}

// The path parameters of an HTTP API route key ("$default" or "METHOD /path/{param}").
Result<Json> route_parameters(Args& a, Source&) {
  const auto route_key = a[0].get<std::string>();
  const auto method = a[1].get<std::string>();
  if (route_key == "$default") return Json(nullptr);
  const auto space = route_key.find(' ');
  if (space == std::string::npos || route_key.find('/', space) != space + 1) {
    return invalid("--route-key " + route_key + ": expected $default or 'METHOD /PATH', e.g. 'GET /items/{id}'");
  }
  const auto route_method = route_key.substr(0, space);
  if (route_method != "ANY" && route_method != method) {
    return invalid("--route-key " + route_key + " does not match --method " + method);
  }
  return path_parameters(route_key.substr(space + 1), a[2].get<std::string>(), "--route-key");
}

// Payload 2.0 moves the Cookie header into "cookies", one entry per cookie.
Result<Json> cookies(Args& a, Source&) {
  Json out = Json::array();
  for (auto it = a[0].begin(); it != a[0].end(); ++it) {
    if (lower(it.key()) != "cookie") continue;
    for (const auto& value : it.value()) {
      for (auto c : split(value.get_ref<const std::string&>(), ';')) {
        while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
        if (!c.empty()) out.push_back(std::string(c));
      }
    }
  }
  return out;
}

Json encode_pairs(const Json& pairs) {
  Json out = Json::array();
  for (const auto& pair : pairs) {
    out.push_back(
        Json::array({url_encode(pair[0].get<std::string>(), ""), url_encode(pair[1].get<std::string>(), "")}));
  }
  return out;
}

// Each pair's value by name: the values of a name in order, the name where it first came.
Json group(const Json& pairs) {
  Json out = Json::object();
  for (const auto& pair : pairs) out[pair[0].get<std::string>()].push_back(pair[1]);
  return out;
}

// An object's members with each value made by `f`, the names lowercased or as they are.
template <typename F>
Json map_members(const Json& object, F f, bool lowercase = false) {
  Json out = Json::object();
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (lowercase) {
      out[lower(it.key())] = f(it.value());
    } else {
      out[it.key()] = f(it.value());
    }
  }
  return out;
}

Result<Json> json_option(const Json& text, const Json& option) {
  auto value = Json::parse(text.get<std::string>(), nullptr, false);
  if (value.is_discarded()) {
    return invalid(fmt::format("{}: not valid JSON: {}", option.get<std::string>(), text.get<std::string>()));
  }
  return value;
}

// DynamoDB JSON: {"Name": {"S": "x"}, ...}, each value one type descriptor.
Result<Json> attribute_map(Args& a, Source&) {
  auto value = json_option(a[0], a[1]);
  if (!value) return value;
  static constexpr std::array<std::string_view, 10> kTypes = {"S",  "N", "B", "SS",   "NS",
                                                               "BS", "M", "L", "NULL", "BOOL"};
  auto fail = [&](std::string_view why) {
    return invalid(fmt::format(
        "{}: {} (DynamoDB JSON, e.g. {{\"Id\": {{\"N\": \"101\"}}, \"Name\": {{\"S\": \"x\"}}}})",
        a[1].get<std::string>(), why));
  };
  if (!value->is_object()) return fail("expected an object of attributes");
  for (auto it = value->begin(); it != value->end(); ++it) {
    const auto& name = it.key();
    const auto& attr = it.value();
    if (!attr.is_object() || attr.size() != 1) return fail("attribute " + name + " is not {\"TYPE\": VALUE}");
    const auto& type = attr.begin().key();
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      return fail("attribute " + name + " has unknown type " + type);
    }
  }
  return value;
}

// About what DynamoDB counts for an item: names and values in bytes.
std::int64_t attribute_bytes(const Json& value) {
  if (value.is_string()) return static_cast<std::int64_t>(value.get_ref<const std::string&>().size());
  if (value.is_array() || value.is_object()) {
    std::int64_t total = 3;
    for (auto it = value.begin(); it != value.end(); ++it) {
      total += (value.is_object() ? static_cast<std::int64_t>(it.key().size()) : 0) + attribute_bytes(it.value());
    }
    return total;
  }
  return 1;
}

const Helper kAwsHelpers[] = {
    {"$http_request", 1, 1, &http_request},
    {"$path_parameters", 3, 3,
     [](Args& a, Source&) {
       return path_parameters(a[0].get<std::string>(), a[1].get<std::string>(), a[2].get<std::string>());
     }},
    {"$route_parameters", 3, 3, &route_parameters},
    {"$cookies", 1, 1, &cookies},
    {"$without", 2, 2,
     [](Args& a, Source&) -> Result<Json> {
       Json out = Json::object();
       for (auto it = a[0].begin(); it != a[0].end(); ++it) {
         if (lower(it.key()) != lower(a[1].get<std::string>())) out[it.key()] = it.value();
       }
       return out;
     }},
    {"$group", 1, 1, [](Args& a, Source&) -> Result<Json> { return group(a[0]); }},
    {"$last", 1, 1,
     [](Args& a, Source&) -> Result<Json> { return map_members(a[0], [](const Json& v) { return v.back(); }); }},
    {"$join", 1, 1,
     [](Args& a, Source&) -> Result<Json> {
       return map_members(a[0], [](const Json& values) {
         std::string text;
         for (const auto& v : values) {
           if (!text.empty()) text += ',';
           text += v.get<std::string>();
         }
         return Json(text);
       });
     }},
    {"$lower_names", 1, 1,
     [](Args& a, Source&) -> Result<Json> { return map_members(a[0], [](const Json& v) { return v; }, true); }},
    {"$encode_pairs", 1, 1, [](Args& a, Source&) -> Result<Json> { return encode_pairs(a[0]); }},
    {"$query_string", 1, 1,
     [](Args& a, Source&) -> Result<Json> {
       std::string raw;
       for (const auto& pair : encode_pairs(a[0])) {
         if (!raw.empty()) raw += '&';
         raw += pair[0].get<std::string>();
         raw += '=';
         raw += pair[1].get<std::string>();
       }
       return Json(raw);
     }},
    {"$json", 2, 2, [](Args& a, Source&) { return json_option(a[0], a[1]); }},
    {"$dynamodb_json", 2, 2, &attribute_map},
    {"$attribute_bytes", 1, 16,
     [](Args& a, Source&) -> Result<Json> {
       std::int64_t total = 0;
       for (const auto& value : a) total += attribute_bytes(value);
       return Json(total);
     }},
};

}  // namespace

std::span<const Helper> aws_helpers() { return kAwsHelpers; }

}  // namespace lambdad::events::template_helpers
