/* test_net_text.c: the whole Transformer network (nn/net_text.h) at a small size: gradient
   check of every parameter tensor against central differences (gradcheck.h), the
   layout/initialisation contract, batch independence and order equivariance of the
   non-causal attention. With -net_reference_dump FILE [-net_reference_attn_bias 0|1, default
   1] [-net_reference_window R, default 2] it instead writes a small network's parameters (one
   NetCDF variable per tensor), input symbols, stages, times, attention bias, input window and
   forward outputs to FILE for the numpy reference (tests/reference/net_text_ref.py, run by
   tests/cli/test_net_reference.sh). */
#include "harness.h"
#include "gradcheck.h"
#include "nn/layer_attn.h"
#include "nn/net_text.h"
#include <netcdf.h>
#include <stdlib.h>

static net_text NET;
static float   *PAR, *GRAD, *R;
static double   TIMES[3] = {3.0, 17.0, 0.0};

static void net_f(void *c)
{
  net_text_forward(&NET, PAR, NET.cfg.max_batch, TIMES);
}
static void net_b(void *c)
{
  size_t n = (size_t)NET.cfg.max_batch * NET.cfg.out_channels * NET.cfg.dim;
  memcpy(NET.doutput, R, n * sizeof(float));
  net_text_backward(&NET, PAR, GRAD);
}

/* 2 layers x 8 wide, 2 heads, MLP 2x, the distance bias on the attention scores and an input
   window of 2 (the defaults of ardm train; the window reaches past both ends), D 9, K 5 with 2
   upscale stages (so every table, stage vectors included, is exercised), 5 outputs, batch 3. */
static net_text_config small_config(void)
{
  net_text_config c = {.layers = 2,
                       .width = 8,
                       .heads = 2,
                       .mlp = 2,
                       .attn_bias = ATTN_BIAS_DISTANCE,
                       .window = 2,
                       .dim = 9,
                       .K = 5,
                       .stages = 2,
                       .out_channels = 5,
                       .max_batch = 3,
                       .max_time = 18.0};
  return c;
}

static void fill_inputs(int64_t D, int64_t K, int64_t B)
{
  for (int64_t e = 0; e < B; e++) {
    int32_t x[64];
    uint8_t known[64];
    for (int64_t i = 0; i < D; i++) known[i] = (uint8_t)((i + e) % 3 != 0), x[i] = (int32_t)((e * 7 + i * 3) % K);
    net_text_fill_input(&NET, e, x, known, K, (int)(e % 2));
  }
}

/* Random parameters, every tensor non-zero (the default init zeroes the head). */
static int net_prepare(uint64_t seed)
{
  net_text_config cfg = small_config();
  CHECK_OK(net_text_setup(PETSC_COMM_SELF, &cfg, &NET));
  PAR = calloc(NET.nparams, sizeof(float));
  GRAD = calloc(NET.nparams, sizeof(float));
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *t = &NET.tensors[i];
    float             s = t->fan_in > 0 ? 1.0f / sqrtf((float)t->fan_in) : 0.5f;
    gc_fill(PAR + t->offset, (int64_t)t->count, -1.7 * s, 1.7 * s, seed + 100 + (uint64_t)i);
    if (strstr(t->name, ".g")) /* layer-norm gains around 1 */
      for (size_t j = 0; j < t->count; j++) PAR[t->offset + j] += 1.0f;
  }
  fill_inputs(cfg.dim, cfg.K, cfg.max_batch);
  return 0;
}

static void net_release(void)
{
  net_text_free(&NET);
  free(PAR);
  free(GRAD);
  free(R);
  PAR = GRAD = R = NULL;
}

static int test_net_text_gradients(void)
{
  gradcheck   gc;
  static char msg[512];
  size_t      ny;
  if (net_prepare(5)) return 1;
  ny = (size_t)NET.cfg.max_batch * NET.cfg.out_channels * NET.cfg.dim;
  R = malloc(ny * sizeof(float));
  gc_fill(R, (int64_t)ny, -1, 1, 77);
  memset(&gc, 0, sizeof gc);
  gc.y = NET.output, gc.dy = R, gc.ny = (int64_t)ny, gc.forward = net_f, gc.backward = net_b, gc.max_probe = 40;
  /* smooth everywhere (GELU, softmax, layer norm): h = 3e-3, float noise in L ~6e-8 |y|
     sqrt(135) / 2h ~ 1e-4 of the gradient scale, truncation ~h^2 ~ 1e-5. Tolerance 1e-2 of
     the tensor's largest gradient: far above that, far below the O(1) error of a wrong
     formula (dropping the attention residual in backward put tok.emb off by 5x the tensor's
     largest gradient; halving the time path's gradient, by 50%). */
  gc.h = 3e-3;
  for (int base = 0; base < NET.ntensors; base += GC_MAX) {
    gradcheck part = gc;
    for (int i = base; i < base + GC_MAX && i < NET.ntensors; i++)
      gc_add(&part, NET.tensors[i].name, PAR + NET.tensors[i].offset, GRAD + NET.tensors[i].offset,
             (int64_t)NET.tensors[i].count);
    CHECK(gc_run(&part, 1e-2, 1e-3, msg, sizeof msg) == 0, "%s", msg);
  }
  net_release();
  return 0;
}

