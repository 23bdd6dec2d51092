// The Extensions API's registry and states (docs/decisions/024): registration and its refusals,
// word for word as Lambda gives them (lambda-spec §2.3), and the phases' gates: ready() once
// every extension waits in /event/next, INVOKE to the subscribed ones only.
#include "lambdad/sandbox/extensions.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lambdad::sandbox {
namespace {

class ExtensionsTest : public ::testing::Test {
 protected:
  Extensions make(std::vector<std::string> external = {}) {
    return Extensions({"Fn", "$LATEST", "app.handler", "123456789012"}, std::move(external), [this] {
      return fmt::format("AAAAAAAA-0000-4000-8000-{:012d}", ++ids_);
    });
  }
  static void expect_error(const std::optional<ExtensionError>& e, const std::string& type, const std::string& message) {
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->type, type);
    EXPECT_EQ(e->message, message);
  }
  int ids_ = 0;
};

TEST_F(ExtensionsTest, RegisteringAnswersWithTheFunctionAndALowercaseIdentifier) {
  auto x = make();
  auto r = x.register_extension("probe", R"({"events":["INVOKE"]})", false);
  ASSERT_TRUE(r.registered) << r.error.message;
  EXPECT_EQ(r.registered->id, "aaaaaaaa-0000-4000-8000-000000000001");
  EXPECT_EQ(r.registered->body, R"({"functionName":"Fn","functionVersion":"$LATEST","handler":"app.handler"})");
  auto with_account = x.register_extension("other", R"({"events":[]})", true);
  ASSERT_TRUE(with_account.registered);
  EXPECT_EQ(nlohmann::json::parse(with_account.registered->body)["accountId"], "123456789012");
  EXPECT_EQ(x.size(), 2u);
}

TEST_F(ExtensionsTest, RegistrationRefusalsAreLambdas) {
  auto x = make({"external-one"});
  auto check = [&](std::string_view name, std::string_view body, const std::string& type, const std::string& message) {
    auto r = x.register_extension(name, body, false);
    EXPECT_FALSE(r.registered) << name;
    EXPECT_EQ(r.error.type, type) << name;
    EXPECT_EQ(r.error.message, message) << name;
  };
  check("", R"({"events":["INVOKE"]})", "Extension.InvalidExtensionName", "Empty extension name");
  check("a", "", "InvalidRequestFormat", "unexpected end of JSON input");
  check("a", R"({"events":["INVOKE"],"configurationKeys":["k"]})", "InvalidRequestFormat",
        "configurationKeys are deprecated; use environment variables instead");
  check("a", R"({"events":["SHUTDOWN"]})", "Extension.InvalidEventType",
        "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension");
  check("a", R"({"events":["INVOKE","RESTORE"]})", "Extension.InvalidEventType", "RESTORE: ErrorInvalidEventType");
  check("external-one", R"({"events":["BOOT"]})", "Extension.InvalidEventType", "BOOT: ErrorInvalidEventType");
  ASSERT_TRUE(x.register_extension("external-one", R"({"events":["INVOKE","SHUTDOWN"]})", false).registered);
  check("external-one", R"({"events":["INVOKE"]})", "Extension.InvalidExtensionState",
        "State transition from Registered to Registered failed for extension external-one. Error: State transition "
        "is not allowed");
  ASSERT_TRUE(x.register_extension("a", R"({"events":["INVOKE"]})", false).registered);
  check("a", R"({"events":["INVOKE"]})", "Extension.InvalidExtensionState", "Extension with this name already registered");
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(x.register_extension("n" + std::to_string(i), "{}", false).registered);
  check("eleventh", "{}", "Extension.TooManyExtensions", "Extension limit (10) reached");
  x.close_registration();
  auto y = make();
  y.close_registration();
  auto late = y.register_extension("late", "{}", false);
  EXPECT_EQ(late.error.type, "Extension.RegistrationClosed");
  EXPECT_EQ(late.error.message, "Extension registration closed already");
}

TEST_F(ExtensionsTest, IdentifiersAreCheckedBeforeAnythingElse) {
  auto x = make();
  expect_error(x.identify(std::nullopt).error, "Extension.MissingExtensionIdentifier",
               "Missing Lambda-Extension-Identifier header");
  expect_error(x.identify("not-a-uuid").error, "Extension.InvalidExtensionIdentifier",
               "Invalid Lambda-Extension-Identifier");
  auto ok = x.identify("AAAAAAAA00004000800000000000000A");
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.id, "aaaaaaaa-0000-4000-8000-00000000000a");
  expect_error(x.next(ok.id, [](std::string) {}), "Extension.UnknownExtensionIdentifier",
               "Unknown extension aaaaaaaa-0000-4000-8000-00000000000a");
  expect_error(x.init_error(ok.id, "Extension.Boom"), "Extension.UnknownExtensionIdentifier",
               "Unknown Lambda-Extension-Identifier");
  expect_error(x.init_error(ok.id, std::nullopt), "Extension.MissingHeader",
               "Lambda-Extension-Function-Error-Type not found");
}

