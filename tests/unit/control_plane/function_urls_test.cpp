// FunctionRegistry's Function URLs (function_urls.cpp): Lambda's answers for each operation, the
// changes published for the API port's front to follow, the template's URLs, and their record in
// function.json.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/control_plane/function_store.hpp"
#include "lambdad_test/manual_time.hpp"

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string describe_url_change(const CatalogueChange& change) {
  if (const auto* put = std::get_if<UrlPut>(&change)) {
    return fmt::format("url {}:{} {}{}", put->url.function_name, put->url.qualifier,
                       put->url.auth_type == config::FunctionUrl::AuthType::kAwsIam ? "AWS_IAM" : "NONE",
                       put->url.invoke_mode == config::FunctionUrl::InvokeMode::kResponseStream ? " stream" : "");
  }
  if (const auto* removed = std::get_if<UrlRemoved>(&change)) {
    return fmt::format("no url {}:{}", removed->name, removed->qualifier);
  }
  if (const auto* gone = std::get_if<FunctionRemoved>(&change)) return "remove " + gone->name;
  return {};  // the pools' and the Event queue's
}

class FunctionUrlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-urls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    RegistryOptions options;
    options.functions_dir = dir_ / "functions";
    options.durable = false;
    registry_ = std::make_unique<FunctionRegistry>(
        clock_, [this](std::function<void()> task) { boost::asio::post(io_, std::move(task)); }, blocking_, options);
    registry_->subscribe([this](const CatalogueChange& c) {
      if (auto line = describe_url_change(c); !line.empty()) told_.push_back(std::move(line));
    });
  }
  void TearDown() override {
    registry_.reset();
    fs::remove_all(dir_);
  }

  config::FunctionConfig function(const std::string& name) const {
    config::FunctionConfig fn;
    fn.name = fn.logical_id = name;
    fn.runtime = "python3.12";
    fn.handler = "app.handler";
    fn.code_dir = dir_;
    fn.auto_publish_alias = "live";
    return fn;
  }
  static config::FunctionUrl template_url(const std::string& name, bool stream = false) {
    config::FunctionUrl url;
    url.function_name = name;
    if (stream) url.invoke_mode = config::FunctionUrl::InvokeMode::kResponseStream;
    return url;
  }
  static FunctionUrlChange auth(config::FunctionUrl::AuthType type) {
    FunctionUrlChange change;
    change.auth_type = type;
    return change;
  }

  boost::asio::io_context io_;
  BlockingPool blocking_{io_};
  test::ManualTime clock_;
  fs::path dir_;
  std::unique_ptr<FunctionRegistry> registry_;
  std::vector<std::string> told_;
};

using Auth = config::FunctionUrl::AuthType;

TEST_F(FunctionUrlsTest, CreateGetUpdateListDeleteWithLambdasAnswers) {
  registry_->add_template_functions({function("F")});
  told_.clear();

  auto created = registry_->create_function_url("F", "", auth(Auth::kNone));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ((*created)->config.function_name, "F");
  EXPECT_EQ((*created)->creation_time, (*created)->last_modified_time);

  auto again = registry_->create_function_url("F", "", auth(Auth::kNone));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().type, "ResourceConflictException");
  EXPECT_EQ(again.error().message,
            "Failed to create function url config for [functionArn = arn:aws:lambda:us-east-1:123456789012:function:F]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function");

  clock_.advance(std::chrono::seconds(2));
  auto updated = registry_->update_function_url("F", "", auth(Auth::kAwsIam));
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)->config.auth_type, Auth::kAwsIam);
  EXPECT_NE((*updated)->last_modified_time, (*updated)->creation_time);

  ASSERT_TRUE(registry_->create_function_url("F", "live", auth(Auth::kNone)).ok());
  auto listed = registry_->list_function_urls("F");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0]->config.qualifier, "");
  EXPECT_EQ((*listed)[1]->config.qualifier, "live");
  EXPECT_EQ(registry_->all_function_urls().size(), 2u);

  ASSERT_TRUE(registry_->delete_function_url("F", "").ok());
  EXPECT_EQ(registry_->get_function_url("F", "").error().message, "The resource you requested does not exist.");
  EXPECT_EQ(registry_->delete_function_url("F", "").error().message, "The resource you requested does not exist.");
  EXPECT_EQ(registry_->update_function_url("F", "", {}).error().message, "The resource you requested does not exist.");
  EXPECT_THAT(told_, ElementsAre("url F: NONE", "url F: AWS_IAM", "url F:live NONE", "no url F:"));
}

