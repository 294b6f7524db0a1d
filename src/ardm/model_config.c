/* model_config.c: the model's configuration: options, consistency checks, and the table of
   fields that io/model_attrs.c records in checkpoints, so eval/sample rebuild exactly the
   trained network. */
#include "ardm/model.h"
#include "ardm/upscale.h"
#include "core/opts.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const char *const        net_kind_names[] = {"diffwave", "transformer", "unet"};
static const char *const attn_bias_names[] = {"none", "distance"};

const model_config_field model_config_fields[] = {
    {"model_blocks", offsetof(model_config, blocks), 0, 0},
    {"model_channels", offsetof(model_config, channels), 0, 0},
    {"model_cycle", offsetof(model_config, cycle), 0, 0},
    {"model_kernel", offsetof(model_config, kernel), 0, 0},
    {"model_K", offsetof(model_config, K), 0, 0},
    {"model_head", offsetof(model_config, head), 0, 0},
    {"model_mixtures", offsetof(model_config, mixtures), 0, 0},
    {"model_upscale_b", offsetof(model_config, upscale_b), 0, 0},
    {"model_stages", offsetof(model_config, S), 0, 0},
    {"model_layers", offsetof(model_config, layers), 1, 0},
    {"model_width", offsetof(model_config, width), 1, 0},
    {"model_heads", offsetof(model_config, heads), 1, 0},
    {"model_mlp", offsetof(model_config, mlp), 1, 0},
    {"model_levels", offsetof(model_config, levels), 1, 0},
    {"model_attention", offsetof(model_config, attention), 1, 0},
    {"model_attn_bias", offsetof(model_config, attn_bias), 1, 1},     /* absent: 0 = none, what such models ran */
    {"model_window", offsetof(model_config, window), 1, 1},           /* absent: 0, likewise */
    {"model_fourier", offsetof(model_config, fourier), 1, 1},         /* absent: 0, likewise */
    {"model_scale_floor", offsetof(model_config, scale_floor), 1, 1}, /* absent: 0 = the floor -7 */
};
const int model_config_nfields = (int)(sizeof model_config_fields / sizeof model_config_fields[0]);

/* The allowed ranges of the network sizes: the options' bounds and the checks on a file's
   attributes (model_config_check) come from here. */
#define RANGE_BLOCKS    1, 1024
#define RANGE_CHANNELS  1, 4096
#define RANGE_CYCLE     1, 30
#define RANGE_LAYERS    1, 256
#define RANGE_WIDTH     1, 16384
#define RANGE_HEADS     1, 256
#define RANGE_MLP       1, 16
#define RANGE_LEVELS    1, 8
#define RANGE_ATTENTION 0, 255
#define RANGE_ATTN_BIAS 0, 1
#define RANGE_WINDOW    0, 16
#define RANGE_FOURIER   0, 16
#define RANGE_MIXTURES  1, 256
#define RANGE_FLOOR     -30, 1 /* the option's; a file holds -30..0 */
#define FLOOR_AUTO      1
#define RANGE_UPSCALE_B 0, 65536
#define DW              (1u << NET_DIFFWAVE)
#define TF              (1u << NET_TRANSFORMER)
#define UN              (1u << NET_UNET)
static const struct {
  const char *name;
  size_t      off;
  int         lo, hi;
  unsigned    nets; /* the networks the field describes */
} field_ranges[] = {
    {"model_blocks", offsetof(model_config, blocks), RANGE_BLOCKS, DW | UN},
    {"model_channels", offsetof(model_config, channels), RANGE_CHANNELS, DW | UN},
    {"model_cycle", offsetof(model_config, cycle), RANGE_CYCLE, DW},
    {"model_layers", offsetof(model_config, layers), RANGE_LAYERS, TF},
    {"model_width", offsetof(model_config, width), RANGE_WIDTH, TF},
    {"model_heads", offsetof(model_config, heads), RANGE_HEADS, TF},
    {"model_mlp", offsetof(model_config, mlp), RANGE_MLP, TF},
    {"model_levels", offsetof(model_config, levels), RANGE_LEVELS, UN},
    {"model_attention", offsetof(model_config, attention), RANGE_ATTENTION, UN},
    {"model_attn_bias", offsetof(model_config, attn_bias), RANGE_ATTN_BIAS, TF},
    {"model_window", offsetof(model_config, window), RANGE_WINDOW, TF},
    {"model_fourier", offsetof(model_config, fourier), RANGE_FOURIER, UN},
};

