// The registry's operations and state machine against a real SandboxManager whose environments
// are never started (no invocation is dispatched here): Pending -> Active when the code is
// unpacked (on a real worker thread; its result comes back through the event loop the test
// runs), Failed for a bad zip, versions, concurrency rules, paging, and persistence in the
// state directory across registries.
#include "lambdad/control_plane/function_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zip.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lambdad/common/base64.hpp"
#include "lambdad/observability/platform_log.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"
#include "lambdad_test/manual_time.hpp"

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A zip with one file, made with libzip.
std::string make_zip(const std::string& name, const std::string& content) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(src);
  zip_t* archive = zip_open_from_source(src, ZIP_TRUNCATE, &error);
  zip_source_t* file = zip_source_buffer(archive, content.data(), content.size(), 0);
  zip_file_add(archive, name.c_str(), file, ZIP_FL_ENC_UTF_8);
  zip_close(archive);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  const auto size = static_cast<std::size_t>(zip_source_tell(src));
  zip_source_seek(src, 0, SEEK_SET);
  std::string out(size, '\0');
  zip_source_read(src, out.data(), size);
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

// No environment is started in these tests; a factory is still needed to build the manager.
class NoEndpoints final : public sandbox::RuntimeEndpointFactory {
 public:
  Result<std::unique_ptr<sandbox::RuntimeEndpoint>> open(sandbox::RuntimeApiTarget&) override {
    return Error{ErrorKind::kInternal, {}, "no environments in this test"};
  }
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-registry-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    manager_ = make_manager();
    registry_ = make_registry(*manager_);
  }
  void TearDown() override {
    registry_.reset();
    manager_.reset();
    io_.restart();
    io_.run_for(20ms);
    fs::remove_all(dir_);
  }

  std::unique_ptr<sandbox::SandboxManager> make_manager(std::vector<config::FunctionConfig> fns = {}) {
    sandbox::PoolDeps deps{io_, clock_, clock_, endpoints_, runtime_options_};
    return std::make_unique<sandbox::SandboxManager>(deps, fns);
  }
  std::unique_ptr<FunctionRegistry> make_registry(sandbox::SandboxManager& manager) {
    RegistryOptions options;
    options.functions_dir = dir_ / "functions";
    options.durable = false;
    return std::make_unique<FunctionRegistry>(
        manager, clock_, [this](std::function<void()> task) { boost::asio::post(io_, std::move(task)); }, options);
  }

  json create_request(const std::string& name, const std::string& zip) {
    return {{"FunctionName", name},
            {"Runtime", "python3.12"},
            {"Role", "arn:aws:iam::123456789012:role/r"},
            {"Handler", "app.handler"},
            {"Code", {{"ZipFile", base64::encode(zip)}}}};
  }

  // Runs the event loop until the function leaves Pending / InProgress.
  void settle(FunctionRegistry& registry, const std::string& name) {
    for (int i = 0; i < 500; ++i) {
      const auto* fn = registry.find(name);
      if (fn && fn->job == 0) return;
      std::this_thread::sleep_for(5ms);  // the worker thread unpacks in real time
      io_.restart();
      io_.poll();
    }
    FAIL() << name << " did not settle";
  }

  std::string create(const std::string& name, const std::string& content = "def handler(e, c):\n  return 1\n") {
    auto r = registry_->create_function(create_request(name, make_zip("app.py", content)));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    settle(*registry_, name);
    return r.ok() ? r.value()["State"].get<std::string>() : "";
  }

  boost::asio::io_context io_;
  test::ManualTime clock_;
  NoEndpoints endpoints_;
  sandbox::RuntimeOptions runtime_options_;
  fs::path dir_;
  std::unique_ptr<sandbox::SandboxManager> manager_;
  std::unique_ptr<FunctionRegistry> registry_;
};

