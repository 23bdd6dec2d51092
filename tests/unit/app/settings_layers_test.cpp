// The layers under the command line, on a small command line with each kind of flag lambdad has:
// precedence (command line > environment > file section > file top level > default), the shapes
// each layer accepts, every problem named by variable or file:line and key, and --print-config's
// TOML.
#include "settings_layers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <fstream>
#include <map>

namespace lambdad::app {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// serve and invoke with lambdad's kinds of flags: text with a set of values, an integer with a
// range, an unsigned port, a boolean flag, a repeatable list, a RUNTIME=PROGRAM list feeding a map,
// a positional, and an option that only the command line gives.
struct Fixture {
  CLI::App app{"test"};
  CLI::App* serve = app.add_subcommand("serve");
  CLI::App* invoke = app.add_subcommand("invoke");
  std::string region = "us-east-1";
  std::string log_level = "info";
  std::uint16_t port = 3001;
  int concurrency = 1000;
  bool force_cold = false;
  std::vector<std::string> overrides;
  std::map<std::string, std::string> interpreters;
  std::string function;
  std::string invoke_region = "us-east-1";
  std::string body;

  Fixture() {
    serve->add_option("--region", region);
    serve->add_option("--log-level", log_level)->check(CLI::IsMember({"debug", "info", "warn"}));
    serve->add_option("-p,--port", port);
    serve->add_option("--account-concurrency", concurrency)->check(CLI::Range(1, 1000000));
    serve->add_flag("--force-cold", force_cold);
    serve->add_option("--parameter-overrides", overrides)->take_all();
    serve->add_option_function<std::vector<std::string>>(
             "--interpreter",
             [this](const std::vector<std::string>& items) {
               for (const auto& item : items) {
                 const auto eq = item.find('=');
                 interpreters[item.substr(0, eq)] = item.substr(eq + 1);
               }
             })
        ->check(CLI::Validator(
            [](std::string& s) { return s.find('=') == std::string::npos ? "expected RUNTIME=PROGRAM" : ""; }, ""))
        ->delimiter(',')
        ->take_all();
    invoke->add_option("function", function)->required();
    invoke->add_option("--region", invoke_region);
    invoke->add_option("--body", body)->configurable(false);
  }
};

EnvLookup environment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

ConfigFile toml(const std::string& text, const std::string& name = "lambdad.toml") {
  auto file = parse_toml_config(text, name);
  EXPECT_TRUE(file.ok()) << file.error().message;
  return file.ok() ? *file : ConfigFile{};
}

void parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  app.parse(args);
}

const Setting& setting(const SettingsLayers& layers, const std::string& key) {
  for (const auto& s : layers.settings()) {
    if (config_key(*s.option) == key) return s;
  }
  static const Setting none{};
  ADD_FAILURE() << "no setting " << key;
  return none;
}

TEST(SettingsLayers, NamesEachFlagsKeyAndVariable) {
  Fixture f;
  EXPECT_EQ(config_key(*f.serve->get_option("--account-concurrency")), "account-concurrency");
  EXPECT_EQ(environment_variable(*f.serve->get_option("--account-concurrency")), "LAMBDAD_ACCOUNT_CONCURRENCY");
  EXPECT_EQ(environment_variable(*f.serve->get_option("--port")), "LAMBDAD_PORT");
  std::vector<std::string> settable;
  for (auto* o : settable_options(*f.invoke)) settable.push_back(config_key(*o));
  EXPECT_THAT(settable, ElementsAre("region"));  // not help, the positional, or --body
}

