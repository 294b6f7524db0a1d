/* test_net_image.c: the whole U-Net (nn/net_image.h) at a small size: gradient check of every
   parameter tensor against central differences (gradcheck.h), the layout/initialisation contract,
   batch independence and bad configurations. With -net_reference_dump FILE it instead writes a
   small network's parameters (one NetCDF variable per tensor), inputs, times and forward outputs
   to FILE for the numpy reference (tests/reference/net_image_ref.py, run by
   tests/cli/test_net_reference.sh). */
#include "harness.h"
#include "gradcheck.h"
#include "nn/net_image.h"
#include <netcdf.h>
#include <stdlib.h>

static net_image *NET;
static float     *PAR, *GRAD, *R;
static double     TIMES[3] = {3.0, 41.0, 0.0};
static int64_t    NY;

static void net_f(void *c)
{
  net_image_forward(NET, PAR, 2, TIMES);
}
static void net_b(void *c)
{
  memcpy(net_image_doutput(NET), R, (size_t)NY * sizeof(float));
  net_image_backward(NET, PAR, GRAD);
}

/* 4 x 6 RGB, two levels (attention at the second), two stages, three outputs per dim */
static net_image_config small_config(void)
{
  net_image_config c = {.channels = 4,
                        .blocks = 1,
                        .levels = 2,
                        .attention = 2,
                        .height = 4,
                        .width = 6,
                        .img_channels = 3,
                        .stages = 2,
                        .out_channels = 3,
                        .max_batch = 3,
                        .max_time = 144.0};
  return c;
}

/* Random parameters (every tensor non-zero: the default init zeroes several convolutions,
   which would hide the gradients behind them) and inputs with a mix of known dims. */
static int net_prepare(const net_image_config *cfg, uint64_t seed)
{
  int64_t D = (int64_t)cfg->img_channels * cfg->height * cfg->width;
  CHECK_OK(net_image_setup(PETSC_COMM_SELF, cfg, &NET));
  PAR = calloc(net_image_num_params(NET), sizeof(float));
  GRAD = calloc(net_image_num_params(NET), sizeof(float));
  for (int i = 0; i < net_image_num_tensors(NET); i++) {
    const net_tensor *t = net_image_tensor(NET, i);
    float             s = t->fan_in > 0 ? 1.0f / sqrtf((float)t->fan_in) : 0.4f;
    gc_fill(PAR + t->offset, (int64_t)t->count, -1.7 * s, 1.7 * s, seed + 100 + (uint64_t)i);
    if (strstr(t->name, "norm") && strstr(t->name, ".g"))
      for (size_t j = 0; j < t->count; j++) PAR[t->offset + j] += 1.0f;
  }
  for (int64_t e = 0; e < cfg->max_batch; e++) {
    int32_t x[4096];
    uint8_t known[4096];
    for (int64_t i = 0; i < D; i++)
      known[i] = (uint8_t)((i * 5 + e) % 3 != 0), x[i] = known[i] ? (int32_t)((e * 37 + i * 11) % 256) : 128;
    net_image_fill_input(NET, e, x, known, 256, cfg->stages ? (int)(e % cfg->stages) : 0);
  }
  NY = 2 * cfg->out_channels * D;
  return 0;
}

static void net_release(void)
{
  net_image_free(&NET);
  free(PAR);
  free(GRAD);
  free(R);
  PAR = GRAD = R = NULL;
}

/* Every parameter's gradient, without and with Fourier input planes (their input conv is wider). */
static int net_image_gradients(int fourier)
{
  gradcheck        gc;
  static char      msg[512];
  net_image_config cfg = small_config();
  cfg.fourier = fourier;
  if (net_prepare(&cfg, 5)) return 1;
  R = malloc((size_t)NY * sizeof(float));
  gc_fill(R, NY, -1, 1, 77);
  memset(&gc, 0, sizeof gc);
  gc.y = net_image_output(NET), gc.dy = R, gc.ny = NY, gc.forward = net_f, gc.backward = net_b, gc.max_probe = 25;
  /* Smooth everywhere (SiLU, group norm, softmax; no kinks). h = 3e-3: float noise in L is
     ~6e-8 |y| sqrt(432) / 2h ~ 2e-4 of the gradient scale, truncation ~h^2 |L'''| below that.
     Group norm over 2 x 3 pixels has large curvature, so the tolerance is the audio network's
     2e-2 of each tensor's largest gradient: still ~25x below a broken formula's O(1) error. */
  gc.h = 3e-3;
  for (int base = 0; base < net_image_num_tensors(NET); base += GC_MAX) {
    gradcheck part = gc;
    for (int i = base; i < base + GC_MAX && i < net_image_num_tensors(NET); i++) {
      const net_tensor *t = net_image_tensor(NET, i);
      gc_add(&part, t->name, PAR + t->offset, GRAD + t->offset, (int64_t)t->count);
    }
    CHECK(gc_run(&part, 2e-2, 1e-3, msg, sizeof msg) == 0, "fourier %d: %s", fourier, msg);
  }
  net_release();
  return 0;
}

