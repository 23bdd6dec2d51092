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

// SnapStart (lambda-spec §14, docs/decisions/023): no log group or stream; the snapshot socket,
// where the daemon offers one, under a name the runtime removes before the function runs.
TEST(RuntimeLauncherTest, ASnapStartEnvironmentHasNoLogStreamAndMayHaveASnapshotSocket) {
  RuntimeOptions opts;
  opts.runtimes_dir = "/opt/lambdad/runtimes";
  LaunchContext launch{4242, "2026/01/01/[1]abc", "snap-start", "1", "lambdad-1-snapshot-0"};
  auto spec = build_spawn_spec(python_fn(), opts, launch);
  ASSERT_TRUE(spec.ok());
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "snap-start");
  EXPECT_EQ(env.count("AWS_LAMBDA_LOG_GROUP_NAME"), 0U);
  EXPECT_EQ(env.count("AWS_LAMBDA_LOG_STREAM_NAME"), 0U);
  EXPECT_EQ(env["_LAMBDAD_SNAPSHOT_SOCKET"], "lambdad-1-snapshot-0");
  launch.snapshot_socket.clear();
  env = as_map(build_spawn_spec(python_fn(), opts, launch)->environment);
  EXPECT_EQ(env.count("_LAMBDAD_SNAPSHOT_SOCKET"), 0U);
}

TEST(RuntimeLauncherTest, PythonRunsOurClientWithLambdasEnvironment) {
  RuntimeOptions opts;
  opts.runtimes_dir = "/opt/lambdad/runtimes";
  opts.interpreters["python3.12"] = "/usr/bin/python3";
  LaunchContext launch{4242, "2026/01/01/[$LATEST]abc", "on-demand"};
  auto spec = build_spawn_spec(python_fn(), opts, launch);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/usr/bin/python3");
  // -S: none of the host's site-packages (docs/decisions/014).
  EXPECT_EQ(spec->args, (std::vector<std::string>{"-S", "/opt/lambdad/runtimes/python/bootstrap.py"}));
  EXPECT_EQ(spec->working_directory, "/srv/code");
  EXPECT_FALSE(spec->root.has_value());
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
  EXPECT_EQ(env["PWD"], "/srv/code");
  EXPECT_EQ(env["LAMBDA_RUNTIME_DIR"], "/opt/lambdad/runtimes/python");
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

TEST(RuntimeLauncherTest, ExecWrapperGetsTheRuntimeCommandLineExceptForProvided) {
  RuntimeOptions opts;
  opts.runtimes_dir = "/rt";
  opts.interpreters["python"] = "/usr/bin/python3";
  opts.interpreters["nodejs"] = "/usr/bin/node";
  auto fn = python_fn();
  fn.environment["AWS_LAMBDA_EXEC_WRAPPER"] = "/opt/wrapper";
  const std::string script = "exec \"$AWS_LAMBDA_EXEC_WRAPPER\" \"$@\"";
  auto spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/bin/sh");
  EXPECT_EQ(spec->args, (std::vector<std::string>{"-c", script, "sh", "/usr/bin/python3", "-S", "/rt/python/bootstrap.py"}));
  EXPECT_EQ(as_map(spec->environment)["AWS_LAMBDA_EXEC_WRAPPER"], "/opt/wrapper");

  fn.runtime = "nodejs22.x";
  spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->args, (std::vector<std::string>{"-c", script, "sh", "/usr/bin/node", "/rt/nodejs/bootstrap.mjs"}));

  fn.runtime = "provided.al2023";
  spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/srv/code/bootstrap");
  EXPECT_TRUE(spec->args.empty());

  fn.runtime = "python3.12";
  fn.environment["AWS_LAMBDA_EXEC_WRAPPER"] = "";
  spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/usr/bin/python3");
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

  fn.runtime = "nodejs20.x";
  RuntimeOptions opts;
  opts.runtimes_dir = "/rt";
  spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(as_map(spec->environment)["NODE_PATH"],
            "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/rt/nodejs/node_modules:/rt/nodejs:/srv/code");
}