TEST_F(RegistryTest, CreateIsPendingUntilTheCodeIsUnpackedThenActive) {
  const std::string zip = make_zip("app.py", "x = 1\n");
  auto r = registry_->create_function(create_request("F", zip));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()["State"], "Pending");
  EXPECT_EQ(r.value()["StateReasonCode"], "Creating");
  EXPECT_EQ(r.value()["CodeSize"], zip.size());
  EXPECT_EQ(r.value()["CodeSha256"], sha256_base64(zip));
  EXPECT_EQ(r.value()["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:F");
  EXPECT_EQ(registry_->unavailable("F"), "Pending") << "invokes are refused (409) until the code is there";
  EXPECT_FALSE(manager_->has_function("F")) << "no pool before the code exists";

  settle(*registry_, "F");
  EXPECT_EQ(registry_->unavailable("F"), std::nullopt);
  EXPECT_TRUE(manager_->has_function("F"));
  auto got = registry_->get_function("F", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value()["Configuration"]["State"], "Active");
  EXPECT_EQ(got.value()["Configuration"]["LastUpdateStatus"], "Successful");
  const fs::path code = dir_ / "functions" / "F" / "code" / sha256_hex(zip);
  EXPECT_TRUE(fs::exists(code / "app.py"));
  EXPECT_THAT(got.value()["Code"]["Location"].get<std::string>(), HasSubstr(sha256_hex(zip) + ".zip"));
}

TEST_F(RegistryTest, ABadZipIsRefusedAtOnce) {
  auto r = registry_->create_function(create_request("Bad", "this is not a zip"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "InvalidParameterValueException");
  EXPECT_EQ(r.error().message, "Could not unzip uploaded file. Please check your file, then try to upload again.");
  EXPECT_FALSE(registry_->has_function("Bad"));
}

TEST_F(RegistryTest, CodeThatCannotBeUnpackedEndsInFailedWithTheReason) {
  // A file where the function's code directory must go: the unpacking fails on the worker.
  fs::create_directories(dir_ / "functions" / "Blocked");
  std::ofstream(dir_ / "functions" / "Blocked" / "code") << "in the way";
  auto r = registry_->create_function(create_request("Blocked", make_zip("app.py", "")));
  ASSERT_TRUE(r.ok());
  settle(*registry_, "Blocked");
  EXPECT_EQ(registry_->unavailable("Blocked"), "Failed");
  auto got = registry_->get_configuration("Blocked", "");
  EXPECT_EQ(got.value()["State"], "Failed");
  EXPECT_THAT(got.value()["StateReason"].get<std::string>(), HasSubstr("cannot create"));
  EXPECT_FALSE(manager_->has_function("Blocked"));
  EXPECT_EQ(registry_->publish_version("Blocked", json::object()).error().type, "ResourceConflictException");

  // New code makes it Active, as UpdateFunctionCode does for a Failed function on Lambda.
  fs::remove(dir_ / "functions" / "Blocked" / "code");
  auto updated = registry_->update_code("Blocked", {{"ZipFile", base64::encode(make_zip("app.py", "ok = 1\n"))}});
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  settle(*registry_, "Blocked");
  EXPECT_EQ(registry_->unavailable("Blocked"), std::nullopt);
  EXPECT_TRUE(manager_->has_function("Blocked"));
}

TEST_F(RegistryTest, CreateRejectsWhatLambdaRejects) {
  EXPECT_EQ(create("F"), "Pending");
  auto again = registry_->create_function(create_request("F", make_zip("app.py", "")));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().type, "ResourceConflictException");
  EXPECT_EQ(again.error().message, "Function already exist: F");

  auto req = create_request("G", make_zip("app.py", ""));
  req["Role"] = "nope";
  EXPECT_EQ(registry_->create_function(req).error().type, "ValidationException");
  req = create_request("G", make_zip("app.py", ""));
  req["Runtime"] = "python2.7";
  EXPECT_EQ(registry_->create_function(req).error().type, "InvalidParameterValueException");
  req["Runtime"] = "python3.8";  // Lambda's message, from the one table of blocked runtimes
  EXPECT_EQ(registry_->create_function(req).error().message,
            "The runtime parameter of python3.8 is no longer supported for creating or updating AWS Lambda "
            "functions. We recommend you use the new runtime (python3.13) while creating or updating functions.");
  EXPECT_THAT(registry_->update_configuration("F", {{"Runtime", "nodejs16.x"}}).error().message,
              HasSubstr("The runtime parameter of nodejs16.x is no longer supported"));
  req = create_request("G", "");
  req["Code"] = {{"S3Bucket", "b"}, {"S3Key", "k"}};
  EXPECT_THAT(registry_->create_function(req).error().message, HasSubstr("S3"));
  req = create_request("G", make_zip("app.py", ""));
  req["Timeout"] = 901;
  EXPECT_EQ(registry_->create_function(req).error().message,
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have "
            "value less than or equal to 900");
  req = create_request("G", make_zip("app.py", ""));
  req["Environment"]["Variables"]["AWS_REGION"] = "x";
  EXPECT_THAT(registry_->create_function(req).error().message, HasSubstr("Reserved keys used in this request: AWS_REGION"));
  EXPECT_FALSE(registry_->has_function("G"));
}

