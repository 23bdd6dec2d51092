// FunctionStore: records survive a round trip through <state-dir>/functions with every field the
// registry keeps; a torn or corrupt record is left out (and the others still load); a record is
// replaced by rename, so a leftover temporary file changes nothing; code is unpacked into its
// digest's directory with the zip beside it; removed functions go to the trash, emptied at the
// next load.
#include "lambdad/control_plane/function_store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "one_file_zip.hpp"

namespace lambdad::control_plane {
namespace {

namespace fs = std::filesystem;

class FunctionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = fs::path(tmpl) / "functions";
  }
  void TearDown() override { fs::remove_all(dir_.parent_path()); }

  // A record using every field the store keeps.
  FunctionRecord full_record(const std::string& name) const {
    FunctionRecord fn;
    auto& c = fn.latest.config;
    c.name = c.logical_id = name;
    c.runtime = "python3.12";
    c.handler = "app.handler";
    c.memory_mb = 512;
    c.timeout_seconds = 30;
    c.environment = {{"GREETING", "hi"}};
    c.ephemeral_storage_mb = 1024;
    c.architectures = {"arm64"};
    c.layers = {"arn:aws:lambda:us-east-1:123456789012:layer:l:1"};
    c.description = "d";
    c.tracing = config::TracingMode::kActive;
    c.dead_letter = config::DeadLetterConfig{"SQS", "arn:aws:sqs:us-east-1:123456789012:dlq"};
    c.logging = config::LoggingConfig{"JSON", "DEBUG", "WARN", "/custom/group"};
    fn.latest.code_sha256 = "c2hh";
    fn.latest.code_size = 321;
    fn.latest.code_hex = "00aa";
    c.code_dir = store().code_dir(name, "00aa");
    fn.latest.role = "arn:aws:iam::123456789012:role/r";
    fn.latest.revision_id = "rev-latest";
    fn.latest.last_modified = "2026-11-24T10:30:00.000+0000";
    VersionRecord v1 = fn.latest;
    v1.code_hex = "00bb";
    v1.config.code_dir = store().code_dir(name, "00bb");
    v1.revision_id = "rev-1";
    v1.source_revision = "rev-old";
    fn.versions.emplace(1, v1);
    fn.last_version = 2;  // version 2 was deleted: numbers are not reused
    fn.aliases = {{"live", "1"}};
    fn.alias_descriptions = {{"live", "the live one"}};
    fn.alias_revisions = {{"live", "rev-live"}};
    fn.tags = {{"team", "a"}};
    fn.state = FunctionState::kFailed;
    fn.state_reason = "why";
    fn.state_reason_code = "InvalidZipFileException";
    fn.reserved = 7;
    config::EventInvokeConfig e;
    e.maximum_retry_attempts = 1;
    e.maximum_event_age_seconds = 600;
    e.on_failure = config::EventDestination{"SQS", "arn:aws:sqs:us-east-1:123456789012:q"};
    fn.event_invoke_config = e;
    fn.event_invoke_config_modified = 1764000000.5;
    return fn;
  }

  FunctionStore store() const { return FunctionStore(dir_, true); }

  static void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::vector<std::string> loaded_names() const {
    std::vector<std::string> names;
    for (const auto& s : store().load()) names.push_back(s.name);
    return names;
  }

  fs::path dir_;
};

// Every field of a version the store keeps, comparable at once.
auto kept_fields(const VersionRecord& v) {
  const auto& c = v.config;
  const auto dead_letter = c.dead_letter ? c.dead_letter->type + " " + c.dead_letter->target_arn : std::string();
  return std::make_tuple(c.name, c.logical_id, c.runtime, c.handler, c.memory_mb, c.timeout_seconds, c.environment,
                         c.ephemeral_storage_mb, c.architectures, c.layers, c.description,
                         std::string(config::tracing_mode_name(c.tracing)), dead_letter,
                         c.logging.log_format, c.logging.application_log_level, c.logging.system_log_level,
                         c.logging.log_group, c.code_dir.string(), v.code_sha256, v.code_size, v.code_hex, v.role,
                         v.revision_id, v.last_modified, v.source_revision);
}

