/* watchdog.h: a time limit on reading a file's metadata. The HDF5 library can loop forever on a
   damaged file (a corrupted global heap reached while NetCDF reads a variable's dimension
   scales: benchmarks/RESULTS.md, "Fuzzing the readers"), and a batch job must not spend its
   allocation waiting: a process whose watched read makes no progress for ARDM_IO_TIMEOUT
   seconds (default 300, 0 = no limit) prints one line naming the file and exits with code 1. */
#ifndef ARDM_WATCHDOG_H
#define ARDM_WATCHDOG_H
#include "core/ardm.h"

/* Reads ARDM_IO_TIMEOUT (an input error naming the variable when it is not a number of seconds
   in 0..86400) and remembers the command's name for the message ("ardm train") and this rank's
   number in MPI_COMM_WORLD: only rank 0 prints. Once, after ardm_errors_init; before it,
   watches do nothing (library users: the tests, the fuzzer). */
PetscErrorCode watchdog_init(const char *name);

/* The line for a read that made no progress (the file's path, then the limit in seconds). */
#define WATCHDOG_HANG_FMT                                                                                              \
  "%s: reading the file made no progress for %u s (ARDM_IO_TIMEOUT): the file is damaged in a way the HDF5 "           \
  "library loops on; restore it, or raise ARDM_IO_TIMEOUT on a very slow file system"

/* Whether watchdog_init ran (a command, not a library user), and its limit (0 = none). */
int      watchdog_started(void);
unsigned watchdog_limit(void);

/* Starts (or restarts) the countdown for reading path; watches nest (one per open file). */
void watchdog_arm(const char *path);

/* Restarts the countdown: a long read that makes progress (ardm info's pass over every value)
   calls it after each block, so the limit is on a read that stops advancing. */
void watchdog_kick(void);

/* Ends one watch; the countdown stops when none is left. */
void watchdog_disarm(void);

#endif
