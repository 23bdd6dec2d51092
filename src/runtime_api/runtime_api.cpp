#include "lambdad/runtime_api/runtime_api.hpp"

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/http/server.hpp"
#include "lambdad/sandbox/extensions.hpp"
#include "lambdad/sandbox/telemetry.hpp"

namespace lambdad::runtime_api {
namespace {

using sandbox::RuntimeReply;

constexpr std::string_view kPrefix = "/2018-06-01";

http::Response json_response(unsigned status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

// {"errorMessage":...,"errorType":...}\n — the shape (and trailing newline) of Lambda's encoder.
http::Response error_response(unsigned status, std::string_view type, std::string_view message) {
  nlohmann::json j = {{"errorMessage", message}, {"errorType", type}};
  return json_response(status, j.dump() + "\n");
}

// Lambda-Runtime-Function-Error-Type is normalised like Lambda does: Category.Reason, else
// Function.Unknown / Runtime.Unknown.
std::string normalise_error_type(std::string_view raw) {
  static const std::regex kValid(R"((Runtime|Function)\.[A-Z][a-zA-Z]+)");
  std::string s(raw);
  if (std::regex_match(s, kValid)) return s;
  if (s.rfind("Function.", 0) == 0) return std::string(error_types::kFunctionUnknown);
  return std::string(error_types::kRuntimeUnknown);
}

// application/vnd.aws.lambda.error.cause+json: errorCause is for X-Ray, the rest goes to the
// invoker as application/json; an unparseable body becomes "Invalid error body".
void apply_error_cause_format(sandbox::RuntimePost& post) {
  if (post.content_type != "application/vnd.aws.lambda.error.cause+json") return;
  auto j = nlohmann::json::parse(post.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    post.body = "\"Invalid error body\"";
  } else {
    j.erase("errorCause");
    post.body = j.dump();
  }
  post.content_type = "application/json";
}

sandbox::RuntimePost to_post(http::Request& req) {
  sandbox::RuntimePost post;
  post.too_large = req.body_too_large;
  post.body = std::move(req.body);
  post.content_type = std::string(req.headers.get("Content-Type").value_or(""));
  post.error_type = normalise_error_type(req.headers.get("Lambda-Runtime-Function-Error-Type").value_or(""));
  return post;
}

http::Response render_delivery(const sandbox::Delivery& d) {
  http::Response r;
  r.status = 200;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Lambda-Runtime-Aws-Request-Id", d.request_id);
  r.headers.add("Lambda-Runtime-Deadline-Ms", std::to_string(d.deadline_epoch_ms));
  r.headers.add("Lambda-Runtime-Invoked-Function-Arn", d.invoked_function_arn);
  if (!d.trace_id.empty()) r.headers.add("Lambda-Runtime-Trace-Id", d.trace_id);
  if (d.client_context && !d.client_context->empty()) r.headers.add("Lambda-Runtime-Client-Context", *d.client_context);
  if (d.cognito_identity && !d.cognito_identity->empty()) r.headers.add("Lambda-Runtime-Cognito-Identity", *d.cognito_identity);
  if (d.tenant_id && !d.tenant_id->empty()) r.headers.add("Lambda-Runtime-Aws-Tenant-Id", *d.tenant_id);
  r.body = d.payload;
  return r;
}

constexpr std::string_view kResponseModeHeader = "Lambda-Runtime-Function-Response-Mode";
constexpr std::string_view kErrorTypeField = "Lambda-Runtime-Function-Error-Type";
constexpr std::string_view kErrorBodyField = "Lambda-Runtime-Function-Error-Body";

// The error a runtime declares in Lambda-Runtime-Function-Error-Body: base64 of the JSON error
// (lambda-spec §1.9), passed through as is when it is not base64.
std::string decode_error_body(std::string_view field) {
  return base64::decode(field).value_or(std::string(field));
}

// POST .../response with Lambda-Runtime-Function-Response-Mode: streaming. Each piece of the
// chunked body goes to the environment as it arrives; the next piece is read only when the
// environment says the invoker took this one, so a slow client slows the runtime's upload
// instead of the response piling up here. Trailers end the stream, possibly with an error.
class StreamedResponse : public std::enable_shared_from_this<StreamedResponse> {
 public:
  StreamedResponse(sandbox::RuntimeApiTarget& target, std::string id, std::shared_ptr<http::BodyReader> body,
                   http::Responder respond)
      : target_(target), id_(std::move(id)), body_(std::move(body)), respond_(std::move(respond)) {}

  void read_next() {
    // The environment outlives this read: it drops pending `ready` callbacks when it goes, and
    // the reader calls nothing after its server (owned by the environment) stopped.
    body_->read([self = shared_from_this()](Result<http::BodyReader::Piece> piece) { self->on_piece(std::move(piece)); });
  }

 private:
  void on_piece(Result<http::BodyReader::Piece> piece) {
    if (!piece) {
      // The upload broke off: the client learns it from InvokeComplete; the runtime (if still
      // there) gets Lambda's truncated-request error.
      sandbox::StreamEnd end;
      end.kind = sandbox::StreamEnd::Kind::kTruncated;
      target_.stream_end(id_, std::move(end));
      respond_(error_response(400, error_types::kTruncatedHTTPRequest, "HTTP request detected as truncated"));
      return;
    }
    auto& p = piece.value();
    if (p.data.empty()) return p.end ? finish(p.trailers) : read_next();
    auto self = shared_from_this();
    std::function<void()> then;
    if (p.end) {
      then = [self, trailers = std::move(p.trailers)] { self->finish(trailers); };
    } else {
      then = [self] { self->read_next(); };
    }
    auto reply = target_.stream_chunk(id_, std::move(p.data), std::move(then));
    if (reply.code != RuntimeReply::Code::kAccepted) respond_(render_reply(reply));
  }

  void finish(const http::Headers& trailers) {
    sandbox::StreamEnd end;
    if (auto type = trailers.get(kErrorTypeField); type && !type->empty()) {
      end.error_type = normalise_error_type(*type);
      end.error_body = decode_error_body(trailers.get(kErrorBodyField).value_or(""));
    }
    respond_(render_reply(target_.stream_end(id_, std::move(end))));
  }

  sandbox::RuntimeApiTarget& target_;
  std::string id_;
  std::shared_ptr<http::BodyReader> body_;
  http::Responder respond_;
};

class Endpoint final : public sandbox::RuntimeEndpoint {
 public:
  Endpoint(boost::asio::io_context& io, const Executor& executor, http::Router router, http::ServerOptions options)
      : server_(io, executor, std::move(router), std::move(options)) {}
  http::Server& server() { return server_; }
  std::uint16_t port() const override { return server_.port(); }

 private:
  http::Server server_;
};

// The Extensions API (lambda-spec §2; docs/decisions/024): every refusal is a 403 with Lambda's
// type and message, rendered here.
constexpr std::string_view kExtensionPrefix = "/2020-01-01/extension";
constexpr std::size_t kExtensionBody = 64 * 1024;

http::Response extension_refusal(const sandbox::ExtensionError& e) { return error_response(403, e.type, e.message); }

http::Response extensions_missing() {
  return error_response(500, error_types::kInternalServerError, "Internal Server Error");
}

void add_extension_routes(http::Router& router, sandbox::RuntimeApiTarget& target) {
  const std::string p(kExtensionPrefix);
  router.add(http::Method::kPost, p + "/register", kExtensionBody, [&target](http::Request&& req, http::Responder respond) {
    auto* ext = target.extensions();
    if (ext == nullptr) return respond(extensions_missing());
    const auto feature = req.headers.get("Lambda-Extension-Accept-Feature").value_or("");
    auto out = ext->register_extension(req.headers.get("Lambda-Extension-Name").value_or(""), req.body,
                                       feature.find("accountId") != std::string_view::npos);
    if (!out.registered) return respond(extension_refusal(out.error));
    auto r = json_response(200, std::move(out.registered->body));
    r.headers.add("Lambda-Extension-Identifier", out.registered->id);
    respond(std::move(r));
  });
  router.add(http::Method::kGet, p + "/event/next", 0, [&target](http::Request&& req, http::Responder respond) {
    auto* ext = target.extensions();
    if (ext == nullptr) return respond(extensions_missing());
    auto who = ext->identify(req.headers.get("Lambda-Extension-Identifier"));
    if (who.error) return respond(extension_refusal(*who.error));
    auto shared = std::make_shared<http::Responder>(std::move(respond));
    auto refused = ext->next(who.id, [shared](std::string event) {
      auto r = json_response(200, std::move(event));
      r.headers.add("Lambda-Extension-Event-Identifier", ids::request_id());
      (*shared)(std::move(r));
    });
    if (refused) (*shared)(extension_refusal(*refused));
  });
  for (const bool init : {true, false}) {
    router.add(http::Method::kPost, p + (init ? "/init/error" : "/exit/error"), kExtensionBody,
               [&target, init](http::Request&& req, http::Responder respond) {
                 auto* ext = target.extensions();
                 if (ext == nullptr) return respond(extensions_missing());
                 auto who = ext->identify(req.headers.get("Lambda-Extension-Identifier"));
                 if (who.error) return respond(extension_refusal(*who.error));
                 const auto type = req.headers.get("Lambda-Extension-Function-Error-Type");
                 auto refused = init ? ext->init_error(who.id, type) : ext->exit_error(who.id, type);
                 if (refused) return respond(extension_refusal(*refused));
                 respond(json_response(202, "{\"status\":\"OK\"}\n"));
               });
  }
  // The Telemetry API (2022-07-01) and the Logs API (2020-08-15) (lambda-spec §2.5,
  // docs/decisions/025): an identified extension subscribes; the environment's Telemetry decides.
  for (const auto api : {sandbox::TelemetryApi::kTelemetry, sandbox::TelemetryApi::kLogs}) {
    const std::string path = api == sandbox::TelemetryApi::kTelemetry ? "/2022-07-01/telemetry" : "/2020-08-15/logs";
    for (const auto& route : {path, path + "/"}) {
      router.add(http::Method::kPut, route, kExtensionBody, [&target, api](http::Request&& req, http::Responder respond) {
        auto* ext = target.extensions();
        auto* telemetry = target.telemetry();
        if (ext == nullptr || telemetry == nullptr) return respond(extensions_missing());
        auto who = ext->identify(req.headers.get("Lambda-Extension-Identifier"));
        if (who.error) return respond(extension_refusal(*who.error));
        auto reply = telemetry->subscribe(api, ext->name_of(who.id), req.body);
        if (reply.status == 200) {
          http::Response r;
          r.status = 200;
          r.headers.add("Content-Type", "text/plain; charset=utf-8");
          r.body = std::move(reply.body);
          return respond(std::move(r));
        }
        respond(json_response(static_cast<unsigned>(reply.status), std::move(reply.body)));
      });
    }
  }
}

}  // namespace

http::Response render_reply(const RuntimeReply& reply) {
  switch (reply.code) {
    case RuntimeReply::Code::kAccepted:
      return json_response(202, "{\"status\":\"OK\"}\n");
    case RuntimeReply::Code::kInvalidRequestId:
      return error_response(400, error_types::kInvalidRequestID, "Invalid request ID");
    case RuntimeReply::Code::kInvalidStateTransition:
      return error_response(403, error_types::kInvalidStateTransition,
                            sandbox::transition_error_message(reply.from, reply.event));
    case RuntimeReply::Code::kPayloadTooLarge: {
      auto r = error_response(413, error_types::kRequestEntityTooLarge,
                              fmt::format("Exceeded maximum allowed payload size ({} bytes).", limits::kBufferedResponse));
      r.close = true;  // the oversized body was not stored; do not keep the connection
      return r;
    }
    case RuntimeReply::Code::kStreamTooLarge: {
      auto r = error_response(413, error_types::kRequestEntityTooLarge,
                              fmt::format("Exceeded maximum allowed payload size ({} bytes).",
                                          sandbox::kStreamedResponseLimit));
      r.close = true;
      return r;
    }
    case RuntimeReply::Code::kInvokeTimeout:
      return error_response(410, error_types::kInvokeTimeout, "Invoke timeout");
    case RuntimeReply::Code::kInternal:
      break;
  }
  return error_response(500, error_types::kInternalServerError, "Internal Server Error");
}

http::Router make_router(sandbox::RuntimeApiTarget& target) {
  http::Router router;
  const std::string p(kPrefix);
  router.add(http::Method::kGet, p + "/runtime/invocation/next", 0,
             [&target](http::Request&&, http::Responder respond) {
               target.next([respond = std::move(respond)](sandbox::NextOutcome outcome) {
                 if (outcome.delivery) {
                   respond(render_delivery(*outcome.delivery));
                 } else {
                   respond(render_reply(outcome.refusal));
                 }
               });
             });
  // Buffered unless the runtime says it streams; a streamed body goes through StreamedResponse.
  router.add_streaming(
      http::Method::kPost, p + "/runtime/invocation/{id}/response", limits::kBufferedResponse,
      [&target](http::Request&& req, http::Responder respond) {
        if (auto mode = req.headers.get(kResponseModeHeader); mode && *mode != "streaming") {
          respond(error_response(400, error_types::kInvalidFunctionResponseMode, "Invalid function response mode"));
          return;
        }
        // Trailers of a chunked body (Go's client always declares them): a mid-stream
        // failure reported there turns the response into an error.
        if (auto type = req.headers.get(kErrorTypeField); type && !type->empty()) {
          auto post = to_post(req);
          if (auto body = req.headers.get(kErrorBodyField); body) {
            post.body = decode_error_body(*body);
            post.content_type = "application/json";
          }
          respond(render_reply(target.error(req.param("id"), std::move(post))));
          return;
        }
        respond(render_reply(target.response(req.param("id"), to_post(req))));
      },
      [](const http::Request& req) { return req.headers.get(kResponseModeHeader) == "streaming"; },
      [&target](http::Request&& req, std::shared_ptr<http::BodyReader> body, http::Responder respond) {
        std::string id(req.param("id"));
        auto begun = target.stream_begin(id, std::string(req.headers.get("Content-Type").value_or("")));
        if (begun.code != RuntimeReply::Code::kAccepted) {
          respond(render_reply(begun));  // the body is left unread: the connection closes after this
          return;
        }
        std::make_shared<StreamedResponse>(target, std::move(id), std::move(body), std::move(respond))->read_next();
      });
  router.add(http::Method::kPost, p + "/runtime/invocation/{id}/error", limits::kRuntimeErrorBody,
             [&target](http::Request&& req, http::Responder respond) {
               auto post = to_post(req);
               apply_error_cause_format(post);
               respond(render_reply(target.error(req.param("id"), std::move(post))));
             });
  router.add(http::Method::kPost, p + "/runtime/init/error", limits::kRuntimeErrorBody,
             [&target](http::Request&& req, http::Responder respond) {
               auto post = to_post(req);
               apply_error_cause_format(post);
               respond(render_reply(target.init_error(std::move(post))));
             });
  // SnapStart (lambda-spec §14): 200 and no body once the environment is restored (a copy made
  // ahead waits here for its cold start; in place it is at once); the after-restore hooks run next.
  router.add(http::Method::kGet, p + "/runtime/restore/next", 0, [&target](http::Request&&, http::Responder respond) {
    target.restore_next([respond = std::move(respond)](RuntimeReply reply) {
      if (reply.code != RuntimeReply::Code::kAccepted) return respond(render_reply(reply));
      http::Response r;
      r.status = 200;
      respond(std::move(r));
    });
  });
  router.add(http::Method::kPost, p + "/runtime/restore/error", limits::kRuntimeErrorBody,
             [&target](http::Request&& req, http::Responder respond) {
               auto post = to_post(req);
               apply_error_cause_format(post);
               respond(render_reply(target.restore_error(std::move(post))));
             });
  add_extension_routes(router, target);
  router.set_fallback([](http::Request&&, http::Responder respond) {
    http::Response r;
    r.status = 404;
    r.headers.add("Content-Type", "text/plain; charset=utf-8");
    r.body = "404 page not found\n";
    respond(std::move(r));
  });
  return router;
}

EndpointFactory::EndpointFactory(boost::asio::io_context& io)
    : io_(io), executor_(io.get_executor()), telemetry_(executor_) {}

Result<std::unique_ptr<sandbox::RuntimeEndpoint>> EndpointFactory::open(sandbox::RuntimeApiTarget& target) {
  http::ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(0);  // a runtime is idle while its handler runs
  // Runtime clients send Lambda-Runtime-Function-XRay-Error-Cause headers of up to 1 MiB.
  options.header_limit = 2 * 1024 * 1024;
  options.admit = [&target](const TcpPeer& peer, http::ServerOptions::Decide decide) {
    target.admit(peer, std::move(decide));
  };
  options.own_strands = own_strands_;
  auto endpoint = std::make_unique<Endpoint>(io_, executor_, make_router(target), options);
  if (auto st = endpoint->server().listen("127.0.0.1", 0); !st) return st.error();
  return std::unique_ptr<sandbox::RuntimeEndpoint>(std::move(endpoint));
}

}  // namespace lambdad::runtime_api
