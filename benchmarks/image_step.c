/* image_step.c: forward + backward of the image ARDM network (-model unet, nn/net_image.h) with
   its categorical head (K = 256 per sub-pixel) on one thread, for 32 x 32 x 3 images (CIFAR-10's
   shape), as model FLOP/s and as a fraction of cblas_sgemm throughput measured in the same run
   (2048^3), plus the head's own time and peak memory. benchmarks/torch_image_step.py runs it
   against the same network in PyTorch. Half of each example's dims are known (the head's targets
   are the other half, weight 1), t = D / 2.
   The machine may be shared: step times are the best of the timed steps (after one untimed
   warm-up step), and the sgemm reference is the FASTEST of the measurements before the run and
   after each configuration (a conservative ratio: contention can only lower it). OpenMP is set
   to one thread here, so the elementwise loops run on one thread too.
   Usage: OPENBLAS_NUM_THREADS=1 build/bench/image_step [channels blocks levels attention batch steps]
   (no arguments: input/cifar_small.opts' network, 32 channels, 1 block x 3 levels, attention
   bit 2 (4), batch 8, 3 steps). input/cifar_oa.opts' network is 256 32 1 1. No MPI is started;
   each configuration runs in a forked child so its maxrss is its own. */
#include "nn/heads.h"
#include "nn/net_image.h"
#include "bench.h"
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMG_H 32
#define IMG_W 32
#define IMG_C 3
#define IMG_D (IMG_H * IMG_W * IMG_C)
#define IMG_K 256

static int run_config(int channels, int blocks, int levels, int attention, int batch, int steps, const double *ref_in)
{
  net_image_config cfg = {.channels = channels,
                          .blocks = blocks,
                          .levels = levels,
                          .attention = attention,
                          .height = IMG_H,
                          .width = IMG_W,
                          .img_channels = IMG_C,
                          .stages = 0,
                          .out_channels = IMG_K,
                          .max_batch = batch,
                          .max_time = IMG_D};
  net_image       *net;
  head             h;
  float           *par, *grad, *out, *dout;
  int32_t         *x;
  uint8_t         *known, *tmask;
  double           t[256], tnet = 1e30, thead = 1e30, cnet = 1e30, chead = 1e30, flops;
  size_t           nparams;
  struct rusage    ru;
  char             line[512];
  double           ref = ref_in[0], refc = ref_in[1];
  if (batch > 256) return 1;
  if (head_setup(PETSC_COMM_SELF, HEAD_CATEGORICAL, IMG_K, 0, 0, 0, &h)) return 1;
  if (net_image_setup(PETSC_COMM_SELF, &cfg, &net)) return 1;
  nparams = net_image_num_params(net);
  par = calloc(nparams, sizeof(float));
  grad = calloc(nparams, sizeof(float));
  x = malloc(sizeof(int32_t) * IMG_D * (size_t)batch);
  known = malloc(IMG_D * (size_t)batch), tmask = malloc(IMG_D * (size_t)batch);
  net_image_init_params(net, par, 1);
  /* the zero-started convs (DDPM) get small weights, so that every gradient is a real one */
  for (int i = 0; i < net_image_num_tensors(net); i++) {
    const net_tensor *tn = net_image_tensor(net, i);
    if (tn->fan_in == 0 && tn->count > (size_t)IMG_K * 4)
      for (size_t j = 0; j < tn->count; j++) par[tn->offset + j] = 0.001f * (float)((int)((tn->offset + j) % 17) - 8);
  }
  for (int i = 0; i < IMG_D * batch; i++)
    x[i] = (i * 7919 + i / 13) % IMG_K, known[i] = (uint8_t)((i * 2654435761u >> 7) % 2), tmask[i] = !known[i];
  for (int e = 0; e < batch; e++)
    net_image_fill_input(net, e, x + e * IMG_D, known + e * IMG_D, IMG_K, 0), t[e] = IMG_D / 2;
  net_image_describe(net, line, sizeof line);
  out = net_image_output(net), dout = net_image_doutput(net);
  for (int s = 0; s <= steps; s++) {
    double t0 = bench_now(), c0 = bench_cpu_now(), t1, t2, c1, c2;
    net_image_forward(net, par, batch, t);
    t1 = bench_now(), c1 = bench_cpu_now();
    for (int e = 0; e < batch; e++)
      head_loss(&h, out + (size_t)e * IMG_K * IMG_D, IMG_D, x + e * IMG_D, tmask + e * IMG_D, NULL, 0, NULL,
                dout + (size_t)e * IMG_K * IMG_D);
    t2 = bench_now(), c2 = bench_cpu_now();
    net_image_backward(net, par, grad);
    if (s > 0) {
      tnet = fmin(tnet, (bench_now() - t2) + (t1 - t0));
      thead = fmin(thead, t2 - t1);
      cnet = fmin(cnet, (bench_cpu_now() - c2) + (c1 - c0));
      chead = fmin(chead, c2 - c1);
    }
  }
  getrusage(RUSAGE_SELF, &ru);
  bench_sgemm_after(&ref, &refc);
  flops = net_image_flops(net, batch);
  printf("C=%d N=%d L=%d att=%d batch %d: %.2fM params; step (net fwd+bwd) %.3f s, %.1f GFLOP/s = %.2f of sgemm; "
         "head %.4f s (net+head %.2f of sgemm); peak RSS %.2f GiB (workspace %.2f GiB)\n",
         channels, blocks, levels, attention, batch, (double)nparams / 1e6, tnet, flops / tnet / 1e9,
         flops / tnet / 1e9 / ref, thead, flops / (tnet + thead) / 1e9 / ref, (double)ru.ru_maxrss / (1024.0 * 1024.0),
         (double)net_image_workspace_bytes(net) / (1024.0 * 1024.0 * 1024.0));
  printf("    cpu time: net fwd+bwd %.3f s, head %.4f s (best of the steps' CPU seconds): %.1f GFLOP per CPU second = "
         "%.2f of sgemm per CPU second\n",
         cnet, chead, flops / cnet / 1e9, flops / cnet / 1e9 / refc);
  printf("    %s\n", line);
  fflush(stdout);
  free(par), free(grad), free(x), free(known), free(tmask);
  net_image_free(&net);
  return 0;
}

/* runs one configuration in a child process (its own maxrss) */
static int run_forked(const int a[6], const double *ref)
{
  int   status = 1;
  pid_t pid = fork();
  if (pid == 0) _exit(run_config(a[0], a[1], a[2], a[3], a[4], a[5], ref));
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
  const char *ct = getenv("OPENBLAS_CORETYPE"), *nt = getenv("OPENBLAS_NUM_THREADS");
  int         a[6] = {32, 1, 3, 4, 8, 3};
  double      ref[2];
  omp_set_num_threads(1);
  if (argc != 1 && argc != 7) {
    fprintf(stderr, "usage: %s [channels blocks levels attention batch steps]\n", argv[0]);
    return 1;
  }
  for (int i = 1; i < argc; i++) a[i - 1] = atoi(argv[i]);
  printf("OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s, OpenMP threads 1\n", ct ? ct : "(unset)", nt ? nt : "(unset)");
  ref[0] = bench_sgemm_gflops_cpu(&ref[1]);
  printf("in-run sgemm 2048^3: %.1f GFLOP/s (%.1f per CPU second)\n", ref[0], ref[1]);
  fflush(stdout);
  return run_forked(a, ref);
}
