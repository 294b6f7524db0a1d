/* test_optim.c: the learning-rate schedule (warm-up, constant or cosine, the final linear
   decay of -decay_steps), one Adam(W) step against its formula, and the weights' EMA. */
#include "harness.h"
#include "nn/optim.h"
#include <math.h>

static optim_config config(lr_schedule s, int64_t warmup, int64_t steps, int64_t decay)
{
  optim_config c = {.lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .schedule = s};
  c.warmup = warmup, c.steps = steps, c.decay_steps = decay;
  return c;
}

static int test_warmup_constant_cosine(void)
{
  optim_config c = config(SCHEDULE_CONSTANT, 10, 100, 0);
  CHECK_CLOSE(optim_lr(&c, 0), 2e-4, 1e-15);  /* (step + 1) / warmup */
  CHECK_CLOSE(optim_lr(&c, 9), 2e-3, 1e-15);  /* the last warm-up step reaches the peak */
  CHECK_CLOSE(optim_lr(&c, 99), 2e-3, 1e-15); /* constant to the end */
  c.schedule = SCHEDULE_COSINE;
  CHECK_CLOSE(optim_lr(&c, 10), 2e-3, 1e-15);
  CHECK_CLOSE(optim_lr(&c, 55), 1e-3, 1e-15); /* half-way through the decay */
  CHECK_CLOSE(optim_lr(&c, 100), 0.0, 1e-15);
  return 0;
}

/* -decay_steps N: lr * (steps - step) / N over the last N steps, on top of the schedule */
static int test_final_decay(void)
{
  optim_config c = config(SCHEDULE_CONSTANT, 10, 100, 20);
  CHECK_CLOSE(optim_lr(&c, 79), 2e-3, 1e-15);                            /* before the decay */
  CHECK_CLOSE(optim_lr(&c, 80), 2e-3, 1e-15);                            /* its first step: factor 20/20 */
  CHECK_CLOSE(optim_lr(&c, 90), 1e-3, 1e-15);                            /* factor 10/20 */
  CHECK_CLOSE(optim_lr(&c, 99), 2e-3 / 20, 1e-15);                       /* the last step still moves */
  CHECK(optim_lr(&c, 100) == 0.0, "past -steps: %g", optim_lr(&c, 100)); /* a resumed run past the end */
  for (int64_t s = 80; s < 99; s++)
    CHECK(optim_lr(&c, s + 1) < optim_lr(&c, s), "not decreasing at %lld", (long long)s);
  c.schedule = SCHEDULE_COSINE; /* the two multiply */
  CHECK_CLOSE(optim_lr(&c, 90), 2e-3 * 0.5 * (1.0 + cos(M_PI * 80.0 / 90.0)) * 0.5, 1e-15);
  c = config(SCHEDULE_CONSTANT, 0, 5, 5); /* the whole run decays */
  CHECK_CLOSE(optim_lr(&c, 0), 2e-3, 1e-15);
  CHECK_CLOSE(optim_lr(&c, 4), 4e-4, 1e-15);
  c = config(SCHEDULE_CONSTANT, 4, 10, 8); /* the decay overlaps the warm-up: warm-up first */
  CHECK_CLOSE(optim_lr(&c, 1), 1e-3, 1e-15);
  CHECK_CLOSE(optim_lr(&c, 6), 2e-3 * 4.0 / 8.0, 1e-15);
  return 0;
}

/* One Adam(W) step on three parameters against the textbook update */
static int test_adam_step(void)
{
  optim_config c = config(SCHEDULE_CONSTANT, 0, 10, 0);
  float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.4f, -1.0f, 0.0f}, m[3] = {0.1f, 0.0f, -0.2f}, v[3] = {0.01f, 0.0f, 0.04f};
  const double scale = 0.5, lr = 1e-3, step = 3;
  c.weight_decay = 0.1;
  double want[3];
  for (int i = 0; i < 3; i++) {
    double gi = g[i] * scale, mi = 0.9 * m[i] + 0.1 * gi, vi = 0.999 * v[i] + 0.001 * gi * gi;
    double mh = mi / (1 - pow(0.9, step + 1)), vh = vi / (1 - pow(0.999, step + 1));
    want[i] = p[i] * (1 - lr * 0.1) - lr * mh / (sqrt(vh) + 1e-8);
  }
  optim_adam(&c, (int64_t)step, lr, scale, 3, p, g, m, v);
  for (int i = 0; i < 3; i++) CHECK(fabs(p[i] - want[i]) < 1e-6, "p[%d] = %.8f, want %.8f", i, p[i], want[i]);
  return 0;
}

static int test_ema(void)
{
  float e[2] = {1.0f, 0.0f}, p[2] = {3.0f, -1.0f};
  optim_ema(0.75, 2, e, p);
  CHECK_CLOSE(e[0], 1.5, 1e-7);
  CHECK_CLOSE(e[1], -0.25, 1e-7);
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_warmup_constant_cosine);
  TH_RUN(test_final_decay);
  TH_RUN(test_adam_step);
  TH_RUN(test_ema);
  return TH_FINISH();
}