TEST_F(ExtensionsTest, ReadyOnceEveryExtensionWaitsAndInvokeGoesToTheSubscribedOnes) {
  auto x = make();
  int readies = 0;
  x.on_ready([&] { ++readies; });
  EXPECT_TRUE(x.ready());
  const auto a = x.register_extension("a", R"({"events":["INVOKE"]})", false).registered->id;
  const auto b = x.register_extension("b", R"({"events":[]})", false).registered->id;
  EXPECT_FALSE(x.ready());
  std::vector<std::string> got_a, got_b;
  EXPECT_FALSE(x.next(a, [&](std::string e) { got_a.push_back(e); }));
  EXPECT_FALSE(x.ready());
  EXPECT_EQ(readies, 0);
  EXPECT_FALSE(x.next(b, [&](std::string e) { got_b.push_back(e); }));
  EXPECT_TRUE(x.ready());
  EXPECT_EQ(readies, 1);
  // A second /event/next while one waits is refused.
  expect_error(x.next(a, [](std::string) {}), "Extension.InvalidExtensionState",
               "State transition from Ready to Ready failed for extension " + a + ". Error: State transition is not "
               "allowed");

  x.invoke({"req-1", 1700000000123, "arn:aws:lambda:us-east-1:123456789012:function:Fn", "Root=1-a-b;Sampled=1"});
  ASSERT_EQ(got_a.size(), 1u);
  EXPECT_EQ(got_a[0], R"({"eventType":"INVOKE","deadlineMs":1700000000123,"requestId":"req-1","invokedFunctionArn":)"
                      R"("arn:aws:lambda:us-east-1:123456789012:function:Fn","tracing":{"type":"X-Amzn-Trace-Id",)"
                      R"("value":"Root=1-a-b;Sampled=1"}})");
  EXPECT_TRUE(got_b.empty()) << "b did not subscribe to INVOKE";
  EXPECT_FALSE(x.ready()) << "a runs the invoke";
  EXPECT_FALSE(x.next(a, [&](std::string e) { got_a.push_back(e); }));
  EXPECT_TRUE(x.ready());
  EXPECT_EQ(readies, 2);
  x.invoke({"req-2", 1, "arn", ""});
  ASSERT_EQ(got_a.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(got_a[1]).count("tracing"), 0u) << "no tracing without a trace id";
}

TEST_F(ExtensionsTest, InitAndExitErrorsAreFatalOnceAndFollowTheStates) {
  auto x = make();
  int fatals = 0;
  x.on_fatal([&] { ++fatals; });
  const auto a = x.register_extension("a", "{}", false).registered->id;
  const auto b = x.register_extension("b", R"({"events":["INVOKE"]})", false).registered->id;
  EXPECT_FALSE(x.next(b, [](std::string) {}));
  expect_error(x.init_error(b, "Extension.Late"), "Extension.InvalidExtensionState",
               "State transition from Ready to InitError failed for extension " + b + ". Error: State transition is not "
               "allowed");
  EXPECT_FALSE(x.init_error(a, "Extension.ConnectFailed"));
  EXPECT_EQ(x.fatal_error(), "Extension.InitError");
  EXPECT_FALSE(x.init_error(a, "Extension.Again")) << "again is accepted, and changes nothing";
  expect_error(x.exit_error(a, "Extension.X"), "Extension.InvalidExtensionState",
               "State transition from InitError to ExitError failed for extension " + a + ". Error: State transition "
               "is not allowed");
  expect_error(x.next(a, [](std::string) {}), "Extension.InvalidExtensionState",
               "State transition from InitError to Ready failed for extension " + a + ". Error: State transition is "
               "not allowed");
  EXPECT_FALSE(x.exit_error(b, "Extension.Gone"));
  EXPECT_EQ(x.fatal_error(), "Extension.InitError") << "the first one";
  EXPECT_EQ(fatals, 1);
  const auto info = x.describe();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(Extensions::state_name(info[0].state), "InitError");
  EXPECT_EQ(Extensions::state_name(info[1].state), "ExitError");
}

TEST_F(ExtensionsTest, ShutdownGoesToTheSubscribedOnesNowOrAtTheirNextCall) {
  auto x = make({"waits", "busy"});
  const auto waits = x.register_extension("waits", R"({"events":["INVOKE","SHUTDOWN"]})", false).registered->id;
  const auto busy = x.register_extension("busy", R"({"events":["INVOKE","SHUTDOWN"]})", false).registered->id;
  const auto internal = x.register_extension("internal", R"({"events":["INVOKE"]})", false).registered->id;
  std::vector<std::string> got_waits, got_busy, got_internal;
  ASSERT_FALSE(x.next(waits, [&](std::string e) { got_waits.push_back(e); }));
  ASSERT_FALSE(x.next(busy, [&](std::string e) { got_busy.push_back(e); }));
  ASSERT_FALSE(x.next(internal, [&](std::string e) { got_internal.push_back(e); }));
  x.invoke({"req", 1, "arn", ""});
  ASSERT_EQ(got_busy.size(), 1u);
  ASSERT_FALSE(x.next(waits, [&](std::string e) { got_waits.push_back(e); }));  // back, waiting
  got_waits.clear();  // its INVOKE
  EXPECT_TRUE(x.shutdown("spindown", 1700000002000));
  const std::string shutdown = R"({"eventType":"SHUTDOWN","deadlineMs":1700000002000,"shutdownReason":"spindown"})";
  EXPECT_EQ(got_waits, std::vector<std::string>{shutdown});
  EXPECT_EQ(got_busy.size(), 1u) << "still at its INVOKE: told when it asks next";
  ASSERT_FALSE(x.next(busy, [&](std::string e) { got_busy.push_back(e); }));
  ASSERT_EQ(got_busy.size(), 2u);
  EXPECT_EQ(got_busy[1], shutdown);
  EXPECT_EQ(got_internal.size(), 1u) << "an internal extension cannot subscribe to SHUTDOWN";
  auto none = make();
  EXPECT_FALSE(none.shutdown("timeout", 1));
}

}  // namespace
}  // namespace lambdad::sandbox
