/* test_prep_text.c: text8 cleaning and the 27-symbol mapping (src/prep/prep_text.h).
   The expected strings follow from the rules in prep_text.h (lowercase; digits as words with
   spaces around; everything else a space; runs collapsed; no leading space). */
// ranks: 1
#include "harness.h"
#include "prep/prep_text.h"
#include "core/rng.h"
#include <stdlib.h>

/* Cleans s in one call into a static buffer (NUL-terminated). */
static const char *clean(const char *s)
{
  static char  out[256]; /* the inputs below are short: at most 7 bytes out per byte in */
  text_cleaner c;
  size_t       n;
  text_clean_init(&c);
  n = text_clean(&c, (const unsigned char *)s, strlen(s), out);
  out[n] = 0;
  return out;
}

#define CHECK_CLEAN(in, want)                                                                                          \
  CHECK(!strcmp(clean(in), want), "clean(\"%s\") = \"%s\", want \"%s\"", in, clean(in), want)

static int test_letters_case_punctuation(void)
{
  CHECK_CLEAN("Hello, World!", "hello world ");
  CHECK_CLEAN("ABCdefXYZ", "abcdefxyz");
  CHECK_CLEAN("it's a dog-eat-dog (world).", "it s a dog eat dog world ");
  CHECK_CLEAN("", "");
  CHECK_CLEAN("...!!!", "");
  return 0;
}

static int test_digits_spelled_out(void)
{
  CHECK_CLEAN("1984", "one nine eight four ");
  CHECK_CLEAN("abc123def", "abc one two three def");
  CHECK_CLEAN("x 7 y", "x seven y");
  CHECK_CLEAN("0 5 6", "zero five six ");
  CHECK_CLEAN("A2B", "a two b");
  return 0;
}

static int test_whitespace_runs(void)
{
  CHECK_CLEAN("   leading", "leading");
  CHECK_CLEAN("a \t\n\r\v\f  b", "a b");
  CHECK_CLEAN("a\n\nb\n", "a b ");
  return 0;
}

static int test_non_ascii_bytes(void)
{
  /* UTF-8 "café naïve – über" and raw high / control bytes: each non-ASCII byte is a space */
  CHECK_CLEAN("caf\xc3\xa9 na\xc3\xafve \xe2\x80\x93 \xc3\xbc"
              "ber",
              "caf na ve ber");
  CHECK_CLEAN("a\x01\x7f\xff"
              "b",
              "a b");
  return 0;
}

/* Properties on random bytes: only [a-z ] out, no double or leading space, idempotent, and
   feeding the input in pieces (every split point) gives the same as one call. */
static int test_random_properties(void)
{
  enum { N = 600 };
  unsigned char in[N];
  char          one[7 * N + 1], again[7 * N + 1], pieces[7 * N + 1];
  rng_stream    s;
  rng_init(&s, 7, 0, 0, RNG_MISC);
  for (int trial = 0; trial < 20; trial++) {
    text_cleaner c;
    size_t       n1, n2, np = 0;
    for (int i = 0; i < N; i++)
      in[i] = trial % 2 ? (unsigned char)rng_below(&s, 256) : (unsigned char)"aZ9 .,\n\xc3"[rng_below(&s, 9)];
    text_clean_init(&c);
    n1 = text_clean(&c, in, N, one);
    CHECK(n1 <= text_clean_bound(N), "output %zu above the bound", n1);
    for (size_t i = 0; i < n1; i++) {
      CHECK(one[i] == ' ' || (one[i] >= 'a' && one[i] <= 'z'), "byte %d at %zu", one[i], i);
      CHECK(!(one[i] == ' ' && (i == 0 || one[i - 1] == ' ')), "leading or double space at %zu", i);
    }
    text_clean_init(&c);
    n2 = text_clean(&c, (const unsigned char *)one, n1, again);
    CHECK(n2 == n1 && !memcmp(one, again, n1), "cleaning is not idempotent (trial %d)", trial);
    text_clean_init(&c);
    for (size_t at = 0, step = 1; at < N; at += step, step = step % 13 + 1) {
      size_t m = at + step > N ? N - at : step;
      np += text_clean(&c, in + at, m, pieces + np);
    }
    CHECK(np == n1 && !memcmp(one, pieces, n1), "piecewise cleaning differs (trial %d)", trial);
  }
  return 0;
}

static int test_encode_mapping(void)
{
  const char *alpha = TEXT_ALPHABET;
  uint8_t     sym[64];
  CHECK(strlen(alpha) == TEXT_K, "alphabet has %zu symbols", strlen(alpha));
  CHECK(text_encode(alpha, TEXT_K, sym) == 0, "the alphabet itself has bad symbols");
  for (int k = 0; k < TEXT_K; k++) CHECK(sym[k] == k, "symbol of '%c' is %d, want %d", alpha[k], sym[k], k);
  CHECK(sym[0] == 0 && sym[1] == 1 && sym[26] == 26, "space/a/z map to %d/%d/%d", sym[0], sym[1], sym[26]);
  CHECK(text_encode("a!B", 3, sym) == 2, "two bytes outside the alphabet");
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_letters_case_punctuation);
  TH_RUN(test_digits_spelled_out);
  TH_RUN(test_whitespace_runs);
  TH_RUN(test_non_ascii_bytes);
  TH_RUN(test_random_properties);
  TH_RUN(test_encode_mapping);
  return TH_FINISH();
}
