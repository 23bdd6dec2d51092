// common: the executor the daemon's domain runs on (docs/decisions/021): a strand of the
// daemon's io_context, which several threads run. Objects that belong to the domain take it to
// make their timers and descriptors and to post their completions; a unit test passes its own
// io_context's executor, which the test's thread runs.
#pragma once

#include <boost/asio/any_io_executor.hpp>

namespace lambdad {

using Executor = boost::asio::any_io_executor;

}  // namespace lambdad
