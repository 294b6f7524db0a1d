/* resample.h: band-limited sample-rate conversion by windowed-sinc interpolation (Kaiser
   window, beta 8.6, 32 zero crossings each side, cut-off 0.95 of the lower Nyquist rate).
   Pure C with no PETSc or I/O, so the data recipes (input/sc09/synth.c) use the same code as
   `ardm prep -resample`. */
#ifndef ARDM_RESAMPLE_H
#define ARDM_RESAMPLE_H
#include <stdint.h>

/* Number of output samples for nin input samples: round(nin * rate_out / rate_in). */
int64_t resample_length(int64_t nin, double rate_in, double rate_out);

/* out[nout] = in[nin] converted from rate_in to rate_out (both > 0), nout from
   resample_length. Samples outside 0..nin-1 count as zero. Equal rates copy. */
void resample_run(const float *in, int64_t nin, double rate_in, double rate_out, float *out, int64_t nout);
#endif
