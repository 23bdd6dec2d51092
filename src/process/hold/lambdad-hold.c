/* lambdad-hold GO_FD ERROR_FD PATH ARGV0 [ARGS...]: a sandbox made ahead waits here
 * (docs/decisions/022). The child that exec'd it has joined its cgroups, set its limits, laid
 * out its root and entered its working directory; it exec'd this small static program so that
 * nothing of the daemon's memory stays shared while it waits. One byte on GO_FD (from
 * ChildProcess::release) execs PATH with ARGV0 ARGS and this environment; end of file on GO_FD
 * (the sandbox was discarded) exits. ERROR_FD is the spawn's error pipe: close-on-exec again
 * here, so that the exec closes it, or a failure record if the exec fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "child_failure.h"

extern char **environ;

int main(int argc, char **argv) {
  if (argc < 5) return 126;
  const int go = atoi(argv[1]);
  const int error_fd = atoi(argv[2]);
  char byte = 0;
  ssize_t n;
  do {
    n = read(go, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(0);
  close(go);
  (void)fcntl(error_fd, F_SETFD, FD_CLOEXEC);
  execve(argv[3], argv + 4, environ);
  struct lambdad_child_failure failure = {LAMBDAD_STEP_EXEC, errno, 0};
  ssize_t w;
  do {
    w = write(error_fd, &failure, sizeof failure);
  } while (w < 0 && errno == EINTR);
  _exit(127);
}
