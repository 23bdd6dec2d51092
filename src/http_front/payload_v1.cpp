#include "lambdad/http_front/payload_v1.hpp"

#include <algorithm>

#include "lambdad/common/base64.hpp"
#include "payload_common.hpp"

namespace lambdad::http_front {

using nlohmann::json;

namespace {

// {name: last value} and {name: [values]}, both null when `pairs` is empty.
template <typename Pairs, typename Name, typename Value>
std::pair<json, json> single_and_multi(const Pairs& pairs, Name name_of, Value value_of) {
  json single = json::object();
  json multi = json::object();
  for (const auto& p : pairs) {
    const std::string name = name_of(p);
    single[name] = value_of(p);
    multi[name].push_back(value_of(p));
  }
  if (single.empty()) return {nullptr, nullptr};
  return {std::move(single), std::move(multi)};
}

FrontError malformed(std::string cause) { return FrontError{FrontErrorKind::kMalformedResponse, std::move(cause)}; }

}  // namespace

nlohmann::json build_event_v1(const RequestView& request, const V1Settings& settings, const RouteMatch& match) {
  const auto [raw_path, raw_query] = split_target(request.target);
  const bool rest = settings.front == FrontKind::kRestApi;

  auto [headers, multi_headers] =
      single_and_multi(request.headers, [](const Header& h) { return h.name; }, [](const Header& h) { return h.value; });
  const auto query_pairs = parse_query(raw_query);
  auto [query, multi_query] = single_and_multi(
      query_pairs, [](const auto& p) { return p.first; }, [](const auto& p) { return p.second; });

  json event = json::object();
  if (!rest) event["version"] = "1.0";
  event["resource"] = match.resource_path;
  event["path"] = std::string(raw_path);
  event["httpMethod"] = request.method;
  event["headers"] = std::move(headers);
  event["multiValueHeaders"] = std::move(multi_headers);
  event["queryStringParameters"] = std::move(query);
  event["multiValueQueryStringParameters"] = std::move(multi_query);
  event["pathParameters"] = match.path_parameters.empty() ? json(nullptr) : json(match.path_parameters);
  event["stageVariables"] = settings.stage_variables.empty() ? json(nullptr) : json(settings.stage_variables);

  const std::string context_path =
      settings.stage.empty() || settings.stage == "$default" ? std::string(raw_path) : "/" + settings.stage + std::string(raw_path);
  json identity = json::object();
  for (const char* member : {"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "accessKey",
                             "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user"}) {
    identity[member] = nullptr;
  }
  identity["sourceIp"] = request.peer_ip;
  identity["userAgent"] = first_header(request.headers, "user-agent").value_or("");
  event["requestContext"] = {{"resourceId", settings.resource_id},
                             {"resourcePath", match.resource_path},
                             {"httpMethod", request.method},
                             {"requestId", request.request_id},
                             {"requestTime", format_request_time(request.epoch_ms)},
                             {"requestTimeEpoch", request.epoch_ms},
                             {"path", context_path},
                             {"accountId", settings.account_id},
                             {"protocol", request.protocol},
                             {"stage", settings.stage},
                             {"domainName", request.host},
                             {"domainPrefix", domain_prefix(request.host)},
                             {"identity", std::move(identity)},
                             {"apiId", settings.api_id}};
  if (!rest) event["requestContext"]["routeKey"] = match.route_key;

  if (request.body.empty()) {
    event["body"] = nullptr;
    event["isBase64Encoded"] = false;
  } else {
    const auto type = first_header(request.headers, "content-type").value_or("");
    const bool binary = rest ? matches_media_type(type, settings.binary_media_types) : !is_text_body(type, request.body);
    if (binary) {
      event["body"] = base64::encode(request.body);
      event["isBase64Encoded"] = true;
    } else {
      event["body"] = std::string(request.body);
      event["isBase64Encoded"] = false;
    }
  }
  return event;
}

Mapped map_response_v1(std::string_view result, const V1Settings& settings, const RequestView& request) {
  const bool rest = settings.front == FrontKind::kRestApi;
  auto doc = json::parse(result, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return malformed("the result is not JSON");
  if (!doc.is_object()) return malformed("the result is not a JSON object");
  if (rest) {
    for (const auto& [key, value] : doc.items()) {
      if (key != "statusCode" && key != "headers" && key != "multiValueHeaders" && key != "body" &&
          key != "isBase64Encoded") {
        return malformed("the result has the key " + key);
      }
    }
  }

  HttpAnswer answer;
  const auto it_status = doc.find("statusCode");
  if (it_status == doc.end() || it_status->is_null()) {
    if (!rest) return malformed("the result has no statusCode");
    answer.status = 200;
  } else {
    const auto status = status_code(*it_status);
    if (!status) return malformed("statusCode is not an HTTP status");
    answer.status = *status;
  }

  if (auto it = doc.find("multiValueHeaders"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return malformed("multiValueHeaders is not an object");
    for (const auto& [name, values] : it->items()) {
      if (!values.is_array()) return malformed("multiValueHeaders." + name + " is not an array");
      for (const auto& v : values) {
        auto text = header_text(v);
        if (!text) return malformed("a value of multiValueHeaders." + name + " is not a string");
        answer.headers.push_back({name, std::move(*text)});
      }
    }
  }
  if (auto it = doc.find("headers"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return malformed("headers is not an object");
    for (const auto& [name, value] : it->items()) {
      auto text = header_text(value);
      if (!text) return malformed("header " + name + " is not a string");
      const Header h{name, std::move(*text)};
      if (std::find(answer.headers.begin(), answer.headers.end(), h) == answer.headers.end()) answer.headers.push_back(h);
    }
  }
  if (!first_header(answer.headers, "content-type")) answer.headers.push_back({"Content-Type", "application/json"});

  if (auto it = doc.find("isBase64Encoded"); it != doc.end() && !it->is_null() && !it->is_boolean()) {
    return malformed("isBase64Encoded is not a boolean");
  }
  auto body = body_text(doc);
  if (rest && doc.contains("body") && !doc["body"].is_null() && !doc["body"].is_string()) {
    return malformed("body is not a string");
  }
  bool decode = base64_flag(doc);
  if (decode && rest) {
    const auto accept = first_header(request.headers, "accept").value_or("");
    const auto type = first_header(answer.headers, "content-type").value_or("");
    decode = matches_media_type(accept, settings.binary_media_types) || matches_media_type(type, settings.binary_media_types);
  }
  if (decode) {
    auto bytes = base64::decode(*body);
    if (!bytes) return malformed("body is not base64");
    answer.body = std::move(*bytes);
  } else {
    answer.body = std::move(*body);
  }
  return answer;
}

}  // namespace lambdad::http_front