TEST_F(RegistryTest, PublishSnapshotsLatestAndPublishesNothingNewWhenUnchanged) {
  create("F", "v = 1\n");
  auto v1 = registry_->publish_version("F", json::object());
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1.value()["Version"], "1");
  EXPECT_EQ(v1.value()["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:F:1");
  EXPECT_EQ(registry_->publish_version("F", json::object()).value()["Version"], "1");

  auto updated = registry_->update_code("F", {{"ZipFile", base64::encode(make_zip("app.py", "v = 2\n"))}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated.value()["LastUpdateStatus"], "InProgress");
  EXPECT_EQ(registry_->update_code("F", {{"ZipFile", base64::encode(make_zip("app.py", "v = 3\n"))}}).error().type,
            "ResourceConflictException")
      << "one update at a time";
  EXPECT_EQ(registry_->publish_version("F", json::object()).error().type, "ResourceConflictException");
  settle(*registry_, "F");
  EXPECT_EQ(registry_->publish_version("F", json::object()).value()["Version"], "2");
  EXPECT_EQ(registry_->resolve("F", "1"), "1");
  EXPECT_EQ(registry_->resolve("F", "2"), "2");
  EXPECT_NE(manager_->find("F", "1")->config().code_dir, manager_->find("F", "2")->config().code_dir);
  EXPECT_EQ(manager_->find("F", "2")->config().code_dir, manager_->find("F")->config().code_dir);

  auto listed = registry_->list_versions("F", "", std::nullopt);
  ASSERT_EQ(listed.value()["Versions"].size(), 3u);
  EXPECT_EQ(registry_->delete_function("F", "$LATEST").error().type, "InvalidParameterValueException");
  ASSERT_TRUE(registry_->delete_function("F", "1").ok());
  EXPECT_EQ(registry_->resolve("F", "1"), std::nullopt);
  EXPECT_EQ(manager_->find("F", "1"), nullptr);
}

TEST_F(RegistryTest, AStaleRevisionIdIsAPreconditionFailure) {
  create("F");
  auto r = registry_->update_configuration("F", {{"RevisionId", "stale"}, {"Timeout", 10}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "PreconditionFailedException");
  const std::string revision = registry_->get_configuration("F", "").value()["RevisionId"];
  auto ok = registry_->update_configuration("F", {{"RevisionId", revision}, {"Timeout", 10}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_NE(ok.value()["RevisionId"], revision);
  settle(*registry_, "F");
  EXPECT_EQ(manager_->find("F")->config().timeout_seconds, 10) << "the pool runs the new configuration";
}

TEST_F(RegistryTest, ReservationsKeepOneHundredUnreservedAndShowInAccountSettings) {
  create("F");
  create("G");
  EXPECT_EQ(registry_->put_concurrency("F", {{"ReservedConcurrentExecutions", 900}}).value()["ReservedConcurrentExecutions"],
            900);
  auto too_much = registry_->put_concurrency("G", {{"ReservedConcurrentExecutions", 1}});
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.error().message,
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            "below its minimum value of [100].");
  auto settings = registry_->account_settings();
  EXPECT_EQ(settings["AccountLimit"]["UnreservedConcurrentExecutions"], 100);
  EXPECT_EQ(settings["AccountUsage"]["FunctionCount"], 2);
  EXPECT_EQ(registry_->get_concurrency("G").value(), json::object());
  ASSERT_TRUE(registry_->delete_concurrency("F").ok());
  EXPECT_EQ(registry_->account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"], 1000);
}

TEST_F(RegistryTest, ListingPagesThroughEveryFunctionOnce) {
  for (const auto* name : {"A", "B", "C", "D", "E"}) create(name);
  ASSERT_TRUE(registry_->publish_version("C", json::object()).ok());
  std::vector<std::string> names;
  std::string marker;
  for (int page = 0; page < 10; ++page) {
    auto r = registry_->list_functions(std::nullopt, marker, 2);
    ASSERT_TRUE(r.ok());
    for (const auto& f : r.value()["Functions"]) names.push_back(f["FunctionName"]);
    if (!r.value().contains("NextMarker")) break;
    marker = r.value()["NextMarker"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"A", "B", "C", "D", "E"}));
  auto all = registry_->list_functions("ALL", "", std::nullopt).value()["Functions"];
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[2]["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:C:$LATEST");
  EXPECT_EQ(all[3]["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:C:1");
  EXPECT_EQ(registry_->list_functions(std::nullopt, "bogus", std::nullopt).error().type, "InvalidParameterValueException");
  EXPECT_EQ(registry_->list_functions(std::nullopt, "", 0).error().type, "ValidationException");
}

TEST_F(RegistryTest, ListFunctionsRefusesAFunctionVersionOtherThanAll) {
  create("A");
  auto r = registry_->list_functions("invalid", "", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "ValidationException");
  EXPECT_EQ(r.error().message,
            "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member "
            "must satisfy enum value set: [ALL]");
  EXPECT_FALSE(registry_->list_functions("all", "", std::nullopt).ok()) << "the enum is case-sensitive";
  EXPECT_TRUE(registry_->list_functions("ALL", "", std::nullopt).ok());
}

TEST_F(RegistryTest, ListedFunctionsLeaveOutStateAndUpdateStatusThatGetFunctionConfigurationShows) {
  create("A");
  ASSERT_TRUE(registry_->publish_version("A", json::object()).ok());
  for (const std::optional<std::string>& version : {std::optional<std::string>{}, std::optional<std::string>{"ALL"}}) {
    const auto listed = registry_->list_functions(version, "", std::nullopt).value()["Functions"];
    ASSERT_EQ(listed.size(), version ? 2u : 1u);
    for (const auto& f : listed) {
      for (const auto* key : {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
                              "LastUpdateStatusReasonCode"}) {
        EXPECT_FALSE(f.contains(key)) << key << " in " << f.dump();
      }
      EXPECT_EQ(f["LoggingConfig"], json({{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/A"}}));
    }
  }
  const auto got = registry_->get_configuration("A", "").value();
  EXPECT_EQ(got["State"], "Active");
  EXPECT_EQ(got["LastUpdateStatus"], "Successful");
  EXPECT_EQ(got["LoggingConfig"], json({{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/A"}}));
  EXPECT_EQ(registry_->get_function("A", "1").value()["Configuration"]["State"], "Active");
}

TEST_F(RegistryTest, RuntimeVersionArnIsTheOneInitStartPrints) {
  create("A");
  for (const auto* qualifier : {"", "$LATEST"}) {
    EXPECT_EQ(registry_->get_configuration("A", qualifier).value()["RuntimeVersionConfig"],
              json({{"RuntimeVersionArn", observability::runtime_version_arn("python3.12", "us-east-1")}}));
  }
  EXPECT_THAT(observability::init_start_line("python3.12", "us-east-1"),
              HasSubstr(observability::runtime_version_arn("python3.12", "us-east-1")));
}

TEST_F(RegistryTest, ConcurrencyOfAVersionOrAliasIsRefused) {
  create("F");
  ASSERT_TRUE(registry_->publish_version("F", json::object()).ok());
  ASSERT_TRUE(registry_->create_alias("F", {{"Name", "live"}, {"FunctionVersion", "1"}}).ok());
  const std::string message =
      "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
      "Please specify either a function name or an unqualified function ARN.";
  for (const auto* qualifier : {"1", "live", "$LATEST"}) {
    auto put = registry_->put_concurrency("F", {{"ReservedConcurrentExecutions", 5}}, qualifier);
    ASSERT_FALSE(put.ok()) << qualifier;
    EXPECT_EQ(put.error().type, "InvalidParameterValueException");
    EXPECT_EQ(put.error().message, message);
    auto get = registry_->get_concurrency("F", qualifier);
    ASSERT_FALSE(get.ok());
    EXPECT_EQ(get.error().type, "InvalidParameterValueException");
    EXPECT_EQ(get.error().message, message);
    auto del = registry_->delete_concurrency("F", qualifier);
    ASSERT_FALSE(del.ok());
    EXPECT_EQ(del.error().message, message);
  }
  EXPECT_EQ(registry_->get_concurrency("F").value(), json::object()) << "nothing was reserved";
  EXPECT_TRUE(registry_->put_concurrency("F", {{"ReservedConcurrentExecutions", 5}}).ok());
}

TEST_F(RegistryTest, LoggingConfigOfTheTemplateAndOfRequestsIsShownAndKept) {
  config::FunctionConfig fn;
  fn.name = fn.logical_id = "Tmpl";
  fn.runtime = "python3.12";
  fn.handler = "app.handler";
  fn.code_dir = dir_;
  fn.logging.log_format = "JSON";
  fn.logging.application_log_level = "DEBUG";
  registry_->add_template_functions({fn});
  EXPECT_EQ(registry_->get_configuration("Tmpl", "").value()["LoggingConfig"],
            json({{"LogFormat", "JSON"}, {"ApplicationLogLevel", "DEBUG"}, {"SystemLogLevel", "INFO"},
                  {"LogGroup", "/aws/lambda/Tmpl"}}));

  auto request = create_request("Api", make_zip("app.py", "x = 1\n"));
  request["LoggingConfig"] = {{"LogFormat", "JSON"}, {"SystemLogLevel", "WARN"}, {"LogGroup", "/custom/group"}};
  ASSERT_TRUE(registry_->create_function(request).ok());
  settle(*registry_, "Api");
  const json api_json = {{"LogFormat", "JSON"}, {"ApplicationLogLevel", "INFO"}, {"SystemLogLevel", "WARN"},
                         {"LogGroup", "/custom/group"}};
  EXPECT_EQ(registry_->get_configuration("Api", "").value()["LoggingConfig"], api_json);

  // A level with Text is refused, as Lambda refuses it; an unknown format fails the enum.
  auto text_level = registry_->update_configuration("Api", {{"LoggingConfig", {{"LogFormat", "Text"}, {"ApplicationLogLevel", "WARN"}}}});
  ASSERT_FALSE(text_level.ok());
  EXPECT_EQ(text_level.error().type, "InvalidParameterValueException");
  EXPECT_THAT(text_level.error().message, HasSubstr("LogLevel is not supported when LogFormat is set to \"Text\""));
  auto bad_format = registry_->update_configuration("Api", {{"LoggingConfig", {{"LogFormat", "XML"}}}});
  ASSERT_FALSE(bad_format.ok());
  EXPECT_EQ(bad_format.error().message,
            "1 validation error detected: Value 'XML' at 'loggingConfig.logFormat' failed to satisfy constraint: "
            "Member must satisfy enum value set: [JSON, Text]");

  // Kept across a restart.
  auto manager = make_manager();
  auto registry = make_registry(*manager);
  EXPECT_EQ(registry->load_stored(), 1u);
  EXPECT_EQ(registry->get_configuration("Api", "").value()["LoggingConfig"], api_json);

  // Back to Text drops the levels.
  ASSERT_TRUE(registry_->update_configuration("Api", {{"LoggingConfig", {{"LogFormat", "Text"}}}}).ok());
  settle(*registry_, "Api");
  EXPECT_EQ(registry_->get_configuration("Api", "").value()["LoggingConfig"],
            json({{"LogFormat", "Text"}, {"LogGroup", "/custom/group"}}));
}

TEST_F(RegistryTest, FunctionsPersistInTheStateDirectoryAndDeletedOnesDoNot) {
  create("Kept", "v = 1\n");
  ASSERT_TRUE(registry_->publish_version("Kept", json::object()).ok());
  ASSERT_TRUE(registry_->put_concurrency("Kept", {{"ReservedConcurrentExecutions", 3}}).ok());
  ASSERT_TRUE(registry_->create_alias("Kept", {{"Name", "live"}, {"FunctionVersion", "1"}}).ok());
  ASSERT_TRUE(registry_->put_event_invoke_config("Kept", "", {{"MaximumRetryAttempts", 0}}, false).ok());
  create("Gone");
  ASSERT_TRUE(registry_->delete_function("Gone", "").ok());
  EXPECT_FALSE(registry_->has_function("Gone"));

  // A second daemon on the same state directory.
  auto manager = make_manager();
  auto registry = make_registry(*manager);
  EXPECT_EQ(registry->load_stored(), 1u);
  EXPECT_FALSE(registry->has_function("Gone"));
  ASSERT_TRUE(registry->has_function("Kept"));
  EXPECT_EQ(registry->unavailable("Kept"), std::nullopt);
  EXPECT_EQ(registry->resolve("Kept", "1"), "1");
  EXPECT_EQ(registry->resolve("Kept", "live"), "1");
  EXPECT_TRUE(manager->find("Kept", "1") != nullptr);
  EXPECT_EQ(registry->get_concurrency("Kept").value()["ReservedConcurrentExecutions"], 3);
  EXPECT_EQ(registry->get_event_invoke_config("Kept", "").value()["MaximumRetryAttempts"], 0);
  EXPECT_EQ(registry->get_configuration("Kept", "").value()["CodeSha256"],
            registry_->get_configuration("Kept", "").value()["CodeSha256"]);
  EXPECT_FALSE(fs::exists(dir_ / "functions" / ".trash")) << "deleted code is removed at the next start";
}

TEST_F(RegistryTest, TemplateFunctionsWinOverStoredOnesOfTheSameName) {
  create("Same");
  config::FunctionConfig fn;
  fn.name = "Same";
  fn.logical_id = "Same";
  fn.runtime = "python3.12";
  fn.handler = "app.handler";
  fn.code_dir = dir_;
  auto manager = make_manager({fn});
  auto registry = make_registry(*manager);
  registry->add_template_functions({fn});
  EXPECT_EQ(registry->load_stored(), 0u);
  EXPECT_EQ(registry->get_configuration("Same", "").value()["Role"],
            "arn:aws:iam::123456789012:role/SameRole");
  EXPECT_EQ(registry->create_function(create_request("Same", make_zip("a", "b"))).error().type,
            "ResourceConflictException");
}

TEST_F(RegistryTest, InvokeLookupsTakeLogicalIdsAndShortNamesAndDeployedNamesWin) {
  config::FunctionConfig fn;
  fn.name = "shop-prod-orders";
  fn.logical_id = "OrdersLambdaFunction";
  fn.short_name = "orders";
  fn.runtime = "python3.12";
  fn.handler = "app.handler";
  fn.code_dir = dir_;
  auto manager = make_manager({fn});
  auto registry = make_registry(*manager);
  registry->add_template_functions({fn});
  EXPECT_EQ(registry->function_for("shop-prod-orders"), "shop-prod-orders");
  EXPECT_EQ(registry->function_for("OrdersLambdaFunction"), "shop-prod-orders");
  EXPECT_EQ(registry->function_for("orders"), "shop-prod-orders");
  EXPECT_EQ(registry->function_for("nope"), "nope");
  // A function created through the API under a template function's short name is what that name reaches.
  ASSERT_TRUE(registry->create_function(create_request("orders", make_zip("app.py", ""))));
  EXPECT_EQ(registry->function_for("orders"), "orders");
  EXPECT_EQ(registry->function_for("OrdersLambdaFunction"), "shop-prod-orders");
}


// --- reading the template again (serve --watch) ---------------------------------------------

class TemplateReloadTest : public RegistryTest {
 protected:
  config::FunctionConfig template_function(const std::string& name, int timeout = 3) {
    config::FunctionConfig fn;
    fn.name = name;
    fn.logical_id = name;
    fn.runtime = "python3.12";
    fn.handler = "app.handler";
    fn.code_dir = dir_ / name;
    fn.timeout_seconds = timeout;
    return fn;
  }
  // A daemon started on `functions`, as run_serve wires it.
  void start(const std::vector<config::FunctionConfig>& functions) {
    registry_.reset();
    manager_ = make_manager(functions);
    registry_ = make_registry(*manager_);
    registry_->add_template_functions(functions);
  }
  using Names = std::vector<std::string>;
};

TEST_F(TemplateReloadTest, ChangedFunctionsGetTheNewDefinitionNewOnesAreAddedRemovedOnesGo) {
  auto a = template_function("A");
  auto b = template_function("B");
  auto same = template_function("Same");
  start({a, b, same});
  const auto same_revision = registry_->get_configuration("Same", "").value()["RevisionId"];
  const auto a_revision = registry_->get_configuration("A", "").value()["RevisionId"];

  a.timeout_seconds = 30;
  a.environment["GREETING"] = "hello";
  auto added = template_function("Added");
  auto changes = registry_->reload_template_functions({a, same, added});
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  EXPECT_EQ(changes->changed, Names{"A"});
  EXPECT_EQ(changes->added, Names{"Added"});
  EXPECT_EQ(changes->removed, Names{"B"});
  EXPECT_EQ(changes->unchanged, Names{"Same"});
  EXPECT_TRUE(changes->skipped.empty());

  auto got = registry_->get_configuration("A", "").value();
  EXPECT_EQ(got["Timeout"], 30) << "GetFunctionConfiguration reports the new definition";
  EXPECT_EQ(got["Environment"]["Variables"]["GREETING"], "hello");
  EXPECT_NE(got["RevisionId"], a_revision);
  ASSERT_NE(manager_->find("A"), nullptr);
  EXPECT_EQ(manager_->find("A")->config().timeout_seconds, 30) << "the pool runs the new configuration";
  EXPECT_EQ(registry_->get_configuration("Same", "").value()["RevisionId"], same_revision) << "left as it was";

  EXPECT_FALSE(registry_->has_function("B"));
  EXPECT_FALSE(manager_->has_function("B"));
  EXPECT_EQ(registry_->get_configuration("B", "").error().type, "ResourceNotFoundException");

  EXPECT_TRUE(registry_->has_function("Added"));
  ASSERT_NE(manager_->find("Added"), nullptr);
  EXPECT_EQ(registry_->get_configuration("Added", "").value()["Role"], "arn:aws:iam::123456789012:role/AddedRole");

  auto again = registry_->reload_template_functions({a, same, added});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "reading an unchanged template changes nothing";
  EXPECT_EQ(again->unchanged, (Names{"A", "Same", "Added"}));
}

TEST_F(TemplateReloadTest, FunctionsCreatedThroughTheApiAreUntouched) {
  start({template_function("T")});
  create("Api", "v = 1\n");
  const auto before = registry_->get_configuration("Api", "").value();

  // Neither dropped when the template does not define it, nor replaced when it starts to.
  auto shadow = template_function("Api", 60);
  auto changes = registry_->reload_template_functions({template_function("T"), shadow});
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  EXPECT_EQ(changes->skipped, Names{"Api"});
  EXPECT_TRUE(changes->empty());
  EXPECT_EQ(registry_->get_configuration("Api", "").value(), before);

  changes = registry_->reload_template_functions({});
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->removed, Names{"T"});
  EXPECT_EQ(registry_->get_configuration("Api", "").value(), before);
  EXPECT_TRUE(manager_->has_function("Api"));
}

TEST_F(TemplateReloadTest, ApiChangesLastWhileTheDefinitionIsUnchangedAndGoWhenItChanges) {
  auto t = template_function("T");
  start({t});
  ASSERT_TRUE(registry_->put_concurrency("T", {{"ReservedConcurrentExecutions", 5}}).ok());
  ASSERT_TRUE(registry_->reload_template_functions({t}).ok());
  EXPECT_EQ(registry_->get_concurrency("T").value()["ReservedConcurrentExecutions"], 5);

  t.memory_mb = 512;
  auto changes = registry_->reload_template_functions({t});
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->changed, Names{"T"});
  EXPECT_EQ(registry_->get_concurrency("T").value(), json::object()) << "defined anew, as at a restart";
  EXPECT_EQ(registry_->get_configuration("T", "").value()["MemorySize"], 512);
}

TEST_F(TemplateReloadTest, AutoPublishAliasAddedAndRemoved) {
  auto t = template_function("T");
  start({t});
  EXPECT_EQ(registry_->resolve("T", "live"), std::nullopt);

  t.auto_publish_alias = "live";
  ASSERT_TRUE(registry_->reload_template_functions({t}).ok());
  EXPECT_EQ(registry_->resolve("T", "live"), "1");
  ASSERT_NE(manager_->find("T", "1"), nullptr);

  t.auto_publish_alias.clear();
  ASSERT_TRUE(registry_->reload_template_functions({t}).ok());
  EXPECT_EQ(registry_->resolve("T", "live"), std::nullopt);
  EXPECT_EQ(registry_->resolve("T", "1"), std::nullopt);
  EXPECT_EQ(manager_->find("T", "1"), nullptr) << "the version's pool is gone";
  ASSERT_NE(manager_->find("T"), nullptr);
}

TEST_F(TemplateReloadTest, ReservationsOverTheAccountLimitChangeNothing) {
  auto t = template_function("T");
  start({t, template_function("Other")});
  t.reserved_concurrency = 950;  // leaves 50 of 1000 unreserved
  auto changes = registry_->reload_template_functions({t});
  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(changes.error().type, "InvalidParameterValueException");
  EXPECT_THAT(changes.error().message, HasSubstr("UnreservedConcurrentExecution"));
  EXPECT_TRUE(registry_->has_function("Other")) << "a refused reload removes nothing";
  EXPECT_EQ(registry_->get_concurrency("T").value(), json::object());

  t.reserved_concurrency = 900;
  changes = registry_->reload_template_functions({t});
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  EXPECT_EQ(registry_->get_concurrency("T").value()["ReservedConcurrentExecutions"], 900);
  EXPECT_EQ(registry_->account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"], 100);
}

TEST_F(TemplateReloadTest, AnUpdateInFlightOnAChangedFunctionIsDropped) {
  auto t = template_function("T");
  start({t});
  auto update = registry_->update_configuration("T", {{"Timeout", 9}});
  ASSERT_TRUE(update.ok()) << update.error().message;
  t.timeout_seconds = 20;
  ASSERT_TRUE(registry_->reload_template_functions({t}).ok());
  io_.restart();
  io_.poll();  // the update's swap would run now
  auto got = registry_->get_configuration("T", "").value();
  EXPECT_EQ(got["Timeout"], 20);
  EXPECT_EQ(got["LastUpdateStatus"], "Successful");
  EXPECT_EQ(manager_->find("T")->config().timeout_seconds, 20);
}

TEST_F(TemplateReloadTest, AFunctionDeletedThroughTheApiComesBackWithTheTemplate) {
  auto t = template_function("T");
  start({t});
  ASSERT_TRUE(registry_->delete_function("T", "").ok());
  auto changes = registry_->reload_template_functions({t});
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->added, Names{"T"});
  EXPECT_TRUE(manager_->has_function("T"));
}

}  // namespace
}  // namespace lambdad::control_plane