PetscErrorCode model_config_options(PetscOptionItems *PetscOptionsObject, model_config *c)
{
  static const char *const heads[] = {"auto", "categorical", "logistic_mixture", "stage_categorical", "stage_data"};
  PetscInt                 hk = (PetscInt)c->head + 1, nk = (PetscInt)c->net, ab = (PetscInt)c->attn_bias;
  PetscFunctionBegin;
  PetscCall(opts_choice(PetscOptionsObject, "-model",
                        "network: diffwave (non-causal DiffWave-style residual network, audio), transformer "
                        "(bidirectional Transformer, text and sequences), unet (U-Net, images)",
                        net_kind_names, 3, &nk, NULL));
  c->net = (net_kind)nk;
  PetscCall(opts_int(PetscOptionsObject, "-model_blocks", "diffwave: residual blocks B; unet: ResNet blocks per level",
                     &c->blocks, RANGE_BLOCKS, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_channels",
                     "diffwave: residual channels C; unet: channels at full resolution", &c->channels, RANGE_CHANNELS,
                     NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_cycle", "diffwave: block i has dilation 2^(i mod cycle)", &c->cycle,
                     RANGE_CYCLE, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_layers", "transformer: layers", &c->layers, RANGE_LAYERS, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_width", "transformer: model width (divisible by -model_heads)",
                     &c->width, RANGE_WIDTH, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_heads", "transformer: attention heads", &c->heads, RANGE_HEADS, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_mlp", "transformer: MLP hidden width / model width", &c->mlp,
                     RANGE_MLP, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-model_attn_bias",
                        "transformer: fixed bias on the attention scores: none, or distance (-m_h |i - j|, slopes "
                        "m_h = 2^(-8(h+1)/H), ALiBi-style)",
                        attn_bias_names, 2, &ab, NULL));
  c->attn_bias = (int)ab;
  PetscCall(opts_int(PetscOptionsObject, "-model_window",
                     "transformer: input window R: each position also embeds the symbols at distances 1..R on "
                     "either side (0 = only its own)",
                     &c->window, RANGE_WINDOW, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_levels", "unet: resolutions (each halves height and width)",
                     &c->levels, RANGE_LEVELS, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_attention",
                     "unet: bit mask of levels with self-attention (bit l = level l; 0 = none)", &c->attention,
                     RANGE_ATTENTION, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_fourier",
                     "unet: Fourier plane pairs F of each known value in the input (sin, cos of 2 pi 2^f v / K, f < "
                     "F; 0 = the scaled value only)",
                     &c->fourier, RANGE_FOURIER, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-head",
                        "output head (auto: stage_categorical when upscaling, logistic_mixture when K > 256, "
                        "else categorical; stage_data: the upscale data parametrization, K outputs)",
                        heads, 5, &hk, NULL));
  c->head = (head_kind)(hk - 1);
  PetscCall(
      opts_int(PetscOptionsObject, "-mixtures", "logistic mixture components M", &c->mixtures, RANGE_MIXTURES, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-model_scale_floor",
                     "logistic mixture: lowest log-scale of a component on the [-1, 1] value axis (1 = auto: -7 "
                     "for K <= 256, else round(ln(2/(K-1))) - 3, so that one bin can take almost all the mass, -13 "
                     "at K = 65536; 0 = -7, the floor of models that predate this option)",
                     &c->scale_floor, RANGE_FLOOR, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-upscale_b",
                     "upscale branching factor b (0 = no upscaling; b = K is the same)", &c->upscale_b, RANGE_UPSCALE_B,
                     NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode model_config_check(MPI_Comm comm, const char *path, const model_config *c)
{
  upscale u;
  PetscFunctionBegin;
  PetscCheck(c->D >= 1 && c->K >= 2, comm, ARDM_ERR_INPUT,
             "%s: model_D = %lld, model_K = %d: expected D >= 1 and K >= 2", path, (long long)c->D, c->K);
  for (size_t i = 0; i < sizeof field_ranges / sizeof field_ranges[0]; i++) {
    const int v = *(const int *)((const char *)c + field_ranges[i].off);
    if (!(field_ranges[i].nets & (1u << c->net))) continue;
    PetscCheck(v >= field_ranges[i].lo && v <= field_ranges[i].hi, comm, ARDM_ERR_INPUT,
               "%s: %s = %d: expected %d..%d for a %s model", path, field_ranges[i].name, v, field_ranges[i].lo,
               field_ranges[i].hi, net_kind_names[c->net]);
  }
  PetscCheck(c->net != NET_DIFFWAVE || (c->kernel >= 1 && c->kernel <= 63 && c->kernel % 2), comm, ARDM_ERR_INPUT,
             "%s: model_kernel = %d: expected an odd width 1..63", path, c->kernel);
  PetscCheck(c->net != NET_TRANSFORMER || c->width % c->heads == 0, comm, ARDM_ERR_INPUT,
             "%s: model_width = %d is not divisible by model_heads = %d", path, c->width, c->heads);
  PetscCheck(c->upscale_b >= 0 && c->upscale_b != 1 && c->upscale_b <= c->K &&
                 upscale_init(&u, c->K, c->upscale_b) == 0,
             comm, ARDM_ERR_INPUT, "%s: model_upscale_b = %d: expected 0 or 2..K = %d", path, c->upscale_b, c->K);
  PetscCheck(c->S == u.S, comm, ARDM_ERR_INPUT, "%s: model_stages = %d, but K = %d and b = %d make %d stages", path,
             c->S, c->K, c->upscale_b, u.S);
  PetscCheck(c->head >= HEAD_CATEGORICAL && c->head <= HEAD_STAGE_DATA, comm, ARDM_ERR_INPUT,
             "%s: model_head = %d is not a known head", path, (int)c->head);
  PetscCheck(c->S == 1 || c->head == HEAD_STAGE_CATEGORICAL || c->head == HEAD_STAGE_DATA, comm, ARDM_ERR_INPUT,
             "%s: %d upscale stages need a stage head, not model_head = %d", path, c->S, (int)c->head);
  PetscCheck(c->head != HEAD_LOGISTIC_MIXTURE || (c->K >= 3 && c->mixtures >= 1 && c->mixtures <= 256), comm,
             ARDM_ERR_INPUT, "%s: a logistic mixture head needs K >= 3 and model_mixtures in 1..256 (got K = %d, %d)",
             path, c->K, c->mixtures);
  PetscCheck(c->scale_floor >= -30 && c->scale_floor <= 0 && (c->head == HEAD_LOGISTIC_MIXTURE || !c->scale_floor),
             comm, ARDM_ERR_INPUT, "%s: model_scale_floor = %d: expected -30..0 (and 0 without a mixture head)", path,
             c->scale_floor);
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
  if (c->net != NET_TRANSFORMER) c->layers = c->width = c->heads = c->mlp = c->attn_bias = c->window = 0;
  if (c->net != NET_UNET) c->levels = c->attention = c->fourier = 0;
  if (c->net == NET_TRANSFORMER) c->blocks = c->channels = 0;
  if (c->head == HEAD_AUTO)
    c->head = c->S > 1 ? HEAD_STAGE_CATEGORICAL : c->K > 256 ? HEAD_LOGISTIC_MIXTURE : HEAD_CATEGORICAL;
  if (c->S > 1)
    PetscCheck(c->head == HEAD_STAGE_CATEGORICAL || c->head == HEAD_STAGE_DATA, comm, ARDM_ERR_INPUT,
               "-upscale_b %d needs -head stage_categorical (direct) or stage_data (data parametrization)",
               c->upscale_b);
  PetscCheck(c->head != HEAD_LOGISTIC_MIXTURE || c->K >= 3, comm, ARDM_ERR_INPUT,
             "-head logistic_mixture needs K >= 3");
  /* The floor bounds the best a component can do on one bin: at -7 a bin of width 2/(K-1) gets at
     most 2/(K-1) / (4 e^-7), 0.008 (6.9 bits) at K = 65536, however predictable the value; about
     3 below ln of the bin width lets one bin take 99.8% (doc/method.md section 4, Heads). */
  if (c->head != HEAD_LOGISTIC_MIXTURE)
    c->scale_floor = 0;
  else if (c->scale_floor == FLOOR_AUTO)
    c->scale_floor = c->K > 256 ? (int)lround(log(2.0 / (c->K - 1))) - 3 : -7;
  PetscFunctionReturn(0);
}

double model_config_log_scale_min(const model_config *c)
{
  return c->scale_floor ? (double)c->scale_floor : HEAD_LOG_SCALE_MIN;
}

void model_config_describe(const model_config *c, size_t nparam, char *buf, size_t len)
{
  char hd[64];
  if (c->head == HEAD_LOGISTIC_MIXTURE)
    snprintf(hd, sizeof hd, "%s(M=%d, floor %g)", head_kind_name(c->head), c->mixtures, model_config_log_scale_min(c));
  else if (c->head == HEAD_CATEGORICAL)
    snprintf(hd, sizeof hd, "%s", head_kind_name(c->head));
  else
    snprintf(hd, sizeof hd, "%s(b=%d)", head_kind_name(c->head), c->upscale_b ? c->upscale_b : c->K);
  char nt[128];
  if (c->net == NET_TRANSFORMER)
    snprintf(nt, sizeof nt, "transformer L=%d W=%d heads=%d mlp=%d attn_bias=%s window=%d", c->layers, c->width,
             c->heads, c->mlp, attn_bias_names[c->attn_bias == 1], c->window);
  else if (c->net == NET_UNET)
    snprintf(nt, sizeof nt, "unet C=%d blocks=%d levels=%d attention=0x%x fourier=%d", c->channels, c->blocks,
             c->levels, (unsigned)c->attention, c->fourier);
  else
    snprintf(nt, sizeof nt, "diffwave B=%d C=%d cycle=%d kernel=%d", c->blocks, c->channels, c->cycle, c->kernel);
  snprintf(buf, len, "%s D=%lld K=%d head=%s S=%d: %zu parameters (%.1f MB)", nt, (long long)c->D, c->K, hd, c->S,
           nparam, (double)nparam * 4 / 1e6);
}

/* a field's value as its option takes it: attn_bias by name, the others as integers */
static const char *field_text(const char *name, int v, char *buf, size_t len)
{
  if (!strcmp(name, "model_attn_bias")) return attn_bias_names[v == 1];
  snprintf(buf, len, "%d", v);
  return buf;
}

PetscErrorCode model_config_check_resume(MPI_Comm comm, const char *path, const model_config *saved,
                                         const model_config *opts)
{
  PetscFunctionBegin;
  if (saved->net != opts->net) PetscFunctionReturn(0);
  for (int i = 0; i < model_config_nfields; i++) {
    const model_config_field *f = &model_config_fields[i];
    int  s = *(const int *)((const char *)saved + f->off), o = *(const int *)((const char *)opts + f->off);
    char bs[16], bo[16];
    if (!f->named) continue;
    PetscCheck(s == o, comm, ARDM_ERR_INPUT, "%s: its model has -%s %s, the options say %s (resume with -%s %s)", path,
               f->name, field_text(f->name, s, bs, sizeof bs), field_text(f->name, o, bo, sizeof bo), f->name,
               field_text(f->name, s, bs, sizeof bs));
  }
  PetscFunctionReturn(0);
}

int model_config_equal(const model_config *a, const model_config *b)
{
  for (int i = 0; i < model_config_nfields; i++)
    if (*(const int *)((const char *)a + model_config_fields[i].off) !=
        *(const int *)((const char *)b + model_config_fields[i].off))
      return 0;
  return a->D == b->D && a->net == b->net;
}
