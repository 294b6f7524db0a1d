/* trainlog.h: the training log (doc/formats.md "Training log"): one record per
   logged step, kept by rank 0 and rewritten atomically at every log interval (small: 7
   doubles per record), so a resumed run continues the same file exactly. */
#ifndef ARDM_TRAINLOG_H
#define ARDM_TRAINLOG_H
#include "core/ncio.h"

typedef struct {
  int64_t step;
  double  loss, bpd, lr, grad_norm, examples_per_s, wall_s;
} trainlog_record;

typedef struct {
  trainlog_record *rec;
  int64_t          n, cap;
} trainlog;

PetscErrorCode trainlog_append(trainlog *log, const trainlog_record *r);
/* Collective; rank 0's records are written. */
PetscErrorCode trainlog_save(trainlog *log, MPI_Comm comm, const char *path);
/* Collective; keeps the records with step <= max_step (on rank 0). A missing file is empty. */
PetscErrorCode trainlog_load(trainlog *log, MPI_Comm comm, const char *path, int64_t max_step);
PetscErrorCode trainlog_free(trainlog *log);
#endif
