/* model_config.c: the model's configuration: options, consistency checks, and the table of
   fields that io/model_attrs.c records in checkpoints, so eval/sample rebuild exactly the
   trained network. */
#include "ardm/model.h"
#include "ardm/upscale.h"
#include "core/opts.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const char *const net_kind_names[] = {"diffwave", "transformer", "unet"};

const model_config_field model_config_fields[] = {
    {"model_blocks", offsetof(model_config, blocks), 0},
    {"model_channels", offsetof(model_config, channels), 0},
    {"model_cycle", offsetof(model_config, cycle), 0},
    {"model_kernel", offsetof(model_config, kernel), 0},
    {"model_K", offsetof(model_config, K), 0},
    {"model_head", offsetof(model_config, head), 0},
    {"model_mixtures", offsetof(model_config, mixtures), 0},
    {"model_upscale_b", offsetof(model_config, upscale_b), 0},
    {"model_stages", offsetof(model_config, S), 0},
    {"model_layers", offsetof(model_config, layers), 1},
    {"model_width", offsetof(model_config, width), 1},
    {"model_heads", offsetof(model_config, heads), 1},
    {"model_mlp", offsetof(model_config, mlp), 1},
    {"model_levels", offsetof(model_config, levels), 1},
    {"model_attention", offsetof(model_config, attention), 1},
};
const int model_config_nfields = (int)(sizeof model_config_fields / sizeof model_config_fields[0]);

PetscErrorCode model_config_options(PetscOptionItems *PetscOptionsObject, model_config *c)
{
  static const char *const heads[] = {"auto", "categorical", "logistic_mixture", "stage_categorical", "stage_data"};
  PetscInt                 hk = (PetscInt)c->head + 1, nk = (PetscInt)c->net;
  PetscFunctionBegin;
  PetscCall(opts_choice(PetscOptionsObject, "-model",
                        "network: diffwave (non-causal DiffWave-style residual network, audio), transformer "
                        "(bidirectional Transformer, text and sequences), unet (U-Net, images)",
                        net_kind_names, 3, &nk, NULL));
  c->net = (net_kind)nk;
  PetscCall(opts_int(PetscOptionsObject, "-model_blocks", "diffwave: residual blocks B; unet: ResNet blocks per level",
                     &c->blocks, 1, 1024, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_channels",
                     "diffwave: residual channels C; unet: channels at full resolution", &c->channels, 1, 4096, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_cycle", "diffwave: block i has dilation 2^(i mod cycle)", &c->cycle, 1,
                     30, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_layers", "transformer: layers", &c->layers, 1, 256, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_width", "transformer: model width (divisible by -model_heads)",
                     &c->width, 1, 16384, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_heads", "transformer: attention heads", &c->heads, 1, 256, NULL));
  PetscCall(
      opts_int(PetscOptionsObject, "-model_mlp", "transformer: MLP hidden width / model width", &c->mlp, 1, 16, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_levels", "unet: resolutions (each halves height and width)",
                     &c->levels, 1, 8, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_attention",
                     "unet: bit mask of levels with self-attention (bit l = level l; 0 = none)", &c->attention, 0, 255,
                     NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-head",
                        "output head (auto: stage_categorical when upscaling, logistic_mixture when K > 256, "
                        "else categorical; stage_data: the upscale data parametrization, K outputs)",
                        heads, 5, &hk, NULL));
  c->head = (head_kind)(hk - 1);
  PetscCall(opts_int(PetscOptionsObject, "-mixtures", "logistic mixture components M", &c->mixtures, 1, 256, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-upscale_b",
                     "upscale branching factor b (0 = no upscaling; b = K is the same)", &c->upscale_b, 0, 65536,
                     NULL));
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
  /* only the chosen network's fields describe the model (checkpoints compare them) */
  if (c->net != NET_DIFFWAVE) c->cycle = c->kernel = 0;
  if (c->net != NET_TRANSFORMER) c->layers = c->width = c->heads = c->mlp = 0;
  if (c->net != NET_UNET) c->levels = c->attention = 0;
  if (c->net == NET_TRANSFORMER) c->blocks = c->channels = 0;
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

void model_config_describe(const model_config *c, size_t nparam, char *buf, size_t len)
{
  char hd[64];
  if (c->head == HEAD_LOGISTIC_MIXTURE)
    snprintf(hd, sizeof hd, "%s(M=%d)", head_kind_name(c->head), c->mixtures);
  else if (c->head == HEAD_CATEGORICAL)
    snprintf(hd, sizeof hd, "%s", head_kind_name(c->head));
  else
    snprintf(hd, sizeof hd, "%s(b=%d)", head_kind_name(c->head), c->upscale_b ? c->upscale_b : c->K);
  char nt[96];
  if (c->net == NET_TRANSFORMER)
    snprintf(nt, sizeof nt, "transformer L=%d W=%d heads=%d mlp=%d", c->layers, c->width, c->heads, c->mlp);
  else if (c->net == NET_UNET)
    snprintf(nt, sizeof nt, "unet C=%d blocks=%d levels=%d attention=0x%x", c->channels, c->blocks, c->levels,
             (unsigned)c->attention);
  else
    snprintf(nt, sizeof nt, "diffwave B=%d C=%d cycle=%d kernel=%d", c->blocks, c->channels, c->cycle, c->kernel);
  snprintf(buf, len, "%s D=%lld K=%d head=%s S=%d: %zu parameters (%.1f MB)", nt, (long long)c->D, c->K, hd, c->S,
           nparam, (double)nparam * 4 / 1e6);
}

int model_config_equal(const model_config *a, const model_config *b)
{
  for (int i = 0; i < model_config_nfields; i++)
    if (*(const int *)((const char *)a + model_config_fields[i].off) !=
        *(const int *)((const char *)b + model_config_fields[i].off))
      return 0;
  return a->D == b->D && a->net == b->net;
}
