// The registry's operations and state machine against a real SandboxManager whose environments
// are never started (no invocation is dispatched here): Pending -> Active when the code is
// unpacked (on the blocking pool's threads; its result comes back through the event loop the
// test runs), Failed for a bad zip, versions, concurrency rules, listing, and persistence in the
// state directory across registries. Requests and answers are typed: their AWS JSON is the
// control routes' (tests/unit/invoke_api/control_json_test.cpp).
#include "lambdad/control_plane/function_registry.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"
#include "lambdad_test/blocking_work.hpp"
#include "lambdad_test/manual_time.hpp"
#include "one_file_zip.hpp"

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

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

  std::unique_ptr<sandbox::SandboxManager> make_manager() {
    sandbox::PoolDeps deps{io_.get_executor(), clock_, clock_, endpoints_, runtime_options_};
    return std::make_unique<sandbox::SandboxManager>(deps);
  }
  std::unique_ptr<FunctionRegistry> make_registry(sandbox::SandboxManager& manager) {
    RegistryOptions options;
    options.functions_dir = dir_ / "functions";
    options.durable = false;
    auto registry = std::make_unique<FunctionRegistry>(
        clock_, [this](std::function<void()> task) { boost::asio::post(io_, std::move(task)); }, blocking_, options);
    // As app::Daemon::build wires it: the pools follow the catalogue.
    registry->subscribe([&manager](const CatalogueChange& c) { manager.follow(c); });
    return registry;
  }

  CreateFunctionRequest create_request(const std::string& name, const std::string& zip) {
    CreateFunctionRequest r;
    r.name = name;
    r.settings.runtime = "python3.12";
    r.settings.role = "arn:aws:iam::123456789012:role/r";
    r.settings.handler = "app.handler";
    r.zip = zip;
    return r;
  }
  static UpdateCodeRequest new_code(const std::string& zip) { return UpdateCodeRequest{zip, {}, {}, false, false}; }
  static UpdateConfigurationRequest new_timeout(int seconds, std::optional<std::string> revision = {}) {
    UpdateConfigurationRequest r;
    r.settings.timeout_seconds = seconds;
    r.revision_id = std::move(revision);
    return r;
  }
  static UpdateConfigurationRequest new_logging(LoggingConfigChange logging) {
    UpdateConfigurationRequest r;
    r.settings.logging = std::move(logging);
    return r;
  }
  const VersionRecord& latest(FunctionRegistry& registry, const std::string& name) {
    return *registry.get_configuration(name, "").value().version;
  }

  // Runs the blocking work and the event loop until the function leaves Pending / InProgress.
  void settle(FunctionRegistry& registry, const std::string& name) {
    for (int i = 0; i < 10; ++i) {
      const auto* fn = registry.find(name);
      if (fn && fn->job == 0) return;
      blocking_.wait_idle();  // the unpack ran and posted its result
      io_.restart();
      io_.poll();
    }
    FAIL() << name << " did not settle";
  }

  // The state the function was created in.
  std::string create(const std::string& name, const std::string& content = "def handler(e, c):\n  return 1\n") {
    auto r = registry_->create_function(create_request(name, make_zip("app.py", content)));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    const std::string state = r.ok() ? std::string(state_name(r->function->state)) : "";
    settle(*registry_, name);
    return state;
  }

  boost::asio::io_context io_;
  BlockingPool blocking_{io_};
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
  EXPECT_EQ(r->function->state, FunctionState::kPending);
  EXPECT_EQ(r->function->state_reason_code, "Creating");
  EXPECT_EQ(r->number, "$LATEST");
  EXPECT_EQ(r->version->config.name, "F");
  EXPECT_EQ(r->version->code_size, zip.size());
  EXPECT_EQ(r->version->code_sha256, sha256_base64(zip));
  EXPECT_EQ(registry_->unavailable("F"), "Pending") << "invokes are refused (409) until the code is there";
  EXPECT_FALSE(manager_->has_function("F")) << "no pool before the code exists";

  settle(*registry_, "F");
  EXPECT_EQ(registry_->unavailable("F"), std::nullopt);
  EXPECT_TRUE(manager_->has_function("F"));
  auto got = registry_->get_function("F", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->configuration.function->state, FunctionState::kActive);
  EXPECT_EQ(got->configuration.function->last_update, UpdateStatus::kSuccessful);
  const fs::path code = dir_ / "functions" / "F" / "code" / sha256_hex(zip);
  EXPECT_TRUE(fs::exists(code / "app.py"));
  EXPECT_EQ(got->code_location, "file://" + (dir_ / "functions" / "F" / "code" / (sha256_hex(zip) + ".zip")).string());
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
  EXPECT_EQ(got->function->state, FunctionState::kFailed);
  EXPECT_THAT(got->function->state_reason, HasSubstr("cannot create"));
  EXPECT_FALSE(manager_->has_function("Blocked"));
  EXPECT_EQ(registry_->publish_version("Blocked", {}).error().type, "ResourceConflictException");

  // New code makes it Active, as UpdateFunctionCode does for a Failed function on Lambda.
  fs::remove(dir_ / "functions" / "Blocked" / "code");
  auto updated = registry_->update_code("Blocked", new_code(make_zip("app.py", "ok = 1\n")));
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  settle(*registry_, "Blocked");
  EXPECT_EQ(registry_->unavailable("Blocked"), std::nullopt);
  EXPECT_TRUE(manager_->has_function("Blocked"));
}