// docs/decisions/014: in a Lambda-shaped root every path is Lambda's.
TEST(RuntimeLauncherTest, InARootThePathsAreLambdas) {
  auto fn = python_fn();
  fn.environment.clear();
  fn.layer_dirs = {"/layers/first", "/layers/second"};
  RuntimeOptions opts;
  opts.runtimes_dir = "/srv/lambdad/runtimes";
  opts.interpreters["python3.12"] = "/usr/bin/python3";
  opts.root_mount_point = "/var/tmp/lambdad-1/.root";
  auto spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->args, (std::vector<std::string>{"-S", "/var/runtime/bootstrap.py"}));
  EXPECT_EQ(spec->working_directory, "/var/task");
  ASSERT_TRUE(spec->root.has_value());
  EXPECT_EQ(spec->root->mount_point, "/var/tmp/lambdad-1/.root");
  EXPECT_EQ(spec->root->task, "/srv/code");
  EXPECT_EQ(spec->root->runtime, "/srv/lambdad/runtimes/python");
  EXPECT_EQ(spec->root->layers, fn.layer_dirs);  // in order: the last one ends up on top
  EXPECT_TRUE(spec->root->host_paths.empty());   // /usr/bin/python3 is in every root
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["LAMBDA_TASK_ROOT"], "/var/task");
  EXPECT_EQ(env["PWD"], "/var/task");
  EXPECT_EQ(env["LAMBDA_RUNTIME_DIR"], "/var/runtime");
  EXPECT_EQ(env["PATH"], "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin");
  EXPECT_EQ(env["LD_LIBRARY_PATH"], "/var/lang/lib:/lib64:/usr/lib64:/var/task:/var/task/lib:/opt/lib");
  EXPECT_EQ(env["PYTHONPATH"], "/opt/python/lib/python3.12/site-packages:/opt/python");

  fn.runtime = "nodejs22.x";
  spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->args, (std::vector<std::string>{"/var/runtime/bootstrap.mjs"}));
  EXPECT_EQ(as_map(spec->environment)["NODE_PATH"],
            "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task");

  fn.runtime = "provided.al2023";
  spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->executable, "/var/task/bootstrap");
  EXPECT_TRUE(spec->root->runtime.empty());
}

TEST(RuntimeLauncherTest, OnHostPathsLayersAreOnTheirOwnPathsTheLaterFirst) {
  auto fn = python_fn();
  fn.environment.clear();
  fn.layer_dirs = {"/layers/first", "/layers/second"};
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(spec->root.has_value());
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["PATH"], "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/layers/second/bin:/layers/first/bin:/opt/bin");
  EXPECT_EQ(env["LD_LIBRARY_PATH"],
            "/var/lang/lib:/lib64:/usr/lib64:/srv/code:/srv/code/lib:/layers/second/lib:/layers/first/lib:/opt/lib");
  EXPECT_EQ(env["PYTHONPATH"],
            "/layers/second/python/lib/python3.12/site-packages:/layers/first/python/lib/python3.12/site-packages:"
            "/layers/second/python:/layers/first/python");
}

TEST(RuntimeLauncherTest, NodeLayersGetTheVersionedAndPlainNodeModules) {
  auto fn = python_fn();
  fn.runtime = "nodejs22.x";
  fn.handler = "index.handler";
  fn.environment.clear();
  fn.layer_dirs = {"/layers/a", "/layers/b"};
  RuntimeOptions opts;
  opts.runtimes_dir = "/rt";
  auto spec = build_spawn_spec(fn, opts, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(as_map(spec->environment)["NODE_PATH"],
            "/layers/b/nodejs/node22/node_modules:/layers/a/nodejs/node22/node_modules:"
            "/layers/b/nodejs/node_modules:/layers/a/nodejs/node_modules:/rt/nodejs/node_modules:/rt/nodejs:/srv/code");
  EXPECT_EQ(as_map(spec->environment).count("PYTHONPATH"), 0u);
}

TEST(RuntimeLauncherTest, AFunctionsOwnSearchVariablesWinAsOnLambda) {
  auto fn = python_fn();
  fn.environment = {{"PYTHONPATH", "/mine"}, {"PATH", "/usr/bin"}};
  fn.layer_dirs = {"/layers/a"};
  auto spec = build_spawn_spec(fn, RuntimeOptions{}, LaunchContext{1, "s", "on-demand"});
  ASSERT_TRUE(spec.ok());
  auto env = as_map(spec->environment);
  EXPECT_EQ(env["PYTHONPATH"], "/mine");
  EXPECT_EQ(env["PATH"], "/usr/bin");
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