TEST_F(FunctionStoreTest, ARecordComesBackAsItWasSaved) {
  const FunctionRecord saved = full_record("F");
  ASSERT_TRUE(store().save("F", saved).ok());
  EXPECT_TRUE(fs::exists(dir_ / "F" / "function.json"));
  EXPECT_FALSE(fs::exists(dir_ / "F" / "function.json.tmp"));

  auto all = store().load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "F");
  const FunctionRecord& fn = all[0].record;
  EXPECT_EQ(kept_fields(fn.latest), kept_fields(saved.latest));
  ASSERT_EQ(fn.versions.size(), 1u);
  EXPECT_EQ(kept_fields(fn.versions.at(1)), kept_fields(saved.versions.at(1)));
  EXPECT_EQ(fn.last_version, 2);
  EXPECT_EQ(fn.aliases, saved.aliases);
  EXPECT_EQ(fn.alias_descriptions, saved.alias_descriptions);
  EXPECT_EQ(fn.alias_revisions, saved.alias_revisions);
  EXPECT_EQ(fn.tags, saved.tags);
  EXPECT_EQ(fn.state, FunctionState::kFailed);
  EXPECT_EQ(fn.state_reason, "why");
  EXPECT_EQ(fn.state_reason_code, "InvalidZipFileException");
  EXPECT_EQ(fn.reserved, 7);
  ASSERT_TRUE(fn.event_invoke_config);
  EXPECT_EQ(fn.event_invoke_config->maximum_retry_attempts, 1);
  EXPECT_EQ(fn.event_invoke_config->maximum_event_age_seconds, 600);
  EXPECT_FALSE(fn.event_invoke_config->on_success);
  ASSERT_TRUE(fn.event_invoke_config->on_failure);
  EXPECT_EQ(fn.event_invoke_config->on_failure->destination, "arn:aws:sqs:us-east-1:123456789012:q");
  EXPECT_EQ(fn.event_invoke_config_modified, 1764000000.5);
  EXPECT_FALSE(fn.from_template);
  // What the pools are given comes back in $LATEST's configuration too.
  EXPECT_EQ(fn.latest.config.reserved_concurrency, 7);
  ASSERT_TRUE(fn.latest.config.event_invoke_config);
  EXPECT_EQ(fn.latest.config.event_invoke_config->maximum_retry_attempts, 1);
}

TEST_F(FunctionStoreTest, ManagedInstancesComeBackAsTheyWereSaved) {
  FunctionRecord saved = full_record("F");
  config::ManagedInstancesConfig managed;
  managed.capacity_provider_arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp";
  managed.per_environment_max_concurrency = 40;
  managed.memory_gib_per_vcpu = 4.0;
  managed.min_environments = 3;
  managed.max_environments = 9;
  saved.latest.config.managed_instances = managed;
  // The optional members left out come back left out.
  managed.per_environment_max_concurrency.reset();
  managed.max_environments.reset();
  saved.versions.at(1).config.managed_instances = managed;
  ASSERT_TRUE(store().save("F", saved).ok());

  auto all = store().load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].record.latest.config.managed_instances, saved.latest.config.managed_instances);
  EXPECT_EQ(all[0].record.versions.at(1).config.managed_instances, saved.versions.at(1).config.managed_instances);

  // A classic function stays classic.
  ASSERT_TRUE(store().save("G", full_record("G")).ok());
  for (const auto& stored : store().load()) {
    if (stored.name == "G") {
      EXPECT_FALSE(stored.record.latest.config.managed_instances);
    }
  }
}

