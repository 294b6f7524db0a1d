/* model.h: an ARDM model = network + output head + the ARDM input construction (absorbing
   values, mask and stage channels, upscale transitions). The trainer, evaluator and sampler
   see only this interface; the network and heads stay plain layer code. */
#ifndef ARDM_MODEL_H
#define ARDM_MODEL_H
#include "ncio.h"
#include "rng.h"

typedef enum { HEAD_CATEGORICAL = 0, HEAD_LOGISTIC_MIXTURE = 1, HEAD_STAGE_CATEGORICAL = 2 } head_kind;
extern const char *const head_kind_names[]; /* PETSc-style list: names, "head_kind", "HEAD_", NULL */

typedef struct {
  int       blocks, channels, cycle, kernel; /* DiffWave-style network */
  int64_t   D;                               /* dims per example */
  int       K;                               /* classes per dim */
  head_kind head;
  int       mixtures;  /* logistic mixture components */
  int       upscale_b; /* branching factor b; K (or 0) = no upscaling */
  int       S;         /* stages: ceil(log K / log b), 1 without upscaling */
} model_config;

/* Reads the model options (-model_blocks ... -upscale_b) inside an open PetscOptionsBegin
   block; D and K come from the data set and are set by the caller before model_config_finish. */
PetscErrorCode model_config_options(PetscOptionItems *PetscOptionsObject, model_config *c);
/* Derives S, checks consistency (input errors name the option). */
PetscErrorCode model_config_finish(MPI_Comm comm, model_config *c);
/* As attributes model_* of an open file in define mode / read back (input errors name the file). */
PetscErrorCode model_config_write(ncio_file *f, const model_config *c);
PetscErrorCode model_config_read(ncio_file *f, model_config *c);
/* One line: "diffwave B=12 C=64 cycle=6 ... head=categorical(K=4) S=1: 123456 parameters". */
void model_config_describe(const model_config *c, size_t nparam, char *buf, size_t len);
#endif