TEST_F(RegistryTest, CreateRejectsWhatLambdaRejects) {
  // What the request alone decides (role, runtime, ranges, reserved keys, S3) the control routes
  // refuse before the registry sees it: ControlJsonTest.CreateRejectsWhatLambdaRejects.
  EXPECT_EQ(create("F"), "Pending");
  auto again = registry_->create_function(create_request("F", make_zip("app.py", "")));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().type, "ResourceConflictException");
  EXPECT_EQ(again.error().message, "Function already exist: F");

  auto req = create_request("G", make_zip("app.py", ""));
  req.settings.handler.reset();
  auto incomplete = registry_->create_function(req);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.error().type, "InvalidParameterValueException");
  EXPECT_EQ(incomplete.error().message,
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  req.settings.runtime = "provided.al2023";  // a custom runtime needs a handler too
  auto custom = registry_->create_function(req);
  ASSERT_FALSE(custom.ok());
  EXPECT_EQ(custom.error().message,
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  req.settings.handler = "bootstrap";
  ASSERT_TRUE(registry_->create_function(req).ok());
  settle(*registry_, "G");
  UpdateConfigurationRequest no_handler;
  no_handler.settings.handler = "";
  EXPECT_EQ(registry_->update_configuration("F", no_handler).error().message,
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  EXPECT_FALSE(registry_->has_function("H"));
}

TEST_F(RegistryTest, ManagedInstancesAreChosenAtCreationAndRefusedWhereLambdaRefusesThem) {
  config::ManagedInstancesConfig managed;
  managed.capacity_provider_arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp";
  managed.per_environment_max_concurrency = 8;
  auto req = create_request("M", make_zip("app.py", ""));
  req.settings.managed_instances = managed;
  // python3.12 and 128 MB: both refused, the runtime first.
  auto old_runtime = registry_->create_function(req);
  ASSERT_FALSE(old_runtime.ok());
  EXPECT_EQ(old_runtime.error().type, "InvalidParameterValueException");
  EXPECT_EQ(old_runtime.error().message, *config::managed_instances_runtime_refusal("python3.12"));
  req.settings.runtime = "python3.13";
  auto small = registry_->create_function(req);
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.error().message, HasSubstr("MemorySize must be at least 2048 MB for Lambda Managed Instances"));
  req.settings.memory_mb = 2048;
  auto created = registry_->create_function(req);
  ASSERT_TRUE(created.ok()) << created.error().message;
  settle(*registry_, "M");
  EXPECT_EQ(latest(*registry_, "M").config.managed_instances, managed);

  // An update changes it and is checked the same way.
  UpdateConfigurationRequest more;
  more.settings.managed_instances = managed;
  more.settings.managed_instances->per_environment_max_concurrency = 16;
  ASSERT_TRUE(registry_->update_configuration("M", more).ok());
  settle(*registry_, "M");
  EXPECT_EQ(latest(*registry_, "M").config.managed_instances->per_environment_max_concurrency, 16);
  UpdateConfigurationRequest snap;
  snap.settings.snap_start = true;
  EXPECT_EQ(registry_->update_configuration("M", snap).error().message,
            "Lambda Managed Instances do not support SnapStart");
  UpdateConfigurationRequest less_memory;
  less_memory.settings.memory_mb = 1024;
  EXPECT_FALSE(registry_->update_configuration("M", less_memory).ok());

  // A classic function stays classic.
  create("Classic");
  UpdateConfigurationRequest add;
  add.settings.managed_instances = managed;
  auto added = registry_->update_configuration("Classic", add);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().type, "InvalidParameterValueException");
  EXPECT_THAT(added.error().message, HasSubstr("CapacityProviderConfig cannot be added to a function created without one"));
  EXPECT_FALSE(latest(*registry_, "Classic").config.managed_instances);
}