TEST(SettingsLayers, CommandLineBeatsEnvironmentBeatsSectionBeatsTopLevelBeatsDefault) {
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"serve", "--port", "4000"});
  const auto file = toml(
      "region = \"top\"\nlog-level = \"warn\"\naccount-concurrency = 5\nport = 1\n"
      "[serve]\nregion = \"section\"\naccount-concurrency = 7\nport = 2\n");
  const auto env = environment({{"LAMBDAD_ACCOUNT_CONCURRENCY", "9"}, {"LAMBDAD_PORT", "3"}});
  EXPECT_THAT(layers.check(file), IsEmpty());
  EXPECT_THAT(layers.apply(*f.serve, &file, env), IsEmpty());
  EXPECT_EQ(f.port, 4000);              // command line
  EXPECT_EQ(f.concurrency, 9);          // environment over the file
  EXPECT_EQ(f.region, "section");       // [serve] over the top level
  EXPECT_EQ(f.log_level, "warn");       // top level over the default
  EXPECT_FALSE(f.force_cold);           // default
  EXPECT_EQ(setting(layers, "port").origin, Origin::kCommandLine);
  EXPECT_EQ(setting(layers, "account-concurrency").where, "LAMBDAD_ACCOUNT_CONCURRENCY");
  EXPECT_EQ(setting(layers, "region").where, "lambdad.toml:6 [serve]");
  EXPECT_EQ(setting(layers, "log-level").where, "lambdad.toml:2");
  EXPECT_EQ(setting(layers, "force-cold").origin, Origin::kDefault);
  EXPECT_THAT(setting(layers, "log-level").values, ElementsAre("warn"));
}

TEST(SettingsLayers, TopLevelKeysApplyToEachCommandThatHasTheFlag) {
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"invoke", "Fn"});
  // port and force-cold are serve's only; at the top level they are fine for invoke too.
  const auto file = toml("region = \"eu-west-1\"\nport = 3005\nforce-cold = true\n[serve]\nregion = \"x\"\n");
  EXPECT_THAT(layers.check(file), IsEmpty());
  EXPECT_THAT(layers.apply(*f.invoke, &file, environment({})), IsEmpty());
  EXPECT_EQ(f.invoke_region, "eu-west-1");
  EXPECT_EQ(f.port, 3001);
  EXPECT_EQ(f.function, "Fn");
}

TEST(SettingsLayers, EnvironmentBooleansListsAndEmptyValues) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{
           {"true", true}, {"1", true}, {"TRUE", true}, {"false", false}, {"0", false}}) {
    Fixture f;
    f.force_cold = !expected;
    SettingsLayers layers(f.app);
    parse(f.app, {"serve"});
    EXPECT_THAT(layers.apply(*f.serve, nullptr, environment({{"LAMBDAD_FORCE_COLD", text}})), IsEmpty());
    EXPECT_EQ(f.force_cold, expected) << text;
  }
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"serve"});
  const auto env = environment({{"LAMBDAD_PARAMETER_OVERRIDES", "Stage=dev,ParameterKey=Size,ParameterValue=10,Mode=x"},
                                {"LAMBDAD_INTERPRETER", "python=/usr/bin/python3,nodejs=node"},
                                {"LAMBDAD_REGION", ""}});
  EXPECT_THAT(layers.apply(*f.serve, nullptr, env), IsEmpty());
  EXPECT_THAT(f.overrides, ElementsAre("Stage=dev", "ParameterKey=Size,ParameterValue=10", "Mode=x"));
  EXPECT_THAT(f.interpreters, UnorderedElementsAre(Pair("python", "/usr/bin/python3"), Pair("nodejs", "node")));
  EXPECT_EQ(f.region, "us-east-1");  // empty = unset
  EXPECT_EQ(setting(layers, "region").origin, Origin::kDefault);
}

TEST(SettingsLayers, FileBooleansArraysAndUnderscoreKeys) {
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"serve"});
  const auto file = toml(
      "[serve]\nforce_cold = true\nparameter-overrides = [\"A=1\", \"B=2\"]\ninterpreter = \"python=py\"\n"
      "log_level = 'debug'\n");
  EXPECT_THAT(layers.check(file), IsEmpty());
  EXPECT_THAT(layers.apply(*f.serve, &file, environment({})), IsEmpty());
  EXPECT_TRUE(f.force_cold);
  EXPECT_THAT(f.overrides, ElementsAre("A=1", "B=2"));
  EXPECT_THAT(f.interpreters, ElementsAre(Pair("python", "py")));
  EXPECT_EQ(f.log_level, "debug");
}