/* The tensor table tiles the flat buffer; init is deterministic in the seed, gains are 1 and
   the head is zero, so the initial output equals the head bias at every position. */
static int test_net_text_layout_init(void)
{
  size_t          expect = 0;
  float          *p2;
  net_text_config cfg = small_config();
  char            line[256];
  CHECK_OK(net_text_setup(PETSC_COMM_SELF, &cfg, &NET));
  for (int i = 0; i < net_text_num_tensors(&NET); i++) {
    const net_tensor *t = net_text_tensor(&NET, i);
    CHECK(t->offset == expect, "tensor %s at %zu, expected %zu", t->name, t->offset, expect);
    expect += t->count;
  }
  CHECK(expect == net_text_num_params(&NET), "tensors cover %zu of %zu", expect, net_text_num_params(&NET));
  PAR = calloc(NET.nparams, sizeof(float));
  p2 = calloc(NET.nparams, sizeof(float));
  net_text_init_params(&NET, PAR, 42);
  net_text_init_params(&NET, p2, 42);
  CHECK(memcmp(PAR, p2, NET.nparams * sizeof(float)) == 0, "init is not deterministic");
  net_text_init_params(&NET, p2, 43);
  CHECK(memcmp(PAR, p2, NET.nparams * sizeof(float)) != 0, "init ignores the seed");
  CHECK(PAR[NET.off_lnfg] == 1.0f && PAR[NET.off_lnfb] == 0.0f, "final layer norm init %g %g", PAR[NET.off_lnfg],
        PAR[NET.off_lnfb]);
  for (int64_t o = 0; o < cfg.out_channels; o++) PAR[net_text_output_bias_offset(&NET) + o] = 0.25f * (float)o;
  fill_inputs(cfg.dim, cfg.K, cfg.max_batch);
  net_text_forward(&NET, PAR, cfg.max_batch, TIMES);
  for (int64_t k = 0; k < cfg.max_batch * cfg.out_channels * cfg.dim; k++) {
    int64_t o = (k / cfg.dim) % cfg.out_channels;
    CHECK(NET.output[k] == 0.25f * (float)o, "output %lld is %g", (long long)k, NET.output[k]);
  }
  net_text_describe(&NET, line, sizeof line);
  CHECK(strstr(line, "2 layers x 8 wide, 2 heads") != NULL, "describe: %s", line);
  free(p2);
  net_release();
  return 0;
}

/* Examples are independent: example 1 alone gives the same output as inside a batch of 3. */
static int test_net_text_batch_independent(void)
{
  size_t  n1;
  float  *keep;
  int64_t D;
  if (net_prepare(9)) return 1;
  D = NET.cfg.dim;
  n1 = (size_t)NET.cfg.out_channels * D;
  net_text_forward(&NET, PAR, 3, TIMES);
  keep = malloc(n1 * sizeof(float));
  memcpy(keep, NET.output + n1, n1 * sizeof(float));
  memmove(NET.idx, NET.idx + D, (size_t)D * sizeof(int32_t));
  NET.stage[0] = NET.stage[1];
  net_text_forward(&NET, PAR, 1, TIMES + 1);
  for (size_t k = 0; k < n1; k++) CHECK_CLOSE(NET.output[k], keep[k], 1e-5);
  free(keep);
  net_release();
  return 0;
}

/* The attention is non-causal: changing the LAST input symbol changes the output at the
   first position (a causal mask would not). */
static int test_net_text_noncausal(void)
{
  float keep;
  if (net_prepare(13)) return 1;
  net_text_forward(&NET, PAR, 1, TIMES);
  keep = NET.output[0];
  NET.idx[NET.cfg.dim - 1] = (NET.idx[NET.cfg.dim - 1] + 1) % (int32_t)NET.vocab;
  net_text_forward(&NET, PAR, 1, TIMES);
  CHECK(fabsf(NET.output[0] - keep) > 1e-6f, "output[0] %g did not move", NET.output[0]);
  net_release();
  return 0;
}

#define NC(call)                                                                                                       \
  do {                                                                                                                 \
    int nc_ = (call);                                                                                                  \
    if (nc_ != NC_NOERR) {                                                                                             \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, nc_strerror(nc_));                                 \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)

