#include "lambdad/http_front/payload_v2.hpp"

#include <charconv>

#include "lambdad/common/base64.hpp"
#include "payload_common.hpp"

namespace lambdad::http_front {

using nlohmann::json;

nlohmann::json build_event_v2(const RequestView& request, const V2Settings& settings, const RouteMatch* match) {
  const auto [raw_path, raw_query] = split_target(request.target);
  const bool url = settings.front == FrontKind::kFunctionUrl;
  const std::string route_key = match != nullptr ? match->route_key : "$default";

  json headers = json::object();
  json cookies = json::array();
  for (const auto& h : request.headers) {
    if (iequals(h.name, "cookie")) {
      for (auto& c : split_cookie_header(h.value)) cookies.push_back(std::move(c));
      continue;
    }
    const auto name = to_lower(h.name);
    auto it = headers.find(name);
    if (it == headers.end()) {
      headers[name] = h.value;
    } else {
      it->get_ref<std::string&>() += "," + h.value;
    }
  }
  add_forwarded_headers(headers, request);

  json event = json::object();
  event["version"] = "2.0";
  event["routeKey"] = route_key;
  event["rawPath"] = std::string(raw_path);
  event["rawQueryString"] = std::string(raw_query);
  if (!cookies.empty()) event["cookies"] = std::move(cookies);
  event["headers"] = std::move(headers);
  json query = json::object();
  for (const auto& [name, value] : parse_query(raw_query)) {
    auto it = query.find(name);
    if (it == query.end()) {
      query[name] = value;
    } else {
      it->get_ref<std::string&>() += "," + value;
    }
  }
  if (!query.empty()) event["queryStringParameters"] = std::move(query);

  const auto decoded_path = percent_decode(raw_path);
  json http = {{"method", request.method},
               {"path", decoded_path ? *decoded_path : std::string(raw_path)},
               {"protocol", request.protocol},
               {"sourceIp", request.peer_ip},
               {"userAgent", first_header(request.headers, "user-agent").value_or("")}};
  event["requestContext"] = {{"accountId", settings.account_id},
                             {"apiId", settings.api_id},
                             {"domainName", request.host},
                             {"domainPrefix", domain_prefix(request.host)},
                             {"http", std::move(http)},
                             {"requestId", request.request_id},
                             {"routeKey", route_key},
                             {"stage", settings.stage},
                             {"time", format_request_time(request.epoch_ms)},
                             {"timeEpoch", request.epoch_ms}};

  if (!request.body.empty()) {
    const auto type = first_header(request.headers, "content-type").value_or("");
    if (is_text_body(type, request.body)) {
      event["body"] = std::string(request.body);
      event["isBase64Encoded"] = false;
    } else {
      event["body"] = base64::encode(request.body);
      event["isBase64Encoded"] = true;
    }
  } else {
    event["isBase64Encoded"] = false;
  }

  if (url) {
    event["pathParameters"] = nullptr;
    event["stageVariables"] = nullptr;
  } else {
    if (match != nullptr && !match->path_parameters.empty()) event["pathParameters"] = match->path_parameters;
    if (!settings.stage_variables.empty()) event["stageVariables"] = settings.stage_variables;
  }
  return event;
}

Mapped map_response_v2(std::string_view result) {
  auto doc = json::parse(result, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return FrontError{FrontErrorKind::kMalformedResponse, "the result is not JSON"};

  HttpAnswer answer;
  if (!doc.is_object() || !doc.contains("statusCode")) {
    answer.status = 200;
    answer.headers.push_back({"Content-Type", "application/json"});
    answer.body = doc.is_string() ? doc.get<std::string>() : dump_json(doc);
    return answer;
  }

  const auto status = status_code(doc["statusCode"]);
  if (!status) return FrontError{FrontErrorKind::kMalformedResponse, "statusCode is not an HTTP status"};
  answer.status = *status;

  if (auto problem = read_headers_and_cookies(doc, "", answer)) return *problem;
  if (first_header(answer.headers, "content-type") == std::nullopt) {
    answer.headers.push_back({"Content-Type", "application/json"});
  }

  auto body = body_text(doc);
  if (!body) return FrontError{FrontErrorKind::kMalformedResponse, "body is not a string"};
  if (base64_flag(doc)) {
    auto bytes = base64::decode(*body);
    if (!bytes) return FrontError{FrontErrorKind::kMalformedResponse, "body is not base64"};
    answer.body = std::move(*bytes);
  } else {
    answer.body = std::move(*body);
  }
  return answer;
}

}  // namespace lambdad::http_front