TEST_F(FunctionUrlsTest, MissingFunctionsAndAliasesAnswerAsLambdaDoes) {
  registry_->add_template_functions({function("F")});
  told_.clear();
  for (const auto& error : {registry_->create_function_url("G", "", auth(Auth::kNone)).error(),
                            registry_->update_function_url("G", "", {}).error(),
                            registry_->list_function_urls("G").error(),
                            registry_->create_function_url("F", "nope", auth(Auth::kNone)).error(),
                            registry_->update_function_url("F", "nope", {}).error()}) {
    EXPECT_EQ(error.type, "ResourceNotFoundException");
    EXPECT_EQ(error.message, "Function does not exist");
  }
  for (const auto& error : {registry_->get_function_url("G", "").error(), registry_->delete_function_url("G", "").error()}) {
    EXPECT_EQ(error.type, "ResourceNotFoundException");
    EXPECT_EQ(error.message, "The resource you requested does not exist.");
  }
  EXPECT_THAT(told_, IsEmpty()) << "a refused command publishes nothing";
}

TEST_F(FunctionUrlsTest, TheTemplatesUrlsAreTheCataloguesAndFollowAReload) {
  registry_->add_template_functions({function("F"), function("G")}, {template_url("F", true)});
  EXPECT_THAT(told_, ElementsAre("url F: NONE stream"));
  ASSERT_TRUE(registry_->get_function_url("F", "").ok());
  told_.clear();

  // The template moves the URL from F to G: F is redefined without it, G with it.
  auto changes = registry_->reload_template_functions({function("F"), function("G")}, {template_url("G")});
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(changes->changed, ElementsAre("F", "G"));
  EXPECT_THAT(told_, ElementsAre("no url F:", "url G: NONE"));
  told_.clear();

  // Unchanged: nothing published; the alias's URL made through the API goes with the alias... and
  // a function's removal removes its URLs (the front follows FunctionRemoved).
  ASSERT_TRUE(registry_->reload_template_functions({function("F"), function("G")}, {template_url("G")})->empty());
  ASSERT_TRUE(registry_->create_function_url("G", "live", auth(Auth::kNone)).ok());
  ASSERT_TRUE(registry_->delete_alias("G", "live").ok());
  ASSERT_TRUE(registry_->delete_function("G", "").ok());
  EXPECT_THAT(told_, ElementsAre("url G:live NONE", "no url G:live", "remove G"));
}

TEST_F(FunctionUrlsTest, UrlsAreKeptInFunctionJson) {
  FunctionRecord fn;
  fn.latest.config = function("F");
  FunctionUrlRecord url{template_url("F", true), "2026-01-01T00:00:00.000+0000", "2026-01-02T00:00:00.000+0000"};
  url.config.qualifier = "live";
  url.config.auth_type = Auth::kAwsIam;
  config::HttpCors cors;
  cors.allow_origins = {"http://a.example"};
  cors.allow_methods = {"GET"};
  cors.max_age_seconds = 60;
  cors.allow_credentials = true;
  url.config.cors = cors;
  fn.urls["live"] = url;
  FunctionStore store(dir_ / "store", false);
  ASSERT_TRUE(store.write_record("F", FunctionStore::record_text(fn)).ok());
  auto loaded = store.load();
  ASSERT_EQ(loaded.size(), 1u);
  ASSERT_EQ(loaded[0].record.urls.count("live"), 1u);
  const auto& back = loaded[0].record.urls.at("live");
  EXPECT_EQ(back.config.function_name, "F");
  EXPECT_EQ(back.config.qualifier, "live");
  EXPECT_EQ(back.config.auth_type, Auth::kAwsIam);
  EXPECT_EQ(back.config.invoke_mode, config::FunctionUrl::InvokeMode::kResponseStream);
  ASSERT_TRUE(back.config.cors);
  EXPECT_EQ(back.config.cors->allow_origins, cors.allow_origins);
  EXPECT_EQ(back.config.cors->allow_methods, cors.allow_methods);
  EXPECT_EQ(back.config.cors->max_age_seconds, 60);
  EXPECT_TRUE(back.config.cors->allow_credentials);
  EXPECT_EQ(back.creation_time, url.creation_time);
  EXPECT_EQ(back.last_modified_time, url.last_modified_time);
}

}  // namespace
}  // namespace lambdad::control_plane
