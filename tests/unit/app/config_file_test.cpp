// The config file's two syntaxes: the TOML subset and JSON read into the same entries, and every
// syntax error named with file and line.
#include "config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace lambdad::app {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Type = ConfigValue::Type;

const ConfigEntry& find(const ConfigFile& file, const std::string& section, const std::string& key) {
  for (const auto& e : file.entries) {
    if (e.section == section && e.key == key) return e;
  }
  static const ConfigEntry none{};
  ADD_FAILURE() << "no [" << section << "] " << key;
  return none;
}

std::vector<std::string> texts(const ConfigValue& v) {
  std::vector<std::string> out;
  for (const auto& item : v.items) out.push_back(item.text);
  return out;
}

std::string toml_error(const std::string& text) {
  auto file = parse_toml_config(text, "lambdad.toml");
  EXPECT_FALSE(file.ok()) << text;
  return file.ok() ? std::string() : file.error().message;
}

TEST(TomlConfig, ReadsTopLevelKeysAndSectionsWithLines) {
  auto file = parse_toml_config(
      "# settings\n"
      "region = \"eu-west-1\"   # trailing comment\n"
      "\n"
      "[serve]\n"
      "port = 3005\n"
      "force-cold = true\n"
      "  idle_timeout = '30m'\n"
      "[test]\n"
      "jobs = 4\n",
      "lambdad.toml");
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->entries.size(), 5u);
  const auto& region = find(*file, "", "region");
  EXPECT_EQ(region.value.type, Type::kString);
  EXPECT_EQ(region.value.text, "eu-west-1");
  EXPECT_EQ(region.line, 2);
  const auto& port = find(*file, "serve", "port");
  EXPECT_EQ(port.value.type, Type::kInteger);
  EXPECT_EQ(port.value.text, "3005");
  EXPECT_EQ(file->where(port), "lambdad.toml:5");
  EXPECT_EQ(find(*file, "serve", "force-cold").value.type, Type::kBoolean);
  EXPECT_EQ(find(*file, "serve", "idle_timeout").value.text, "30m");
  EXPECT_EQ(find(*file, "test", "jobs").line, 9);
}

TEST(TomlConfig, ReadsStringsNumbersAndArrays) {
  auto file = parse_toml_config(
      "a = \"tab\\there \\\"q\\\" \\u00e9 # not a comment\"\n"
      "b = 'C:\\path\\no\\escapes'\n"
      "c = 1_000\n"
      "d = -7\n"
      "e = 0x1F\n"
      "f = 2.5e3\n"
      "g = false\n"
      "h = [\n"
      "  \"python=/usr/bin/python3\",  # one\n"
      "  'nodejs=node',\n"
      "]\n"
      "i = []\r\n"
      "\"quoted key\" = 1\n",
      "x.toml");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(find(*file, "", "a").value.text, "tab\there \"q\" \xC3\xA9 # not a comment");
  EXPECT_EQ(find(*file, "", "b").value.text, "C:\\path\\no\\escapes");
  EXPECT_EQ(find(*file, "", "c").value.text, "1000");
  EXPECT_EQ(find(*file, "", "d").value.text, "-7");
  EXPECT_EQ(find(*file, "", "e").value.text, "31");
  EXPECT_EQ(find(*file, "", "f").value.type, Type::kFloat);
  EXPECT_EQ(find(*file, "", "g").value.text, "false");
  const auto& h = find(*file, "", "h");
  EXPECT_EQ(h.value.type, Type::kArray);
  EXPECT_THAT(texts(h.value), ElementsAre("python=/usr/bin/python3", "nodejs=node"));
  EXPECT_EQ(h.line, 8);
  EXPECT_TRUE(find(*file, "", "i").value.items.empty());
  EXPECT_EQ(find(*file, "", "quoted key").line, 13);
}