TEST(SettingsLayers, JsonFileAppliesTheSameWay) {
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"serve"});
  auto file = parse_json_config(R"({"region": "eu-west-1", "serve": {"port": 3005, "force-cold": true}})", "c.json");
  ASSERT_TRUE(file.ok());
  EXPECT_THAT(layers.check(*file), IsEmpty());
  EXPECT_THAT(layers.apply(*f.serve, &*file, environment({})), IsEmpty());
  EXPECT_EQ(f.region, "eu-west-1");
  EXPECT_EQ(f.port, 3005);
  EXPECT_TRUE(f.force_cold);
  EXPECT_EQ(setting(layers, "port").where, "c.json [serve]");
}

TEST(SettingsLayers, CheckNamesEveryBadKeyAndSection) {
  Fixture f;
  SettingsLayers layers(f.app);
  const auto file = toml(
      "prot = 1\n"              // 1
      "function = \"F\"\n"      // 2
      "body = \"x\"\n"          // 3
      "serve = 1\n"             // 4
      "[serve]\n"               // 5
      "regoin = \"x\"\n"        // 6
      "port = [1, 2]\n"         // 7
      "force-cold = \"yes please\"\n"  // 8
      "log_level = \"info\"\n"  // 9
      "log-level = \"warn\"\n"  // 10
      "[srve]\n"                // 11
      "a = 1\n"                 // 12
      "b = 2\n"                 // 13
      "[invoke]\n"              // 14
      "port = 1\n");            // 15
  EXPECT_THAT(layers.check(file),
              ElementsAre("lambdad.toml:1: unknown key 'prot' (did you mean 'port'?)",
                          "lambdad.toml:2: key 'function': function is a positional argument of invoke: give it on "
                          "the command line",
                          "lambdad.toml:3: key 'body': --body is given on the command line only",
                          "lambdad.toml:4: key 'serve': serve is a section: write [serve] and its keys below it",
                          "lambdad.toml:6: unknown key 'regoin' in [serve] (did you mean 'region'?)",
                          "lambdad.toml:7: key 'port' in [serve]: takes one value, not an array",
                          "lambdad.toml:8: key 'force-cold' in [serve]: expects true or false, not string 'yes please'",
                          "lambdad.toml:10: key 'log-level' in [serve]: the same setting as key 'log_level' "
                          "(lambdad.toml:9)",
                          "lambdad.toml:12: unknown section [srve] (did you mean [serve]?); sections are the "
                          "subcommands: invoke, serve",
                          "lambdad.toml:15: unknown key 'port' in [invoke]"));
}

TEST(SettingsLayers, InvalidValuesNameTheVariableOrTheKey) {
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"serve"});
  const auto file = toml("[serve]\nlog-level = \"loud\"\naccount-concurrency = 0\ninterpreter = [\"python\"]\n");
  const auto env = environment({{"LAMBDAD_PORT", "70000"}, {"LAMBDAD_FORCE_COLD", "maybe"}});
  EXPECT_THAT(layers.apply(*f.serve, &file, env),
              ElementsAre("lambdad.toml:2: key 'log-level' in [serve]: --log-level: loud not in {debug,info,warn}",
                          "LAMBDAD_PORT: '70000' is not a non-negative integer in range for --port",
                          "lambdad.toml:3: key 'account-concurrency' in [serve]: --account-concurrency: Value 0 not "
                          "in range 1 to 1000000",
                          "LAMBDAD_FORCE_COLD: expects true, false, 1 or 0, not 'maybe'",
                          "lambdad.toml:4: key 'interpreter' in [serve]: --interpreter: expected RUNTIME=PROGRAM"));
}

