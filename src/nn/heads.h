/* heads.h: output heads of the ARDM networks: per-dim log-probabilities of the targets, the
   gradient of the weighted negative log-likelihood w.r.t. the network outputs, the initial
   output bias, and sampling of one dim.

   Network outputs are channels-major per example, out[O][D] (O = head_outputs()), as the audio
   network writes them. Heads:
   - HEAD_CATEGORICAL: O = K logits, log-softmax.
   - HEAD_LOGISTIC_MIXTURE: discretized logistic mixture (PixelCNN++; doc/method.md section 4) over
     K bins of [-1, 1] (bin v is centred at 2v/(K-1) - 1, half-width 1/(K-1); the two edge bins
     extend to -inf / +inf). O = 3M: out[0..M) mixture logits, out[M..2M) means,
     out[2M..3M) log-scales, which are offset by -log M and clamped at >= -7 (zero gradient
     below the clamp). Computed in double with log-sigmoid / expm1 forms, so bins of width
     2/65535 do not cancel catastrophically.
   - HEAD_STAGE_CATEGORICAL: upscale ARDM, direct parametrization (doc/method.md section 4, Heads):
     O = S*b logits; stage s uses out[s*b .. s*b+b), a b-way softmax over the stage's digit.
   - HEAD_STAGE_DATA: upscale ARDM, data parametrization (doc/method.md section 4, Heads): O = K logits over
     the data values; at stage s the probability of digit d is the softmax mass of the values
     whose first digits are x_past's followed by d, renormalised over the values consistent with
     x_past (P-bar applied to softmax(logits), restricted and renormalised). Its target is the
     full data value (x_past and the digit are derived from it). */
#ifndef ARDM_HEADS_H
#define ARDM_HEADS_H
#include "core/ardm.h"
#include "core/rng.h"

typedef enum {
  HEAD_CATEGORICAL = 0,
  HEAD_LOGISTIC_MIXTURE = 1,
  HEAD_STAGE_CATEGORICAL = 2,
  HEAD_STAGE_DATA = 3
} head_kind;

#define HEAD_MIXTURE_DEFAULT_M 30
/* The lowest log-scale of a mixture component on the [-1, 1] value axis: -7 (PixelCNN++'s) unless
   the model sets a lower one (model_scale_floor, doc/method.md section 4, Heads). */
#define HEAD_LOG_SCALE_MIN (-7.0)

typedef struct {
  head_kind kind;
  int64_t   K;             /* data classes (categorical logits, or mixture bins) */
  int       M;             /* mixture components */
  int       S;             /* stages (stage categorical) */
  int       b;             /* branching factor (stage categorical): targets are digits 0..b-1 */
  double    log_scale_min; /* mixture: a component's log-scale is clamped at this floor */
} head;

/* Option spelling of a kind: "categorical", "logistic_mixture", "stage_categorical", "stage_data". */
const char *head_kind_name(head_kind kind);

/* Validates and fills h (input errors on comm): K >= 2; mixture M >= 1; stage b >= 2, S >= 1.
   The mixture's log-scale floor is HEAD_LOG_SCALE_MIN; a model may lower it afterwards. */
PetscErrorCode head_setup(MPI_Comm comm, head_kind kind, int64_t K, int M, int S, int b, head *h);
/* Outputs per dim: K, 3M or S*b. */
int64_t head_outputs(const head *h);
/* Initial final-layer bias[head_outputs()]: zero, except the mixture means, spread evenly over
   [-1, 1] (-1 + 2m/(M-1)). */
void head_init_bias(const head *h, float *bias);

/* One example. out[O][D]; target[D]: the class (categorical), the bin 0..K-1 (mixture) or the
   stage's digit 0..b-1 (stage categorical); mask[D]: non-zero marks a target dim, only those
   count; weight[D]: per-dim weight (NULL = 1); stage: the stage (stage categorical only).
   logp[D] (may be NULL): log p(target) in nats at target dims, 0 elsewhere.
   dout[O][D] (may be NULL): ACCUMULATES the gradient of  -sum_i weight[i] logp[i].
   Returns sum_i logp[i] over the target dims (unweighted, nats). */
double head_loss(const head *h, const float *out, int64_t D, const int32_t *target, const uint8_t *mask,
                 const float *weight, int stage, float *logp, float *dout);

/* Draws the value of dim i from out[O][D] (categorical: class; mixture: bin; stage: digit).
   temperature 1 samples the model; T > 0 divides the logits by T (and multiplies the logistic
   scale by T); T = 0 is greedy (argmax class / component, the component's mean). Gumbel-max
   on the logits, inverse-CDF for the logistic, both from rng. */
int32_t head_sample(const head *h, const float *out, int64_t D, int64_t i, int stage, double temperature,
                    rng_stream *rng);
/* HEAD_STAGE_DATA: draws stage s's digit of dim i given its x_past (Gumbel-max over the values
   consistent with past at temperature T, then the digit of the value drawn). */
int32_t head_sample_stage_data(const head *h, const float *out, int64_t D, int64_t i, int stage, int32_t past,
                               double temperature, rng_stream *rng);

#endif
