/* errors.c: one-line error messages, collective user-input checks, and exit codes.
   PETSc's default handler prints a multi-line traceback on rank 0 and leaves the other ranks
   waiting; users of a batch code want one clear line and every rank out together. */
#include "core/ardm.h"
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char ardm_cmd_name[64] = "ardm";
int         ardm_exit_code = ARDM_EXIT_OK;
/* Set when PETSc's option parser rejected a value (-length abc, a value out of range): the
   same on every rank, so it is a user-input error like ARDM_ERR_INPUT. */
static int option_error;

static int is_option_error(PetscErrorCode n, const char *file)
{
  return (n == PETSC_ERR_ARG_WRONG || n == PETSC_ERR_ARG_OUTOFRANGE || n == PETSC_ERR_ARG_INCOMP ||
          n == PETSC_ERR_ARG_UNKNOWN_TYPE) &&
         file && strstr(file, "options");
}

static PetscErrorCode ardm_error_handler(MPI_Comm comm, int line, const char *func, const char *file, PetscErrorCode n,
                                         PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank = 0;
  if (p != PETSC_ERROR_INITIAL) return n; /* only the first report of an error is printed */
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (is_option_error(n, file)) option_error = 1;
  if (n == ARDM_ERR_INPUT || option_error) {
    /* raised on every rank together: rank 0 speaks for all */
    if (rank == 0)
      fprintf(stderr, "%s: error: %s%s\n", ardm_cmd_name, mess ? mess : "(no message)",
              n == ARDM_ERR_INPUT ? "" : " (a bad option value: see -help for each option's type and range)");
  } else {
    fprintf(stderr, "%s: internal error %d on rank %d: %s (%s() at %s:%d)\n", ardm_cmd_name, (int)n, (int)rank,
            mess ? mess : "", func ? func : "?", file ? file : "?", line);
  }
  fflush(stderr);
  return n;
}

PetscErrorCode ardm_errors_init(const char *name)
{
  PetscFunctionBegin;
  snprintf(ardm_cmd_name, sizeof ardm_cmd_name, "%s", name);
  PetscCall(PetscPushErrorHandler(ardm_error_handler, NULL));
  PetscFunctionReturn(0);
}

int ardm_error_is_input(PetscErrorCode ierr)
{
  return ierr == ARDM_ERR_INPUT || option_error;
}

/* Rank 0 records the exit status every rank is about to return in $ARDM_STATUS_FILE, when set:
   a launcher that was itself signalled (mpirun on SIGTERM) may report another status than the
   ranks', and jobs/lib.sh then knows that they checkpointed and exited with 3. */
static int status_record(int code)
{
  const char *path = getenv("ARDM_STATUS_FILE");
  int         rank = 0, init = 0;
  FILE       *f;
  MPI_Initialized(&init);
  if (init) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0 && path && path[0] && (f = fopen(path, "w"))) {
    fprintf(f, "%d\n", code);
    fclose(f);
  }
  return code;
}

void ardm_exit_code_set(int code)
{
  ardm_exit_code = status_record(code);
}

int ardm_errors_finish(PetscErrorCode ierr)
{
  if (!ierr) return status_record(ardm_exit_code);
  if (ierr == ARDM_ERR_INPUT || option_error) return status_record(ARDM_EXIT_INPUT);
  /* Not known to be collective: the other ranks may be blocked in a collective call. */
  MPI_Abort(MPI_COMM_WORLD, ARDM_EXIT_ABORT);
  return ARDM_EXIT_ABORT;
}

PetscErrorCode ardm_check_all_impl(MPI_Comm comm, PetscBool ok, int line, const char *func, const char *file,
                                   const char *fmt, ...)
{
  PetscMPIInt rank, size, first;
  char        msg[1024] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  first = ok ? size : rank;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first == size) PetscFunctionReturn(0);
  if (rank == first) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
  }
  /* every rank raises the message of the lowest failing rank */
  PetscCallMPI(MPI_Bcast(msg, (PetscMPIInt)sizeof msg, MPI_CHAR, first, comm));
  PetscFunctionReturn(PetscError(comm, line, func, file, ARDM_ERR_INPUT, PETSC_ERROR_INITIAL, "%s", msg));
}

void ardm_memory_init(void)
{
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

PetscErrorCode ardm_alloc(size_t bytes, void *ptr)
{
  void *p = NULL;
  PetscFunctionBegin;
  /* PETSc's allocator, so that -malloc_debug / -malloc_dump see these buffers too; zero-filled,
     which touches every page now, at setup, not in the first step */
  if (bytes) PetscCall(PetscMallocA(1, PETSC_TRUE, __LINE__, PETSC_FUNCTION_NAME, __FILE__, bytes, &p));
  *(void **)ptr = p;
  PetscFunctionReturn(0);
}

void ardm_free(void *ptr)
{
  void **p = (void **)ptr;
  if (*p) (void)PetscFree(*p); /* PetscFree also sets *p to NULL */
}
