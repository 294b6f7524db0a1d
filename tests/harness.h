/* harness.h: the tiny test harness every C test program uses (unit and MPI tests).
   Usage:
     static int test_something(void) { CHECK(x == 1, "x is %d", x); return 0; }
     int main(int argc, char **argv) {
       TH_INIT(&argc, &argv);           // MPI + PETSc on every rank
       TH_RUN(test_something);           // result agreed over all ranks, printed by rank 0
       return TH_FINISH();               // non-zero when any test failed
     }
   Output lines: "PASS <program>:<test>" or "FAIL <program>:<test>: <why>" (the runner tests/run.sh
   counts them). A rank count for MPI tests is given in the file as a comment "// ranks: 1 2 4". */
#ifndef ARDM_HARNESS_H
#define ARDM_HARNESS_H
#include "core/ncio.h"
#include <petscsys.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static char th_prog[128] = "test";
static char th_why[1024];
static int  th_passed, th_failed;

/* Record why a check failed (first failure wins) and make the test return 1. */
#define CHECK(cond, ...)                                                                                               \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      int th_n_ = snprintf(th_why, sizeof th_why, "%s:%d: (%s) ", __FILE__, __LINE__, #cond);                          \
      if (th_n_ > 0 && th_n_ < (int)sizeof th_why) snprintf(th_why + th_n_, sizeof th_why - th_n_, __VA_ARGS__);       \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)
/* Relative-or-absolute closeness: |a - b| <= tol * max(1, |a|, |b|). */
#define CHECK_CLOSE(a, b, tol)                                                                                         \
  CHECK(fabs((double)(a) - (double)(b)) <= (tol)*fmax(1.0, fmax(fabs((double)(a)), fabs((double)(b)))),                \
        "%s = %.10g, %s = %.10g, tol %g", #a, (double)(a), #b, (double)(b), (double)(tol))
/* A PETSc call inside a test: an error fails the test instead of propagating. */
#define CHECK_OK(call)                                                                                                 \
  do {                                                                                                                 \
    PetscErrorCode th_e_ = (call);                                                                                     \
    CHECK(th_e_ == 0, "%s returned PETSc error %d", #call, (int)th_e_);                                                \
  } while (0)

static inline void th_init(int *argc, char ***argv)
{
  const char *p = strrchr((*argv)[0], '/');
  snprintf(th_prog, sizeof th_prog, "%s", p ? p + 1 : (*argv)[0]);
  ncio_mpi_env(); /* MPI-IO as the commands use it (read by MPI_Init) */
  if (PetscInitialize(argc, argv, NULL, NULL)) exit(2);
  PetscPushErrorHandler(PetscReturnErrorHandler, NULL); /* errors are test results, not output */
}

static inline void th_run(const char *name, int (*fn)(void))
{
  int         local, any;
  PetscMPIInt rank, size;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  th_why[0] = 0;
  local = fn();
  MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  if (local) fprintf(stderr, "[rank %d] %s:%s: %s\n", rank, th_prog, name, th_why);
  if (!any)
    th_passed++;
  else
    th_failed++;
  if (rank == 0) {
    if (any)
      printf("FAIL %s:%s[np=%d]: %s\n", th_prog, name, size, th_why[0] ? th_why : "failed on another rank");
    else
      printf("PASS %s:%s[np=%d]\n", th_prog, name, size);
    fflush(stdout);
  }
}

static inline int th_finish(void)
{
  PetscPopErrorHandler();
  PetscFinalize();
  return th_failed ? 1 : 0;
}

#define TH_INIT(argc, argv) th_init(argc, argv)
#define TH_RUN(fn)          th_run(#fn, fn)
#define TH_FINISH()         th_finish()
#endif
