/* model.h: an ARDM model = network + output head + the ARDM input construction (absorbing
   values, mask and stage channels, upscale transitions). The trainer, evaluator and sampler
   see only this interface; the network and heads stay plain layer code. */
#ifndef ARDM_MODEL_H
#define ARDM_MODEL_H
#include "nn/heads.h"
#include "core/rng.h"
#include "core/shard.h"

#define HEAD_AUTO ((head_kind)-1) /* chosen from K and upscaling by model_config_finish */

/* The network families (-model). */
typedef enum { NET_DIFFWAVE = 0, NET_TRANSFORMER = 1, NET_UNET = 2 } net_kind;
extern const char *const net_kind_names[]; /* "diffwave", "transformer", "unet" */

typedef struct {
  net_kind  net;
  int       blocks, channels, cycle, kernel; /* diffwave: B, C, dilation cycle, kernel; unet: blocks per level, C */
  int       layers, width, heads, mlp;       /* transformer: layers, model width, attention heads, MLP ratio */
  int       window;                          /* transformer: input window R (neighbours 1..R each side embedded) */
  int       fourier;                         /* unet: Fourier plane pairs F per image channel of the input */
  int       attn_bias;                       /* transformer: attention score bias, 0 none, 1 distance (ALiBi-style) */
  int       levels, attention;               /* unet: resolutions, bit l set = self-attention at level l */
  int64_t   D;                               /* dims per example */
  int       K;                               /* classes per dim */
  head_kind head;
  int       mixtures;    /* logistic mixture components */
  int       scale_floor; /* mixture: lowest log-scale of a component (0 = -7, what older checkpoints ran) */
  int       upscale_b;   /* branching factor b; K (or 0) = no upscaling */
  int       S;           /* stages: ceil(log K / log b), 1 without upscaling */
  /* what the training data was, so samples can be exported and images rebuilt (attributes data_*) */
  char modality[16];
  int  sample_rate;                         /* audio */
  char alphabet[128];                       /* text */
  int  img_height, img_width, img_channels; /* image: x holds [img_channels][img_height][img_width] */
} model_config;

/* The integer fields of model_config that define the network (attributes model_<name> in
   checkpoints; io/model_attrs.c). `since` > 0 marks fields added after version 0.1.0: a
   checkpoint without the attribute reads 0. */
typedef struct {
  const char *name;
  size_t      off;
  int         since;
  int         named; /* its default for new runs differs from what an older checkpoint reads: a
                        resume that disagrees names the option (model_config_check_resume) */
} model_config_field;
extern const model_config_field model_config_fields[];
extern const int                model_config_nfields;

/* The mixture head's log-scale floor of c: model_scale_floor, or -7 where that is 0. */
double model_config_log_scale_min(const model_config *c);

/* Reads the model options (-model ... -upscale_b) inside an open PetscOptionsBegin block;
   D and K come from the data set and are set by the caller before model_config_finish. */
PetscErrorCode model_config_options(PetscOptionItems *PetscOptionsObject, model_config *c);
/* Checks a configuration read from a file (input errors name the file and the attribute):
   every size within the options' ranges for its network, upscaling, stages and head
   consistent, so that a corrupt checkpoint is rejected before a network is built from it. */
PetscErrorCode model_config_check(MPI_Comm comm, const char *path, const model_config *c);
/* Derives S, checks consistency (input errors name the option). */
PetscErrorCode model_config_finish(MPI_Comm comm, model_config *c);
/* Before the whole-model comparison of a resume: a `named` field of the same network that differs
   between the checkpoint at path and the options is an input error naming the option and the
   value to resume with. */
PetscErrorCode model_config_check_resume(MPI_Comm comm, const char *path, const model_config *saved,
                                         const model_config *opts);
/* 1 when a and b describe the same network and head (the data_* fields are not compared). */
int model_config_equal(const model_config *a, const model_config *b);
/* One line: "diffwave B=12 C=64 cycle=6 ... head=categorical(K=4) S=1: 123456 parameters". */
void model_config_describe(const model_config *c, size_t nparam, char *buf, size_t len);

