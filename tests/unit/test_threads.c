/* test_threads.c: threads inside a rank (-threads, core/threads.h). One training step of the
   audio network with the logistic-mixture head (forward, loss, backward) at a size where every
   threaded loop of src/nn runs on its threads (each pass above NN_PAR_MIN elements):
   - 2 threads with the GEMMs kept whole (nn_gemm_set_split(0)): output, loss and every gradient
     are BITWISE those of one thread (the loops split only independent rows, sums keep their
     one-thread order, and the head's loss is summed in fixed pieces), and a parallel region
     really has 2 threads;
   - 2 threads with the GEMMs split over them (the default): equal up to the float rounding of
     the GEMMs (OpenBLAS's kernels for a narrower block may order a k-sum differently): relative
     1e-5 of each buffer's largest value, ~100 float epsilons, far below any indexing or race
     error (O(1));
   - nn_gemm's split itself, all four transpose cases, row and column cuts, odd sizes, against
     one whole sgemm: relative 1e-6. */
#include "harness.h"
#include "gradcheck.h"
#include "nn/heads.h"
#include "nn/layers.h"
#include "nn/net_audio.h"
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>

#define D_TEST 4096
#define BATCH  3

typedef struct {
  float *out, *grad, *dout;
  double loss;
} step_result;

static net_audio NET;
static head      H;
static float    *PAR;
static int32_t   X[D_TEST];
static uint8_t   KNOWN[D_TEST], TMASK[D_TEST];

static int test_setup(void)
{
  net_audio_config cfg = {.blocks = 3,
                          .channels = 16,
                          .cycle = 2,
                          .kernel = 3,
                          .dim = D_TEST,
                          .in_channels = 2,
                          .out_channels = 90,
                          .max_batch = BATCH,
                          .max_time = 100.0};
  CHECK_OK(head_setup(PETSC_COMM_SELF, HEAD_LOGISTIC_MIXTURE, 256, 30, 0, 0, &H));
  CHECK_OK(net_audio_setup(PETSC_COMM_SELF, &cfg, &NET));
  /* the network runs example by example: one example's pass must be threaded */
  CHECK((int64_t)cfg.channels * D_TEST > NN_PAR_MIN, "the test size must exceed NN_PAR_MIN");
  PAR = calloc(NET.nparams, sizeof(float));
  net_audio_init_params(&NET, PAR, 3);
  for (int i = 0; i < NET.ntensors; i++) { /* every weight non-zero (the final layer's default is 0) */
    const net_tensor *t = &NET.tensors[i];
    float             s = t->fan_in > 0 ? 1.0f / sqrtf((float)t->fan_in) : 0.3f;
    gc_fill(PAR + t->offset, (int64_t)t->count, -1.5 * s, 1.5 * s, 40 + (uint64_t)i);
  }
  for (int i = 0; i < D_TEST; i++) KNOWN[i] = (uint8_t)(i % 3 != 0), X[i] = (i * 37) % 256, TMASK[i] = !KNOWN[i];
  for (int e = 0; e < BATCH; e++) net_audio_fill_input(&NET, e, X, KNOWN, 256, 0);
  return 0;
}

/* One step with `omp` OpenMP threads, the GEMMs split over them or not; fills r with copies. */
static void run_step(int omp, int split, step_result *r)
{
  double t[BATCH] = {5.0, 40.0, 90.0};
  size_t nout = (size_t)BATCH * 90 * D_TEST;
  omp_set_num_threads(omp);
  openblas_set_num_threads(1);
  nn_gemm_set_split(split);
  net_audio_forward(&NET, PAR, BATCH, t);
  r->loss = 0.0;
  for (int e = 0; e < BATCH; e++)
    r->loss += head_loss(&H, NET.output + (size_t)e * 90 * D_TEST, D_TEST, X, TMASK, NULL, 0, NULL,
                         NET.doutput + (size_t)e * 90 * D_TEST);
  r->out = malloc(nout * sizeof(float));
  r->dout = malloc(nout * sizeof(float));
  r->grad = calloc(NET.nparams, sizeof(float));
  memcpy(r->out, NET.output, nout * sizeof(float));
  memcpy(r->dout, NET.doutput, nout * sizeof(float));
  net_audio_backward(&NET, PAR, r->grad);
}

static void free_step(step_result *r)
{
  free(r->out), free(r->grad), free(r->dout);
}

