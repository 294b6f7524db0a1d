/* prep_wav.h: one audio file -> one example for `ardm prep -format wav`, through libsndfile
   (WAV in all its variants, FLAC, and whatever else libsndfile reads).
   The expected input is mono 16-bit PCM at the target rate. Anything else is reported as a
   bad file with a one-line reason, unless -convert (any channel count is averaged to mono,
   any sample format is converted) or -resample (another rate is converted by windowed-sinc
   interpolation, resample.h) allow it. The example is int16 + 32768 (0 = -32768,
   32768 = silence), trimmed to the first `length` samples or padded at the end with 32768. */
#ifndef ARDM_PREP_WAV_H
#define ARDM_PREP_WAV_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int     sample_rate; /* target rate (Hz) */
  int64_t length;      /* samples per example */
  int     resample;    /* convert files at other rates instead of rejecting them */
  int     convert;     /* accept any channel count and sample format */
  /* scratch buffers, grown on demand and kept between files */
  short *sbuf;
  float *fbuf, *rbuf;
  size_t scap, fcap, rcap;
} wav_reader;

void wav_reader_init(wav_reader *r, int sample_rate, int64_t length, int resample, int convert);
void wav_reader_free(wav_reader *r);

enum { WAV_OK = 0, WAV_BAD = 1, WAV_NOMEM = 2 };
/* Reads PATH into x[length]. Returns WAV_OK, WAV_BAD with the reason in why[whylen] (not
   audio, empty, truncated, not mono, not 16-bit, other rate), or WAV_NOMEM. Never aborts on
   bad input. */
int wav_read(wav_reader *r, const char *path, uint16_t *x, char *why, size_t whylen);

/* The spoken digit of a path whose parent folder is a digit word ("zero" .. "nine"), or -1. */
int wav_label_from_path(const char *path);
/* The speaker of a Speech Commands file name "<speaker>_nohash_<n>.wav": the part of the
   base name before "_nohash_", else the base name without its extension. */
void wav_speaker(const char *path, char *speaker, size_t len);
#endif