TEST_F(RegistryTest, PublishSnapshotsLatestAndPublishesNothingNewWhenUnchanged) {
  create("F", "v = 1\n");
  auto v1 = registry_->publish_version("F", {});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->number, "1");
  EXPECT_EQ(v1->version->source_revision, latest(*registry_, "F").revision_id);
  EXPECT_EQ(registry_->publish_version("F", {}).value().number, "1");

  auto updated = registry_->update_code("F", new_code(make_zip("app.py", "v = 2\n")));
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->function->last_update, UpdateStatus::kInProgress);
  EXPECT_EQ(registry_->update_code("F", new_code(make_zip("app.py", "v = 3\n"))).error().type,
            "ResourceConflictException")
      << "one update at a time";
  EXPECT_EQ(registry_->publish_version("F", {}).error().type, "ResourceConflictException");
  settle(*registry_, "F");
  EXPECT_EQ(registry_->publish_version("F", {}).value().number, "2");
  EXPECT_EQ(registry_->resolve("F", "1"), "1");
  EXPECT_EQ(registry_->resolve("F", "2"), "2");
  EXPECT_NE(manager_->find("F", "1")->config().code_dir, manager_->find("F", "2")->config().code_dir);
  EXPECT_EQ(manager_->find("F", "2")->config().code_dir, manager_->find("F")->config().code_dir);

  auto listed = registry_->list_versions("F");
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].number, "$LATEST");
  EXPECT_EQ((*listed)[2].number, "2");
  EXPECT_EQ(registry_->delete_function("F", "$LATEST").error().type, "InvalidParameterValueException");
  ASSERT_TRUE(registry_->delete_function("F", "1").ok());
  EXPECT_EQ(registry_->resolve("F", "1"), std::nullopt);
  EXPECT_EQ(manager_->find("F", "1"), nullptr);
}

// What the catalogue publishes, as one line per change (catalogue_change.hpp).
std::string describe(const CatalogueChange& change) {
  if (const auto* put = std::get_if<VersionPut>(&change)) {
    return fmt::format("put {}:{} timeout={}", put->config.name, put->version, put->config.timeout_seconds);
  }
  if (const auto* removed = std::get_if<VersionRemoved>(&change)) {
    return fmt::format("remove {}:{}", removed->name, removed->version);
  }
  if (const auto* gone = std::get_if<FunctionRemoved>(&change)) return fmt::format("remove {}", gone->name);
  if (std::get_if<UrlPut>(&change) || std::get_if<UrlRemoved>(&change)) return "url";  // function_urls_test.cpp
  const auto& settings = std::get<EventSettingsChanged>(change);
  return fmt::format("events {} retries={} reserved={}", settings.name,
                     settings.event_invoke_config ? std::to_string(settings.event_invoke_config->maximum_retry_attempts)
                                                  : "default",
                     settings.reserved_concurrency ? std::to_string(*settings.reserved_concurrency) : "none");
}