static int test_net_image_gradients(void)
{
  return net_image_gradients(0) || net_image_gradients(2);
}

/* The input planes with F = 2 Fourier pairs: value, mask, [f][sin, cos] of 2 pi 2^f v / K where
   known (0 where not), then the stage one-hot; 3 channels x 4 x 6, stage 1 of 2. */
static int test_net_image_fourier_input(void)
{
  net_image_config cfg = small_config();
  int32_t          x[72];
  uint8_t          known[72];
  const float     *in;
  cfg.fourier = 2;
  CHECK_OK(net_image_setup(PETSC_COMM_SELF, &cfg, &NET));
  CHECK(net_image_in_planes(NET) == (2 + 2 * 2) * 3 + 2, "in_planes %d", net_image_in_planes(NET));
  for (int i = 0; i < 72; i++) x[i] = (i * 29 + 3) % 256, known[i] = (uint8_t)(i % 3 != 1);
  net_image_fill_input(NET, 2, x, known, 256, 1);
  in = net_image_input(NET) + 2 * (size_t)net_image_in_planes(NET) * 24; /* example 2: in[planes][24] */
  for (int i = 0; i < 72; i++) {
    CHECK_CLOSE(in[i], x[i] * (2.0 / 255.0) - 1.0, 1e-6);
    CHECK(in[72 + i] == (known[i] ? 1.0f : 0.0f), "mask plane at %d", i);
    for (int f = 0; f < 2; f++) {
      double a = 2.0 * 3.14159265358979323846 * (double)(1 << f) * x[i] / 256.0;
      CHECK_CLOSE(in[144 + (2 * f) * 72 + i], known[i] ? sin(a) : 0.0, 1e-6);
      CHECK_CLOSE(in[144 + (2 * f + 1) * 72 + i], known[i] ? cos(a) : 0.0, 1e-6);
    }
  }
  for (int p = 0; p < 24; p++) CHECK(in[432 + p] == 0.0f && in[456 + p] == 1.0f, "stage planes at pixel %d", p);
  net_image_free(&NET);
  return 0;
}

/* Tensors tile the flat buffer; init is deterministic in the seed and the zero-started output
   conv makes the initial output the output bias at every dim. */
static int test_net_image_layout_init(void)
{
  size_t           expect = 0;
  float           *p2, *out;
  net_image_config cfg = small_config();
  int64_t          D = 72;
  char             line[512];
  CHECK_OK(net_image_setup(PETSC_COMM_SELF, &cfg, &NET));
  for (int i = 0; i < net_image_num_tensors(NET); i++) {
    const net_tensor *t = net_image_tensor(NET, i);
    CHECK(t->offset == expect, "tensor %s at %zu, expected %zu", t->name, t->offset, expect);
    expect += t->count;
  }
  CHECK(expect == net_image_num_params(NET), "tensors cover %zu of %zu", expect, net_image_num_params(NET));
  PAR = calloc(expect, sizeof(float));
  p2 = calloc(expect, sizeof(float));
  net_image_init_params(NET, PAR, 42);
  net_image_init_params(NET, p2, 42);
  CHECK(memcmp(PAR, p2, expect * sizeof(float)) == 0, "init is not deterministic");
  net_image_init_params(NET, p2, 43);
  CHECK(memcmp(PAR, p2, expect * sizeof(float)) != 0, "init ignores the seed");
  for (int64_t o = 0; o < cfg.out_channels; o++) PAR[net_image_output_bias_offset(NET) + o] = 0.25f * (float)o;
  for (int64_t e = 0; e < cfg.max_batch; e++) {
    int32_t x[72];
    uint8_t known[72];
    for (int i = 0; i < 72; i++) x[i] = (i * 13) % 256, known[i] = (uint8_t)(i % 2);
    net_image_fill_input(NET, e, x, known, 256, 1);
  }
  net_image_forward(NET, PAR, cfg.max_batch, TIMES);
  out = net_image_output(NET);
  for (int64_t k = 0; k < cfg.max_batch * cfg.out_channels * D; k++)
    CHECK(out[k] == 0.25f * (float)((k / D) % cfg.out_channels), "output %lld is %g", (long long)k, out[k]);
  net_image_describe(NET, line, sizeof line);
  CHECK(strstr(line, "4 channels, 1 blocks x 2 levels, attention 0x2") != NULL, "describe: %s", line);
  free(p2);
  net_release();
  return 0;
}

