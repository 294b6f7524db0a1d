/* checkpoint.h: checkpoint.nc (doc/formats.md): params, ema, adam_m, adam_v over dimension
   nparam, each rank writing/reading its own shard slice collectively, the master rank's loss
   statistics, and attributes for step, seeds, data position, the model configuration and the
   options. Written to a temporary name and renamed; the run directory keeps the last K as
   ckpt-<step>.nc and checkpoint.nc is a hard link to the newest complete one, so a crash at any
   moment leaves the previous good checkpoint in place. */
#ifndef ARDM_CHECKPOINT_H
#define ARDM_CHECKPOINT_H
#include "ardm/lossstats.h"
#include "ardm/model.h"
#include "core/shard.h"

typedef struct {
  int64_t  step; /* optimizer steps completed */
  uint64_t seed;
  int64_t  examples;         /* data position: global examples consumed (epoch = examples / n) */
  int64_t  skipped;          /* steps skipped for non-finite loss/gradient, in all */
  int64_t  bad_streak;       /* consecutive skipped steps at the time of the checkpoint */
  int      nplan;            /* budgets the training job plans for (train -plan_budgets), recorded */
  int      plan_budgets[64]; /* in the attribute plan_budgets; 0 of them: none */
} ckpt_state;

typedef struct {
  const float *params, *ema, *adam_m, *adam_v; /* [hi - lo] this rank's slices */
} ckpt_buffers;

/* Writes RUN_DIR/ckpt-<step>.nc, points RUN_DIR/checkpoint.nc at it, deletes all but the newest
   keep ckpt-*.nc files. Collective. */
PetscErrorCode ckpt_save(const char *run_dir, int keep, const shard *sh, const ckpt_buffers *b, const ckpt_state *st,
                         const model_config *mc, lossstats *ls);
/* Reads a checkpoint written with any rank count: the model config (for checking), the state,
   this rank's slices of params/ema/adam_m/adam_v (each [hi - lo]; the caller gathers whole
   parameters where it keeps them, shard_allgather), and (rank 0) the loss statistics
   and, in its log, every rank's observations since the last log step (lossstats_log_restore
   hands them to the ranks that now own their batch slots). */
PetscErrorCode ckpt_load(MPI_Comm comm, const char *path, const shard *sh, float *params, float *ema, float *adam_m,
                         float *adam_v, ckpt_state *st, lossstats *ls);
/* Opens a checkpoint for a model: reads its configuration and parameter count. */
PetscErrorCode ckpt_read_config(MPI_Comm comm, const char *path, model_config *mc, size_t *nparam);
/* For eval and sample: reads the checkpoint's configuration into mc, builds its model for
   batches up to max_batch, checks the parameter counts agree, and reads the weights "ema" or
   "params" into a new buffer *w (free with ardm_free). Collective. The model is split along D
   over the ranks of replica (MPI_COMM_SELF: not split; ardm/model.h model_create_parallel). */
PetscErrorCode ckpt_load_model(MPI_Comm comm, const char *path, const char *which, int64_t max_batch, MPI_Comm replica,
                               model_config *mc, model *m, float **w);
/* Reads the full weights "ema" or "params" into w[nparam] on every rank. */
PetscErrorCode ckpt_read_weights(MPI_Comm comm, const char *path, const char *which, size_t nparam, float *w);
#endif
