/* net_cycle.c: one setup / training step / free cycle of the audio network and a head, for
   valgrind (tests/cli/test_net_valgrind.sh builds and runs it). It deliberately does not call
   MPI_Init/PetscInitialize: Open MPI's and PETSc's own start-up allocations would otherwise
   bury the engine's (the engine itself uses no MPI on its success path). Two steps run, so a
   buffer allocated per step would show up as twice the leak. Exit status 0 on success. */
#include "nn/heads.h"
#include "nn/net_audio.h"
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
  net_audio_config cfg = {.blocks = 4,
                          .channels = 8,
                          .cycle = 2,
                          .kernel = 3,
                          .dim = 64,
                          .in_channels = 2,
                          .out_channels = 0,
                          .max_batch = 2,
                          .max_time = 64.0};
  net_audio        net;
  head             h;
  float           *par, *grad;
  int32_t          x[64];
  uint8_t          known[64], target_mask[64];
  double           t[2] = {5.0, 40.0}, lp = 0.0;
  if (head_setup(PETSC_COMM_SELF, HEAD_LOGISTIC_MIXTURE, 65536, 5, 0, 0, &h)) return 1;
  cfg.out_channels = (int)head_outputs(&h);
  if (net_audio_setup(PETSC_COMM_SELF, &cfg, &net)) return 1;
  par = calloc(net_audio_num_params(&net), sizeof(float));
  grad = calloc(net_audio_num_params(&net), sizeof(float));
  net_audio_init_params(&net, par, 1);
  head_init_bias(&h, par + net_audio_output_bias_offset(&net));
  for (int i = 0; i < 64; i++)
    known[i] = (uint8_t)(i % 3 == 0), x[i] = known[i] ? (i * 1031) % 65536 : 32768, target_mask[i] = !known[i];
  for (int step = 0; step < 2; step++) {
    for (int e = 0; e < 2; e++) net_audio_fill_input(&net, e, x, known, 65536, 0);
    net_audio_forward(&net, par, 2, t);
    for (int e = 0; e < 2; e++)
      lp += head_loss(&h, net.output + (size_t)e * cfg.out_channels * cfg.dim, cfg.dim, x, target_mask, NULL, 0, NULL,
                      net.doutput + (size_t)e * cfg.out_channels * cfg.dim);
    net_audio_backward(&net, par, grad);
  }
  printf("log p %.4f, grad[0] %.4g\n", lp, grad[net_audio_output_bias_offset(&net)]);
  free(par);
  free(grad);
  net_audio_free(&net);
  return 0;
}