/* largest |a - b| relative to the largest |a| */
static double rel_diff(const float *a, const float *b, size_t n)
{
  double d = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i])), m = fmax(m, fabs((double)a[i]));
  return m > 0 ? d / m : d;
}

static int test_team_has_two_threads(void)
{
  int n = 0;
  omp_set_num_threads(2);
#pragma omp parallel
  {
#pragma omp master
    n = omp_get_num_threads();
  }
  CHECK(n == 2, "a parallel region asked for 2 threads got %d", n);
  return 0;
}

static int test_openmp_bitwise(void)
{
  step_result one, two;
  size_t      nout = (size_t)BATCH * 90 * D_TEST;
  run_step(1, 0, &one);
  run_step(2, 0, &two);
  CHECK(one.loss == two.loss, "loss %.17g on 1 thread, %.17g on 2", one.loss, two.loss);
  CHECK(!memcmp(one.out, two.out, nout * sizeof(float)), "outputs differ, relative %g",
        rel_diff(one.out, two.out, nout));
  CHECK(!memcmp(one.dout, two.dout, nout * sizeof(float)), "head gradients differ, relative %g",
        rel_diff(one.dout, two.dout, nout));
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *t = &NET.tensors[i];
    CHECK(!memcmp(one.grad + t->offset, two.grad + t->offset, t->count * sizeof(float)),
          "gradient of %s differs, relative %g", t->name,
          rel_diff(one.grad + t->offset, two.grad + t->offset, t->count));
  }
  free_step(&one), free_step(&two);
  return 0;
}

static int test_split_gemm_close(void)
{
  step_result one, two;
  size_t      nout = (size_t)BATCH * 90 * D_TEST;
  run_step(1, 1, &one);
  run_step(2, 1, &two);
  CHECK_CLOSE(one.loss, two.loss, 1e-5);
  CHECK(rel_diff(one.out, two.out, nout) <= 1e-5, "outputs differ by %g", rel_diff(one.out, two.out, nout));
  for (int i = 0; i < NET.ntensors; i++) {
    const net_tensor *t = &NET.tensors[i];
    double            d = rel_diff(one.grad + t->offset, two.grad + t->offset, t->count);
    CHECK(d <= 1e-5, "gradient of %s differs by %g", t->name, d);
  }
  free_step(&one), free_step(&two);
  return 0;
}

/* C = alpha op(A) op(B) + beta C through nn_gemm on 2 threads against one whole sgemm, with
   padded leading dimensions: n > m cuts columns (n = 1000: cuts on a multiple of 16), m > n
   cuts rows (m = 1001). */
static int test_gemm_split(void)
{
  const int64_t shapes[2][3] = {{37, 1000, 61}, {1001, 29, 70}};
  for (int s = 0; s < 2; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
        float  *a = malloc(sizeof(float) * (size_t)((ta ? k : m) * lda));
        float  *b = malloc(sizeof(float) * (size_t)((tb ? n : k) * ldb));
        float  *c1 = malloc(sizeof(float) * (size_t)(m * ldc)), *c2 = malloc(sizeof(float) * (size_t)(m * ldc));
        gc_fill(a, (ta ? k : m) * lda, -1, 1, 1 + (uint64_t)s);
        gc_fill(b, (tb ? n : k) * ldb, -1, 1, 2 + (uint64_t)s);
        gc_fill(c1, m * ldc, -1, 1, 3);
        memcpy(c2, c1, sizeof(float) * (size_t)(m * ldc));
        CHECK((double)m * n * k >= NN_GEMM_PAR_MIN, "the test product must be large enough to split");
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                    (int)k, 0.5f, a, (int)lda, b, (int)ldb, 0.25f, c1, (int)ldc);
        omp_set_num_threads(2), nn_gemm_set_split(1);
        nn_gemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c2, ldc);
        omp_set_num_threads(1);
        CHECK(rel_diff(c1, c2, (size_t)(m * ldc)) <= 1e-6, "split gemm %lld x %lld x %lld ta %d tb %d differs by %g",
              (long long)m, (long long)n, (long long)k, ta, tb, rel_diff(c1, c2, (size_t)(m * ldc)));
        free(a), free(b), free(c1), free(c2);
      }
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_setup);
  if (!PAR) return TH_FINISH();
  TH_RUN(test_team_has_two_threads);
  TH_RUN(test_openmp_bitwise);
  TH_RUN(test_split_gemm_close);
  TH_RUN(test_gemm_split);
  net_audio_free(&NET);
  free(PAR);
  return TH_FINISH();
}
