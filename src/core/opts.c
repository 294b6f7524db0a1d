/* opts.c: -help, unknown-option rejection and option bookkeeping for every command. */
#include "core/opts.h"
#include <stdio.h>
#include <string.h>

/* Options PETSc itself may read after a command's ProcessOptions (at PetscFinalize or in
   PetscLog), so they are legitimately "unused" at the time we check. */
static const char *const petsc_late_options[] = {"log_view",
                                                 "log_view_memory",
                                                 "log_all",
                                                 "log_trace",
                                                 "malloc_dump",
                                                 "malloc_debug",
                                                 "malloc_view",
                                                 "memory_view",
                                                 "options_left",
                                                 "objects_dump",
                                                 "on_error_abort",
                                                 "on_error_attach_debugger",
                                                 "check_pointer_intensity",
                                                 "no_signal_handler",
                                                 "options_view",
                                                 "history",
                                                 NULL};

static PetscBool is_petsc_late(const char *name)
{
  for (int i = 0; petsc_late_options[i]; i++)
    if (!strcmp(name, petsc_late_options[i])) return PETSC_TRUE;
  return PETSC_FALSE;
}

PetscErrorCode opts_finish(MPI_Comm comm, const char *cmd, PetscBool *help_only)
{
  PetscInt n;
  char   **names, **values;
  char     bad[1024] = "";
  size_t   used = 0;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, help_only));
  if (*help_only) PetscFunctionReturn(0);
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    if (is_petsc_late(names[i])) continue;
    used +=
        (size_t)snprintf(bad + used, used < sizeof bad ? sizeof bad - used : 0, "%s-%s", used ? ", " : "", names[i]);
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!used, comm, ARDM_ERR_INPUT, "unknown option%s %s for 'ardm %s' (see 'ardm %s -help')",
             strchr(bad, ',') ? "s" : "", bad, cmd, cmd);
  PetscFunctionReturn(0);
}

PetscErrorCode opts_effective(char *buf, size_t len)
{
  char *all;
  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  snprintf(buf, len, "%s", all);
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}
