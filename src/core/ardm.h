/* ardm.h: what every module shares: PETSc/MPI includes, version, exit codes, and the
   collective error conventions. */
#ifndef ARDM_H
#define ARDM_H

#include <petscsys.h>
#include <stddef.h>
#include <stdint.h>

#define ARDM_VERSION "0.1.0"

/* Exit codes (documented in README.md). */
#define ARDM_EXIT_OK      0
#define ARDM_EXIT_INPUT   1 /* bad input: message printed once, every rank exits with it */
#define ARDM_EXIT_REQUEUE 3 /* checkpoint written on a signal or -max_hours: please requeue */
#define ARDM_EXIT_ABORT   4 /* internal error on some rank: the job was aborted */

/* Exit status a command asks for when it returns without error (ARDM_EXIT_REQUEUE after a
   checkpoint on a signal); main() uses it. */
extern int ardm_exit_code;

/* Error convention.
   User-input errors use PETSC_ERR_USER_INPUT and must be raised on every rank together, so
   the job ends cleanly with ARDM_EXIT_INPUT. Use PetscCheck(..., PETSC_ERR_USER_INPUT, ...)
   only for conditions every rank evaluates identically (options, metadata all ranks read);
   use ArdmCheckAll for a condition only some ranks can see (their own examples, a file only
   rank 0 opened). Any other error code is treated as internal and aborts the whole job. */
#define ARDM_ERR_INPUT PETSC_ERR_USER_INPUT

PetscErrorCode ardm_check_all_impl(MPI_Comm comm, PetscBool ok, int line, const char *func, const char *file,
                                   const char *fmt, ...) PETSC_ATTRIBUTE_FORMAT(6, 7);
#define ArdmCheckAll(comm, cond, ...)                                                                                  \
  PetscCall(ardm_check_all_impl(comm, (cond) ? PETSC_TRUE : PETSC_FALSE, __LINE__, PETSC_FUNCTION_NAME, __FILE__,      \
                                __VA_ARGS__))

/* An invariant inside a function that cannot return an error code (layers, networks): always
   checked (unlike assert, also in optimised builds); on failure it prints the internal-error
   line and ends the job with exit 4, like any internal error. */
#define ArdmAssert(cond, ...) PetscCheckAbort(cond, PETSC_COMM_SELF, ARDM_EXIT_ABORT, __VA_ARGS__)

/* Installs the one-line error printer; name is the subcommand for messages ("ardm train"). */
PetscErrorCode ardm_errors_init(const char *name);
/* Whether an error code returned to main is a user-input error (raised on every rank together). */
int ardm_error_is_input(PetscErrorCode ierr);
/* Maps an error code returned to main to the process exit status (aborting if internal); rank 0
   also writes that status (0, 1 or 3) to the file $ARDM_STATUS_FILE names, when set. */
int ardm_errors_finish(PetscErrorCode ierr);
/* Sets the exit status of a successful run and records it in $ARDM_STATUS_FILE at once (rank 0):
   after a TERM, mpirun kills the ranks a few seconds later (odls_base_sigkill_timeout), so the
   status of a written checkpoint must not wait for the clean-up that follows it. */
void ardm_exit_code_set(int code);

/* Keeps glibc from returning freed large blocks to the kernel (first-touch page faults are
   very expensive on these VMs, also inside MPI's temporary buffers); call once at start-up. */
void ardm_memory_init(void);

/* Checked allocation of large buffers (zero-filled, touched once at setup), through PETSc's
   allocator like every other allocation of ardm (one family: -malloc_dump sees them all). */
PetscErrorCode ardm_alloc(size_t bytes, void *ptr);
void           ardm_free(void *ptr);

#endif
