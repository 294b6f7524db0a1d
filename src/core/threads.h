/* threads.h: threads inside one rank (hybrid MPI + threads): the -threads option every command
   accepts, which sets the OpenMP threads of the elementwise and head loops (src/nn) and the
   OpenBLAS threads of the GEMMs. */
#ifndef ARDM_THREADS_H
#define ARDM_THREADS_H
#include "core/ardm.h"

#define THREADS_MAX 1024

/* Reads -threads N (default: OMP_NUM_THREADS when set, else 1) in an options block of its own,
   so that every command accepts it and lists it in -help, and applies it: OpenMP and OpenBLAS
   (when the BLAS is OpenBLAS) use N threads on this rank. A bad value is an input error on
   every rank (exit 1, one line naming the option or the variable). Warns on stderr when this
   rank may run on fewer CPUs than N (a launcher binding each rank to one core). Once, after
   PetscInitialize. */
PetscErrorCode threads_init(MPI_Comm comm);

/* The thread count in effect (1 before threads_init). */
int threads_count(void);

#endif
