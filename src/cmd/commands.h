/* commands.h: the subcommands of bin/ardm. Each takes the positional arguments that came
   before the first option (options are read through PETSc) and runs on PETSC_COMM_WORLD. */
#ifndef ARDM_COMMANDS_H
#define ARDM_COMMANDS_H
#include "core/ardm.h"

typedef PetscErrorCode (*command_fn)(int npos, char **pos);

PetscErrorCode cmd_prep(int npos, char **pos);
PetscErrorCode cmd_info(int npos, char **pos);
PetscErrorCode cmd_plan(int npos, char **pos);
PetscErrorCode cmd_train(int npos, char **pos);
PetscErrorCode cmd_eval(int npos, char **pos);
PetscErrorCode cmd_sample(int npos, char **pos);
PetscErrorCode cmd_export(int npos, char **pos);
PetscErrorCode cmd_report(int npos, char **pos);

#endif
