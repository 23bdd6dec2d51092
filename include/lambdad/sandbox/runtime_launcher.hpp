// sandbox: how an execution environment's process is started for a function: which program
// (our runtime clients for python/nodejs, the function's own bootstrap for provided) and the
// exact environment of lambda-spec §5. The daemon's own environment is not passed on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/process/child_process.hpp"

namespace lambdad::sandbox {

struct RuntimeOptions {
  std::filesystem::path runtimes_dir;  // holds python/bootstrap.py and nodejs/bootstrap.mjs
  // Interpreter by exact runtime ("python3.12") or family ("python", "nodejs").
  std::map<std::string, std::string> interpreters{{"python", "python3"}, {"nodejs", "node"}};
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  // Role credentials handed to functions (AWS_ACCESS_KEY_ID...), taken from the daemon's
  // environment at startup; empty values are left out.
  std::map<std::string, std::string> credentials;
  // Non-empty: each environment runs in a Lambda-shaped root whose tmpfs is mounted here (in its
  // own namespace), with its code at /var/task (docs/decisions/014). Empty: on host paths.
  std::filesystem::path root_mount_point;
  bool want_root = true;  // --filesystem lambda (root_mount_point is set only once a probe succeeded)
  // Host directories every root shows read-write at their own path (serve --share).
  std::vector<std::filesystem::path> shared_dirs;
  // The port of the daemon's local X-Ray listener (127.0.0.1, UDP), where functions' X-Ray SDKs
  // send their segments (AWS_XRAY_DAEMON_ADDRESS); 0: none, Lambda's own address is given.
  std::uint16_t xray_daemon_port = 0;
  // The holder a sandbox made ahead waits in (lambdad-hold beside the daemon; docs/decisions/022).
  // Empty: no sandbox is made ahead.
  std::filesystem::path holder;
  // SnapStart (docs/decisions/023): every function's pools restore from a snapshot (--snapstart),
  // not only the published versions of functions with SnapStart in the template.
  bool snap_start_all = false;
  // A snapshot's runtime can be forked into new environments (the daemon is root and has the
  // holder); otherwise SnapStart runs its sequence in place at every cold start.
  bool snapshot_fork = false;
  // The daemon's Invoke API port, where durable functions' SDKs reach the checkpoint API
  // (AWS_ENDPOINT_URL_LAMBDA, docs/decisions/026); 0: none is served.
  std::uint16_t lambda_api_port = 0;
};

struct LaunchContext {
  std::uint16_t runtime_api_port = 0;
  std::string log_stream_name;
  std::string initialization_type = "on-demand";  // "snap-start": no log group/stream variables (§14)
  std::string version = "$LATEST";  // AWS_LAMBDA_FUNCTION_VERSION
  // The abstract socket a SnapStart runtime may offer itself as the snapshot on
  // (_LAMBDAD_SNAPSHOT_SOCKET, docs/decisions/023); empty: none.
  std::string snapshot_socket{};
  // The environment's own loopback address, sandbox.localdomain in its /etc/hosts (in a root;
  // docs/decisions/025); empty: the host's /etc/hosts.
  std::string sandbox_address{};
};

// A loopback address of its own for each environment (127.77.X.Y, reused after 65,024), so
// extensions of two environments can listen on the same port of sandbox.localdomain, as they do
// on Lambda.
std::string next_sandbox_address();
// The host's /etc/hosts, and `address` as sandbox.localdomain and sandbox.
std::string hosts_with_sandbox(const std::string& address);

// The interpreter configured for a runtime: exact match first, then its family.
std::string interpreter_for(const RuntimeOptions& options, const config::FunctionConfig& fn);

// "2026/11/24/[$LATEST]<32 hex>"
std::string make_log_stream_name(const std::string& version);

// An external extension (docs/decisions/024): any entry but a directory of a layer's extensions/
// directory (an executable, or it fails to start as on Lambda), /opt/extensions/NAME in the environment (a later layer's file of the same name wins).
struct ExternalExtension {
  std::string name;
  std::filesystem::path host_path;
};
std::vector<ExternalExtension> external_extensions(const config::FunctionConfig& fn);
// The spawn of one, from the runtime's (same environment, limits, root and working directory):
// joins `process_group`, the environment's.
process::SpawnSpec extension_spawn_spec(const process::SpawnSpec& runtime, const ExternalExtension& ext,
                                        pid_t process_group);

Result<process::SpawnSpec> build_spawn_spec(const config::FunctionConfig& fn,
                                            const RuntimeOptions& options,
                                            const LaunchContext& launch);

}  // namespace lambdad::sandbox
