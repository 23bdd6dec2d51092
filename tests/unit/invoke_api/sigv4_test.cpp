#include "lambdad/invoke_api/sigv4.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lambdad/http/loopback.hpp"
#include "lambdad/http/router.hpp"

namespace lambdad::invoke_api::sigv4 {
namespace {

// The example key of AWS's SigV4 documentation and test suite.
constexpr const char* kDocSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string hex_of(const std::string& raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the steps

TEST(SigV4Test, SigningKeyMatchesTheDocumentedDerivation) {
  EXPECT_EQ(hex_of(signing_key(kDocSecret, "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, Sha256OfTheEmptyBody) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4Test, CanonicalUriEncodesTheWirePathOnceMore) {
  // What botocore and the JS SDK sign for every service but S3.
  EXPECT_EQ(canonical_uri("/2015-03-31/functions/my-fn%3Aprod/invocations"),
            "/2015-03-31/functions/my-fn%253Aprod/invocations");
  EXPECT_EQ(canonical_uri("/2015-03-31/functions/f/invocations"), "/2015-03-31/functions/f/invocations");
  EXPECT_EQ(canonical_uri("/2015-03-31/functions/"), "/2015-03-31/functions/");
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_uri("/"), "/");
  EXPECT_EQ(canonical_uri("/a/./b/../c//d"), "/a/c/d");
  EXPECT_EQ(canonical_uri("/../x/"), "/x/");
  EXPECT_EQ(canonical_uri("/a b/$c~d_e.f-g"), "/a%20b/%24c~d_e.f-g");
}

TEST(SigV4Test, CanonicalQuerySortsAndEncodes) {
  EXPECT_EQ(canonical_query(""), "");
  EXPECT_EQ(canonical_query("Qualifier=%24LATEST"), "Qualifier=%24LATEST");
  EXPECT_EQ(canonical_query("Qualifier=$LATEST"), "Qualifier=%24LATEST");
  EXPECT_EQ(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(canonical_query("MaxItems=50&Marker=a%2Fb"), "Marker=a%2Fb&MaxItems=50");
  EXPECT_EQ(canonical_query("flag&x=%7e"), "flag=&x=~");
  EXPECT_EQ(canonical_query("k=a+b"), "k=a%2Bb");
}

TEST(SigV4Test, CanonicalHeadersTrimCollapseAndJoin) {
  http::Headers h;
  h.add("Host", "example.amazonaws.com");
  h.add("My-Header1", "  a   b   c  ");
  h.add("my-header2", "\"a   b   c\"");
  h.add("X-Repeated", "one");
  h.add("x-repeated", " two ");
  EXPECT_EQ(canonical_headers(h, {"host", "my-header1", "my-header2", "x-repeated", "x-absent"}),
            "host:example.amazonaws.com\nmy-header1:a b c\nmy-header2:\"a b c\"\nx-repeated:one,two\nx-absent:\n");
}

TEST(SigV4Test, ParsesAuthorization) {
  auto a = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=abc123");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "service");
  EXPECT_EQ(a->terminator, "aws4_request");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(a->signature, "abc123");
  // Without spaces after the commas (the JS SDK's form) too.
  EXPECT_TRUE(parse_authorization("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request,SignedHeaders=host,"
                                  "Signature=00"));

  auto v2 = parse_authorization("AWS AKID:c2lnbmF0dXJl");
  ASSERT_FALSE(v2);
  EXPECT_EQ(v2.error().type, "IncompleteSignatureException");
  auto partial = parse_authorization("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request");
  ASSERT_FALSE(partial);
  EXPECT_NE(partial.error().message.find("requires 'Signature' parameter"), std::string::npos);
  EXPECT_NE(partial.error().message.find("requires 'SignedHeaders' parameter"), std::string::npos);
  EXPECT_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=A/20150830/r/s, SignedHeaders=host, Signature=0"));
}

TEST(SigV4Test, AmzDates) {
  EXPECT_EQ(parse_amz_date("19700101T000000Z").value_or(-1), 0);
  EXPECT_EQ(parse_amz_date("20150830T123600Z").value_or(-1), 1440938160);
  EXPECT_EQ(format_amz_date(1440938160), "20150830T123600Z");
  EXPECT_FALSE(parse_amz_date("2015-08-30T12:36:00Z"));
  EXPECT_FALSE(parse_amz_date("20151330T123600Z"));
  EXPECT_FALSE(parse_amz_date("20150830T123600"));
}

TEST(SigV4Test, ConstantTimeEquality) {
  EXPECT_TRUE(equal_constant_time("", ""));
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
}

// ---------------------------------------------------------------------------------------------
// whole requests

constexpr std::int64_t kVanillaTime = 1440938160;  // 20150830T123600Z

// AWS's "get-vanilla" case: GET / with only Host and X-Amz-Date signed.
http::Request vanilla(std::string signature = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31") {
  http::Request r;
  r.method = http::Method::kGet;
  r.path = "/";
  r.headers.add("Host", "example.amazonaws.com");
  r.headers.add("X-Amz-Date", "20150830T123600Z");
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=" + signature);
  return r;
}

SigningKeys doc_keys() {
  SigningKeys k;
  k.secrets["AKIDEXAMPLE"] = kDocSecret;
  return k;
}

VerifyOptions service_options() {
  VerifyOptions o;
  o.service = "service";
  return o;
}

TEST(SigV4VerifyTest, GetVanillaOfTheAwsTestSuite) {
  const auto r = vanilla();
  EXPECT_EQ(canonical_request(r, {"host", "x-amz-date"}, sha256_hex("")),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto refused = verify(r, doc_keys(), kVanillaTime, service_options());
  EXPECT_FALSE(refused) << refused->type << ": " << refused->message;
}

// An Invoke as the SDKs send it: an ARN in the path (':' percent-encoded), a $LATEST qualifier in
// the query, a session token; the expected signature computed independently (Python's hmac).
TEST(SigV4VerifyTest, InvokeWithArnQualifierAndSessionToken) {
  http::Request r;
  r.method = http::Method::kPost;
  r.path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations";
  r.query = "Qualifier=%24LATEST";
  r.body = R"({"k":"v"})";
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Host", "127.0.0.1:3001");
  r.headers.add("X-Amz-Date", "20240102T030405Z");
  r.headers.add("X-Amz-Security-Token", "tok/en+");
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/lambda/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
                "Signature=aeb23690a2f9ad8e9a03dad787f9ae8bb211218d91b5b20a85d729e2b03c394f");
  SigningKeys keys;
  keys.secrets["AKID"] = "secret";
  const std::int64_t at = *parse_amz_date("20240102T030405Z");
  auto refused = verify(r, keys, at, {});
  EXPECT_FALSE(refused) << refused->type << ": " << refused->message;

  // The same with the payload hash in x-amz-content-sha256 (the JS SDK sends it).
  r.headers.add("X-Amz-Content-Sha256", "666c1aa02e8068c6d5cc1d3295009432c16790bec28ec8ce119d0d1a18d61319");
  EXPECT_FALSE(verify(r, keys, at, {}));

  auto changed = r;
  changed.body = R"({"k":"w"})";
  auto bad = verify(changed, keys, at, {});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->type, "InvalidSignatureException");
  EXPECT_EQ(bad->message, "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

TEST(SigV4VerifyTest, EveryPartIsSigned) {
  const auto keys = doc_keys();
  const auto opts = service_options();
  auto expect_bad_signature = [&](const http::Request& r) {
    auto refused = verify(r, keys, kVanillaTime, opts);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403u);
    EXPECT_EQ(refused->type, "InvalidSignatureException");
    EXPECT_EQ(refused->message.rfind("The request signature we calculated does not match the signature you provided. "
                                     "Check your AWS Secret Access Key and signing method. Consult the service "
                                     "documentation for details.",
                                     0),
              0u);
  };
  auto r = vanilla();
  r.path = "/other";
  expect_bad_signature(r);
  r = vanilla();
  r.query = "a=1";
  expect_bad_signature(r);
  r = vanilla();
  r.method = http::Method::kPost;
  expect_bad_signature(r);
  r = vanilla();
  r.body = "x";
  expect_bad_signature(r);
  r = vanilla();
  r.headers = {};
  r.headers.add("Host", "example.amazonaws.com:8080");
  r.headers.add("X-Amz-Date", "20150830T123600Z");
  r.headers.add("Authorization", std::string(*vanilla().headers.get("Authorization")));
  expect_bad_signature(r);
  expect_bad_signature(vanilla("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30"));
  expect_bad_signature(vanilla("5fa00fa3"));
  // A wrong secret for a listed key.
  SigningKeys wrong;
  wrong.secrets["AKIDEXAMPLE"] = "not-the-secret";
  auto refused = verify(vanilla(), wrong, kVanillaTime, opts);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->type, "InvalidSignatureException");
  // An unsigned header may be added: it is not part of the signature.
  r = vanilla();
  r.headers.add("User-Agent", "anything");
  EXPECT_FALSE(verify(r, keys, kVanillaTime, opts));
}

TEST(SigV4VerifyTest, RefusalsAsLambdaSendsThem) {
  const auto keys = doc_keys();
  const auto opts = service_options();
  auto refusal = [&](const http::Request& r, std::int64_t now = kVanillaTime) {
    auto refused = verify(r, keys, now, opts);
    return refused ? *refused : ServiceError{0, "none", "", {}};
  };

  http::Request unsigned_request;
  unsigned_request.method = http::Method::kPost;
  unsigned_request.path = "/2015-03-31/functions/f/invocations";
  auto e = refusal(unsigned_request);
  EXPECT_EQ(e.status, 403u);
  EXPECT_EQ(e.type, "MissingAuthenticationTokenException");
  EXPECT_EQ(e.message, "Missing Authentication Token");

  auto r = vanilla();
  r.headers = {};
  r.headers.add("Host", "example.amazonaws.com");
  r.headers.add("X-Amz-Date", "20150830T123600Z");
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=00");
  e = refusal(r);
  EXPECT_EQ(e.type, "UnrecognizedClientException");
  EXPECT_EQ(e.message, "The security token included in the request is invalid.");

  // 5 minutes either way is within the window; one second more is not.
  EXPECT_EQ(refusal(vanilla(), kVanillaTime + 300).type, "none");
  EXPECT_EQ(refusal(vanilla(), kVanillaTime - 300).type, "none");
  e = refusal(vanilla(), kVanillaTime + 301);
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_EQ(e.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)");
  e = refusal(vanilla(), kVanillaTime - 301);
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_EQ(e.message,
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z "
            "(20150830T123059Z + 5 min.)");

  VerifyOptions lambda_opts;  // service "lambda", region us-east-1
  e = *verify(vanilla(), keys, kVanillaTime, lambda_opts);
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_EQ(e.message, "Credential should be scoped to correct service: 'lambda'. ");
  VerifyOptions other_region = service_options();
  other_region.region = "eu-west-1";
  e = *verify(vanilla(), keys, kVanillaTime, other_region);
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_NE(e.message.find("Credential should be scoped to a valid region, not 'us-east-1'"), std::string::npos);

  r = vanilla();
  r.headers = {};
  r.headers.add("Host", "example.amazonaws.com");
  r.headers.add("Authorization", std::string(*vanilla().headers.get("Authorization")));
  e = refusal(r);
  EXPECT_EQ(e.type, "IncompleteSignatureException");
  EXPECT_NE(e.message.find("'X-Amz-Date'"), std::string::npos);

  r = vanilla();
  r.headers = {};
  r.headers.add("Host", "example.amazonaws.com");
  r.headers.add("X-Amz-Date", "Sun, 30 Aug 2015 12:36:00 GMT");
  r.headers.add("Authorization", std::string(*vanilla().headers.get("Authorization")));
  e = refusal(r);
  EXPECT_EQ(e.type, "IncompleteSignatureException");
  EXPECT_EQ(e.message.rfind("Date must be in ISO-8601 'basic format'. Got 'Sun, 30 Aug 2015 12:36:00 GMT'.", 0), 0u);

  r = vanilla();
  r.headers = {};
  r.headers.add("Host", "example.amazonaws.com");
  r.headers.add("X-Amz-Date", "20150831T123600Z");
  r.headers.add("Authorization", std::string(*vanilla().headers.get("Authorization")));
  e = refusal(r, kVanillaTime + 86400);
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_NE(e.message.find("Date in Credential scope does not match"), std::string::npos);

  // Host and X-Amz-Date must be among the signed headers.
  for (const char* signed_headers : {"x-amz-date", "host"}) {
    r = vanilla();
    r.headers = {};
    r.headers.add("Host", "example.amazonaws.com");
    r.headers.add("X-Amz-Date", "20150830T123600Z");
    r.headers.add("Authorization", std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                                               "aws4_request, SignedHeaders=") +
                                       signed_headers + ", Signature=00");
    e = refusal(r);
    EXPECT_EQ(e.type, "InvalidSignatureException") << signed_headers;
    EXPECT_NE(e.message.find("must be a 'SignedHeader'"), std::string::npos) << signed_headers;
  }
}

TEST(SigV4VerifyTest, TooLargeBodyIsLeftToTheRoute) {
  auto r = vanilla("00");
  r.method = http::Method::kPost;
  r.body_too_large = true;
  EXPECT_FALSE(verify(r, doc_keys(), kVanillaTime, service_options()));
  // ... but not without a listed key.
  EXPECT_TRUE(verify(r, SigningKeys{}, kVanillaTime, service_options()));
}

TEST(SigV4VerifyTest, RejectionIsRenderedWithALowerCaseMessage) {
  auto r = render_rejection(ServiceError{403, "UnrecognizedClientException", "The token", {}}, "rid");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.headers.get("X-Amzn-ErrorType").value_or(""), "UnrecognizedClientException");
  EXPECT_EQ(r.headers.get("x-amzn-RequestId").value_or(""), "rid");
  EXPECT_EQ(r.body, R"({"message":"The token"})");
}

// ---------------------------------------------------------------------------------------------
// --credentials FILE

TEST(SigningKeysTest, SharedCredentialsIni) {
  auto keys = parse_signing_keys(
      "# comment\n[default]\naws_access_key_id = AKID1\naws_secret_access_key = s/1+x=\n"
      "region = us-east-1\n\n; other\n[profile ci]\r\nAWS_ACCESS_KEY_ID=AKID2\r\naws_secret_access_key=two\r\n"
      "aws_session_token = t\n[only-region]\nregion=eu-west-1\n",
      "creds");
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->secrets.size(), 2u);
  EXPECT_EQ(keys->secrets.at("AKID1"), "s/1+x=");
  EXPECT_EQ(keys->secrets.at("AKID2"), "two");
}

TEST(SigningKeysTest, JsonObject) {
  auto keys = parse_signing_keys(R"(  {"AKID1": "one", "AKID2": "two"})", "keys.json");
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->secrets.at("AKID2"), "two");
}

TEST(SigningKeysTest, ErrorsNameTheFileAndLineOrKey) {
  auto message = [](std::string_view text) {
    auto keys = parse_signing_keys(text, "f");
    return keys ? std::string("ok") : keys.error().message;
  };
  EXPECT_EQ(message("[a]\naws_access_key_id = X\n"), "f:1: [a] has aws_access_key_id but no aws_secret_access_key");
  EXPECT_EQ(message("[a]\n\n[b]\naws_secret_access_key = X\n"),
            "f:3: [b] has aws_secret_access_key but no aws_access_key_id");
  EXPECT_EQ(message("aws_access_key_id = X\n"), "f:1: 'aws_access_key_id' comes before any [profile] section");
  EXPECT_EQ(message("[a]\njunk\n"), "f:2: expected 'key = value' or '[profile]', got 'junk'");
  EXPECT_EQ(message("[a\n"), "f:1: a section header must end with ']'");
  EXPECT_EQ(message("[a]\naws_access_key_id=K\naws_secret_access_key=1\n[b]\naws_access_key_id=K\n"
                    "aws_secret_access_key=2\n"),
            "f:5: access key id K is listed twice with different secrets");
  EXPECT_EQ(message(R"({"K": 1})"), "f: key 'K': the secret access key must be a non-empty string");
  EXPECT_EQ(message(R"({"K": "s")"), "f: not a JSON object of access key id -> secret access key");
  EXPECT_EQ(message("{}").rfind("f: no keys", 0), 0u);
  EXPECT_EQ(message("").rfind("f: no keys", 0), 0u);
  auto missing = load_signing_keys("/nonexistent/lambdad-credentials");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "/nonexistent/lambdad-credentials: cannot be read");
}

