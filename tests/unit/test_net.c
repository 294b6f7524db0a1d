/* test_net.c: the whole audio network at a small size: gradient check of every parameter
   tensor against central differences (gradcheck.h), the layout/initialisation contract, and
   batch independence. With -net_reference_dump FILE it instead writes a small network's
   parameters (one NetCDF variable per tensor), inputs, times and forward outputs to FILE for
   the numpy reference (tests/reference/net_audio_ref.py, run by
   tests/cli/test_net_reference.sh). */
#include "harness.h"
#include "gradcheck.h"
#include "nn/net_audio.h"
#include <netcdf.h>
#include <stdlib.h>

static net_audio NET;
static float    *PAR, *GRAD, *R;
static double    TIMES[3] = {3.0, 17.0, 0.0};

static void net_f(void *c)
{
  net_audio_forward(&NET, PAR, NET.cfg.max_batch, TIMES);
}
static void net_b(void *c)
{
  size_t n = (size_t)NET.cfg.max_batch * NET.cfg.out_channels * NET.cfg.dim;
  memcpy(NET.doutput, R, n * sizeof(float));
  net_audio_backward(&NET, PAR, GRAD);
}

/* Which side of each ReLU kink the last forward was on: FNV-1a over the signs of the input
   projection's output, the tail's ReLU(skip) and its hidden ReLU (the network's only kinks). */
static uint64_t net_signature(void *c)
{
  uint64_t     hsh = 1469598103934665603ull;
  int64_t      n = (int64_t)NET.cfg.max_batch * NET.cfg.channels * NET.cfg.dim;
  const float *bufs[3] = {NET.xs, NET.r, NET.h};
  for (int b = 0; b < 3; b++)
    for (int64_t k = 0; k < n; k++) hsh = (hsh ^ (uint64_t)(bufs[b][k] > 0.0f)) * 1099511628211ull;
  return hsh;
}

static net_audio_config small_config(void)
{
  net_audio_config c = {.blocks = 3,
                        .channels = 4,
                        .cycle = 2,
                        .kernel = 3,
                        .dim = 13,
                        .in_channels = 4,
                        .out_channels = 5,
                        .max_batch = 3,
                        .max_time = 20.0};
  return c;
}

/* Random inputs and parameters: every weight and bias non-zero (the default init zeroes the
   final layer, which would hide every other gradient). */
static int net_prepare(uint64_t seed)
{
  net_audio_config cfg = small_config();
  CHECK_OK(net_audio_setup(PETSC_COMM_SELF, &cfg, &NET));
  PAR = calloc(NET.nparams, sizeof(float));
  GRAD = calloc(NET.nparams, sizeof(float));
  net_audio_init_params(&NET, PAR, seed);
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *t = &NET.tensors[i];
    float             s = t->fan_in > 0 ? 1.0f / sqrtf((float)t->fan_in) : 0.3f;
    gc_fill(PAR + t->offset, (int64_t)t->count, -1.7 * s, 1.7 * s, seed + 100 + (uint64_t)i);
  }
  for (int64_t e = 0; e < cfg.max_batch; e++) {
    int32_t x[13];
    uint8_t known[13];
    for (int i = 0; i < 13; i++)
      known[i] = (uint8_t)((i + e) % 3 != 0), x[i] = known[i] ? (int32_t)((e * 37 + i * 11) % 256) : 128;
    net_audio_fill_input(&NET, e, x, known, 256, (int)(e % 2));
  }
  return 0;
}

static void net_release(void)
{
  net_audio_free(&NET);
  free(PAR);
  free(GRAD);
  free(R);
  PAR = GRAD = R = NULL;
}

