#include <gtest/gtest.h>

#include "lambdad/runtime_api/runtime_api.hpp"

namespace lambdad::runtime_api {
namespace {

using sandbox::RuntimeEvent;
using sandbox::RuntimeReply;
using sandbox::RuntimeState;

TEST(RenderReplyTest, AcceptedIsExactly202StatusOk) {
  auto r = render_reply(RuntimeReply::accepted());
  EXPECT_EQ(r.status, 202u);
  EXPECT_EQ(r.body, "{\"status\":\"OK\"}\n");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
}

TEST(RenderReplyTest, ErrorBodiesAreExact) {
  auto bad_id = render_reply(RuntimeReply::invalid_request_id());
  EXPECT_EQ(bad_id.status, 400u);
  EXPECT_EQ(bad_id.body, "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n");

  auto refused = render_reply(RuntimeReply::refused(RuntimeState::kResponseSent, RuntimeEvent::kResponse));
  EXPECT_EQ(refused.status, 403u);
  EXPECT_EQ(refused.body,
            "{\"errorMessage\":\"State transition from RuntimeResponseSentState to InvocationResponse failed for "
            "runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}\n");

  auto big = render_reply(RuntimeReply{RuntimeReply::Code::kPayloadTooLarge, RuntimeState::kRunning, RuntimeEvent::kResponse});
  EXPECT_EQ(big.status, 413u);
  EXPECT_EQ(big.body,
            "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":"
            "\"RequestEntityTooLarge\"}\n");

  auto late = render_reply(RuntimeReply::invoke_timeout());
  EXPECT_EQ(late.status, 410u);
  EXPECT_EQ(late.body, "{\"errorMessage\":\"Invoke timeout\",\"errorType\":\"InvokeTimeout\"}\n");

  auto internal = render_reply(RuntimeReply{RuntimeReply::Code::kInternal, RuntimeState::kReady, RuntimeEvent::kNext});
  EXPECT_EQ(internal.status, 500u);
  EXPECT_EQ(internal.body, "{\"errorMessage\":\"Internal Server Error\",\"errorType\":\"InternalServerError\"}\n");
}

}  // namespace
}  // namespace lambdad::runtime_api
