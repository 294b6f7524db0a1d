/* test_upscale.c: the integer upscale transitions against explicit small transition matrices
   (doc/method.md section 3): one-step matrices P^(j) compose to the cumulative P-bar^(j), stage
   values and digits reconstruct x, and the stage counts for K = 65536 match the paper. */
#include "harness.h"
#include "ardm/upscale.h"

static int test_stage_counts(void)
{
  const int bs[] = {2, 4, 16, 256, 65536}, S[] = {16, 8, 4, 2, 1};
  upscale   u;
  for (int i = 0; i < 5; i++) {
    CHECK(upscale_init(&u, 65536, bs[i]) == 0, "init b=%d", bs[i]);
    CHECK(u.S == S[i], "K=65536 b=%d: S=%d, paper says %d", bs[i], u.S, S[i]);
  }
  CHECK(upscale_init(&u, 27, 4) == 0 && u.S == 3, "K=27 b=4 gives S=%d", u.S);
  CHECK(upscale_init(&u, 256, 0) == 0 && u.S == 1 && u.b == 256, "b=0 means no upscaling");
  CHECK(upscale_init(&u, 16, 1) == -1, "b=1 rejected");
  return 0;
}

/* Explicit matrices: P^(j)[v][w] = 1 when w = floor(v/b^j)*b^j restricted to the image of the
   previous stage (w in the image of P-bar^(j-1)); check P^(1)...P^(j) == P-bar^(j). */
static int test_against_matrices(void)
{
  const int Ks[] = {16, 27, 16}, bs[] = {2, 4, 4};
  for (int c = 0; c < 3; c++) {
    upscale       u;
    int           K = Ks[c];
    static double cum[64][64], step[64][64], tmp[64][64];
    upscale_init(&u, K, bs[c]);
    for (int v = 0; v < K; v++)
      for (int w = 0; w < K; w++) cum[v][w] = v == w;
    for (int j = 1; j <= u.S; j++) {
      for (int v = 0; v < K; v++)
        for (int w = 0; w < K; w++) step[v][w] = (w == (int)(v / u.pw[j] * u.pw[j]));
      for (int v = 0; v < K; v++)
        for (int w = 0; w < K; w++) {
          tmp[v][w] = 0;
          for (int m = 0; m < K; m++) tmp[v][w] += cum[v][m] * step[m][w];
        }
      for (int v = 0; v < K; v++)
        for (int w = 0; w < K; w++) {
          cum[v][w] = tmp[v][w];
          CHECK(cum[v][w] == (w == upscale_pbar(&u, j, v)), "K=%d b=%d j=%d v=%d w=%d", K, u.b, j, v, w);
        }
    }
    /* after all S transitions everything is absorbed in state 0 */
    for (int v = 0; v < K; v++) CHECK(upscale_pbar(&u, u.S, v) == 0, "absorbed state of %d", v);
  }
  return 0;
}

static int test_digits_reconstruct(void)
{
  upscale u;
  upscale_init(&u, 65536, 16);
  for (int32_t x = 0; x < 65536; x += 37) {
    int32_t v = 0;
    for (int s = 0; s < u.S; s++) {
      CHECK(upscale_past(&u, s, x) == v, "x=%d stage %d: past %d != %d", x, s, upscale_past(&u, s, x), v);
      v = upscale_compose(&u, s, v, upscale_digit(&u, s, x));
      CHECK(v == upscale_future(&u, s, x), "x=%d stage %d", x, s);
      CHECK(upscale_digit(&u, s, x) < upscale_valid_digits(&u, s, upscale_past(&u, s, x)), "valid digit");
    }
    CHECK(v == x, "x=%d rebuilt as %d", x, v);
  }
  upscale_init(&u, 65536, 0);
  CHECK(upscale_unknown_input(&u, 0, 0) == 32768, "audio absorbing value %d", upscale_unknown_input(&u, 0, 0));
  upscale_init(&u, 256, 256);
  CHECK(upscale_unknown_input(&u, 0, 0) == 128, "image absorbing value");
  upscale_init(&u, 27, 4); /* stage 0 covers 0..63 but only 0..26 exist: digits 0, 1 */
  CHECK(upscale_valid_digits(&u, 0, 0) == 2, "K=27 b=4 stage 0 has %d valid digits", upscale_valid_digits(&u, 0, 0));
  CHECK(upscale_valid_digits(&u, 1, 16) == 3, "K=27 b=4 stage 1 past 16: %d", upscale_valid_digits(&u, 1, 16));
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_stage_counts);
  TH_RUN(test_against_matrices);
  TH_RUN(test_digits_reconstruct);
  return TH_FINISH();
}