static int test_net_gradients(void)
{
  gradcheck   gc;
  static char msg[512];
  size_t      ny;
  if (net_prepare(5)) return 1;
  ny = (size_t)NET.cfg.max_batch * NET.cfg.out_channels * NET.cfg.dim;
  R = malloc(ny * sizeof(float));
  gc_fill(R, (int64_t)ny, -1, 1, 77);
  memset(&gc, 0, sizeof gc);
  gc.y = NET.output, gc.dy = R, gc.ny = (int64_t)ny, gc.forward = net_f, gc.backward = net_b, gc.max_probe = 60;
  /* h = 3e-3. Probes that straddle a ReLU kink are detected by net_signature and retried
     with smaller steps (gradcheck.h); a straddling probe would be off by that unit's share of
     the gradient (4-25% was seen). Float noise in L is ~6e-8 |y| sqrt(195) / 2h ~ 1.4e-4 of
     the gradient scale at h, 16x more at h/16; truncation ~h^2 |third derivative| ~ 1e-5. Over 16 parameter
     seeds the worst probe was ~4e-3 of the tensor's largest gradient. Tolerance 2e-2 of that:
     5x above the worst seen, still ~25x below the O(1) error of a broken backward formula
     (a wrong tap offset in the conv backward gave 50%). */
  gc.h = 3e-3;
  gc.signature = net_signature;
  /* probed in groups of GC_MAX tensors; the last block's residual half of out.w/out.b is
     unused and has zero gradient, which the floor 1e-3 accepts */
  for (int base = 0; base < NET.ntensors; base += GC_MAX) {
    gradcheck part = gc;
    for (int i = base; i < base + GC_MAX && i < NET.ntensors; i++)
      gc_add(&part, NET.tensors[i].name, PAR + NET.tensors[i].offset, GRAD + NET.tensors[i].offset,
             (int64_t)NET.tensors[i].count);
    CHECK(gc_run(&part, 2e-2, 1e-3, msg, sizeof msg) == 0, "%s", msg);
  }
  net_release();
  return 0;
}

/* The tensor table tiles the flat buffer exactly; init is deterministic in the seed, the final
   weights are zero so the initial output equals the final bias at every dim. */
static int test_net_layout_init(void)
{
  size_t           expect = 0;
  float           *p2;
  net_audio_config cfg = small_config();
  char             line[256];
  CHECK_OK(net_audio_setup(PETSC_COMM_SELF, &cfg, &NET));
  for (int i = 0; i < net_audio_num_tensors(&NET); i++) {
    const net_tensor *t = net_audio_tensor(&NET, i);
    CHECK(t->offset == expect, "tensor %s at %zu, expected %zu", t->name, t->offset, expect);
    expect += t->count;
  }
  CHECK(expect == net_audio_num_params(&NET), "tensors cover %zu of %zu", expect, net_audio_num_params(&NET));
  PAR = calloc(NET.nparams, sizeof(float));
  p2 = calloc(NET.nparams, sizeof(float));
  net_audio_init_params(&NET, PAR, 42);
  net_audio_init_params(&NET, p2, 42);
  CHECK(memcmp(PAR, p2, NET.nparams * sizeof(float)) == 0, "init is not deterministic");
  net_audio_init_params(&NET, p2, 43);
  CHECK(memcmp(PAR, p2, NET.nparams * sizeof(float)) != 0, "init ignores the seed");
  for (int64_t o = 0; o < cfg.out_channels; o++) PAR[net_audio_output_bias_offset(&NET) + o] = 0.25f * (float)o;
  for (int64_t e = 0; e < cfg.max_batch; e++) {
    int32_t x[13] = {128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128}; /* all absorbed */
    uint8_t known[13] = {0};
    net_audio_fill_input(&NET, e, x, known, 256, 0);
  }
  net_audio_forward(&NET, PAR, cfg.max_batch, TIMES);
  for (int64_t k = 0; k < cfg.max_batch * cfg.out_channels * cfg.dim; k++) {
    int64_t o = (k / cfg.dim) % cfg.out_channels;
    CHECK(NET.output[k] == 0.25f * (float)o, "output %lld is %g", (long long)k, NET.output[k]);
  }
  net_audio_describe(&NET, line, sizeof line);
  CHECK(strstr(line, "3 blocks x 4 channels") != NULL, "describe: %s", line);
  free(p2);
  net_release();
  return 0;
}

