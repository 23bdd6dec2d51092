// invoke_api (private): InvokeWithResponseStream (lambda-spec §3.3).
#pragma once

#include "lambdad/common/clock.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"

namespace lambdad::invoke_api {

// POST /2021-11-15/functions/{name}/response-streaming-invocations. The request is validated like
// Invoke's (errors before the function runs are ordinary JSON errors); after that the answer is
// 200 application/vnd.amazon.eventstream, one PayloadChunk per piece the runtime streams (the
// whole body in one when it does not stream), then exactly one InvokeComplete.
http::Handler make_stream_invoke_handler(invocation::Dispatcher& dispatcher, const Clock& clock,
                                         InvokeApiOptions options);

}  // namespace lambdad::invoke_api
