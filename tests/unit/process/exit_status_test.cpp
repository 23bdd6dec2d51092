#include <gtest/gtest.h>

#include <csignal>

#include "lambdad/process/child_process.hpp"

namespace lambdad::process {
namespace {

std::string signaled(int sig) { return ExitStatus{true, sig}.describe(); }

TEST(ExitStatus, ExitCodes) {
  EXPECT_EQ(ExitStatus{}.describe(), "exit status 0");
  EXPECT_EQ((ExitStatus{false, 1}).describe(), "exit status 1");
  EXPECT_EQ((ExitStatus{false, 255}).describe(), "exit status 255");
}

TEST(ExitStatus, SignalsInGoWording) {
  EXPECT_EQ(signaled(SIGKILL), "signal: killed");
  EXPECT_EQ(signaled(SIGSEGV), "signal: segmentation fault");
  EXPECT_EQ(signaled(SIGABRT), "signal: aborted");
  EXPECT_EQ(signaled(SIGTERM), "signal: terminated");
  EXPECT_EQ(signaled(SIGINT), "signal: interrupt");
  EXPECT_EQ(signaled(SIGBUS), "signal: bus error");
  EXPECT_EQ(signaled(SIGFPE), "signal: floating point exception");
  EXPECT_EQ(signaled(SIGILL), "signal: illegal instruction");
  EXPECT_EQ(signaled(SIGPIPE), "signal: broken pipe");
  EXPECT_EQ(signaled(SIGHUP), "signal: hangup");
  EXPECT_EQ(signaled(SIGUSR1), "signal: user defined signal 1");
  EXPECT_EQ(signaled(SIGXCPU), "signal: CPU time limit exceeded");
  EXPECT_EQ(signaled(SIGSYS), "signal: bad system call");
}

TEST(ExitStatus, UnnamedSignalsByNumber) {
  EXPECT_EQ(signaled(40), "signal: signal 40");
  EXPECT_EQ(signaled(0), "signal: signal 0");
}

}  // namespace
}  // namespace lambdad::process
