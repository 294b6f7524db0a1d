/* threads.c: the -threads option of every command (threads.h): parsing, the OpenMP and
   OpenBLAS thread counts, and a warning when the rank's CPU affinity is narrower. */
#include "core/threads.h"
#include "core/opts.h"
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

/* OpenBLAS's own setter, which overrides OPENBLAS_NUM_THREADS. Weak: with another BLAS (MKL,
   BLIS, the reference BLAS) the symbol is absent and that library's own variable decides
   (MKL_NUM_THREADS=1, BLIS_NUM_THREADS=1: INSTALL). */
extern void openblas_set_num_threads(int num_threads) __attribute__((weak));

static int nthreads = 1;

int threads_count(void)
{
  return nthreads;
}

/* The default: OMP_NUM_THREADS (its first entry; OpenMP allows a list for nested levels) when
   set, else 1. */
static PetscErrorCode threads_default(MPI_Comm comm, PetscInt *n)
{
  const char *env = getenv("OMP_NUM_THREADS");
  char       *end;
  long        v;
  PetscFunctionBegin;
  *n = 1;
  if (!env || !*env) PetscFunctionReturn(0);
  v = strtol(env, &end, 10);
  PetscCheck(end != env && (*end == 0 || *end == ',') && v >= 1 && v <= THREADS_MAX, comm, ARDM_ERR_INPUT,
             "OMP_NUM_THREADS=%s: expected an integer in 1..%d (the default of -threads)", env, THREADS_MAX);
  *n = (PetscInt)v;
  PetscFunctionReturn(0);
}

/* A warning (rank 0's view is enough: launchers bind every rank alike) when the CPUs this
   process may run on are fewer than the threads: they would share cores. */
static void threads_check_affinity(MPI_Comm comm, int n)
{
  cpu_set_t   set;
  PetscMPIInt rank;
  int         ncpu;
  if (sched_getaffinity(0, sizeof set, &set)) return;
  ncpu = CPU_COUNT(&set);
  if (MPI_Comm_rank(comm, &rank) || rank || ncpu >= n) return;
  fprintf(stderr,
          "ardm: warning: -threads %d but rank 0 may run on %d CPU%s only (the launcher binds it): use srun "
          "--cpus-per-task=%d, or mpirun --map-by slot:PE=%d (or --bind-to none)\n",
          n, ncpu, ncpu == 1 ? "" : "s", n, n);
}

PetscErrorCode threads_init(MPI_Comm comm)
{
  PetscInt n;
  PetscFunctionBegin;
  PetscCall(threads_default(comm, &n));
  PetscOptionsBegin(comm, NULL, "Options of every ardm command", "ardm");
  PetscCall(opts_int(PetscOptionsObject, "-threads",
                     "OpenMP threads per rank for the elementwise loops and the GEMMs (each split into "
                     "one-thread BLAS calls); default OMP_NUM_THREADS, else 1",
                     &n, 1, THREADS_MAX, NULL));
  PetscOptionsEnd();
  nthreads = (int)n;
  omp_set_num_threads(nthreads);
  /* the GEMMs are split over OpenMP's threads (nn_gemm): a BLAS pool of its own would compete
     with OpenMP's spinning workers for the same cores */
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  if (nthreads > 1) threads_check_affinity(comm, nthreads);
  PetscFunctionReturn(0);
}
