/* model_config.c: the model's configuration: options, consistency checks, and its record in
   checkpoints (attributes model_*), so eval/sample rebuild exactly the trained network. */
#include "model.h"
#include "upscale.h"
#include <stdio.h>
#include <string.h>

PetscErrorCode model_config_options(PetscOptionItems *PetscOptionsObject, model_config *c)
{
  static const char *const heads[] = {"auto", "categorical", "logistic_mixture", "stage_categorical", "stage_data"};
  PetscInt                 hk = (PetscInt)c->head + 1;
  char                     net[32] = "diffwave";
  PetscFunctionBegin;
  PetscCall(PetscOptionsString("-model", "network: diffwave (non-causal DiffWave-style residual network)", "", net, net,
                               sizeof net, NULL));
  PetscCheck(!strcmp(net, "diffwave"), PETSC_COMM_WORLD, ARDM_ERR_INPUT,
             "-model %s: only 'diffwave' is available in this version", net);
  PetscCall(PetscOptionsRangeInt("-model_blocks", "residual blocks B", "", c->blocks, &c->blocks, NULL, 1, 1024));
  PetscCall(
      PetscOptionsRangeInt("-model_channels", "residual channels C", "", c->channels, &c->channels, NULL, 1, 4096));
  PetscCall(PetscOptionsRangeInt("-model_cycle", "dilation cycle: block i has dilation 2^(i mod cycle)", "", c->cycle,
                                 &c->cycle, NULL, 1, 30));
  PetscCall(PetscOptionsEList("-head",
                              "output head (auto: stage_categorical when upscaling, logistic_mixture when K > 256, "
                              "else categorical; stage_data: the upscale data parametrization, K outputs)",
                              "", heads, 5, heads[hk], &hk, NULL));
  c->head = (head_kind)(hk - 1);
  PetscCall(
      PetscOptionsRangeInt("-mixtures", "logistic mixture components M", "", c->mixtures, &c->mixtures, NULL, 1, 256));
  PetscCall(PetscOptionsRangeInt("-upscale_b", "upscale branching factor b (0 = no upscaling; b = K is the same)", "",
                                 c->upscale_b, &c->upscale_b, NULL, 0, 65536));
  PetscFunctionReturn(0);
}

PetscErrorCode model_config_finish(MPI_Comm comm, model_config *c)
{
  upscale u;
  PetscFunctionBegin;
  PetscCheck(c->D >= 1 && c->K >= 2, comm, ARDM_ERR_INPUT, "model needs D >= 1 and K >= 2 (got D = %lld, K = %d)",
             (long long)c->D, c->K);
  PetscCheck(c->upscale_b != 1 && upscale_init(&u, c->K, c->upscale_b) == 0, comm, ARDM_ERR_INPUT,
             "-upscale_b %d: expected 0 (none) or 2..K", c->upscale_b);
  if (c->upscale_b >= c->K) c->upscale_b = 0;
  c->S = u.S;
  c->kernel = 3;
  if (c->head == HEAD_AUTO)
    c->head = c->S > 1 ? HEAD_STAGE_CATEGORICAL : c->K > 256 ? HEAD_LOGISTIC_MIXTURE : HEAD_CATEGORICAL;
  if (c->S > 1)
    PetscCheck(c->head == HEAD_STAGE_CATEGORICAL || c->head == HEAD_STAGE_DATA, comm, ARDM_ERR_INPUT,
               "-upscale_b %d needs -head stage_categorical (direct) or stage_data (data parametrization)",
               c->upscale_b);
  PetscCheck(c->head != HEAD_LOGISTIC_MIXTURE || c->K >= 3, comm, ARDM_ERR_INPUT,
             "-head logistic_mixture needs K >= 3");
  PetscFunctionReturn(0);
}

static const struct {
  const char *name;
  size_t      off;
} int_fields[] = {
    {"model_blocks", offsetof(model_config, blocks)},
    {"model_channels", offsetof(model_config, channels)},
    {"model_cycle", offsetof(model_config, cycle)},
    {"model_kernel", offsetof(model_config, kernel)},
    {"model_K", offsetof(model_config, K)},
    {"model_head", offsetof(model_config, head)},
    {"model_mixtures", offsetof(model_config, mixtures)},
    {"model_upscale_b", offsetof(model_config, upscale_b)},
    {"model_stages", offsetof(model_config, S)},
};

PetscErrorCode model_config_write(ncio_file *f, const model_config *c)
{
  PetscFunctionBegin;
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "data_modality", c->modality[0] ? c->modality : "sequence"));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "data_sample_rate", c->sample_rate));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "data_alphabet", c->alphabet[0] ? c->alphabet : "-"));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "model", "diffwave"));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "model_D", c->D));
  for (size_t i = 0; i < sizeof int_fields / sizeof int_fields[0]; i++)
    PetscCall(ncio_put_att_int(f, NC_GLOBAL, int_fields[i].name, *(const int *)((const char *)c + int_fields[i].off)));
  PetscFunctionReturn(0);
}

PetscErrorCode model_config_read(ncio_file *f, model_config *c)
{
  int64_t v;
  PetscFunctionBegin;
  memset(c, 0, sizeof *c);
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "model_D", &c->D));
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "data_modality", c->modality, sizeof c->modality));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "data_sample_rate", &v));
  c->sample_rate = (int)v;
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "data_alphabet", c->alphabet, sizeof c->alphabet));
  if (!strcmp(c->alphabet, "-")) c->alphabet[0] = 0;
  for (size_t i = 0; i < sizeof int_fields / sizeof int_fields[0]; i++) {
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, int_fields[i].name, &v));
    *(int *)((char *)c + int_fields[i].off) = (int)v;
  }
  PetscCheck(c->head >= HEAD_CATEGORICAL && c->head <= HEAD_STAGE_DATA, f->comm, ARDM_ERR_INPUT,
             "%s: model_head = %d is not a known head", f->path, (int)c->head);
  PetscFunctionReturn(0);
}

void model_config_describe(const model_config *c, size_t nparam, char *buf, size_t len)
{
  char hd[64];
  if (c->head == HEAD_LOGISTIC_MIXTURE)
    snprintf(hd, sizeof hd, "%s(M=%d)", head_kind_name(c->head), c->mixtures);
  else if (c->head == HEAD_CATEGORICAL)
    snprintf(hd, sizeof hd, "%s", head_kind_name(c->head));
  else
    snprintf(hd, sizeof hd, "%s(b=%d)", head_kind_name(c->head), c->upscale_b ? c->upscale_b : c->K);
  snprintf(buf, len, "diffwave B=%d C=%d cycle=%d kernel=%d D=%lld K=%d head=%s S=%d: %zu parameters (%.1f MB)",
           c->blocks, c->channels, c->cycle, c->kernel, (long long)c->D, c->K, hd, c->S, nparam,
           (double)nparam * 4 / 1e6);
}

int model_config_equal(const model_config *a, const model_config *b)
{
  for (size_t i = 0; i < sizeof int_fields / sizeof int_fields[0]; i++)
    if (*(const int *)((const char *)a + int_fields[i].off) != *(const int *)((const char *)b + int_fields[i].off))
      return 0;
  return a->D == b->D;
}