TEST_F(RegistryTest, EveryChangeIsPublishedOnceItIsMade) {
  std::vector<std::string> told;
  registry_->subscribe([&](const CatalogueChange& c) { told.push_back(describe(c)); });
  create("F");
  EXPECT_THAT(told, ElementsAre("put F:$LATEST timeout=3", "events F retries=default reserved=none"))
      << "nothing while Pending; the pool and the Event settings once the code is unpacked";
  told.clear();

  ASSERT_TRUE(registry_->update_configuration("F", new_timeout(10)).ok());
  settle(*registry_, "F");
  ASSERT_TRUE(registry_->publish_version("F", {}).ok());
  ASSERT_TRUE(registry_->put_concurrency("F", 5).ok());
  EventInvokeConfigChange no_retries;
  no_retries.maximum_retry_attempts = 0;
  ASSERT_TRUE(registry_->put_event_invoke_config("F", "", no_retries, false).ok());
  ASSERT_TRUE(registry_->delete_event_invoke_config("F", "").ok());
  ASSERT_TRUE(registry_->delete_concurrency("F").ok());
  EXPECT_THAT(told, ElementsAre("put F:$LATEST timeout=10", "events F retries=default reserved=none",
                                "put F:1 timeout=10", "events F retries=default reserved=5",
                                "events F retries=0 reserved=5", "events F retries=default reserved=5",
                                "events F retries=default reserved=none"));
  told.clear();

  EXPECT_FALSE(registry_->put_concurrency("F", 901).ok());
  EXPECT_FALSE(registry_->delete_function("F", "7").ok());
  EXPECT_THAT(told, IsEmpty()) << "a refused command changes nothing and publishes nothing";

  ASSERT_TRUE(registry_->delete_function("F", "1").ok());
  ASSERT_TRUE(registry_->delete_function("F", "").ok());
  EXPECT_THAT(told, ElementsAre("remove F:1", "remove F"));
}

TEST_F(RegistryTest, AStaleRevisionIdIsAPreconditionFailure) {
  create("F");
  auto r = registry_->update_configuration("F", new_timeout(10, "stale"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "PreconditionFailedException");
  const std::string revision = latest(*registry_, "F").revision_id;
  auto ok = registry_->update_configuration("F", new_timeout(10, revision));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_NE(ok->version->revision_id, revision);
  settle(*registry_, "F");
  EXPECT_EQ(manager_->find("F")->config().timeout_seconds, 10) << "the pool runs the new configuration";
}

TEST_F(RegistryTest, ReservationsKeepOneHundredUnreservedAndShowInAccountSettings) {
  create("F");
  create("G");
  EXPECT_EQ(registry_->put_concurrency("F", 900).value(), 900);
  auto too_much = registry_->put_concurrency("G", 1);
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.error().message,
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            "below its minimum value of [100].");
  auto settings = registry_->account_settings();
  EXPECT_EQ(settings.concurrent_executions, 1000);
  EXPECT_EQ(settings.unreserved_concurrent_executions, 100);
  EXPECT_EQ(registry_->unreserved_concurrency(), 100) << "what the scheduler shares out";
  EXPECT_EQ(settings.function_count, 2u);
  EXPECT_EQ(settings.total_code_size, latest(*registry_, "F").code_size + latest(*registry_, "G").code_size);
  EXPECT_EQ(registry_->get_concurrency("G").value(), std::nullopt);
  ASSERT_TRUE(registry_->delete_concurrency("F").ok());
  EXPECT_EQ(registry_->account_settings().unreserved_concurrent_executions, 1000);
}

