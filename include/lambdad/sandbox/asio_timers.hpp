// sandbox: Timers on the daemon's io_context (steady_timer), for the SystemClock's time line.
#pragma once

#include <memory>

#include "lambdad/common/executor.hpp"
#include "lambdad/common/timer.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::sandbox {

std::unique_ptr<Timers> make_asio_timers(boost::asio::io_context& io);
// Timers whose callbacks run on `executor` (the daemon's domain).
std::unique_ptr<Timers> make_asio_timers(Executor executor);

}  // namespace lambdad::sandbox