TEST_F(FunctionStoreTest, ATornOrCorruptRecordIsLeftOutAndTheOthersLoad) {
  ASSERT_TRUE(store().save("Good", full_record("Good")).ok());
  ASSERT_TRUE(store().save("Torn", full_record("Torn")).ok());
  const std::string whole = read(dir_ / "Torn" / "function.json");
  write(dir_ / "Torn" / "function.json", whole.substr(0, whole.size() / 2));  // cut off mid-write
  write(dir_ / "Garbage" / "function.json", "\x01\x02 not json");
  write(dir_ / "Future" / "function.json", R"({"format": 2, "latest": {}})");
  write(dir_ / "NoLatest" / "function.json", R"({"format": 1})");
  fs::create_directories(dir_ / "Empty");  // a directory without a record: not a function

  EXPECT_EQ(loaded_names(), std::vector<std::string>{"Good"});
  EXPECT_TRUE(fs::exists(dir_ / "Torn" / "function.json")) << "a record that cannot be read is left for a person to see";
}

TEST_F(FunctionStoreTest, ALeftoverTemporaryRecordChangesNothing) {
  FunctionRecord first = full_record("F");
  ASSERT_TRUE(store().save("F", first).ok());
  // A kill between writing the temporary file and renaming it.
  write(dir_ / "F" / "function.json.tmp", "{\"format\": 1, \"lat");
  auto all = store().load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].record.latest.revision_id, "rev-latest");

  first.latest.revision_id = "rev-next";
  ASSERT_TRUE(store().save("F", first).ok());
  EXPECT_FALSE(fs::exists(dir_ / "F" / "function.json.tmp")) << "the next save writes it anew and renames it";
  EXPECT_EQ(store().load().at(0).record.latest.revision_id, "rev-next");
}

TEST_F(FunctionStoreTest, CodeIsUnpackedIntoItsDigestsDirectoryWithTheZipBeside) {
  const std::string zip = make_zip("app.py", "x = 1\n");
  const std::string hex = sha256_hex(zip);
  ASSERT_TRUE(store().store_code("F", zip, hex, CodeLimits{}).ok());
  EXPECT_EQ(read(store().code_dir("F", hex) / "app.py"), "x = 1\n");
  EXPECT_EQ(read(store().zip_path("F", hex)), zip);
  EXPECT_EQ(store().zip_path("F", hex), dir_ / "F" / "code" / (hex + ".zip"));
  EXPECT_FALSE(fs::exists(dir_ / "F" / "code" / (hex + ".partial")));

  // The same digest again: the directory is complete already and is not unpacked anew.
  write(store().code_dir("F", hex) / "marker", "kept");
  ASSERT_TRUE(store().store_code("F", zip, hex, CodeLimits{}).ok());
  EXPECT_EQ(read(store().code_dir("F", hex) / "marker"), "kept");

  auto bad = store().store_code("F", "not a zip", "0bad", CodeLimits{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().type, "InvalidParameterValueException");
  EXPECT_FALSE(fs::exists(store().code_dir("F", "0bad")));
  EXPECT_FALSE(fs::exists(store().zip_path("F", "0bad")));
}

TEST_F(FunctionStoreTest, UnusedCodeAndRemovedFunctionsGo) {
  const std::string zip = make_zip("app.py", "");
  ASSERT_TRUE(store().store_code("F", zip, "00aa", CodeLimits{}).ok());
  ASSERT_TRUE(store().store_code("F", zip, "00bb", CodeLimits{}).ok());
  store().remove_unused_code("F", {"00bb"});
  EXPECT_FALSE(fs::exists(store().code_dir("F", "00aa")));
  EXPECT_FALSE(fs::exists(store().zip_path("F", "00aa")));
  EXPECT_TRUE(fs::exists(store().code_dir("F", "00bb")));
  EXPECT_TRUE(fs::exists(store().zip_path("F", "00bb")));

  ASSERT_TRUE(store().save("F", full_record("F")).ok());
  store().remove("F");
  EXPECT_FALSE(fs::exists(dir_ / "F"));
  EXPECT_TRUE(fs::exists(dir_ / ".trash")) << "environments still running may read the code until the next start";
  EXPECT_TRUE(loaded_names().empty());
  EXPECT_FALSE(fs::exists(dir_ / ".trash"));
}

}  // namespace
}  // namespace lambdad::control_plane