/* ---- the model at run time ---- */
typedef struct model_impl *model;

/* Builds the network and head for c with every buffer for batches up to max_batch. */
PetscErrorCode model_create(const model_config *c, int64_t max_batch, model *m);
/* The same with the network split along D over the ranks of replica (-model_parallel;
   doc/design.md "Model parallelism"): collective over replica, whose ranks then make every
   call below together with the same arguments and get the same results. model_loss's
   gradient is this rank's part of it (the parts sum to the example's gradient). */
PetscErrorCode model_create_parallel(const model_config *c, int64_t max_batch, MPI_Comm replica, model *m);
PetscErrorCode model_destroy(model *m);
/* Bytes model_create(c, max_batch) would allocate, estimated from builds of batch 1 and 2
   (every buffer grows linearly with the batch): a too-large batch is refused with an input
   error naming the option before it is attempted. The audio network is sized without being
   built (a trial build would itself raise the peak memory), for one of Q parts of D. */
PetscErrorCode model_bytes(const model_config *c, int64_t max_batch, int Q, double *bytes);
size_t         model_nparam(model m);
/* Network forward calls made so far (each call runs the network once on a batch). */
int64_t model_calls(model m);
/* Deterministic initialisation from (seed, RNG_INIT). */
void model_init_params(model m, uint64_t seed, float *params);
/* The same restricted to elements [lo, hi) of the flat layout: out[hi - lo], without a
   whole-size buffer where the network allows it (the audio network). */
PetscErrorCode model_init_params_slice(model m, uint64_t seed, size_t lo, size_t hi, float *out);
/* Whether model_shard_params can shard this model's parameters (a network split along D). */
PetscBool model_can_shard(model m);
/* From now on the model holds no whole parameter or gradient buffer (doc/design.md "Model
   parallelism"): model_loss is called with params NULL and grads either NULL or gslice; it
   gathers the weights block by block from every rank's pslice (the slices of sh) and, with
   grads, writes (not adds) into gslice the gradient summed over all ranks of sh. Collective over
   sh's ranks: every rank calls model_loss at the same time, also with B = 0. */
PetscErrorCode model_shard_params(model m, const shard *sh, const float *pslice, float *gslice);
/* Bytes of the model's activations and buffers (workspace, staging of sharded parameters). */
double model_workspace_bytes(model m);

/* The ARDM objective on B examples (doc/method.md sections 1 and 3): x[B][D] data values,
   tg[B] global step t in 0..S*D-1 (stage = tg / D, t_in = tg mod D), sigma[B][D] the
   generation order within that stage (dim i is a target when sigma[b][i] >= t_in).
   logp[b] = sum over targets of log p(target digit | input) in nats. When grads is not NULL,
   accumulates into grads the gradient of sum_b w[b] * (-logp[b]). */
PetscErrorCode model_loss(model m, const float *params, float *grads, int64_t B, const int32_t *x, const int64_t *tg,
                          const int64_t *sigma, const double *w, double *logp);

/* One network call of sampling at stage s for B samples: x[B][D] holds each dim's current
   value (x_past for dims not yet generated in this stage, the stage's new value for known
   ones), known[B][D] marks dims known in this stage; every dim with gen[b][i] set is drawn
   (Gumbel-max / mixture sampling at the given temperature, noise from streams[b]) and x
   updated to x_past + digit * b^r. t_in[b] is the number of known dims (time input). */
PetscErrorCode model_sample_step(model m, const float *params, int64_t B, int s, const int64_t *t_in, int32_t *x,
                                 const uint8_t *known, const uint8_t *gen, double temperature, rng_stream *streams);

/* Per-dim log-probabilities (nats) of one example's targets under the same input as
   model_loss (0 at known dims): for exact likelihood checks and compression. */
PetscErrorCode model_logp_dims(model m, const float *params, const int32_t *x, int64_t tg, const int64_t *sigma,
                               float *logp_dims);
#endif
