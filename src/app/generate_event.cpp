#include "generate_event.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "lambdad/common/base64.hpp"

namespace lambdad::app {
namespace {

using Json = nlohmann::ordered_json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

Error invalid(std::string message) { return Error{ErrorKind::kInvalidInput, "", std::move(message)}; }

// ---------------------------------------------------------------------------------------------
// Ids and time. One generator per event; with --fixed it starts from a constant seed and a
// constant clock, so the same command prints the same bytes.

constexpr std::uint64_t kFixedSeed = 0x6c616d6264616421;  // "lambdad!"
constexpr std::int64_t kFixedEpochMs = 1717243200123;     // 2024-06-01T12:00:00.123Z

class Context {
 public:
  explicit Context(bool fixed)
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
    const std::string h = to_hex(b, false);
    return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4),
                       h.substr(20));
  }
  std::string hex(std::size_t n, bool uppercase = false) {
    return pick(n, uppercase ? "0123456789ABCDEF" : "0123456789abcdef");
  }
  std::string digits(std::size_t n) { return pick(n, "0123456789"); }
  std::string upper_alnum(std::size_t n) { return pick(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"); }
  std::string lower_alnum(std::size_t n) { return pick(n, "abcdefghijklmnopqrstuvwxyz0123456789"); }

  static std::string to_hex(std::string_view b, bool uppercase) {
    const char* alphabet = uppercase ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    for (char ch : b) {
      const auto c = static_cast<unsigned char>(ch);
      out.push_back(alphabet[c >> 4]);
      out.push_back(alphabet[c & 0x0f]);
    }
    return out;
  }

 private:
  std::string pick(std::size_t n, std::string_view alphabet) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[rng_() % alphabet.size()]);
    return out;
  }
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

std::tm utc(std::int64_t epoch_ms) {
  auto seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  return tm;
}

// "2024-06-01T12:00:00.123Z" (S3, SNS) or "2024-06-01T12:00:00Z" (EventBridge).
std::string iso8601(std::int64_t epoch_ms, bool millis) {
  auto tm = utc(epoch_ms);
  auto text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (millis) text += fmt::format(".{:03}", epoch_ms % 1000);
  return text + "Z";
}

// API Gateway's request time: "01/Jun/2024:12:00:00 +0000" (English months whatever the locale).
std::string request_time(std::int64_t epoch_ms) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto tm = utc(epoch_ms);
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon)],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// X-Ray's trace id as load balancers and API Gateway add it.
std::string trace_id(Context& ctx) {
  return fmt::format("Root=1-{:08x}-{}", ctx.epoch_ms() / 1000, ctx.hex(24));
}

// ---------------------------------------------------------------------------------------------
// Encodings.

std::string md5_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  return Context::to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), length), false);
}

