// invoke_api: AWS Signature Version 4 verification for `serve --credentials FILE`
// (docs/decisions/010). Pure functions of the request, the listed keys and the time: no I/O except
// load_signing_keys, which reads the file once at startup.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/http/message.hpp"
#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api::sigv4 {

// The keys requests may be signed with: access key id -> secret access key.
struct SigningKeys {
  std::map<std::string, std::string, std::less<>> secrets;
};

// Reads --credentials FILE: a JSON object {"AKID": "secret", ...}, or the AWS shared-credentials
// INI format ([profile] sections with aws_access_key_id and aws_secret_access_key; other keys
// such as aws_session_token or region are ignored). Errors name the file and the line or key.
Result<SigningKeys> load_signing_keys(const std::filesystem::path& file);
// The same from text already read; `origin` names it in error messages.
Result<SigningKeys> parse_signing_keys(std::string_view text, std::string_view origin);

// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// header.
struct Authorization {
  std::string access_key_id;
  std::string date;     // scope: YYYYMMDD
  std::string region;   // scope
  std::string service;  // scope
  std::string terminator;  // scope: "aws4_request"
  std::vector<std::string> signed_headers;  // as listed (lower case, sorted by the signer)
  std::string signature;                    // hex
};
// An Error of type IncompleteSignatureException when the header is not a SigV4 one.
Result<Authorization> parse_authorization(std::string_view header);

// The steps of the algorithm, exposed for the tests.
std::string sha256_hex(std::string_view data);
// The path as the SDKs sign it for every service but S3: dot segments and empty segments
// removed, then each byte outside A-Z a-z 0-9 - _ . ~ / percent-encoded, so a path sent as
// `/2015-03-31/functions/f%3Aprod/invocations` is signed as `.../f%253Aprod/...`.
std::string canonical_uri(std::string_view raw_path);
// Parameters decoded, encoded again as above ('/' too), sorted by name then value, `a=1&b=`.
std::string canonical_query(std::string_view raw_query);
// Each signed header's values trimmed, inner runs of blanks made one space, repeated fields
// joined by ','; a signed header the request lacks counts as empty.
std::string canonical_headers(const http::Headers& headers, const std::vector<std::string>& signed_headers);
std::string canonical_request(const http::Request& request, const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash);
std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);
// kSecret = "AWS4" + secret; HMAC-SHA256 over date, region, service, "aws4_request" in turn.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// Constant-time equality of two strings (their lengths are not secret).
bool equal_constant_time(std::string_view a, std::string_view b);

// "20150830T123600Z" -> seconds since the epoch; nullopt when not in ISO-8601 basic format.
std::optional<std::int64_t> parse_amz_date(std::string_view s);
std::string format_amz_date(std::int64_t epoch_seconds);

struct VerifyOptions {
  std::string region = "us-east-1";
  std::string service = "lambda";
  std::int64_t max_skew_seconds = 5 * 60;  // as AWS: a signature is valid 5 minutes either side
};

// Checks one request. nullopt: signed by a listed key, within the skew window, signature and
// payload hash match. Otherwise the error Lambda answers: 403 MissingAuthenticationTokenException,
// IncompleteSignatureException, UnrecognizedClientException or InvalidSignatureException.
// A request whose body was over its route's limit (body_too_large) is checked up to the
// signature itself, which cannot be computed without the body: the route then answers 413.
std::optional<ServiceError> verify(const http::Request& request, const SigningKeys& keys, std::int64_t now_epoch_seconds,
                                   const VerifyOptions& options);

// The 403 as Lambda sends it: X-Amzn-ErrorType and a {"message": ...} body.
http::Response render_rejection(const ServiceError& error, const std::string& request_id);

}  // namespace lambdad::invoke_api::sigv4