TEST_F(RegistryTest, TemplateReservationsKeepOneHundredUnreserved) {
  auto reserving = [](std::optional<int> reserved) {
    config::FunctionConfig fn;
    fn.name = "A";
    fn.reserved_concurrency = reserved;
    return std::vector<config::FunctionConfig>{fn};
  };
  EXPECT_TRUE(FunctionRegistry::check_template_reservations(reserving(900), 1000).ok());
  auto st = FunctionRegistry::check_template_reservations(reserving(901), 1000);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().type, "InvalidParameterValueException");
  EXPECT_EQ(st.error().message,
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            "below its minimum value of [100]. (reserved 901 of an account concurrency of 1000)");
  EXPECT_TRUE(FunctionRegistry::check_template_reservations(reserving(std::nullopt), 3).ok())
      << "no reservations: any account limit";
  EXPECT_FALSE(FunctionRegistry::check_template_reservations(reserving(3), 3).ok());
}

// Pages, markers, MaxItems and the listed view are the control routes': ControlJsonTest.
TEST_F(RegistryTest, ListingHasEveryFunctionInOrderAndWithAllVersionsTheirVersions) {
  for (const auto* name : {"B", "A", "C"}) create(name);
  ASSERT_TRUE(registry_->publish_version("C", {}).ok());
  ASSERT_TRUE(registry_->publish_version("A", {}).ok());
  auto entries = [](const std::vector<VersionView>& views) {
    std::vector<std::string> out;
    for (const auto& v : views) out.push_back(v.version->config.name + ":" + v.number);
    return out;
  };
  EXPECT_EQ(entries(registry_->list_functions(false)),
            (std::vector<std::string>{"A:$LATEST", "B:$LATEST", "C:$LATEST"}));
  EXPECT_EQ(entries(registry_->list_functions(true)),
            (std::vector<std::string>{"A:$LATEST", "A:1", "B:$LATEST", "C:$LATEST", "C:1"}));
  for (const auto& v : registry_->list_functions(true)) {
    EXPECT_EQ(v.version->config.name, v.function->latest.config.name) << "each view points into its own function";
  }
}

