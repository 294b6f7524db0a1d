/* opts.h: helpers shared by every command's ProcessOptions: -help handling, rejection of
   unknown options, and the options recorded in output files. */
#ifndef ARDM_OPTS_H
#define ARDM_OPTS_H
#include "core/ardm.h"

/* Call after a command's PetscOptionsEnd(): sets *help_only when -help was given (the caller
   returns 0 at once), otherwise fails with an input error naming every option that no part
   of the command read (a misspelt option must not be silently ignored). */
PetscErrorCode opts_finish(MPI_Comm comm, const char *cmd, PetscBool *help_only);

/* All options in effect, as one string (stored as the `options` attribute of outputs). */
PetscErrorCode opts_effective(char *buf, size_t len);

#endif
