/* process (internal): what a child writes to its error pipe when a step before (or the) execve
 * fails; shared by fork_exec.cpp and the holder (lambdad-hold.c), which writes it for the exec it
 * was held for. Three ints, native byte order: the pipe never leaves the machine. */
#ifndef LAMBDAD_PROCESS_CHILD_FAILURE_H
#define LAMBDAD_PROCESS_CHILD_FAILURE_H

enum {
  LAMBDAD_STEP_SETUP = 1,
  LAMBDAD_STEP_CHDIR = 2,
  LAMBDAD_STEP_EXEC = 3,
  LAMBDAD_STEP_JOIN = 4,
  LAMBDAD_STEP_RLIMIT = 5,
  LAMBDAD_STEP_ROOT = 6
};

struct lambdad_child_failure {
  int step;   /* LAMBDAD_STEP_* */
  int error;  /* errno */
  int index;  /* JOIN: which join file; ROOT: which step of the root's plan */
};

#endif