TEST(SettingsLayers, PrintedSettingsAreTomlThatReadsBackToTheSameValues) {
  Fixture f;
  SettingsLayers layers(f.app);
  parse(f.app, {"serve", "--port", "0", "--force-cold"});
  const auto file = toml("region = \"eu-west-1\"\n[serve]\nparameter-overrides = [\"A=1\", 'Q=\"x\"']\n");
  ASSERT_THAT(layers.apply(*f.serve, &file, environment({{"LAMBDAD_LOG_LEVEL", "debug"}})), IsEmpty());
  const auto printed = layers.render(*f.serve, &file);
  EXPECT_THAT(printed, HasSubstr("# config file: lambdad.toml\n[serve]\n"));
  EXPECT_THAT(printed, HasSubstr("port = 0"));
  EXPECT_THAT(printed, HasSubstr("# command line\n"));
  EXPECT_THAT(printed, HasSubstr("log-level = \"debug\""));
  EXPECT_THAT(printed, HasSubstr("# LAMBDAD_LOG_LEVEL\n"));
  EXPECT_THAT(printed, HasSubstr("region = \"eu-west-1\""));
  EXPECT_THAT(printed, HasSubstr("# lambdad.toml:1\n"));
  EXPECT_THAT(printed, HasSubstr("account-concurrency = 1000"));
  EXPECT_THAT(printed, HasSubstr("# default\n"));
  EXPECT_THAT(printed, HasSubstr("# interpreter"));  // unset: a comment

  // Read back, the printout gives a fresh command line the same values.
  Fixture g;
  SettingsLayers again(g.app);
  parse(g.app, {"serve"});
  const auto reread = toml(printed, "printed.toml");
  EXPECT_THAT(again.check(reread), IsEmpty());
  EXPECT_THAT(again.apply(*g.serve, &reread, environment({})), IsEmpty());
  EXPECT_EQ(g.port, 0);
  EXPECT_TRUE(g.force_cold);
  EXPECT_EQ(g.log_level, "debug");
  EXPECT_EQ(g.region, "eu-west-1");
  EXPECT_THAT(g.overrides, ElementsAre("A=1", "Q=\"x\""));
  EXPECT_EQ(g.concurrency, 1000);
}

class SettingsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-settings-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SettingsFile, FlagThenVariableThenTomlThenJsonInTheDirectory) {
  auto none = load_settings_file("", environment({}), dir_);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // an absent default is no error

  std::ofstream(dir_ / "lambdad.json") << R"({"region": "json"})";
  auto loaded = load_settings_file("", environment({}), dir_);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->entries.at(0).value.text, "json");

  std::ofstream(dir_ / "lambdad.toml") << "region = \"toml\"\n";
  auto toml_file = load_settings_file("", environment({}), dir_);
  ASSERT_TRUE(toml_file.ok() && toml_file->has_value());
  EXPECT_EQ((*toml_file)->entries.at(0).value.text, "toml");

  std::ofstream(dir_ / "other.toml") << "region = \"other\"\n";
  std::ofstream(dir_ / "flag.json") << R"({"region": "flag"})";
  const auto env = environment({{"LAMBDAD_CONFIG", (dir_ / "other.toml").string()}});
  auto from_env = load_settings_file("", env, dir_);
  ASSERT_TRUE(from_env.ok() && from_env->has_value());
  EXPECT_EQ((*from_env)->entries.at(0).value.text, "other");
  auto from_flag = load_settings_file((dir_ / "flag.json").string(), env, dir_);
  ASSERT_TRUE(from_flag.ok() && from_flag->has_value());
  EXPECT_EQ((*from_flag)->entries.at(0).value.text, "flag");
}

TEST_F(SettingsFile, ANamedFileThatDoesNotExistIsAnError) {
  auto flag = load_settings_file("missing.toml", environment({}), dir_);
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().message, "--config names missing.toml, which does not exist");
  auto env = load_settings_file("", environment({{"LAMBDAD_CONFIG", "gone.json"}}), dir_);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().message, "LAMBDAD_CONFIG names gone.json, which does not exist");
  std::ofstream(dir_ / "lambdad.toml") << "region = eu\n";
  auto broken = load_settings_file("", environment({}), dir_);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error().message, HasSubstr("lambdad.toml:1: 'eu' is not a TOML value"));
}

}  // namespace
}  // namespace lambdad::app
