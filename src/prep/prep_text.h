/* prep_text.h: text8-style cleaning and the 27-symbol text alphabet.
   Cleaning (as Matt Mahoney's text8 script): upper case is lowered; each digit becomes its
   English word with a space on either side ("1984" -> " one nine eight four "); every other
   byte (punctuation, white space, control and all non-ASCII bytes) becomes a space; runs of
   spaces collapse to one and leading spaces are dropped.
   Symbol mapping (K = 27, stored as NC_UBYTE): ' ' -> 0, 'a' -> 1, ..., 'z' -> 26, i.e. the
   index into TEXT_ALPHABET. */
#ifndef ARDM_PREP_TEXT_H
#define ARDM_PREP_TEXT_H
#include <stddef.h>
#include <stdint.h>

#define TEXT_ALPHABET " abcdefghijklmnopqrstuvwxyz"
#define TEXT_K        27

/* Streaming cleaner: feed the input in pieces of any size; the result is the same as one call
   on the concatenation. */
typedef struct {
  int last_space; /* the last character written was a space (or nothing written yet) */
} text_cleaner;

void text_clean_init(text_cleaner *c);
/* Cleans in[n] into out; out must hold text_clean_bound(n) bytes. Returns bytes written. */
size_t text_clean(text_cleaner *c, const unsigned char *in, size_t n, char *out);
/* Worst case output size for n input bytes (a digit expands to " seven ": 7 bytes). */
size_t text_clean_bound(size_t n);

/* Maps cleaned characters to symbols 0..26 in place of sym[n]; returns the number of bytes
   that were not in the alphabet (0 for text_clean output; they map to 0). */
size_t text_encode(const char *s, size_t n, uint8_t *sym);
#endif
