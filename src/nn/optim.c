/* optim.c: Adam / AdamW (Kingma & Ba; Loshchilov & Hutter), schedules and EMA. */
#include "nn/optim.h"
#include <math.h>

double optim_lr(const optim_config *c, int64_t step)
{
  double lr = c->lr;
  if (c->warmup > 0 && step < c->warmup) return lr * (double)(step + 1) / (double)c->warmup;
  if (c->schedule == SCHEDULE_COSINE && c->steps > c->warmup) {
    double prog = (double)(step - c->warmup) / (double)(c->steps - c->warmup);
    lr *= 0.5 * (1.0 + cos(M_PI * fmin(1.0, prog)));
  }
  /* the final decay: (steps - step) / decay_steps, 1 at its first step, 1/decay_steps at the
     last step and never 0, so that every step still moves the weights */
  if (c->decay_steps > 0 && step >= c->steps - c->decay_steps)
    lr *= (double)(c->steps > step ? c->steps - step : 0) / (double)c->decay_steps;
  return lr;
}

void optim_adam(const optim_config *c, int64_t step, double lr, double scale, size_t n, float *p, const float *g,
                float *m, float *v)
{
  const float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps;
  const float bc1 = (float)(1.0 - pow(c->beta1, (double)(step + 1)));
  const float bc2 = (float)(1.0 - pow(c->beta2, (double)(step + 1)));
  const float a = (float)(lr / bc1), s = (float)scale, decay = (float)(1.0 - lr * c->weight_decay);
  const float rbc2 = 1.0f / sqrtf(bc2);
  for (size_t i = 0; i < n; i++) {
    float gi = g[i] * s;
    m[i] = b1 * m[i] + (1.0f - b1) * gi;
    v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
    p[i] = p[i] * decay - a * m[i] / (sqrtf(v[i]) * rbc2 + eps);
  }
}

void optim_ema(double decay, size_t n, float *ema, const float *p)
{
  const float d = (float)decay, e = (float)(1.0 - decay);
  for (size_t i = 0; i < n; i++) ema[i] = d * ema[i] + e * p[i];
}

double optim_sumsq(size_t n, const float *g)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
  return s;
}
