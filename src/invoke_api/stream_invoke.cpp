#include "stream_invoke.hpp"

#include <memory>
#include <nlohmann/json.hpp>

#include "invoke_request.hpp"
#include "lambdad/common/base64.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/invoke_api/event_stream.hpp"
#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api {
namespace {

// InvokeComplete's ErrorCode and ErrorDetails for a function error: the error's own type and
// message when its body is Lambda's error JSON ({"errorType","errorMessage",...}), else the
// platform's error type and the body as it is.
std::pair<std::string, std::string> describe_error(const invocation::InvocationResult& result) {
  std::string code = result.error_type;
  std::string details = result.payload;
  auto j = nlohmann::json::parse(result.payload, nullptr, false);
  if (j.is_object()) {
    if (auto t = j.find("errorType"); t != j.end() && t->is_string() && !t->get<std::string>().empty()) {
      code = t->get<std::string>();
    }
    if (auto m = j.find("errorMessage"); m != j.end() && m->is_string()) details = m->get<std::string>();
  }
  if (code.empty()) code = "Unhandled";
  return {std::move(code), std::move(details)};
}

// The client's side of one invocation: frames onto a chunked response whose status and headers
// go out with the first frame. A frame's write completing is what lets the runtime's upload go on
// (`resume`), so nothing accumulates here beyond the piece in flight.
class StreamInvoke {
 public:
  StreamInvoke(http::Responder respond, std::string request_id, std::string executed_version, std::string trace_id,
               bool tail)
      : respond_(std::move(respond)),
        request_id_(std::move(request_id)),
        executed_version_(std::move(executed_version)),
        trace_id_(std::move(trace_id)),
        tail_(tail) {}

  void chunk(std::string bytes, std::function<void()> resume) {
    auto& stream = open();
    if (!stream) {
      resume();  // nobody to send to: keep the function going, as Lambda does for a gone client
      return;
    }
    stream->write(event_stream::payload_chunk(bytes), [resume = std::move(resume)](bool) { resume(); });
  }

  void complete(invocation::InvocationResult result) {
    // A restore that failed before the function ran: nothing was streamed, the service answers.
    if (!result.service_error.empty() && !opened_) {
      return fail(ServiceError::from(Error{ErrorKind::kInvalidInput, result.service_error, std::move(result.payload)}));
    }
    auto& stream = open();
    if (!stream) return;
    // A function that did not stream answers in one piece.
    if (result.outcome == invocation::Outcome::kSuccess && !result.streamed && !result.payload.empty()) {
      stream->write(event_stream::payload_chunk(result.payload));
    }
    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    if (result.outcome == invocation::Outcome::kFunctionError) {
      auto [code, details] = describe_error(result);
      body["ErrorCode"] = code;
      body["ErrorDetails"] = details;
    }
    if (tail_) {
      std::string_view log = result.log;
      if (log.size() > 4096) log = log.substr(log.size() - 4096);
      body["LogResult"] = base64::encode(log);
    }
    stream->write(event_stream::invoke_complete(body.dump()));
    stream->end();
    stream.reset();
  }

  void fail(const ServiceError& error) { respond_(render(error, request_id_)); }

 private:
  std::shared_ptr<http::ResponseStream>& open() {
    if (!opened_) {
      opened_ = true;
      http::Response head;
      head.status = 200;
      head.headers.add("Content-Type", "application/vnd.amazon.eventstream");
      head.headers.add("x-amzn-RequestId", request_id_);
      head.headers.add("X-Amz-Executed-Version", executed_version_);
      head.headers.add("X-Amzn-Trace-Id", trace_id_);
      stream_ = respond_.stream(std::move(head));
    }
    return stream_;
  }

  http::Responder respond_;
  std::string request_id_;
  std::string executed_version_;
  std::string trace_id_;
  bool tail_;
  bool opened_ = false;
  std::shared_ptr<http::ResponseStream> stream_;
};

}  // namespace

http::Handler make_stream_invoke_handler(invocation::Dispatcher& dispatcher, const Clock& clock,
                                         InvokeApiOptions options) {
  return [&dispatcher, &clock, options = std::move(options)](http::Request&& req, http::Responder respond) {
    const std::string request_id = ids::request_id();
    auto valid = validate_invoke(req, request_id, dispatcher, clock, options,
                                 InvokeRules{"InvokeWithResponseStream", {"RequestResponse", "DryRun"}});
    if (auto* e = std::get_if<ServiceError>(&valid)) return respond(render(*e, request_id));
    auto& [inv, type] = std::get<ValidInvoke>(valid);
    if (type == "DryRun") {
      http::Response r;
      r.status = 204;
      r.headers.add("x-amzn-RequestId", request_id);
      return respond(std::move(r));
    }
    const bool tail = req.headers.get("X-Amz-Log-Type").value_or("None") == "Tail";
    auto state = std::make_shared<StreamInvoke>(std::move(respond), request_id, inv->version, inv->trace_id, tail);
    inv->on_chunk = [state](std::string chunk, std::function<void()> resume) {
      state->chunk(std::move(chunk), std::move(resume));
    };
    inv->on_complete = [state](invocation::InvocationResult result) { state->complete(std::move(result)); };
    // A throttled invocation never runs: its callbacks are never called.
    if (auto refused = admission_error(dispatcher.dispatch(std::move(inv)))) state->fail(*refused);
  };
}

}  // namespace lambdad::invoke_api
