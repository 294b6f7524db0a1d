/* watchdog.c: the time limit on reading a file's metadata (see watchdog.h). alarm() and a
   SIGALRM handler that only calls async-signal-safe functions (write, _exit): the process may be
   anywhere inside HDF5 when it fires, so it cannot unwind, free or flush; it ends at once with
   the input-error exit code, and mpirun ends the other ranks. */
#include "core/watchdog.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WATCHDOG_DEFAULT 300u
#define WATCHDOG_MAX     86400u

static unsigned timeout_s;            /* 0 until watchdog_init: library users (tests, the fuzzer) are not limited */
static int      started;              /* watchdog_init ran */
static int      depth;                /* watches open */
static int      world_rank;           /* only rank 0 prints */
static char     command[64] = "ardm"; /* for messages: "ardm train" */
static char     message[PATH_MAX + 512];
static size_t   message_len;

static void on_alarm(int sig)
{
  (void)sig;
  if (world_rank == 0 && message_len) {
    ssize_t w = write(STDERR_FILENO, message, message_len);
    (void)w;
  }
  _exit(ARDM_EXIT_INPUT);
}

PetscErrorCode watchdog_init(const char *name)
{
  const char      *v = getenv("ARDM_IO_TIMEOUT");
  struct sigaction sa;
  PetscMPIInt      rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  world_rank = rank;
  timeout_s = WATCHDOG_DEFAULT;
  snprintf(command, sizeof command, "%s", name);
  if (v && *v) {
    char         *end;
    unsigned long s;
    errno = 0;
    s = strtoul(v, &end, 10);
    PetscCheck(!errno && !*end && v[0] != '-' && s <= WATCHDOG_MAX, PETSC_COMM_SELF, ARDM_ERR_INPUT,
               "ARDM_IO_TIMEOUT=%s: expected whole seconds in 0..%u (0 = no limit on reading a file's metadata)", v,
               WATCHDOG_MAX);
    timeout_s = (unsigned)s;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  PetscCheck(sigaction(SIGALRM, &sa, NULL) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "sigaction(SIGALRM) failed");
  started = 1;
  PetscFunctionReturn(0);
}

int watchdog_started(void)
{
  return started;
}

unsigned watchdog_limit(void)
{
  return timeout_s;
}

void watchdog_arm(const char *path)
{
  if (!timeout_s) return;
  /* the line is composed now: the handler may only write it */
  int n = snprintf(message, sizeof message, "%s: error: " WATCHDOG_HANG_FMT "\n", command, path, timeout_s);
  message_len = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
  depth++;
  alarm(timeout_s);
}

void watchdog_kick(void)
{
  if (timeout_s && depth > 0) alarm(timeout_s);
}

void watchdog_disarm(void)
{
  if (!timeout_s || depth == 0) return;
  if (--depth == 0) alarm(0);
}