/* Examples are independent: example 1 alone gives the same output as inside a batch of 3. */
static int test_net_batch_independent(void)
{
  size_t n1;
  float *keep;
  if (net_prepare(9)) return 1;
  n1 = (size_t)NET.cfg.out_channels * NET.cfg.dim;
  net_audio_forward(&NET, PAR, 3, TIMES);
  keep = malloc(n1 * sizeof(float));
  memcpy(keep, NET.output + n1, n1 * sizeof(float));
  memmove(NET.input, NET.input + NET.cfg.in_channels * NET.cfg.dim,
          (size_t)(NET.cfg.in_channels * NET.cfg.dim) * sizeof(float));
  net_audio_forward(&NET, PAR, 1, TIMES + 1);
  /* the same float operations in the same order: identical up to BLAS blocking (1e-6) */
  for (size_t k = 0; k < n1; k++) CHECK_CLOSE(NET.output[k], keep[k], 1e-6);
  free(keep);
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

/* A network different from the gradient-check one (more blocks than the cycle, longer D,
   stage channels) with random non-zero parameters; writes everything the reference needs. */
static int dump_reference(const char *path)
{
  net_audio_config cfg = {.blocks = 5,
                          .channels = 6,
                          .cycle = 3,
                          .kernel = 3,
                          .dim = 40,
                          .in_channels = 4,
                          .out_channels = 7,
                          .max_batch = 2,
                          .max_time = 80.0};
  double           t[2] = {11.0, 63.0};
  int              ncid, dims[3], vid;
  if (net_audio_setup(PETSC_COMM_SELF, &cfg, &NET)) return 1;
  PAR = calloc(NET.nparams, sizeof(float));
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *tt = &NET.tensors[i];
    float             sc = tt->fan_in > 0 ? 1.7f / sqrtf((float)tt->fan_in) : 0.5f;
    gc_fill(PAR + tt->offset, (int64_t)tt->count, -sc, sc, 500 + (uint64_t)i);
  }
  for (int64_t e = 0; e < cfg.max_batch; e++) {
    int32_t x[40];
    uint8_t known[40];
    for (int i = 0; i < 40; i++)
      known[i] = (uint8_t)((i * 7 + e) % 5 < 3), x[i] = known[i] ? (int32_t)((e * 977 + i * 4099) % 65536) : 32768;
    net_audio_fill_input(&NET, e, x, known, 65536, (int)e);
  }
  net_audio_forward(&NET, PAR, cfg.max_batch, t);
  NC(nc_create(path, NC_CLOBBER | NC_NETCDF4, &ncid));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "blocks", NC_INT, 1, &cfg.blocks));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "channels", NC_INT, 1, &cfg.channels));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "cycle", NC_INT, 1, &cfg.cycle));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "kernel", NC_INT, 1, &cfg.kernel));
  NC(nc_put_att_double(ncid, NC_GLOBAL, "max_time", NC_DOUBLE, 1, &cfg.max_time));
  NC(nc_def_dim(ncid, "example", (size_t)cfg.max_batch, &dims[0]));
  NC(nc_def_dim(ncid, "in_channel", (size_t)cfg.in_channels, &dims[1]));
  NC(nc_def_dim(ncid, "dim", (size_t)cfg.dim, &dims[2]));
  NC(nc_def_var(ncid, "input", NC_FLOAT, 3, dims, &vid));
  NC(nc_put_var_float(ncid, vid, NET.input));
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
  TH_INIT(&argc, &argv);
  PetscOptionsGetString(NULL, NULL, "-net_reference_dump", dump, sizeof dump, &has);
  if (has) {
    int rc = dump_reference(dump);
    PetscFinalize();
    return rc;
  }
  TH_RUN(test_net_layout_init);
  TH_RUN(test_net_batch_independent);
  TH_RUN(test_net_gradients);
  return TH_FINISH();
}
