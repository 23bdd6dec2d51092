// The sample event template engine on small templates of its own: references and their types,
// absent values, the order names are bound and ids drawn in, checks, and faults of a template.
// What the real templates print is generate_event_test's (and e2e/test_generate_event*.py's).
#include "event_template.hpp"

#include "lambdad/events/generate_event.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace lambdad::events {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

SampleEvent make(const std::string& text) {
  const auto doc = Json::parse(text);
  return {"svc", "evt", "a test event", doc.value("options", Json::object()), doc.value("let", Json::object()),
          doc.at("event")};
}

Result<Json> render(const std::string& text, Json given = Json::object(), bool fixed = true) {
  return render_sample_event(make(text), {std::move(given), "123456789012", "eu-west-1", fixed});
}

Json rendered(const std::string& text, Json given = Json::object()) {
  auto out = render(text, std::move(given));
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  return out.ok() ? out.value() : Json();
}

TEST(EventTemplateTest, AReferenceAloneKeepsItsTypeAndInTextIsText) {
  const auto out = rendered(R"({
    "options": {"--count": 3, "--tags": ["a", "b"]},
    "let": {"obj": {"k": ["x", "y"]}},
    "event": {"n": "${count}", "tags": "${tags}", "text": "${count} of ${region}/${account}",
              "deep": "${obj.k.1}", "epoch": "${epoch_ms}", "literal": "$x {y} $ {z}"}})");
  EXPECT_EQ(out["n"], 3);
  EXPECT_EQ(out["tags"], Json({"a", "b"}));
  EXPECT_EQ(out["text"], "3 of eu-west-1/123456789012");
  EXPECT_EQ(out["deep"], "y");
  EXPECT_EQ(out["epoch"], 1717243200123);  // the --fixed clock
  EXPECT_EQ(out["literal"], "$x {y} $ {z}");
}

TEST(EventTemplateTest, AnOptionGivenReplacesItsDefaultWhichMayUseTheSettings) {
  const std::string tmpl = R"({
    "options": {"--topic": "arn:aws:sns:${region}:${account}:t", "--name": "n"},
    "event": {"topic": "${topic}", "name": "${name}"}})";
  EXPECT_EQ(rendered(tmpl)["topic"], "arn:aws:sns:eu-west-1:123456789012:t");
  const auto out = rendered(tmpl, {{"--name", "given"}, {"--other", "ignored"}});
  EXPECT_EQ(out["name"], "given");
}

TEST(EventTemplateTest, AnAbsentValueLeavesOutWhatUsesIt) {
  const std::string tmpl = R"({
    "options": {"--etag": null},
    "event": {"before": 1, "etag": "${etag}", "quoted": "\"${etag}\"", "list": ["a", "${etag}", "b"],
              "length": {"$length": "${etag}"}, "or": {"$default": ["${etag}", "none"]},
              "if": {"$if": ["${etag}", "yes", "no"]}, "after": 2}})";
  EXPECT_EQ(rendered(tmpl), Json::parse(R"({"before": 1, "list": ["a", "b"], "or": "none", "after": 2})"));
  const auto out = rendered(tmpl, {{"--etag", "e1"}});
  EXPECT_EQ(out["quoted"], "\"e1\"");
  EXPECT_EQ(out["length"], 2);
  EXPECT_EQ(out["or"], "e1");
  EXPECT_EQ(out["if"], "yes");
}

TEST(EventTemplateTest, IfTakesFalseNullAndEmptyAsFalse) {
  const auto out = rendered(R"({"event": [
    {"$if": [false, 1, 0]}, {"$if": [null, 1, 0]}, {"$if": ["", 1, 0]}, {"$if": [[], 1, 0]}, {"$if": [{}, 1, 0]},
    {"$if": [true, 1, 0]}, {"$if": [0, 1, 0]}, {"$if": ["x", 1, 0]}, {"$if": [[0], 1, 0]}, {"$if": [false, 1]}]})");
  EXPECT_EQ(out, Json::parse("[0, 0, 0, 0, 0, 1, 1, 1, 1]"));
}