TEST(TomlConfig, SyntaxErrorsNameFileAndLine) {
  EXPECT_EQ(toml_error("a = 1\nb = \"open\n"), "lambdad.toml:2: unterminated string (a closing \" on the same line)");
  EXPECT_THAT(toml_error("port 3005\n"), HasSubstr("lambdad.toml:1: expected '=' after the key 'port'"));
  EXPECT_THAT(toml_error("\n\nregion = eu-west-1\n"), HasSubstr("lambdad.toml:3: 'eu-west-1' is not a TOML value (strings need quotes"));
  EXPECT_THAT(toml_error("[serve]\nport = 1\n\nport = 2\n"), HasSubstr("lambdad.toml:4: key 'port' is set twice in [serve] (first on line 2)"));
  EXPECT_THAT(toml_error("[serve]\n[test]\n[serve]\n"), HasSubstr("lambdad.toml:3: section [serve] appears twice"));
  EXPECT_THAT(toml_error("serve.port = 1\n"), HasSubstr("lambdad.toml:1: dotted keys"));
  EXPECT_THAT(toml_error("[serve.x]\n"), HasSubstr("nested tables"));
  EXPECT_THAT(toml_error("[[serve]]\n"), HasSubstr("arrays of tables"));
  EXPECT_THAT(toml_error("a = {b = 1}\n"), HasSubstr("inline tables"));
  EXPECT_THAT(toml_error("a = \"\\q\"\n"), HasSubstr("unknown escape \\q"));
  EXPECT_THAT(toml_error("a = [1, 2\n"), HasSubstr("unterminated array"));
  EXPECT_THAT(toml_error("a = 1 b = 2\n"), HasSubstr("lambdad.toml:1: unexpected 'b' after the value"));
  EXPECT_THAT(toml_error("a =\n"), HasSubstr("expected a value after '='"));
  EXPECT_THAT(toml_error("a = \"\"\"x\"\"\"\n"), HasSubstr("multi-line strings"));
}

TEST(JsonConfig, SameShapeAsToml) {
  auto file = parse_json_config(
      R"({"region": "eu-west-1", "serve": {"port": 3005, "force-cold": true, "interpreter": ["python=python3"]},
          "log_level": "debug"})",
      "lambdad.json");
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->entries.size(), 5u);
  EXPECT_EQ(file->entries[0].key, "region");  // file order kept
  EXPECT_EQ(find(*file, "serve", "port").value.type, Type::kInteger);
  EXPECT_EQ(find(*file, "serve", "port").value.text, "3005");
  EXPECT_EQ(find(*file, "serve", "force-cold").value.text, "true");
  EXPECT_THAT(texts(find(*file, "serve", "interpreter").value), ElementsAre("python=python3"));
  EXPECT_EQ(file->where(find(*file, "", "log_level")), "lambdad.json");
}

TEST(JsonConfig, ErrorsNameFileAndKey) {
  auto syntax = parse_json_config("{\n  \"a\": 1,\n  \"b\": \n}\n", "c.json");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(syntax.error().message, HasSubstr("c.json:4: syntax error"));
  auto null = parse_json_config(R"({"serve": {"port": null}})", "c.json");
  ASSERT_FALSE(null.ok());
  EXPECT_EQ(null.error().message, "c.json: key 'port' in [serve] is null; leave the key out for the default");
  auto nested = parse_json_config(R"({"serve": {"pool": {"x": 1}}})", "c.json");
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(nested.error().message, HasSubstr("key 'pool' in [serve] is an object"));
  auto array = parse_json_config(R"(["serve"])", "c.json");
  ASSERT_FALSE(array.ok());
  EXPECT_THAT(array.error().message, HasSubstr("expected a JSON object"));
}

TEST(LoadConfigFile, ChoosesTheSyntaxByExtension) {
  std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-config-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "a.json") << R"({"region": "eu-west-1"})";
  std::ofstream(dir / "a.conf") << "region = \"eu-west-2\"\n";
  auto loaded = load_config_file(dir / "a.json");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->entries.at(0).value.text, "eu-west-1");
  auto toml = load_config_file(dir / "a.conf");
  ASSERT_TRUE(toml.ok()) << toml.error().message;
  EXPECT_EQ(toml->entries.at(0).value.text, "eu-west-2");
  auto missing = load_config_file(dir / "none.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("none.toml does not exist"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lambdad::app