TEST_F(RegistryTest, ConcurrencyOfAVersionOrAliasIsRefused) {
  create("F");
  ASSERT_TRUE(registry_->publish_version("F", {}).ok());
  ASSERT_TRUE(registry_->create_alias("F", {"live", "1", ""}).ok());
  const std::string message =
      "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
      "Please specify either a function name or an unqualified function ARN.";
  for (const auto* qualifier : {"1", "live", "$LATEST"}) {
    auto put = registry_->put_concurrency("F", 5, qualifier);
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
  EXPECT_EQ(registry_->get_concurrency("F").value(), std::nullopt) << "nothing was reserved";
  EXPECT_TRUE(registry_->put_concurrency("F", 5).ok());
}

// How a LoggingConfig is shown (INFO when JSON names no level, /aws/lambda/<name>) and the enum of
// each member are the control routes': ControlJsonTest.
TEST_F(RegistryTest, LoggingConfigOfTheTemplateAndOfRequestsIsKept) {
  config::FunctionConfig fn;
  fn.name = fn.logical_id = "Tmpl";
  fn.runtime = "python3.12";
  fn.handler = "app.handler";
  fn.code_dir = dir_;
  fn.logging.log_format = "JSON";
  fn.logging.application_log_level = "DEBUG";
  registry_->add_template_functions({fn});
  EXPECT_EQ(latest(*registry_, "Tmpl").config.logging, (config::LoggingConfig{"JSON", "DEBUG", "", ""}));

  auto request = create_request("Api", make_zip("app.py", "x = 1\n"));
  request.settings.logging = LoggingConfigChange{"JSON", {}, "WARN", "/custom/group", true};
  ASSERT_TRUE(registry_->create_function(request).ok());
  settle(*registry_, "Api");
  const config::LoggingConfig api_logging{"JSON", "", "WARN", "/custom/group"};
  EXPECT_EQ(latest(*registry_, "Api").config.logging, api_logging);

  // A level with Text is refused, as Lambda refuses it, whether the request or the function says Text.
  auto text_level = registry_->update_configuration("Api", new_logging({"Text", "WARN", {}, {}, true}));
  ASSERT_FALSE(text_level.ok());
  EXPECT_EQ(text_level.error().type, "InvalidParameterValueException");
  EXPECT_EQ(text_level.error().message,
            "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or "
            "change the LogFormat to \"Json\" and try again.");
  EXPECT_EQ(latest(*registry_, "Api").config.logging, api_logging) << "a refused update changes nothing";
  auto text_function = create_request("Text", make_zip("app.py", ""));
  ASSERT_TRUE(registry_->create_function(text_function).ok());
  settle(*registry_, "Text");
  EXPECT_FALSE(registry_->update_configuration("Text", new_logging({{}, "DEBUG", {}, {}, true})).ok());
  auto json_level = registry_->update_configuration("Api", new_logging({{}, "DEBUG", {}, {}, true}));
  ASSERT_TRUE(json_level.ok()) << json_level.error().message;
  settle(*registry_, "Api");
  const config::LoggingConfig api_debug{"JSON", "DEBUG", "WARN", "/custom/group"};
  EXPECT_EQ(latest(*registry_, "Api").config.logging, api_debug);
  EXPECT_EQ(manager_->find("Api")->config().logging, api_debug) << "the pool runs the new configuration";

  // Kept across a restart.
  test::settle(blocking_, io_);  // the records are written on the blocking pool
  auto manager = make_manager();
  auto registry = make_registry(*manager);
  EXPECT_EQ(registry->load_stored(), 2u);
  EXPECT_EQ(latest(*registry, "Api").config.logging, api_debug);

  // Back to Text drops the levels.
  ASSERT_TRUE(registry_->update_configuration("Api", new_logging({"Text", {}, {}, {}, false})).ok());
  settle(*registry_, "Api");
  EXPECT_EQ(latest(*registry_, "Api").config.logging, (config::LoggingConfig{"Text", "", "", "/custom/group"}));
}

TEST_F(RegistryTest, FunctionsPersistInTheStateDirectoryAndDeletedOnesDoNot) {
  create("Kept", "v = 1\n");
  ASSERT_TRUE(registry_->publish_version("Kept", {}).ok());
  ASSERT_TRUE(registry_->put_concurrency("Kept", 3).ok());
  ASSERT_TRUE(registry_->create_alias("Kept", {"live", "1", ""}).ok());
  EventInvokeConfigChange no_retries;
  no_retries.maximum_retry_attempts = 0;
  ASSERT_TRUE(registry_->put_event_invoke_config("Kept", "", no_retries, false).ok());
  create("Gone");
  ASSERT_TRUE(registry_->delete_function("Gone", "").ok());
  EXPECT_FALSE(registry_->has_function("Gone"));
  test::settle(blocking_, io_);  // the records are written on the blocking pool

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
  EXPECT_EQ(registry->get_concurrency("Kept").value(), 3);
  EXPECT_EQ(registry->get_event_invoke_config("Kept", "").value().config.maximum_retry_attempts, 0);
  EXPECT_EQ(latest(*registry, "Kept").code_sha256, latest(*registry_, "Kept").code_sha256);
  EXPECT_FALSE(fs::exists(dir_ / "functions" / ".trash")) << "deleted code is removed at the next start";
}

TEST_F(RegistryTest, ARecordSavedBeforeShutdownIsOnDiskAfterIt) {
  create("Kept");
  ASSERT_TRUE(registry_->put_concurrency("Kept", 3).ok());
  registry_->shutdown();  // as serve does once the loop has stopped: no completion runs after it

  auto manager = make_manager();
  auto registry = make_registry(*manager);
  EXPECT_EQ(registry->load_stored(), 1u);
  EXPECT_EQ(registry->get_concurrency("Kept").value(), 3);
}

TEST_F(RegistryTest, AFunctionCreatedAgainAfterADeleteKeepsItsNewCode) {
  create("F", "v = 1\n");
  ASSERT_TRUE(registry_->delete_function("F", "").ok());
  EXPECT_EQ(create("F", "v = 2\n"), "Pending");
  test::settle(blocking_, io_);
  EXPECT_EQ(registry_->find("F")->state, FunctionState::kActive);
  const auto code = latest(*registry_, "F").config.code_dir;
  EXPECT_TRUE(fs::exists(code / "app.py")) << "the old directory's removal did not take the new code";
  EXPECT_TRUE(fs::exists(dir_ / "functions" / "F" / "function.json"));
}

TEST_F(RegistryTest, AliasRevisionIdsLastAcrossARestart) {
  create("F");
  ASSERT_TRUE(registry_->publish_version("F", {}).ok());
  auto alias = registry_->create_alias("F", {"live", "1", ""});
  ASSERT_TRUE(alias.ok());
  const std::string revision = alias->revision_id;
  test::settle(blocking_, io_);

  auto manager = make_manager();
  auto registry = make_registry(*manager);
  ASSERT_EQ(registry->load_stored(), 1u);
  EXPECT_EQ(registry->get_alias("F", "live").value().revision_id, revision);
  UpdateAliasRequest update;
  update.description = "now";
  update.revision_id = revision;
  EXPECT_TRUE(registry->update_alias("F", "live", update).ok()) << "the RevisionId from before the restart matches";
}

TEST_F(RegistryTest, TemplateFunctionsWinOverStoredOnesOfTheSameName) {
  create("Same");
  config::FunctionConfig fn;
  fn.name = "Same";
  fn.logical_id = "Same";
  fn.runtime = "python3.12";
  fn.handler = "app.handler";
  fn.code_dir = dir_;
  auto manager = make_manager();
  auto registry = make_registry(*manager);
  registry->add_template_functions({fn});
  EXPECT_EQ(registry->load_stored(), 0u);
  EXPECT_EQ(latest(*registry, "Same").role, "arn:aws:iam::123456789012:role/SameRole");
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
  auto manager = make_manager();
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
    manager_ = make_manager();
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
  const auto same_revision = latest(*registry_, "Same").revision_id;
  const auto a_revision = latest(*registry_, "A").revision_id;

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

  const auto& got = latest(*registry_, "A");
  EXPECT_EQ(got.config.timeout_seconds, 30) << "GetFunctionConfiguration reports the new definition";
  EXPECT_EQ(got.config.environment.at("GREETING"), "hello");
  EXPECT_NE(got.revision_id, a_revision);
  ASSERT_NE(manager_->find("A"), nullptr);
  EXPECT_EQ(manager_->find("A")->config().timeout_seconds, 30) << "the pool runs the new configuration";
  EXPECT_EQ(latest(*registry_, "Same").revision_id, same_revision) << "left as it was";

  EXPECT_FALSE(registry_->has_function("B"));
  EXPECT_FALSE(manager_->has_function("B"));
  EXPECT_EQ(registry_->get_configuration("B", "").error().type, "ResourceNotFoundException");

  EXPECT_TRUE(registry_->has_function("Added"));
  ASSERT_NE(manager_->find("Added"), nullptr);
  EXPECT_EQ(latest(*registry_, "Added").role, "arn:aws:iam::123456789012:role/AddedRole");

  auto again = registry_->reload_template_functions({a, same, added});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "reading an unchanged template changes nothing";
  EXPECT_EQ(again->unchanged, (Names{"A", "Same", "Added"}));
}

TEST_F(TemplateReloadTest, FunctionsCreatedThroughTheApiAreUntouched) {
  start({template_function("T")});
  create("Api", "v = 1\n");
  const VersionRecord before = latest(*registry_, "Api");
  // A change to any of it gives a new revision; the definition the template would give differs in these.
  auto untouched = [&] {
    const auto& now = latest(*registry_, "Api");
    return now.revision_id == before.revision_id && now.last_modified == before.last_modified &&
           now.role == before.role && now.config.timeout_seconds == before.config.timeout_seconds &&
           now.config.code_dir == before.config.code_dir && now.code_sha256 == before.code_sha256 &&
           registry_->find("Api")->state == FunctionState::kActive;
  };

  // Neither dropped when the template does not define it, nor replaced when it starts to.
  auto shadow = template_function("Api", 60);
  auto changes = registry_->reload_template_functions({template_function("T"), shadow});
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  EXPECT_EQ(changes->skipped, Names{"Api"});
  EXPECT_TRUE(changes->empty());
  EXPECT_TRUE(untouched());

  changes = registry_->reload_template_functions({});
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->removed, Names{"T"});
  EXPECT_TRUE(untouched());
  EXPECT_TRUE(manager_->has_function("Api"));
}

