#include "lambdad/sandbox/runtime_launcher.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace lambdad::sandbox {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> m;
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    m[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return m;
}

config::FunctionConfig python_fn() {
  config::FunctionConfig fn;
  fn.name = "Hello";
  fn.runtime = "python3.12";
  fn.handler = "app.handler";
  fn.code_dir = "/srv/code";
  fn.memory_mb = 256;
  fn.environment = {{"TABLE", "t1"}, {"AWS_REGION", "eu-west-1"}, {"_SECRET", "x"}, {"TZ", "Europe/Paris"}};
  return fn;
}

TEST(RuntimeLauncherTest, PythonRunsOurClientWithLambdasEnvironment) {
  RuntimeOptions opts;
  opts.runtimes_dir = "/opt/lambdad/runtimes";
  opts.interpreters["python3.12"] = "/usr/bin/python3";
  LaunchContext launch{4242, "2026/01/01/[$LATEST]abc", "on-demand"};
  auto spec = build_spawn_spec(python_fn(), opts, launch);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/usr/bin/python3");
  ASSERT_EQ(spec->args.size(), 1u);
  EXPECT_EQ(spec->args[0], "/opt/lambdad/runtimes/python/bootstrap.py");
  EXPECT_EQ(spec->working_directory, "/srv/code");
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:4242");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_NAME"], "Hello");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
  EXPECT_EQ(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/Hello");
  EXPECT_EQ(env["AWS_LAMBDA_LOG_STREAM_NAME"], "2026/01/01/[$LATEST]abc");
  EXPECT_EQ(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand");
  EXPECT_EQ(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12");
  EXPECT_EQ(env["LAMBDA_TASK_ROOT"], "/srv/code");
  EXPECT_EQ(env["_HANDLER"], "app.handler");
  EXPECT_EQ(env["TABLE"], "t1");
  // Reserved keys keep Lambda's value; keys starting with '_' are dropped; TZ may be overridden.
  EXPECT_EQ(env["AWS_REGION"], "us-east-1");
  EXPECT_EQ(env.count("_SECRET"), 0u);
  EXPECT_EQ(env["TZ"], "Europe/Paris");
  // The daemon's own environment is not passed on.
  EXPECT_EQ(env.count("HOME"), 0u);
}

TEST(RuntimeLauncherTest, XRayVariablesNameTheLocalListenerWhenThereIsOne) {
  RuntimeOptions opts;
  auto lambdas = as_map(build_spawn_spec(python_fn(), opts, LaunchContext{}).value().environment);
  EXPECT_EQ(lambdas["AWS_XRAY_DAEMON_ADDRESS"], "169.254.100.1:2000");
  EXPECT_EQ(lambdas["_AWS_XRAY_DAEMON_ADDRESS"], "169.254.100.1");
  EXPECT_EQ(lambdas["_AWS_XRAY_DAEMON_PORT"], "2000");
  opts.xray_daemon_port = 40123;
  auto local = as_map(build_spawn_spec(python_fn(), opts, LaunchContext{}).value().environment);
  EXPECT_EQ(local["AWS_XRAY_DAEMON_ADDRESS"], "127.0.0.1:40123");
  EXPECT_EQ(local["_AWS_XRAY_DAEMON_ADDRESS"], "127.0.0.1");
  EXPECT_EQ(local["_AWS_XRAY_DAEMON_PORT"], "40123");
  EXPECT_EQ(local["AWS_XRAY_CONTEXT_MISSING"], "LOG_ERROR");
}

TEST(RuntimeLauncherTest, ProvidedRunsBootstrapWithoutExecutionEnv) {
  auto fn = python_fn();
  fn.runtime = "provided.al2023";
  fn.environment.clear();
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/srv/code/bootstrap");
  EXPECT_TRUE(spec->args.empty());
  auto env = as_map(spec->environment);
  EXPECT_EQ(env.count("AWS_EXECUTION_ENV"), 0u);
  EXPECT_EQ(env["TZ"], ":UTC");
}

TEST(RuntimeLauncherTest, InterpreterFallsBackToFamilyThenDefault) {
  RuntimeOptions opts;
  auto fn = python_fn();
  EXPECT_EQ(interpreter_for(opts, fn), "python3");
  opts.interpreters["python"] = "/opt/py/bin/python3";
  EXPECT_EQ(interpreter_for(opts, fn), "/opt/py/bin/python3");
  fn.runtime = "nodejs20.x";
  EXPECT_EQ(interpreter_for(opts, fn), "node");
}

TEST(RuntimeLauncherTest, WithoutLayersTheSearchVariablesAreLambdasDefaults) {
  auto fn = python_fn();
  fn.environment.clear();
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["PATH"], "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin");
  EXPECT_EQ(env["LD_LIBRARY_PATH"], "/var/lang/lib:/lib64:/usr/lib64:/srv/code:/srv/code/lib:/opt/lib");
  EXPECT_EQ(env.count("PYTHONPATH"), 0u);
  EXPECT_TRUE(spec->opt_layers.empty());
  EXPECT_TRUE(spec->environment_without_opt.empty());

  fn.runtime = "nodejs20.x";
  spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(as_map(spec->environment)["NODE_PATH"], "/opt/nodejs/node_modules:/srv/code");
}

TEST(RuntimeLauncherTest, PythonLayersAreAtOptOrOnTheirOwnPaths) {
  auto fn = python_fn();
  fn.environment.clear();
  fn.layer_dirs = {"/layers/first", "/layers/second"};
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->opt_layers, fn.layer_dirs);  // in order: the last one ends up on top
  // At /opt: exactly Lambda's values.
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["PATH"], "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin");
  EXPECT_EQ(env["LD_LIBRARY_PATH"], "/var/lang/lib:/lib64:/usr/lib64:/srv/code:/srv/code/lib:/opt/lib");
  EXPECT_EQ(env["PYTHONPATH"], "/opt/python/lib/python3.12/site-packages:/opt/python");
  // Not at /opt: the layer directories, the later layer first so that its files win.
  auto fallback = as_map(spec->environment_without_opt);
  EXPECT_EQ(fallback["PATH"], "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/layers/second/bin:/layers/first/bin:/opt/bin");
  EXPECT_EQ(fallback["LD_LIBRARY_PATH"],
            "/var/lang/lib:/lib64:/usr/lib64:/srv/code:/srv/code/lib:/layers/second/lib:/layers/first/lib:/opt/lib");
  EXPECT_EQ(fallback["PYTHONPATH"],
            "/layers/second/python/lib/python3.12/site-packages:/layers/first/python/lib/python3.12/site-packages:"
            "/layers/second/python:/layers/first/python");
  // Everything else is the same in both.
  env.erase("PATH"), env.erase("LD_LIBRARY_PATH"), env.erase("PYTHONPATH");
  fallback.erase("PATH"), fallback.erase("LD_LIBRARY_PATH"), fallback.erase("PYTHONPATH");
  EXPECT_EQ(env, fallback);
}

