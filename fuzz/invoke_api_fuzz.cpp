// fuzz target: Invoke API request handling. Raw bytes (one or more pipelined HTTP/1.1 requests)
// go over a loopback connection into the real HTTP server (src/http) serving the real Invoke API
// route table (src/invoke_api: Invoke, InvokeWithResponseStream, the /_lambdad routes). Behind
// it is an in-memory Dispatcher stub that answers every invocation at once: this target tests
// request handling (parsing, validation, rendering), not running functions. Nothing may crash,
// hang or leak, and every response must be well-formed HTTP.
//
// Without a FunctionRegistry the control-plane routes (CreateFunction, aliases...) are not in the
// table (make_router adds them only with one), and without an EventQueue, Event invocations are
// answered 500; those are covered by their own unit and e2e tests.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "lambdad/common/clock.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"
#include "loopback_http.hpp"

namespace {

using namespace lambdad;

// Knows "fn" and "stream-fn" with version 1 and alias "live"; every invocation completes on the
// next turn of the io_context, echoing its payload (a function error when the payload says so,
// streamed in two pieces when the invoker streams).
class StubDispatcher final : public invocation::Dispatcher {
 public:
  explicit StubDispatcher(boost::asio::io_context& io) : io_(io) {}

  bool has_function(const std::string& name) const override { return name == "fn" || name == "stream-fn"; }
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const override {
    if (!has_function(name)) return std::nullopt;
    if (qualifier == "$LATEST" || qualifier == "1") return qualifier;
    if (qualifier == "live") return std::string("1");
    return std::nullopt;
  }
  invocation::Admission dispatch(invocation::InvocationPtr inv) override {
    if (inv->payload.find("throttle") != std::string::npos) return invocation::Admission::kThrottledReserved;
    boost::asio::post(io_, [inv] {
      invocation::InvocationResult r;
      r.executed_version = inv->version;
      r.log = "START RequestId: " + inv->request_id + "\nREPORT RequestId: " + inv->request_id + "\n";
      if (inv->payload.find("error") != std::string::npos) {
        r.outcome = invocation::Outcome::kFunctionError;
        r.error_type = "Function.Unknown";
        r.payload = R"({"errorMessage":"failed","errorType":"Error"})";
      } else {
        r.payload = inv->payload;
      }
      if (inv->on_chunk && r.outcome == invocation::Outcome::kSuccess) {
        const std::string first = r.payload.substr(0, r.payload.size() / 2);
        const std::string second = r.payload.substr(first.size());
        inv->on_chunk(first, [inv, second, r]() mutable {
          inv->on_chunk(second, [inv, r]() mutable {
            r.streamed = true;
            r.payload.clear();
            inv->on_complete(std::move(r));
          });
        });
        return;
      }
      inv->on_complete(std::move(r));
    });
    return invocation::Admission::kAccepted;
  }
  std::optional<std::size_t> evict(const std::string& name) override {
    return has_function(name) ? std::optional<std::size_t>(0) : std::nullopt;
  }
  void status(nlohmann::json& out) const override { out["functions"] = nlohmann::json::array(); }

 private:
  boost::asio::io_context& io_;
};

struct Harness {
  boost::asio::io_context io;
  SystemClock clock;
  StubDispatcher dispatcher{io};
  fuzz::LoopbackHttp http{io, invoke_api::make_router(dispatcher, clock, {}), options()};

  static http::ServerOptions options() {
    http::ServerOptions o;
    o.idle_timeout = std::chrono::seconds(5);
    o.read_timeout = std::chrono::seconds(5);
    o.write_timeout = std::chrono::seconds(5);
    o.server_name = "lambdad";
    return o;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* harness = new Harness();  // one server for the whole run, like the daemon's
  harness->http.exchange(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