TEST(EventTemplateTest, LetBindsInOrderAndALaterNameHidesAnEarlierOne) {
  const auto out = rendered(R"({
    "options": {"--path": "/a"},
    "let": {"full": "/prod${path}", "path": {"$upper": "${full}"}},
    "event": {"path": "${path}"}})");
  EXPECT_EQ(out["path"], "/PROD/A");
}

TEST(EventTemplateTest, ForRepeatsForACountOrEachItem) {
  const auto out = rendered(R"({
    "options": {"--count": 3, "--message": ["x", "y"]},
    "event": {"records": {"$for": ["${count}", {"n": "${i}", "at": {"$add": ["${epoch_ms}", "${i}", 5]}}]},
              "events": {"$for": ["${message}", "${i}:${item}"]}}})");
  ASSERT_EQ(out["records"].size(), 3u);
  EXPECT_EQ(out["records"][2], Json::parse(R"({"n": 2, "at": 1717243200130})"));
  EXPECT_EQ(out["events"], Json({"0:x", "1:y"}));
}

TEST(EventTemplateTest, ExpectPassesTheValueOrFailsWithItsMessage) {
  const std::string tmpl = R"({
    "options": {"--count": 1},
    "let": {"count": {"$expect": ["${count}", {"$matches": ["${value}", "[1-9][0-9]{0,3}|10000"]},
                                  "--count ${value}: expected 1 to 10000 records"]}},
    "event": {"count": "${count}"}})";
  EXPECT_EQ(rendered(tmpl, {{"--count", 10000}})["count"], 10000);
  for (auto bad : {0, -1, 10001}) {
    auto out = render(tmpl, {{"--count", bad}});
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(out.error().message, "--count " + std::to_string(bad) + ": expected 1 to 10000 records");
  }
}

TEST(EventTemplateTest, MatchesTheWholeTextWhateverItsLengthAndBytes) {
  const std::string tmpl = R"({"options": {"--s": ""}, "event": [
    {"$matches": ["${s}", "[^/]+"]}, {"$matches": ["${s}", ".+"]}, {"$matches": ["${s}", "a"]}]})";
  EXPECT_EQ(rendered(tmpl, {{"--s", "ab"}}), Json::parse("[true, true, false]"));
  EXPECT_EQ(rendered(tmpl, {{"--s", "a/b"}}), Json::parse("[false, true, false]"));
  EXPECT_EQ(rendered(tmpl, {{"--s", std::string(200000, 'x') + "\n\xff"}}), Json::parse("[true, true, false]"));
  EXPECT_EQ(rendered(tmpl, {{"--s", std::string("a\0/", 3)}}), Json::parse("[false, true, false]"));
  EXPECT_EQ(rendered(tmpl, {{"--s", std::string("\0", 1)}}), Json::parse("[true, true, false]"));
}

TEST(EventTemplateTest, TimeAndArithmeticFollowTheClock) {
  const auto out = rendered(R"({"event": {
    "iso": {"$time": "%Y-%m-%dT%H:%M:%S.%LZ"}, "request": {"$time": "%d/%b/%Y:%H:%M:%S +0000 100%%"},
    "seconds": {"$div": ["${epoch_ms}", 1000]}, "fraction": {"$div": ["${epoch_ms}", 1000.0]},
    "trace": {"$format": ["Root=1-{:08x}", {"$div": ["${epoch_ms}", 1000]}]}}})");
  EXPECT_EQ(out["iso"], "2024-06-01T12:00:00.123Z");
  EXPECT_EQ(out["request"], "01/Jun/2024:12:00:00 +0000 100%");
  EXPECT_EQ(out["seconds"], 1717243200);
  EXPECT_DOUBLE_EQ(out["fraction"].get<double>(), 1717243200.123);
  EXPECT_EQ(out["trace"], "Root=1-665b0d40");
}

