/* train_step.c: forward + backward of the whole audio network (D = 16000, logistic-mixture
   head with 30 components) on one thread, as model FLOP/s and as a fraction of cblas_sgemm
   throughput measured in the same run (2048^3), plus peak memory (getrusage maxrss) and the
   head's own time. Each configuration runs in a forked child so its maxrss is its own.
   The machine may be shared: step times are the best of the timed steps, and the sgemm
   reference is the FASTEST of the measurements before the run and after each configuration
   (a conservative ratio: contention can only lower it).
   Usage: OPENBLAS_NUM_THREADS=1 build/bench/train_step [blocks channels batch steps]
   (no arguments: B=12,C=64 and B=36,C=256 at batch 1 and 4). No MPI is started. */
#include <omp.h>
#include "nn/heads.h"
#include "nn/net_audio.h"
#include "bench.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run_config(int blocks, int channels, int batch, int steps, double ref)
{
  net_audio_config cfg = {.blocks = blocks,
                          .channels = channels,
                          .cycle = 12,
                          .kernel = 3,
                          .dim = 16000,
                          .in_channels = 2,
                          .out_channels = 90,
                          .max_batch = batch,
                          .max_time = 16000.0};
  net_audio        net;
  head             h;
  float           *par, *grad;
  int32_t         *x;
  uint8_t         *known, *tmask;
  double           t[64], tnet = 1e30, thead = 1e30;
  struct rusage    ru;
  char             line[256];
  if (head_setup(PETSC_COMM_SELF, HEAD_LOGISTIC_MIXTURE, 65536, 30, 0, 0, &h)) return 1;
  if (net_audio_setup(PETSC_COMM_SELF, &cfg, &net)) return 1;
  par = calloc(net.nparams, sizeof(float));
  grad = calloc(net.nparams, sizeof(float));
  x = malloc(sizeof(int32_t) * 16000);
  known = malloc(16000), tmask = malloc(16000);
  net_audio_init_params(&net, par, 1);
  head_init_bias(&h, par + net_audio_output_bias_offset(&net));
  for (int i = 0; i < 16000; i++)
    known[i] = (uint8_t)(i % 2), x[i] = known[i] ? (i * 7919) % 65536 : 32768, tmask[i] = !known[i];
  for (int e = 0; e < batch; e++) net_audio_fill_input(&net, e, x, known, 65536, 0), t[e] = 8000.0;
  net_audio_describe(&net, line, sizeof line);
  /* best of `steps` timed steps (after one untimed warm-up step) */
  for (int s = 0; s <= steps; s++) {
    double t0 = bench_now(), t1, t2;
    net_audio_forward(&net, par, batch, t);
    t1 = bench_now();
    for (int e = 0; e < batch; e++)
      head_loss(&h, net.output + (size_t)e * 90 * 16000, 16000, x, tmask, NULL, 0, NULL,
                net.doutput + (size_t)e * 90 * 16000);
    t2 = bench_now();
    net_audio_backward(&net, par, grad);
    if (s > 0) {
      tnet = fmin(tnet, (bench_now() - t2) + (t1 - t0));
      thead = fmin(thead, t2 - t1);
    }
  }
  getrusage(RUSAGE_SELF, &ru);
  {
    double after = bench_sgemm_gflops(); /* measured again right after, in the child */
    ref = after > ref ? after : ref;
    printf("sgemm after this configuration: %.1f GFLOP/s; reference %.1f\n", after, ref);
  }
  printf("B=%d C=%d batch %d: %.2fM params; step (net fwd+bwd) %.3f s, %.1f GFLOP/s = %.2f of sgemm; "
         "head %.3f s (net+head %.2f of sgemm); peak RSS %.2f GiB (workspace %.2f GiB)\n",
         blocks, channels, batch, (double)net.nparams / 1e6, tnet, net_audio_flops(&net, batch) / tnet / 1e9,
         net_audio_flops(&net, batch) / tnet / 1e9 / ref, thead,
         net_audio_flops(&net, batch) / (tnet + thead) / 1e9 / ref, (double)ru.ru_maxrss / (1024.0 * 1024.0),
         (double)net_audio_workspace_bytes(&net) / (1024.0 * 1024.0 * 1024.0));
  printf("    %s\n", line);
  fflush(stdout);
  free(par), free(grad), free(x), free(known), free(tmask);
  net_audio_free(&net);
  return 0;
}

/* runs one configuration in a child process (its own maxrss) */
static int run_forked(int blocks, int channels, int batch, int steps, double ref)
{
  int   status = 1;
  pid_t pid = fork();
  if (pid == 0) _exit(run_config(blocks, channels, batch, steps, ref));
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
  const char *ct = getenv("OPENBLAS_CORETYPE"), *nt = getenv("OPENBLAS_NUM_THREADS");
  double      ref;
  int         rc = 0;
  omp_set_num_threads(1); /* one thread: the OpenMP loops and nn_gemm's split alike */
  printf("OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s\n", ct ? ct : "(unset)", nt ? nt : "(unset)");
  ref = bench_sgemm_gflops();
  printf("in-run sgemm 2048^3: %.1f GFLOP/s\n", ref);
  fflush(stdout);
  if (argc == 5) return run_forked(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), ref);
  rc |= run_forked(12, 64, 1, 3, ref);
  rc |= run_forked(12, 64, 4, 2, ref);
  rc |= run_forked(36, 256, 1, 1, ref);
  rc |= run_forked(36, 256, 4, 1, ref);
  return rc;
}