TEST(RuntimeLauncherTest, NodeLayersGetTheVersionedAndPlainNodeModules) {
  auto fn = python_fn();
  fn.runtime = "nodejs22.x";
  fn.handler = "index.handler";
  fn.environment.clear();
  fn.layer_dirs = {"/layers/a", "/layers/b"};
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(as_map(spec->environment)["NODE_PATH"],
            "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/srv/code");
  EXPECT_EQ(as_map(spec->environment_without_opt)["NODE_PATH"],
            "/layers/b/nodejs/node22/node_modules:/layers/a/nodejs/node22/node_modules:"
            "/layers/b/nodejs/node_modules:/layers/a/nodejs/node_modules:/srv/code");
  EXPECT_EQ(as_map(spec->environment).count("PYTHONPATH"), 0u);
}

TEST(RuntimeLauncherTest, AFunctionsOwnSearchVariablesWinAsOnLambda) {
  auto fn = python_fn();
  fn.environment = {{"PYTHONPATH", "/mine"}, {"PATH", "/usr/bin"}};
  fn.layer_dirs = {"/layers/a"};
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  for (const auto* list : {&spec->environment, &spec->environment_without_opt}) {
    auto env = as_map(*list);
    EXPECT_EQ(env["PYTHONPATH"], "/mine");
    EXPECT_EQ(env["PATH"], "/usr/bin");
  }
}

TEST(RuntimeLauncherTest, ProvidedFindsTheBootstrapOfTheLastLayerHavingOne) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "lambdad-launcher-XXXXXX").string();
  const fs::path root = ::mkdtemp(tmpl.data());
  for (const char* dir : {"code", "runtime-a", "runtime-b", "data"}) fs::create_directories(root / dir);
  std::ofstream(root / "runtime-a" / "bootstrap") << "#!/bin/sh\n";
  std::ofstream(root / "runtime-b" / "bootstrap") << "#!/bin/sh\n";
  auto fn = python_fn();
  fn.runtime = "provided.al2023";
  fn.code_dir = root / "code";
  fn.layer_dirs = {root / "runtime-a", root / "runtime-b", root / "data"};
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, (root / "runtime-b" / "bootstrap").string());
  // The function's own bootstrap comes first.
  std::ofstream(root / "code" / "bootstrap") << "#!/bin/sh\n";
  spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, (root / "code" / "bootstrap").string());
  fs::remove_all(root);
}

TEST(RuntimeLauncherTest, LogStreamNameHasLambdasShape) {
  auto name = make_log_stream_name("$LATEST");
  ASSERT_EQ(name.size(), std::string("2026/11/24/[$LATEST]").size() + 32);
  EXPECT_EQ(name.substr(10, 10), "/[$LATEST]");
}

}  // namespace
}  // namespace lambdad::sandbox
