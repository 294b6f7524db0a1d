/* opts.h: helpers shared by every command's ProcessOptions: typed options that check their
   values (choices, bounded 64-bit-safe integers, finite bounded reals) with one-line errors
   naming the option, -help handling, rejection of unknown options, options-file checks,
   and memory estimates for size options. */
#ifndef ARDM_OPTS_H
#define ARDM_OPTS_H
#include "core/ardm.h"

/* The typed options below are called inside PetscOptionsBegin/End (PetscOptionsObject is the
   block's). Each reads the option if it is set, leaves the value (its default on entry)
   otherwise, prints its -help line "-name <now V : formerly D>: help (allowed values)", and
   sets *set (may be NULL). A bad value is an input error on every rank together (exit 1)
   with one line that names the option, the value and what is allowed. */

/* One of list[0..n-1] (exact, case-insensitive); *index is its position. */
PetscErrorCode opts_choice(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help,
                           const char *const *list, int n, PetscInt *index, PetscBool *set);
/* An integer in lo..hi, parsed in 64 bits: a value outside PetscInt is rejected, never wrapped. */
PetscErrorCode opts_int(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, PetscInt *value,
                        int64_t lo, int64_t hi, PetscBool *set);
PetscErrorCode opts_int64(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, int64_t *value,
                          int64_t lo, int64_t hi, PetscBool *set);
/* A comma-separated list of at most *n integers in lo..hi; *n returns the count. */
PetscErrorCode opts_int_array(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, PetscInt *values,
                              PetscInt *n, int64_t lo, int64_t hi, PetscBool *set);
/* A finite real in `range`, written as an interval: "[0,1)", "(0,inf)", "[-1,inf)". */
PetscErrorCode opts_real(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, PetscReal *value,
                         const char *range, PetscBool *set);

/* Input error (collective) when a buffer of `bytes` per rank, sized by option opt = value,
   cannot fit in this machine's memory: a huge -batch or -n is the user's mistake, not an
   internal out-of-memory abort. */
PetscErrorCode opts_check_memory(MPI_Comm comm, const char *opt, long long value, double bytes);

/* Before PetscInitialize: checks every -options_file in argv[0..argc-1] and the files they
   include (readable, no file including itself, each line an option "-name [value]", an
   "alias -new -old" or a comment) so that PETSc's parser never meets a cycle (it recurses
   without end) or a syntax error (it prints a traceback). Returns 0, or 1 with a one-line
   message in msg. */
int opts_check_files(int argc, char **argv, char *msg, size_t len);

/* Call after a command's PetscOptionsEnd(): sets *help_only when -help was given (the caller
   returns 0 at once), otherwise fails with an input error naming every option that no part
   of the command read (a misspelt option must not be silently ignored). */
PetscErrorCode opts_finish(MPI_Comm comm, const char *cmd, PetscBool *help_only);

#endif
