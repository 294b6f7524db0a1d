/* optim.h: Adam/AdamW on a slice of the flat parameter buffer, the learning-rate schedule,
   and the EMA of the weights. Plain loops over float pointers; no MPI. */
#ifndef ARDM_OPTIM_H
#define ARDM_OPTIM_H
#include <stddef.h>
#include <stdint.h>

typedef enum { SCHEDULE_CONSTANT = 0, SCHEDULE_COSINE = 1 } lr_schedule;

typedef struct {
  double      lr, beta1, beta2, eps;
  double      weight_decay; /* AdamW: decoupled, applied as p -= lr * wd * p */
  int64_t     warmup;       /* linear warm-up steps */
  int64_t     steps;        /* total steps (for the cosine decay and the final decay) */
  int64_t     decay_steps;  /* the last decay_steps steps before steps fall linearly to 0 (0 = none) */
  lr_schedule schedule;
  double      clip; /* global gradient-norm clip, 0 = off */
  double      ema;  /* EMA decay of the weights */
} optim_config;

/* Learning rate at (0-based) step: linear warm-up, then constant or cosine, times a linear
   decay over the last decay_steps steps (warm-up, stable, decay: doc/method.md section 4). */
double optim_lr(const optim_config *c, int64_t step);
/* One Adam(W) step on n parameters: g is the raw gradient sum, scale multiplies it (1/batch
   times the clipping factor); step is 0-based (bias correction uses step + 1). */
void optim_adam(const optim_config *c, int64_t step, double lr, double scale, size_t n, float *p, const float *g,
                float *m, float *v);
/* ema = decay * ema + (1 - decay) * p */
void optim_ema(double decay, size_t n, float *ema, const float *p);
/* Sum of squares (in double) of n floats; non-finite values make it non-finite. */
double optim_sumsq(size_t n, const float *g);
#endif
