/* prep_text.c: text8 cleaning and the symbol mapping (rules in prep_text.h). */
#include "prep/prep_text.h"
#include <string.h>

static const char *const digit_words[10] = {"zero", "one", "two",   "three", "four",
                                            "five", "six", "seven", "eight", "nine"};

void text_clean_init(text_cleaner *c)
{
  c->last_space = 1;
}

size_t text_clean_bound(size_t n)
{
  return 7 * n + 1;
}

/* Appends a space unless the previous output already ended in one. */
static inline size_t put_space(text_cleaner *c, char *out, size_t o)
{
  if (!c->last_space) {
    out[o++] = ' ';
    c->last_space = 1;
  }
  return o;
}

size_t text_clean(text_cleaner *c, const unsigned char *in, size_t n, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned ch = in[i];
    if (ch >= 'A' && ch <= 'Z') ch += 'a' - 'A';
    if (ch >= 'a' && ch <= 'z') {
      out[o++] = (char)ch;
      c->last_space = 0;
    } else if (ch >= '0' && ch <= '9') {
      const char *w = digit_words[ch - '0'];
      o = put_space(c, out, o);
      memcpy(out + o, w, strlen(w));
      o += strlen(w);
      c->last_space = 0;
      o = put_space(c, out, o);
    } else {
      o = put_space(c, out, o);
    }
  }
  return o;
}

size_t text_encode(const char *s, size_t n, uint8_t *sym)
{
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned ch = (unsigned char)s[i];
    if (ch >= 'a' && ch <= 'z')
      sym[i] = (uint8_t)(ch - 'a' + 1);
    else {
      sym[i] = 0;
      bad += ch != ' ';
    }
  }
  return bad;
}
