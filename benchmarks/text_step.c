/* text_step.c: forward + backward of the Transformer ARDM network (-model transformer,
   nn/net_text.h) with its categorical head on one thread, at D = 250 and K = 27 (text8's
   alphabet), as model FLOP/s and as a fraction of cblas_sgemm throughput measured in the same
   run (2048^3), plus the head's own time and peak memory. benchmarks/torch_text_step.py runs it
   against the same network in PyTorch. Half of each example's dims are known (the head's
   targets are the other half, weight 1), t = D / 2.
   The machine may be shared: step times are the best of the timed steps (after one untimed
   warm-up step), and the sgemm reference is the FASTEST of the measurements before the run and
   after each configuration (a conservative ratio: contention can only lower it). OpenMP is set
   to one thread here, so the elementwise loops run on one thread too.
   Usage: OPENBLAS_NUM_THREADS=1 build/bench/text_step [layers width heads batch steps]
   (no arguments: 6 x 256 with 8 heads and 12 x 768 with 12 heads, MLP 4, batch 8). No MPI is
   started; each configuration runs in a forked child so its maxrss is its own. */
#include "nn/heads.h"
#include "nn/layer_attn.h"
#include "nn/net_text.h"
#include "bench.h"
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEXT_D 250
#define TEXT_K 27

static int run_config(int layers, int width, int heads, int batch, int steps, const double *ref_in)
{
  net_text_config cfg = {.layers = layers,
                         .width = width,
                         .heads = heads,
                         .mlp = 4,
                         .attn_bias = ATTN_BIAS_DISTANCE, /* the default of ardm train */
                         .dim = TEXT_D,
                         .K = TEXT_K,
                         .stages = 0,
                         .out_channels = TEXT_K,
                         .max_batch = batch,
                         .max_time = TEXT_D};
  net_text        net;
  head            h;
  float          *par, *grad;
  int32_t        *x;
  uint8_t        *known, *tmask;
  double          t[256], tnet = 1e30, thead = 1e30, cnet = 1e30, chead = 1e30, flops;
  struct rusage   ru;
  char            line[512];
  double          ref = ref_in[0], refc = ref_in[1];
  if (batch > 256) return 1;
  if (head_setup(PETSC_COMM_SELF, HEAD_CATEGORICAL, TEXT_K, 0, 0, 0, &h)) return 1;
  if (net_text_setup(PETSC_COMM_SELF, &cfg, &net)) return 1;
  par = calloc(net.nparams, sizeof(float));
  grad = calloc(net.nparams, sizeof(float));
  x = malloc(sizeof(int32_t) * TEXT_D * (size_t)batch);
  known = malloc(TEXT_D * (size_t)batch), tmask = malloc(TEXT_D * (size_t)batch);
  net_text_init_params(&net, par, 1);
  for (size_t i = net.off_hw; i < net.off_hw + (size_t)TEXT_K * width; i++) /* a non-zero head: real gradients */
    par[i] = 0.01f * (float)((int)(i % 17) - 8);
  for (int i = 0; i < TEXT_D * batch; i++)
    x[i] = (i * 7919 + i / 13) % TEXT_K, known[i] = (uint8_t)((i * 2654435761u >> 7) % 2), tmask[i] = !known[i];
  for (int e = 0; e < batch; e++)
    net_text_fill_input(&net, e, x + e * TEXT_D, known + e * TEXT_D, TEXT_K, 0), t[e] = TEXT_D / 2;
  net_text_describe(&net, line, sizeof line);
  for (int s = 0; s <= steps; s++) {
    double t0 = bench_now(), c0 = bench_cpu_now(), t1, t2, c1, c2;
    net_text_forward(&net, par, batch, t);
    t1 = bench_now(), c1 = bench_cpu_now();
    for (int e = 0; e < batch; e++)
      head_loss(&h, net.output + (size_t)e * TEXT_K * TEXT_D, TEXT_D, x + e * TEXT_D, tmask + e * TEXT_D, NULL, 0, NULL,
                net.doutput + (size_t)e * TEXT_K * TEXT_D);
    t2 = bench_now(), c2 = bench_cpu_now();
    net_text_backward(&net, par, grad);
    if (s > 0) {
      tnet = fmin(tnet, (bench_now() - t2) + (t1 - t0));
      thead = fmin(thead, t2 - t1);
      cnet = fmin(cnet, (bench_cpu_now() - c2) + (c1 - c0));
      chead = fmin(chead, c2 - c1);
    }
  }
  getrusage(RUSAGE_SELF, &ru);
  bench_sgemm_after(&ref, &refc);
  flops = net_text_flops(&net, batch);
  printf("L=%d W=%d H=%d batch %d: %.2fM params; step (net fwd+bwd) %.3f s, %.1f GFLOP/s = %.2f of sgemm; "
         "head %.4f s (net+head %.2f of sgemm); peak RSS %.2f GiB (workspace %.2f GiB)\n",
         layers, width, heads, batch, (double)net.nparams / 1e6, tnet, flops / tnet / 1e9, flops / tnet / 1e9 / ref,
         thead, flops / (tnet + thead) / 1e9 / ref, (double)ru.ru_maxrss / (1024.0 * 1024.0),
         (double)net_text_workspace_bytes(&net) / (1024.0 * 1024.0 * 1024.0));
  printf("    cpu time: net fwd+bwd %.3f s, head %.4f s (best of the steps' CPU seconds): %.1f GFLOP per CPU second = "
         "%.2f of sgemm per CPU second\n",
         cnet, chead, flops / cnet / 1e9, flops / cnet / 1e9 / refc);
  printf("    %s\n", line);
  fflush(stdout);
  free(par), free(grad), free(x), free(known), free(tmask);
  net_text_free(&net);
  return 0;
}

/* runs one configuration in a child process (its own maxrss) */
static int run_forked(int layers, int width, int heads, int batch, int steps, const double *ref)
{
  int   status = 1;
  pid_t pid = fork();
  if (pid == 0) _exit(run_config(layers, width, heads, batch, steps, ref));
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
  const char *ct = getenv("OPENBLAS_CORETYPE"), *nt = getenv("OPENBLAS_NUM_THREADS");
  double      ref[2];
  int         rc = 0;
  omp_set_num_threads(1);
  printf("OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s, OpenMP threads 1\n", ct ? ct : "(unset)", nt ? nt : "(unset)");
  ref[0] = bench_sgemm_gflops_cpu(&ref[1]);
  printf("in-run sgemm 2048^3: %.1f GFLOP/s (%.1f per CPU second)\n", ref[0], ref[1]);
  fflush(stdout);
  if (argc == 6) return run_forked(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), ref);
  if (argc != 1) {
    fprintf(stderr, "usage: %s [layers width heads batch steps]\n", argv[0]);
    return 1;
  }
  rc |= run_forked(6, 256, 8, 8, 3, ref);
  rc |= run_forked(12, 768, 12, 8, 2, ref);
  return rc;
}