// ---------------------------------------------------------------------------------------------
// the hook and the bind check

TEST(RouterGuardTest, GuardsRoutesAddedBeforeAndAfterAndTheFallback) {
  http::Router router;
  int served = 0;
  auto handler = [&](http::Request&&, http::Responder respond) {
    ++served;
    respond(http::Response{});
  };
  router.add(http::Method::kGet, "/before", 0, handler);
  router.add_streaming(http::Method::kPost, "/streamed", 10, handler, [](const http::Request&) { return true; },
                       [](http::Request&&, std::shared_ptr<http::BodyReader>, http::Responder) {});
  router.set_guard([](const http::Request& r) -> std::optional<http::Response> {
    if (r.headers.has("Authorization")) return std::nullopt;
    http::Response refused;
    refused.status = 403;
    return refused;
  });
  router.add(http::Method::kGet, "/after", 0, handler);
  router.set_fallback(handler);

  auto call = [&](const http::Handler& h, bool signed_request) {
    http::Request r;
    if (signed_request) r.headers.add("Authorization", "x");
    unsigned status = 0;
    h(std::move(r), [&](http::Response resp) { status = resp.status; });
    return status;
  };
  for (const char* path : {"/before", "/after"}) {
    auto m = router.match(http::Method::kGet, path);
    ASSERT_TRUE(m.route) << path;
    EXPECT_EQ(call(m.route->handler, false), 403u) << path;
    EXPECT_EQ(call(m.route->handler, true), 200u) << path;
  }
  EXPECT_EQ(call(router.fallback(), false), 403u);
  EXPECT_EQ(call(router.fallback(), true), 200u);
  auto streamed = router.match(http::Method::kPost, "/streamed");
  ASSERT_TRUE(streamed.route);
  EXPECT_FALSE(streamed.route->streams);  // the guard needs the whole body
  EXPECT_EQ(call(streamed.route->handler, false), 403u);
  EXPECT_EQ(served, 3);
}

TEST(LoopbackHostTest, OnlyLoopbackAddressesCount) {
  for (const char* host : {"127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "LOCALHOST", "::1", "[::1]",
                           "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(http::is_loopback_host(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "128.0.0.1", "::2", "::ffff:10.0.0.1",
                           "example.com", "", "127.0.0.1.nip.io", "localhost.localdomain"}) {
    EXPECT_FALSE(http::is_loopback_host(host)) << host;
  }
}

}  // namespace
}  // namespace lambdad::invoke_api::sigv4
