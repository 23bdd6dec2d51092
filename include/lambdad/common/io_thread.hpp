// common: which thread is the io thread (docs/decisions/001). The domain objects (SandboxManager
// and its pools and environments, FunctionRegistry, EventQueue) belong to the one thread that runs
// the daemon's io_context. In debug builds their entry points say so with
// LAMBDAD_ASSERT_IO_THREAD(), and a call from any other thread (a blocking-pool job, a stray
// helper thread) aborts, naming the function; release builds compile the check away.
//
// The io thread is the first thread to claim it, for the rest of the process: the daemon claims it
// as its io_context starts running (app/daemon.hpp), and the first checked call claims it when
// nothing has yet, so that unit tests, which drive these classes from the test's own thread and
// run the loop there, are checked as the daemon is. A claim from a second thread is itself a
// violation.
#pragma once

#include <functional>

namespace lambdad::io_thread {

// While the daemon's loop runs on several threads (docs/decisions/021), the domain is a strand
// and checked calls must run on it: `running_in_domain` says whether the calling thread is in
// it now. nullptr returns to the thread rule above (before the loop runs and after it stops, the
// thread that builds and tears down the daemon).
void set_domain(std::function<bool()> running_in_domain);

// Makes the calling thread the io thread, or checks that it is; aborts when another thread is.
// `where` names the caller in the message.
void claim(const char* where);
// True when the calling thread is the io thread (false while none has been claimed).
bool is_current();

}  // namespace lambdad::io_thread

#ifndef NDEBUG
#define LAMBDAD_ASSERT_IO_THREAD() ::lambdad::io_thread::claim(__func__)
#else
#define LAMBDAD_ASSERT_IO_THREAD() static_cast<void>(0)
#endif