Result<std::string> gzip(std::string_view data) {
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
  return out;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// Percent-encoding; `keep` lists further characters left as they are.
std::string url_encode(std::string_view text, std::string_view keep = "") {
  std::string out;
  for (char c : text) {
    if (unreserved(c) || keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// S3 notifications carry the key form-encoded: "photos/my cat.jpg" -> "photos/my+cat.jpg".
std::string s3_event_key(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == ' ') {
      out.push_back('+');
    } else {
      out += url_encode(std::string_view(&c, 1), "/");
    }
  }
  return out;
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

// ---------------------------------------------------------------------------------------------
// Option values.

template <typename T>
T value_or(const std::optional<T>& value, T fallback) {
  return value ? *value : std::move(fallback);
}

Result<Pairs> parse_pairs(const std::vector<std::string>& items, std::string_view option) {
  Pairs pairs;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid(fmt::format("{} '{}': expected NAME=VALUE", option, item));
    }
    pairs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return pairs;
}

Result<int> record_count(const EventOptions& o) {
  const auto n = value_or(o.count, std::int64_t{1});
  if (n < 1 || n > 10000) return invalid(fmt::format("--count {}: expected 1 to 10000 records", n));
  return static_cast<int>(n);
}

Result<std::string> http_method(const EventOptions& o) {
  static constexpr std::array<std::string_view, 7> kMethods = {"GET",  "POST",   "PUT",    "PATCH",
                                                                "HEAD", "DELETE", "OPTIONS"};
  auto method = upper(value_or(o.method, std::string("GET")));
  for (auto m : kMethods) {
    if (m == method) return method;
  }
  return invalid(fmt::format("--method {}: expected GET, POST, PUT, PATCH, HEAD, DELETE or OPTIONS", method));
}

Result<std::string> http_path(const EventOptions& o) {
  auto path = value_or(o.path, std::string("/hello"));
  if (path.find('?') != std::string::npos) return invalid("--path " + path + ": give the query string with --query");
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  return path;
}

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

Result<Json> json_option(const std::optional<std::string>& text, std::string_view option, Json fallback) {
  if (!text) return fallback;
  auto value = Json::parse(*text, nullptr, false);
  if (value.is_discarded()) return invalid(fmt::format("{}: not valid JSON: {}", option, *text));
  return value;
}

// DynamoDB JSON: {"Name": {"S": "x"}, ...}, each value one type descriptor.
Result<Json> attribute_map(const std::optional<std::string>& text, std::string_view option, Json fallback) {
  auto value = json_option(text, option, std::move(fallback));
  if (!value) return value;
  static constexpr std::array<std::string_view, 10> kTypes = {"S",  "N", "B", "SS",   "NS",
                                                               "BS", "M", "L", "NULL", "BOOL"};
  auto fail = [&](std::string_view why) {
    return invalid(fmt::format(
        "{}: {} (DynamoDB JSON, e.g. {{\"Id\": {{\"N\": \"101\"}}, \"Name\": {{\"S\": \"x\"}}}})", option, why));
  };
  if (!value->is_object()) return fail("expected an object of attributes");
  for (auto it = value->begin(); it != value->end(); ++it) {
    const auto& name = it.key();
    const auto& attr = it.value();
    if (!attr.is_object() || attr.size() != 1) return fail("attribute " + name + " is not {\"TYPE\": VALUE}");
    const auto& type = attr.begin().key();
    bool known = false;
    for (auto t : kTypes) known = known || t == type;
    if (!known) return fail("attribute " + name + " has unknown type " + type);
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

// HTTP headers as one event carries them: the defaults, then --header in order (same name, case
// insensitive: the later value replaces, or with multi_value both are kept).
struct Headers {
  std::vector<std::pair<std::string, std::vector<std::string>>> entries;

  void set(const std::string& name, std::string value, bool append) {
    for (auto& [n, values] : entries) {
      if (lower(n) == lower(name)) {
        if (!append) values.clear();
        values.push_back(std::move(value));
        return;
      }
    }
    entries.push_back({name, {std::move(value)}});
  }
  Json single(bool lowercase) const {
    Json out = Json::object();
    for (const auto& [n, values] : entries) out[lowercase ? lower(n) : n] = values.back();
    return out;
  }
  Json multi() const {
    Json out = Json::object();
    for (const auto& [n, values] : entries) out[n] = values;
    return out;
  }
  // HTTP API v2: names lowercase, repeated values joined by commas.
  Json joined() const {
    Json out = Json::object();
    for (const auto& [n, values] : entries) {
      std::string text;
      for (const auto& v : values) text += (text.empty() ? "" : ",") + v;
      out[lower(n)] = text;
    }
    return out;
  }
};

Result<Headers> request_headers(const EventOptions& o, Headers defaults) {
  auto pairs = parse_pairs(o.header, "--header");
  if (!pairs) return pairs.error();
  std::vector<std::string> seen;
  for (auto& [name, value] : *pairs) {
    const bool again = std::find(seen.begin(), seen.end(), lower(name)) != seen.end();
    defaults.set(name, value, again);
    seen.push_back(lower(name));
  }
  return defaults;
}

std::string content_type(const std::optional<std::string>& body) {
  return body && nlohmann::json::accept(*body) ? "application/json" : "text/plain";
}

// ---------------------------------------------------------------------------------------------
// The events. Each builder takes the options and the id source and returns the whole event.

Json s3_record(const EventOptions& o, Context& ctx, std::string_view event_name, Json object) {
  const auto bucket = value_or(o.bucket, std::string("example-bucket"));
  Json record;
  record["eventVersion"] = "2.1";
  record["eventSource"] = "aws:s3";
  record["awsRegion"] = o.region;
  record["eventTime"] = iso8601(ctx.epoch_ms(), true);
  record["eventName"] = event_name;
  record["userIdentity"] = {{"principalId", "AWS:AIDA" + ctx.upper_alnum(17)}};
  record["requestParameters"] = {{"sourceIPAddress", "127.0.0.1"}};
  record["responseElements"] = {{"x-amz-request-id", ctx.hex(16, true)},
                                {"x-amz-id-2", base64::encode(ctx.bytes(48))}};
  record["s3"] = {{"s3SchemaVersion", "1.0"},
                  {"configurationId", "example-notification"},
                  {"bucket",
                   {{"name", bucket},
                    {"ownerIdentity", {{"principalId", ctx.upper_alnum(14)}}},
                    {"arn", "arn:aws:s3:::" + bucket}}},
                  {"object", std::move(object)}};
  return Json{{"Records", Json::array({std::move(record)})}};
}

Result<Json> s3_put(const EventOptions& o, Context& ctx) {
  const auto size = value_or(o.size, std::int64_t{1024});
  if (size < 0) return invalid(fmt::format("--size {}: expected a size in bytes", size));
  Json object;
  object["key"] = s3_event_key(value_or(o.key, std::string("example/object.txt")));
  object["size"] = size;
  object["eTag"] = value_or(o.etag, std::string("d41d8cd98f00b204e9800998ecf8427e"));
  object["sequencer"] = ctx.hex(18, true);
  return s3_record(o, ctx, "ObjectCreated:Put", std::move(object));
}

Result<Json> s3_delete(const EventOptions& o, Context& ctx) {
  Json object;
  object["key"] = s3_event_key(value_or(o.key, std::string("example/object.txt")));
  if (o.etag) object["eTag"] = *o.etag;
  object["sequencer"] = ctx.hex(18, true);
  return s3_record(o, ctx, "ObjectRemoved:Delete", std::move(object));
}

Result<Json> sqs_receive_message(const EventOptions& o, Context& ctx) {
  auto count = record_count(o);
  if (!count) return count.error();
  const auto body = value_or(o.body, std::string("Hello from SQS!"));
  const auto queue = value_or(o.queue_name, std::string("example-queue"));
  const auto sender = "AIDA" + ctx.upper_alnum(17);
  Json records = Json::array();
  for (int i = 0; i < *count; ++i) {
    const auto sent = ctx.epoch_ms() + i;
    Json r;
    r["messageId"] = ctx.uuid();
    r["receiptHandle"] = "AQEB" + base64::encode(ctx.bytes(96));
    r["body"] = body;
    r["attributes"] = {{"ApproximateReceiveCount", "1"},
                       {"SentTimestamp", std::to_string(sent)},
                       {"SenderId", sender},
                       {"ApproximateFirstReceiveTimestamp", std::to_string(sent + 5)}};
    r["messageAttributes"] = Json::object();
    r["md5OfBody"] = md5_hex(body);
    r["eventSource"] = "aws:sqs";
    r["eventSourceARN"] = fmt::format("arn:aws:sqs:{}:{}:{}", o.region, o.account, queue);
    r["awsRegion"] = o.region;
    records.push_back(std::move(r));
  }
  return Json{{"Records", std::move(records)}};
}

Result<Json> sns_notification(const EventOptions& o, Context& ctx) {
  if (o.message.size() > 1) return invalid("sns notification takes one --message");
  const auto topic = value_or(o.topic_arn, fmt::format("arn:aws:sns:{}:{}:example-topic", o.region, o.account));
  if (split(topic, ':').size() != 6 || topic.rfind("arn:", 0) != 0 || split(topic, ':')[2] != "sns") {
    return invalid("--topic-arn " + topic + ": expected arn:aws:sns:REGION:ACCOUNT:TOPIC");
  }
  const auto subscription = topic + ":" + ctx.uuid();
  const auto endpoint = fmt::format("https://sns.{}.amazonaws.com", o.region);
  Json sns;
  sns["Type"] = "Notification";
  sns["MessageId"] = ctx.uuid();
  sns["TopicArn"] = topic;
  sns["Subject"] = value_or(o.subject, std::string("Example subject"));
  sns["Message"] = o.message.empty() ? std::string("Hello from SNS!") : o.message.front();
  sns["Timestamp"] = iso8601(ctx.epoch_ms(), true);
  sns["SignatureVersion"] = "1";
  sns["Signature"] = base64::encode(ctx.bytes(256));
  sns["SigningCertUrl"] = fmt::format("{}/SimpleNotificationService-{}.pem", endpoint, ctx.hex(32));
  sns["UnsubscribeUrl"] =
      fmt::format("{}/?Action=Unsubscribe&SubscriptionArn={}", endpoint, url_encode(subscription, ":"));
  sns["MessageAttributes"] = Json::object();
  Json record;
  record["EventSource"] = "aws:sns";
  record["EventVersion"] = "1.0";
  record["EventSubscriptionArn"] = subscription;
  record["Sns"] = std::move(sns);
  return Json{{"Records", Json::array({std::move(record)})}};
}

// An HTTP request as the options describe it, shared by the API Gateway and ALB events.
struct HttpRequest {
  std::string method;
  std::string path;
  Pairs query;
  Headers headers;
};

// The headers a client and the front door add, in the event's own case; --header replaces or adds.
struct HeaderStyle {
  bool lowercase;
  std::string_view user_agent;
  std::string_view port;
  std::string_view proto;
};

Result<HttpRequest> http_request(const EventOptions& o, Context& ctx, const std::string& host, HeaderStyle style) {
  auto method = http_method(o);
  if (!method) return method.error();
  auto path = http_path(o);
  if (!path) return path.error();
  auto query = parse_pairs(o.query, "--query");
  if (!query) return query.error();
  Headers defaults;
  auto add = [&](std::string name, std::string value) {
    defaults.set(style.lowercase ? lower(std::move(name)) : std::move(name), std::move(value), false);
  };
  add("Accept", "*/*");
  if (o.body) add("Content-Type", content_type(o.body));
  if (o.body && style.lowercase) add("Content-Length", std::to_string(o.body->size()));
  add("Host", host);
  add("User-Agent", std::string(style.user_agent));
  add("X-Amzn-Trace-Id", trace_id(ctx));
  add("X-Forwarded-For", "127.0.0.1");
  add("X-Forwarded-Port", std::string(style.port));
  add("X-Forwarded-Proto", std::string(style.proto));
  auto headers = request_headers(o, std::move(defaults));
  if (!headers) return headers.error();
  return HttpRequest{std::move(*method), std::move(*path), std::move(*query), std::move(*headers)};
}

// REST API (payload 1.0) query parameters: last value per name, and every value; null when none.
std::pair<Json, Json> query_parameters(const Pairs& query) {
  if (query.empty()) return {Json(nullptr), Json(nullptr)};
  Json single = Json::object();
  Json multi = Json::object();
  for (const auto& [name, value] : query) {
    single[name] = value;
    multi[name].push_back(value);
  }
  return {single, multi};
}

// The caller as API Gateway describes an unauthenticated one.
Json rest_identity(const std::string& user_agent) {
  Json identity;
  for (auto field : {"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller"}) identity[field] = nullptr;
  identity["sourceIp"] = "127.0.0.1";
  for (auto field : {"principalOrgId", "accessKey", "cognitoAuthenticationType", "cognitoAuthenticationProvider",
                     "userArn"}) {
    identity[field] = nullptr;
  }
  identity["userAgent"] = user_agent;
  identity["user"] = nullptr;
  return identity;
}

Result<Json> apigateway_aws_proxy(const EventOptions& o, Context& ctx) {
  const auto api_id = ctx.lower_alnum(10);
  const auto domain = fmt::format("{}.execute-api.{}.amazonaws.com", api_id, o.region);
  auto request = http_request(o, ctx, domain, {false, "Custom User Agent String", "443", "https"});
  if (!request) return request.error();
  const auto resource = value_or(o.resource, std::string(request->path == "/" ? "/" : "/{proxy+}"));
  if (resource.empty() || resource[0] != '/') return invalid("--resource " + resource + ": expected /PATH");
  auto params = path_parameters(resource, request->path, "--resource");
  if (!params) return params.error();
  const auto stage = value_or(o.stage, std::string("prod"));

  Json context;
  context["resourceId"] = ctx.lower_alnum(6);
  context["resourcePath"] = resource;
  context["httpMethod"] = request->method;
  context["extendedRequestId"] = base64::encode(ctx.bytes(11));
  context["requestTime"] = request_time(ctx.epoch_ms());
  context["path"] = "/" + stage + request->path;
  context["accountId"] = o.account;
  context["protocol"] = "HTTP/1.1";
  context["stage"] = stage;
  context["domainPrefix"] = api_id;
  context["requestTimeEpoch"] = ctx.epoch_ms();
  context["requestId"] = ctx.uuid();
  context["identity"] = rest_identity("Custom User Agent String");
  context["domainName"] = domain;
  context["apiId"] = api_id;

  auto [single_query, multi_query] = query_parameters(request->query);
  Json event;
  event["resource"] = resource;
  event["path"] = request->path;
  event["httpMethod"] = request->method;
  event["headers"] = request->headers.single(false);
  event["multiValueHeaders"] = request->headers.multi();
  event["queryStringParameters"] = std::move(single_query);
  event["multiValueQueryStringParameters"] = std::move(multi_query);
  event["pathParameters"] = std::move(*params);
  event["stageVariables"] = nullptr;
  event["requestContext"] = std::move(context);
  event["body"] = o.body ? Json(*o.body) : Json(nullptr);
  event["isBase64Encoded"] = false;
  return event;
}

// The path parameters of an HTTP API route key ("$default" or "METHOD /path/{param}").
Result<Json> route_parameters(const std::string& route_key, const HttpRequest& request) {
  if (route_key == "$default") return Json(nullptr);
  const auto space = route_key.find(' ');
  if (space == std::string::npos || route_key.find('/', space) != space + 1) {
    return invalid("--route-key " + route_key + ": expected $default or 'METHOD /PATH', e.g. 'GET /items/{id}'");
  }
  const auto route_method = route_key.substr(0, space);
  if (route_method != "ANY" && route_method != request.method) {
    return invalid("--route-key " + route_key + " does not match --method " + request.method);
  }
  return path_parameters(route_key.substr(space + 1), request.path, "--route-key");
}

// Payload 2.0 moves the Cookie header into "cookies", one entry per cookie.
Json take_cookies(Headers& headers) {
  Json cookies = Json::array();
  std::erase_if(headers.entries, [&](const auto& entry) {
    if (lower(entry.first) != "cookie") return false;
    for (const auto& value : entry.second) {
      for (auto c : split(value, ';')) {
        while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
        if (!c.empty()) cookies.push_back(std::string(c));
      }
    }
    return true;
  });
  return cookies;
}

// Payload 2.0 query: the raw string as sent, and values of a repeated name joined by commas.
std::pair<std::string, Json> http_api_query(const Pairs& query) {
  std::string raw;
  Json params = Json::object();
  for (const auto& [name, value] : query) {
    raw += (raw.empty() ? "" : "&") + url_encode(name) + "=" + url_encode(value);
    auto& slot = params[name];
    slot = slot.is_null() ? value : slot.get<std::string>() + "," + value;
  }
  return {raw, params};
}

Result<Json> apigateway_http_api_proxy(const EventOptions& o, Context& ctx) {
  const auto api_id = ctx.lower_alnum(10);
  const auto domain = fmt::format("{}.execute-api.{}.amazonaws.com", api_id, o.region);
  auto request = http_request(o, ctx, domain, {true, "curl/8.5.0", "443", "https"});
  if (!request) return request.error();
  const auto route_key = value_or(o.route_key, request->method + " " + request->path);
  auto params = route_parameters(route_key, *request);
  if (!params) return params.error();
  // A named stage is part of the URL, so of rawPath; $default is served at the root.
  const auto stage = value_or(o.stage, std::string("$default"));
  const auto raw_path = stage == "$default" ? request->path : "/" + stage + request->path;
  auto cookies = take_cookies(request->headers);
  auto headers = request->headers.joined();
  auto [raw_query, query_params] = http_api_query(request->query);

  Json context;
  context["accountId"] = o.account;
  context["apiId"] = api_id;
  context["domainName"] = domain;
  context["domainPrefix"] = api_id;
  context["http"] = {{"method", request->method},
                     {"path", raw_path},
                     {"protocol", "HTTP/1.1"},
                     {"sourceIp", "127.0.0.1"},
                     {"userAgent", headers.value("user-agent", "")}};
  context["requestId"] = base64::encode(ctx.bytes(11));
  context["routeKey"] = route_key;
  context["stage"] = stage;
  context["time"] = request_time(ctx.epoch_ms());
  context["timeEpoch"] = ctx.epoch_ms();

  Json event;
  event["version"] = "2.0";
  event["routeKey"] = route_key;
  event["rawPath"] = raw_path;
  event["rawQueryString"] = raw_query;
  if (!cookies.empty()) event["cookies"] = std::move(cookies);
  event["headers"] = std::move(headers);
  if (!request->query.empty()) event["queryStringParameters"] = std::move(query_params);
  event["requestContext"] = std::move(context);
  if (o.body) event["body"] = *o.body;
  if (!params->is_null()) event["pathParameters"] = std::move(*params);
  event["isBase64Encoded"] = false;
  return event;
}

Result<Json> alb_request(const EventOptions& o, Context& ctx) {
  const auto target_group =
      value_or(o.target_group_arn, fmt::format("arn:aws:elasticloadbalancing:{}:{}:targetgroup/example-targets/{}",
                                               o.region, o.account, ctx.hex(16)));
  if (target_group.rfind("arn:", 0) != 0 || target_group.find(":targetgroup/") == std::string::npos) {
    return invalid("--target-group-arn " + target_group +
                   ": expected arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID");
  }
  const auto host = fmt::format("example-alb-{}.{}.elb.amazonaws.com", ctx.digits(9), o.region);
  auto request = http_request(o, ctx, host, {true, "curl/8.5.0", "80", "http"});
  if (!request) return request.error();
  // Without multi-value headers (the target group's default) the last value wins, and query values
  // arrive as the client encoded them.
  Json query_params = Json::object();
  for (const auto& [name, value] : request->query) query_params[url_encode(name)] = url_encode(value);

  Json event;
  event["requestContext"] = {{"elb", {{"targetGroupArn", target_group}}}};
  event["httpMethod"] = request->method;
  event["path"] = request->path;
  event["queryStringParameters"] = std::move(query_params);
  event["headers"] = request->headers.single(true);
  event["body"] = value_or(o.body, std::string());
  event["isBase64Encoded"] = false;
  return event;
}

Json eventbridge_envelope(const EventOptions& o, Context& ctx, std::string detail_type, std::string source,
                          Json resources, Json detail) {
  Json event;
  event["version"] = "0";
  event["id"] = ctx.uuid();
  event["detail-type"] = std::move(detail_type);
  event["source"] = std::move(source);
  event["account"] = o.account;
  event["time"] = iso8601(ctx.epoch_ms(), false);
  event["region"] = o.region;
  event["resources"] = std::move(resources);
  event["detail"] = std::move(detail);
  return event;
}

Result<Json> eventbridge_event(const EventOptions& o, Context& ctx) {
  auto detail = json_option(o.detail, "--detail", Json{{"message", "Hello from EventBridge!"}});
  if (!detail) return detail.error();
  if (!detail->is_object()) return invalid("--detail: EventBridge requires a JSON object");
  const auto source = value_or(o.source, std::string("com.example.orders"));
  if (source.empty()) return invalid("--source: must not be empty");
  return eventbridge_envelope(o, ctx, value_or(o.detail_type, std::string("Order Placed")), source,
                              Json(o.resource_arn), std::move(*detail));
}

Result<Json> eventbridge_schedule(const EventOptions& o, Context& ctx) {
  const auto rule = value_or(o.rule, std::string("example-schedule"));
  if (rule.empty() || rule.find('/') != std::string::npos) return invalid("--rule " + rule + ": expected a rule name");
  auto resources = Json::array({fmt::format("arn:aws:events:{}:{}:rule/{}", o.region, o.account, rule)});
  return eventbridge_envelope(o, ctx, "Scheduled Event", "aws.events", std::move(resources), Json::object());
}

Result<Json> dynamodb_update(const EventOptions& o, Context& ctx) {
  auto keys = attribute_map(o.keys, "--keys", Json{{"Id", {{"N", "101"}}}});
  if (!keys) return keys.error();
  // Unless given, the images hold the keys and one changed attribute.
  Json new_default = *keys;
  new_default["Message"] = {{"S", "shipped"}};
  Json old_default = *keys;
  old_default["Message"] = {{"S", "pending"}};
  auto new_image = attribute_map(o.new_image, "--new-image", std::move(new_default));
  if (!new_image) return new_image.error();
  auto old_image = attribute_map(o.old_image, "--old-image", std::move(old_default));
  if (!old_image) return old_image.error();
  const auto table = value_or(o.table, std::string("ExampleTable"));
  auto stream_label = iso8601(ctx.epoch_ms(), true);
  stream_label.pop_back();  // a stream label is the creation time without the zone

  Json ddb;
  ddb["ApproximateCreationDateTime"] = ctx.epoch_ms() / 1000;
  ddb["Keys"] = *keys;
  ddb["NewImage"] = *new_image;
  ddb["OldImage"] = *old_image;
  ddb["SequenceNumber"] = ctx.digits(21);
  ddb["SizeBytes"] = attribute_bytes(*keys) + attribute_bytes(*new_image) + attribute_bytes(*old_image);
  ddb["StreamViewType"] = "NEW_AND_OLD_IMAGES";
  Json record;
  record["eventID"] = ctx.hex(32);
  record["eventName"] = "MODIFY";
  record["eventVersion"] = "1.1";
  record["eventSource"] = "aws:dynamodb";
  record["awsRegion"] = o.region;
  record["dynamodb"] = std::move(ddb);
  record["eventSourceARN"] =
      fmt::format("arn:aws:dynamodb:{}:{}:table/{}/stream/{}", o.region, o.account, table, stream_label);
  return Json{{"Records", Json::array({std::move(record)})}};
}

Result<Json> kinesis_get_records(const EventOptions& o, Context& ctx) {
  auto count = record_count(o);
  if (!count) return count.error();
  const auto data = base64::encode(value_or(o.data, std::string("Hello from Kinesis!")));
  const auto stream = value_or(o.stream, std::string("example-stream"));
  const auto shard = "shardId-000000000000";
  const auto sequence_prefix = "4959" + ctx.digits(32);  // then 20 digits that grow per record
  Json records = Json::array();
  for (int i = 0; i < *count; ++i) {
    const auto sequence = fmt::format("{}{:020}", sequence_prefix, i + 1);
    Json kinesis;
    kinesis["kinesisSchemaVersion"] = "1.0";
    kinesis["partitionKey"] = value_or(o.partition_key, std::string("partition-1"));
    kinesis["sequenceNumber"] = sequence;
    kinesis["data"] = data;
    kinesis["approximateArrivalTimestamp"] = static_cast<double>(ctx.epoch_ms() + i) / 1000.0;
    Json r;
    r["kinesis"] = std::move(kinesis);
    r["eventSource"] = "aws:kinesis";
    r["eventVersion"] = "1.0";
    r["eventID"] = fmt::format("{}:{}", shard, sequence);
    r["eventName"] = "aws:kinesis:record";
    r["invokeIdentityArn"] = fmt::format("arn:aws:iam::{}:role/lambda-kinesis-role", o.account);
    r["awsRegion"] = o.region;
    r["eventSourceARN"] = fmt::format("arn:aws:kinesis:{}:{}:stream/{}", o.region, o.account, stream);
    records.push_back(std::move(r));
  }
  return Json{{"Records", std::move(records)}};
}

Result<Json> cloudwatch_logs(const EventOptions& o, Context& ctx) {
  const auto messages = o.message.empty()
                            ? std::vector<std::string>{"[INFO] first example log message",
                                                       "[ERROR] second example log message"}
                            : o.message;
  const auto date = iso8601(ctx.epoch_ms(), false).substr(0, 10);
  Json log_events = Json::array();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto at = ctx.epoch_ms() + static_cast<std::int64_t>(i);
    log_events.push_back(Json{{"id", ctx.digits(56)}, {"timestamp", at}, {"message", messages[i]}});
  }
  Json payload;
  payload["messageType"] = "DATA_MESSAGE";
  payload["owner"] = o.account;
  payload["logGroup"] = value_or(o.log_group, std::string("/aws/lambda/example-function"));
  payload["logStream"] = value_or(
      o.log_stream, fmt::format("{}/{}/{}/[$LATEST]{}", date.substr(0, 4), date.substr(5, 2), date.substr(8, 2),
                                ctx.hex(32)));
  payload["subscriptionFilters"] = Json::array({"example-filter"});
  payload["logEvents"] = std::move(log_events);
  auto zipped = gzip(payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!zipped) return zipped.error();
  return Json{{"awslogs", {{"data", base64::encode(*zipped)}}}};
}

// ---------------------------------------------------------------------------------------------
// The table: every SERVICE EVENT, what it is and which options it takes (besides the common
// --account, --region and --fixed).

struct EventSpec {
  std::string_view service;
  std::string_view event;
  std::string_view summary;
  std::string_view options;  // space separated
  Result<Json> (*build)(const EventOptions&, Context&);
};

constexpr std::array<EventSpec, 12> kEvents = {{
    {"s3", "put", "an object was created (ObjectCreated:Put)", "--bucket --key --size --etag", &s3_put},
    {"s3", "delete", "an object was deleted (ObjectRemoved:Delete)", "--bucket --key --etag", &s3_delete},
    {"sqs", "receive-message", "a batch of queue messages", "--body --queue-name --count", &sqs_receive_message},
    {"sns", "notification", "a topic notification", "--message --subject --topic-arn", &sns_notification},
    {"apigateway", "aws-proxy", "a REST API proxy request (payload 1.0)",
     "--method --path --body --resource --stage --query --header", &apigateway_aws_proxy},
    {"apigateway", "http-api-proxy", "an HTTP API request (payload 2.0)",
     "--method --path --body --stage --query --header --route-key", &apigateway_http_api_proxy},
    {"eventbridge", "event", "a custom event on a bus", "--source --detail-type --detail --resource-arn",
     &eventbridge_event},
    {"eventbridge", "schedule", "a scheduled rule firing", "--rule", &eventbridge_schedule},
    {"dynamodb", "update", "a stream record of an item update (MODIFY)", "--table --keys --new-image --old-image",
     &dynamodb_update},
    {"kinesis", "get-records", "a batch of stream records", "--stream --data --partition-key --count",
     &kinesis_get_records},
    {"cloudwatch", "logs", "a log subscription delivery (gzip + base64)", "--log-group --log-stream --message",
     &cloudwatch_logs},
    {"alb", "request", "a request to a target group", "--method --path --body --query --header --target-group-arn",
     &alb_request},
}};

using Member = std::variant<std::optional<std::string> EventOptions::*, std::optional<std::int64_t> EventOptions::*,
                            std::vector<std::string> EventOptions::*>;

struct OptionField {
  std::string_view name;
  std::string_view help;
  Member member;
};

constexpr std::array<OptionField, 32> kOptionFields = {{
    {"--bucket", "S3 bucket name", &EventOptions::bucket},
    {"--key", "S3 object key", &EventOptions::key},
    {"--size", "S3 object size in bytes", &EventOptions::size},
    {"--etag", "S3 object ETag", &EventOptions::etag},
    {"--body", "Message or request body", &EventOptions::body},
    {"--queue-name", "SQS queue name (in eventSourceARN)", &EventOptions::queue_name},
    {"--count", "Number of records (1-10000)", &EventOptions::count},
    {"--message", "SNS message; CloudWatch log message (repeatable)", &EventOptions::message},
    {"--subject", "SNS subject", &EventOptions::subject},
    {"--topic-arn", "SNS topic ARN", &EventOptions::topic_arn},
    {"--method", "HTTP method (default GET)", &EventOptions::method},
    {"--path", "Request path (default /hello)", &EventOptions::path},
    {"--resource", "REST API resource, e.g. /items/{id} (default /{proxy+})", &EventOptions::resource},
    {"--stage", "API stage", &EventOptions::stage},
    {"--query", "Query parameter NAME=VALUE (repeatable)", &EventOptions::query},
    {"--header", "Request header NAME=VALUE (repeatable)", &EventOptions::header},
    {"--route-key", "HTTP API route key (default 'METHOD PATH'; or $default)", &EventOptions::route_key},
    {"--source", "EventBridge source", &EventOptions::source},
    {"--detail-type", "EventBridge detail-type", &EventOptions::detail_type},
    {"--detail", "EventBridge detail (a JSON object)", &EventOptions::detail},
    {"--resource-arn", "EventBridge resources entry (repeatable)", &EventOptions::resource_arn},
    {"--rule", "Schedule rule name", &EventOptions::rule},
    {"--table", "DynamoDB table name", &EventOptions::table},
    {"--keys", "DynamoDB keys (DynamoDB JSON)", &EventOptions::keys},
    {"--new-image", "DynamoDB NewImage (DynamoDB JSON)", &EventOptions::new_image},
    {"--old-image", "DynamoDB OldImage (DynamoDB JSON)", &EventOptions::old_image},
    {"--stream", "Kinesis stream name", &EventOptions::stream},
    {"--data", "Kinesis record data, plain text (base64-encoded into the event)", &EventOptions::data},
    {"--partition-key", "Kinesis partition key", &EventOptions::partition_key},
    {"--log-group", "CloudWatch log group", &EventOptions::log_group},
    {"--log-stream", "CloudWatch log stream", &EventOptions::log_stream},
    {"--target-group-arn", "ALB target group ARN", &EventOptions::target_group_arn},
}};

bool is_set(const std::optional<std::string>& v) { return v.has_value(); }
bool is_set(const std::optional<std::int64_t>& v) { return v.has_value(); }
bool is_set(const std::vector<std::string>& v) { return !v.empty(); }

bool takes(const EventSpec& spec, std::string_view option) {
  for (auto name : split(spec.options, ' ')) {
    if (name == option) return true;
  }
  return false;
}

std::string usage_list() {
  std::string text;
  for (const auto& spec : kEvents) {
    text += fmt::format("  {:<12}{:<17}{}\n  {:29}options: {}\n", spec.service, spec.event, spec.summary, "",
                        spec.options);
  }
  return text;
}

std::string events_of(std::string_view service) {
  std::string names;
  for (const auto& spec : kEvents) {
    if (spec.service == service) names += (names.empty() ? "" : ", ") + std::string(spec.event);
  }
  return names;
}

}  // namespace

Result<nlohmann::ordered_json> generate_event(const std::string& service, const std::string& event,
                                              const EventOptions& options) {
  const EventSpec* spec = nullptr;
  for (const auto& s : kEvents) {
    if (s.service == service && s.event == event) spec = &s;
  }
  if (!spec) {
    if (events_of(service).empty()) {
      return invalid(fmt::format("unknown service '{}'; services and events:\n{}", service, usage_list()));
    }
    if (event.empty()) return invalid(fmt::format("give an event for {}: {}", service, events_of(service)));
    return invalid(fmt::format("unknown event '{}' for {}; its events: {}", event, service, events_of(service)));
  }
  std::optional<Error> misplaced;
  for (const auto& field : kOptionFields) {
    const bool set = std::visit([&](auto member) { return is_set(options.*member); }, field.member);
    if (set && !takes(*spec, field.name) && !misplaced) {
      misplaced = invalid(fmt::format("{} does not apply to {} {}; its options: {} (and --account, --region, --fixed)",
                                      field.name, service, event, spec->options));
    }
  }
  if (misplaced) return *misplaced;
  Context ctx(options.fixed);
  return spec->build(options, ctx);
}

CLI::App* add_generate_event_command(CLI::App& app, GenerateEventCommand& state) {
  auto* cmd = app.add_subcommand("generate-event", "Print a sample event of an AWS trigger, to pipe into invoke");
  // Unknown options and extra words are ours to report, with the options the event does take.
  cmd->allow_extras();
  cmd->parse_complete_callback([cmd, &state] { state.unexpected = cmd->remaining(); });
  cmd->add_option("service", state.service,
                  "s3, sqs, sns, apigateway, eventbridge, dynamodb, kinesis, cloudwatch, alb");
  cmd->add_option("event", state.event, "The event of that service (see the list below)");
  cmd->add_option("--account", state.options.account, "Account id in ARNs and events (default 123456789012)");
  cmd->add_option("--region", state.options.region, "Region in ARNs and events (default us-east-1)");
  cmd->add_flag("--fixed", state.options.fixed, "Pin every id and timestamp (byte-identical output, for golden tests)");
  for (const auto& field : kOptionFields) {
    std::string users;
    for (const auto& spec : kEvents) {
      if (!takes(spec, field.name)) continue;
      users += (users.empty() ? "" : ", ") + fmt::format("{} {}", spec.service, spec.event);
    }
    const auto help = fmt::format("{} [{}]", field.help, users);
    std::visit(
        [&](auto member) {
          auto* option = cmd->add_option(std::string(field.name), state.options.*member, help);
          // The event's content, not a setting: no LAMBDAD_* variable or config key (LAMBDAD_STAGE
          // would otherwise land in every event that has no stage).
          option->configurable(false);
          if constexpr (std::is_same_v<decltype(member), std::vector<std::string> EventOptions::*>) {
            option->allow_extra_args(false);  // one value per occurrence; repeat the option for more
          }
        },
        field.member);
  }
  cmd->footer("Services and events:\n" + usage_list() +
              "\nExamples:\n"
              "  lambdad generate-event s3 put --bucket photos --key cats/1.jpg\n"
              "  lambdad generate-event apigateway aws-proxy --method POST --path /orders --body '{\"id\":1}'\n"
              "  lambdad generate-event sqs receive-message --body hi | lambdad invoke MyFunction --event -\n\n"
              "Settings: --account, --region and --fixed are also LAMBDAD_ACCOUNT, LAMBDAD_REGION and\n"
              "  LAMBDAD_FIXED in the environment and keys in lambdad.toml or lambdad.json (--config FILE), under\n"
              "  [generate-event] or at the top level. Precedence: command line > environment > config file >\n"
              "  defaults. The event's own options (--bucket, --body, ...) come from the command line only.\n\n"
              "Exit codes: 0 event printed; 1 stdout could not be written; 2 usage or config error.\n");
  return cmd;
}

int run_generate_event(const GenerateEventCommand& state) {
  if (!state.unexpected.empty()) {
    const auto& word = state.unexpected.front();
    std::string hint = "see lambdad generate-event --help";
    for (const auto& spec : kEvents) {
      if (spec.service == state.service && spec.event == state.event) {
        hint = fmt::format("{} {} takes {} (and --account, --region, --fixed)", spec.service, spec.event, spec.options);
      }
    }
    std::fprintf(stderr, "lambdad generate-event: unexpected %s '%s'; %s\n",
                 word.rfind('-', 0) == 0 ? "option" : "argument", word.c_str(), hint.c_str());
    return 2;
  }
  if (state.service.empty()) {
    std::fprintf(stderr, "lambdad generate-event: give SERVICE and EVENT; services and events:\n%s",
                 usage_list().c_str());
    return 2;
  }
  auto event = generate_event(state.service, state.event, state.options);
  if (!event) {
    std::fprintf(stderr, "lambdad generate-event: %s\n", event.error().message.c_str());
    return 2;
  }
  const auto text = event->dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace lambdad::app