TEST(EventTemplateTest, EncodingsAndDigests) {
  const auto out = rendered(R"({"options": {"--key": "a b/c+d"}, "event": {
    "form": {"$form_encode": ["${key}", "/"]}, "url": {"$url_encode": ["${key}", ""]},
    "md5": {"$md5": "hi"}, "b64": {"$base64": "hi"}, "json": {"$is_json": "{\"a\": 1}"},
    "merged": {"$merge": [{"a": 1, "b": 2}, {"b": 3, "c": 4}]}}})");
  EXPECT_EQ(out["form"], "a+b/c%2Bd");
  EXPECT_EQ(out["url"], "a%20b%2Fc%2Bd");
  EXPECT_EQ(out["md5"], "49f68a5c8493ec2c0bf489821c21fc3b");
  EXPECT_EQ(out["b64"], "aGk=");
  EXPECT_EQ(out["json"], true);
  EXPECT_EQ(out["merged"].dump(), R"({"a":1,"b":3,"c":4})");
}

// Ids are drawn in the order the template is evaluated: let first, then the event in order.
TEST(EventTemplateTest, IdsAreDrawnInEvaluationOrderAndFixedRepeatsThem) {
  const auto in_order = rendered(R"({"event": {"first": {"$hex": 16}, "second": {"$hex": 16}}})");
  const auto second_first =
      rendered(R"({"let": {"s": {"$hex": 16}}, "event": {"first": {"$hex": 16}, "second": "${s}"}})");
  EXPECT_EQ(second_first["second"], in_order["first"]);
  EXPECT_EQ(second_first["first"], in_order["second"]);
  const std::string ids = R"({"event": [{"$uuid": null}, {"$digits": 8}, {"$upper_alnum": 8}, {"$lower_alnum": 8}]})";
  EXPECT_EQ(rendered(ids), rendered(ids));
  EXPECT_THAT(rendered(ids)[0].get<std::string>(),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  auto unfixed = [&] { return render(ids, Json::object(), false).value(); };
  EXPECT_NE(unfixed(), unfixed());
}

TEST(EventTemplateTest, AFaultOfTheTemplateIsAnInternalErrorNamingTheEvent) {
  for (const auto* tmpl : {R"({"event": "${nobody}"})", R"({"event": {"$nothing": 1}})",
                           R"({"event": {"$upper": 7}})", R"({"event": {"$format": "no array"}})",
                           R"({"event": {"$time": "%Q"}})", R"({"event": "${epoch_ms.0}"})",
                           R"({"event": {"$matches": ["x", "("]}})", R"({"event": "open ${name"})"}) {
    auto out = render(tmpl);
    ASSERT_FALSE(out.ok()) << tmpl;
    EXPECT_EQ(out.error().kind, ErrorKind::kInternal) << tmpl;
    EXPECT_THAT(out.error().message, HasSubstr("sample event svc evt: ")) << tmpl;
  }
}

TEST(EventTemplateTest, EveryEmbeddedTemplateIsListedWithItsOptions) {
  const auto& events = sample_events();
  ASSERT_EQ(sample_event_files().size(), std::size_t{LAMBDAD_SAMPLE_EVENT_FILES})
      << "a template under src/events/templates is not embedded (src/events/CMakeLists.txt lists them)";
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().service, "s3");
  EXPECT_EQ(events.front().event, "put");
  EXPECT_EQ(events.front().option_list(), "--bucket --key --size --etag");
  for (const auto& e : events) {
    EXPECT_FALSE(e.summary.empty()) << e.service << " " << e.event;
    for (auto it = e.options.begin(); it != e.options.end(); ++it) EXPECT_TRUE(it.key().starts_with("--"));
    auto out = render_sample_event(e, {Json::object(), "123456789012", "us-east-1", true});
    EXPECT_TRUE(out.ok()) << e.service << " " << e.event << ": " << (out.ok() ? "" : out.error().message);
  }
}

// A template's option that the command line lacks could never be given.
TEST(EventTemplateTest, EveryOptionOfATemplateIsOnTheCommandLine) {
  CLI::App app;
  GenerateEventCommand state;
  CLI::App* cmd = add_generate_event_command(app, state);
  for (const auto& e : sample_events()) {
    for (auto it = e.options.begin(); it != e.options.end(); ++it) {
      EXPECT_NE(cmd->get_option_no_throw(it.key()), nullptr) << e.service << " " << e.event << " " << it.key();
    }
  }
}

}  // namespace
}  // namespace lambdad::events