TEST_F(TemplateReloadTest, ApiChangesLastWhileTheDefinitionIsUnchangedAndGoWhenItChanges) {
  auto t = template_function("T");
  start({t});
  ASSERT_TRUE(registry_->put_concurrency("T", 5).ok());
  ASSERT_TRUE(registry_->reload_template_functions({t}).ok());
  EXPECT_EQ(registry_->get_concurrency("T").value(), 5);

  t.memory_mb = 512;
  auto changes = registry_->reload_template_functions({t});
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->changed, Names{"T"});
  EXPECT_EQ(registry_->get_concurrency("T").value(), std::nullopt) << "defined anew, as at a restart";
  EXPECT_EQ(latest(*registry_, "T").config.memory_mb, 512);
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
  EXPECT_EQ(registry_->get_concurrency("T").value(), std::nullopt);

  t.reserved_concurrency = 900;
  changes = registry_->reload_template_functions({t});
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  EXPECT_EQ(registry_->get_concurrency("T").value(), 900);
  EXPECT_EQ(registry_->account_settings().unreserved_concurrent_executions, 100);
}

TEST_F(TemplateReloadTest, AnUpdateInFlightOnAChangedFunctionIsDropped) {
  auto t = template_function("T");
  start({t});
  auto update = registry_->update_configuration("T", new_timeout(9));
  ASSERT_TRUE(update.ok()) << update.error().message;
  t.timeout_seconds = 20;
  ASSERT_TRUE(registry_->reload_template_functions({t}).ok());
  io_.restart();
  io_.poll();  // the update's swap would run now
  auto got = registry_->get_configuration("T", "").value();
  EXPECT_EQ(got.version->config.timeout_seconds, 20);
  EXPECT_EQ(got.function->last_update, UpdateStatus::kSuccessful);
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

TEST_F(TemplateReloadTest, TemplateCodeIsDigestedOnTheBlockingPoolWhenAnAnswerFirstNeedsIt) {
  fs::create_directories(dir_ / "T");
  std::ofstream(dir_ / "T" / "app.py") << "def handler(e, c):\n  return 1\n";
  auto t = template_function("T");
  t.auto_publish_alias = "live";  // version 1, on the same directory
  start({t, template_function("Missing")});  // Missing's directory does not exist
  const auto& before = registry_->find("T")->latest;
  EXPECT_TRUE(before.code_sha256.empty()) << "not digested before an answer needs it";

  int called = 0;
  registry_->digest_code("T", [&] { ++called; });
  EXPECT_EQ(called, 0) << "the digest is not computed on the calling thread";
  blocking_.wait_idle();
  io_.restart();
  io_.poll();
  ASSERT_EQ(called, 1);
  const auto expected = digest_directory(dir_ / "T");
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(registry_->find("T")->latest.code_sha256, expected->sha256_base64);
  EXPECT_EQ(registry_->find("T")->latest.code_size, expected->size);
  EXPECT_EQ(registry_->find("T")->versions.at(1).code_sha256, expected->sha256_base64);

  registry_->digest_code("T", [&] { ++called; });
  EXPECT_EQ(called, 2) << "known digests answer at once";

  // Every function's: the one that cannot be read is tried, and the answer still comes.
  registry_->digest_code("", [&] { ++called; });
  blocking_.wait_idle();
  io_.restart();
  io_.poll();
  EXPECT_EQ(called, 3);
  EXPECT_TRUE(registry_->find("Missing")->latest.code_sha256.empty());
}

TEST_F(TemplateReloadTest, ADigestForARegistryThatIsGoneIsDropped) {
  fs::create_directories(dir_ / "T");
  start({template_function("T")});
  bool called = false;
  registry_->digest_code("T", [&] { called = true; });
  registry_.reset();
  blocking_.wait_idle();
  io_.restart();
  io_.poll();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace lambdad::control_plane