/* Example 1 alone gives the same output as inside a batch of 3. */
static int test_net_image_batch_independent(void)
{
  net_image_config cfg = small_config();
  size_t           n1 = 3 * 72, nin;
  float           *keep;
  if (net_prepare(&cfg, 9)) return 1;
  net_image_forward(NET, PAR, 3, TIMES);
  keep = malloc(n1 * sizeof(float));
  memcpy(keep, net_image_output(NET) + n1, n1 * sizeof(float));
  nin = (size_t)net_image_in_planes(NET) * 24;
  memmove(net_image_input(NET), net_image_input(NET) + nin, nin * sizeof(float));
  net_image_forward(NET, PAR, 1, TIMES + 1);
  for (size_t k = 0; k < n1; k++) CHECK_CLOSE(net_image_output(NET)[k], keep[k], 1e-5);
  free(keep);
  net_release();
  return 0;
}

/* Configurations the network cannot build are input errors with a message naming the option. */
static int test_net_image_bad_config(void)
{
  net_image_config cfg = small_config();
  net_image       *n = NULL;
  cfg.levels = 4; /* 4 x 6 is not divisible by 8 */
  CHECK(net_image_setup(PETSC_COMM_SELF, &cfg, &n) == ARDM_ERR_INPUT && n == NULL, "levels 4 accepted");
  cfg = small_config();
  cfg.attention = 4; /* level 2 does not exist */
  CHECK(net_image_setup(PETSC_COMM_SELF, &cfg, &n) == ARDM_ERR_INPUT && n == NULL, "attention 4 accepted");
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

/* A different network from the gradient check's (three levels, attention at levels 0 and 2,
   channel counts that change between levels, 8 x 8 RGB, no stage planes). */
static int dump_reference(const char *path)
{
  net_image_config cfg = {.channels = 6,
                          .blocks = 2,
                          .levels = 3,
                          .attention = 5,
                          .height = 8,
                          .width = 8,
                          .img_channels = 3,
                          .stages = 0,
                          .out_channels = 5,
                          .max_batch = 2,
                          .max_time = 192.0};
  double           t[2] = {11.0, 150.0};
  int              ncid, dims[3], vid;
  int64_t          D = 192;
  if (net_prepare(&cfg, 500)) return 1;
  net_image_forward(NET, PAR, 2, t);
  NC(nc_create(path, NC_CLOBBER | NC_NETCDF4, &ncid));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "channels", NC_INT, 1, &cfg.channels));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "blocks", NC_INT, 1, &cfg.blocks));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "levels", NC_INT, 1, &cfg.levels));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "attention", NC_INT, 1, &cfg.attention));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "height", NC_INT, 1, &cfg.height));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "width", NC_INT, 1, &cfg.width));
  NC(nc_put_att_int(ncid, NC_GLOBAL, "img_channels", NC_INT, 1, &cfg.img_channels));
  NC(nc_put_att_double(ncid, NC_GLOBAL, "max_time", NC_DOUBLE, 1, &cfg.max_time));
  NC(nc_def_dim(ncid, "example", 2, &dims[0]));
  NC(nc_def_dim(ncid, "in_plane", (size_t)net_image_in_planes(NET), &dims[1]));
  NC(nc_def_dim(ncid, "pixel", 64, &dims[2]));
  NC(nc_def_var(ncid, "input", NC_FLOAT, 3, dims, &vid));
  NC(nc_put_var_float(ncid, vid, net_image_input(NET)));
  NC(nc_def_var(ncid, "t", NC_DOUBLE, 1, dims, &vid));
  NC(nc_put_var_double(ncid, vid, t));
  NC(nc_def_dim(ncid, "out_channel", (size_t)cfg.out_channels, &dims[1]));
  NC(nc_def_dim(ncid, "dim", (size_t)D, &dims[2]));
  NC(nc_def_var(ncid, "output", NC_FLOAT, 3, dims, &vid));
  NC(nc_put_var_float(ncid, vid, net_image_output(NET)));
  for (int i = 0; i < net_image_num_tensors(NET); i++) {
    const net_tensor *tt = net_image_tensor(NET, i);
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
  TH_RUN(test_net_image_layout_init);
  TH_RUN(test_net_image_batch_independent);
  TH_RUN(test_net_image_bad_config);
  TH_RUN(test_net_image_fourier_input);
  TH_RUN(test_net_image_gradients);
  return TH_FINISH();
}