/* A network different from the gradient-check one (3 layers, 4 heads, longer D, K = 27 without
   stages) with random non-zero parameters and the given attention bias; writes everything the
   reference needs. */
static int dump_reference(const char *path, int bias, int window)
{
  net_text_config cfg = {.layers = 3,
                         .width = 16,
                         .heads = 4,
                         .mlp = 3,
                         .attn_bias = bias,
                         .window = window,
                         .dim = 30,
                         .K = 27,
                         .stages = 0,
                         .out_channels = 27,
                         .max_batch = 2,
                         .max_time = 30.0};
  double          t[2] = {4.0, 22.0};
  int             ncid, dims[3], vid, ival;
  if (net_text_setup(PETSC_COMM_SELF, &cfg, &NET)) return 1;
  PAR = calloc(NET.nparams, sizeof(float));
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *tt = &NET.tensors[i];
    float             sc = tt->fan_in > 0 ? 1.7f / sqrtf((float)tt->fan_in) : 0.5f;
    gc_fill(PAR + tt->offset, (int64_t)tt->count, -sc, sc, 500 + (uint64_t)i);
    if (strstr(tt->name, ".g"))
      for (size_t j = 0; j < tt->count; j++) PAR[tt->offset + j] += 1.0f;
  }
  for (int64_t e = 0; e < cfg.max_batch; e++) {
    int32_t x[30];
    uint8_t known[30];
    for (int i = 0; i < 30; i++) known[i] = (uint8_t)((i * 7 + e) % 5 < 3), x[i] = (int32_t)((e * 11 + i * 5) % 27);
    net_text_fill_input(&NET, e, x, known, 27, 0);
  }
  net_text_forward(&NET, PAR, cfg.max_batch, t);
  NC(nc_create(path, NC_CLOBBER | NC_NETCDF4, &ncid));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "layers", NC_INT, 1, &cfg.layers));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "width", NC_INT, 1, &cfg.width));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "heads", NC_INT, 1, &cfg.heads));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "mlp", NC_INT, 1, &cfg.mlp));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "attn_bias", NC_INT, 1, &cfg.attn_bias));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "window", NC_INT, 1, &cfg.window));
  ival = (int)NET.vocab;
  NC(nc_put_att_int(ncid, NC_GLOBAL, "vocab", NC_INT, 1, &ival));
  NC(nc_put_att_double(ncid, NC_GLOBAL, "max_time", NC_DOUBLE, 1, &cfg.max_time));
  NC(nc_def_dim(ncid, "example", (size_t)cfg.max_batch, &dims[0]));
  NC(nc_def_dim(ncid, "dim", (size_t)cfg.dim, &dims[2]));
  NC(nc_def_var(ncid, "symbols", NC_INT, 2, (int[]){dims[0], dims[2]}, &vid));
  NC(nc_put_var_int(ncid, vid, NET.idx));
  NC(nc_def_var(ncid, "t", NC_DOUBLE, 1, dims, &vid));
  NC(nc_put_var_double(ncid, vid, t));
  NC(nc_def_dim(ncid, "out_channel", (size_t)cfg.out_channels, &dims[1]));
  NC(nc_def_var(ncid, "output", NC_FLOAT, 3, dims, &vid));
  NC(nc_put_var_float(ncid, vid, NET.output));
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *tt = &NET.tensors[i];
    char              dn[48];
    int               d1;
    snprintf(dn, sizeof dn, "n_%s", tt->name);
    NC(nc_def_dim(ncid, dn, tt->count, &d1));
    NC(nc_def_var(ncid, tt->name, NC_FLOAT, 1, &d1, &vid));
    NC(nc_put_var_float(ncid, vid, PAR + tt->offset));
  }
  NC(nc_close(ncid));
  net_release();
  return 0;
}

int main(int argc, char **argv)
{
  char      dump[PETSC_MAX_PATH_LEN];
  PetscBool has = PETSC_FALSE;
  PetscInt  bias = ATTN_BIAS_DISTANCE, window = 2;
  TH_INIT(&argc, &argv);
  PetscOptionsGetString(NULL, NULL, "-net_reference_dump", dump, sizeof dump, &has);
  PetscOptionsGetInt(NULL, NULL, "-net_reference_attn_bias", &bias, NULL); /* 0 none, 1 distance */
  PetscOptionsGetInt(NULL, NULL, "-net_reference_window", &window, NULL);
  if (has) {
    int rc = dump_reference(dump, (int)bias, (int)window);
    PetscFinalize();
    return rc;
  }
  TH_RUN(test_net_text_layout_init);
  TH_RUN(test_net_text_batch_independent);
  TH_RUN(test_net_text_noncausal);
  TH_RUN(test_net_text_gradients);
  return TH_FINISH();
}
