/* prep_wav.c: reading, checking and shaping audio files for `ardm prep` (see prep_wav.h). */
#include "prep/prep_wav.h"
#include "core/ardm.h"
#include "prep/resample.h"
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const digit_words[10] = {"zero", "one", "two",   "three", "four",
                                            "five", "six", "seven", "eight", "nine"};

void wav_reader_init(wav_reader *r, int sample_rate, int64_t length, int resample, int convert)
{
  memset(r, 0, sizeof *r);
  r->sample_rate = sample_rate;
  r->length = length;
  r->resample = resample;
  r->convert = convert;
}

void wav_reader_free(wav_reader *r)
{
  (void)PetscFree(r->sbuf);
  (void)PetscFree(r->fbuf);
  (void)PetscFree(r->rbuf);
  memset(r, 0, sizeof *r);
}

/* Makes *buf hold at least n elements of size sz. */
static int grow(void **buf, size_t *cap, size_t n, size_t sz)
{
  if (n <= *cap) return 0;
  if (PetscRealloc(n * sz, buf)) return 1;
  *cap = n;
  return 0;
}

static const char *subformat_name(int format)
{
  switch (format & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_PCM_S8:
    return "8-bit signed PCM";
  case SF_FORMAT_PCM_U8:
    return "8-bit unsigned PCM";
  case SF_FORMAT_PCM_16:
    return "16-bit PCM";
  case SF_FORMAT_PCM_24:
    return "24-bit PCM";
  case SF_FORMAT_PCM_32:
    return "32-bit PCM";
  case SF_FORMAT_FLOAT:
    return "32-bit float";
  case SF_FORMAT_DOUBLE:
    return "64-bit float";
  case SF_FORMAT_ULAW:
    return "u-law";
  case SF_FORMAT_ALAW:
    return "A-law";
  case SF_FORMAT_IMA_ADPCM:
  case SF_FORMAT_MS_ADPCM:
    return "ADPCM";
  case SF_FORMAT_VORBIS:
    return "Vorbis";
  default:
    return "a non-16-bit sample format";
  }
}

/* Input frames needed for `length` output samples: all of them without resampling, else up
   to the last output's time plus the interpolation kernel's reach (32 zero crossings at the
   lower rate's cut-off, see resample.c) with a margin. */
static int64_t frames_needed(const wav_reader *r, double rate_in)
{
  if (!r->resample || rate_in == r->sample_rate) return r->length;
  double step = rate_in / r->sample_rate;
  return (int64_t)ceil(((double)r->length + 40.0 * (step > 1 ? step : 1.0) / 0.95) * step) + 8;
}

static inline uint16_t to_u16(float v)
{
  double s = floor((double)v * 32768.0 + 0.5);
  if (s > 32767) s = 32767;
  if (s < -32768) s = -32768;
  return (uint16_t)((int)s + 32768);
}

/* The general path: any channel count and sample format, any rate, via floats in [-1, 1]. */
static int read_float(wav_reader *r, SNDFILE *f, const SF_INFO *info, int64_t m, uint16_t *x, int64_t *nout, char *why,
                      size_t whylen)
{
  int     ch = info->channels;
  int64_t got, n;
  if (grow((void **)&r->fbuf, &r->fcap, (size_t)(m * ch), sizeof(float))) return WAV_NOMEM;
  got = sf_readf_float(f, r->fbuf, m);
  if (got < m) {
    snprintf(why, whylen, "truncated: read %lld of %lld frames", (long long)got, (long long)m);
    return WAV_BAD;
  }
  if (ch > 1) /* average the channels into fbuf[0..m) */
    for (int64_t i = 0; i < m; i++) {
      double s = 0;
      for (int c = 0; c < ch; c++) s += r->fbuf[i * ch + c];
      r->fbuf[i] = (float)(s / ch);
    }
  const float *mono = r->fbuf;
  n = m;
  if (info->samplerate != r->sample_rate) {
    n = resample_length(info->frames, info->samplerate, r->sample_rate);
    if (n > r->length) n = r->length;
    if (grow((void **)&r->rbuf, &r->rcap, (size_t)(n > 0 ? n : 1), sizeof(float))) return WAV_NOMEM;
    resample_run(r->fbuf, m, info->samplerate, r->sample_rate, r->rbuf, n);
    mono = r->rbuf;
  }
  for (int64_t i = 0; i < n; i++) x[i] = to_u16(mono[i]);
  *nout = n;
  return WAV_OK;
}

int wav_read(wav_reader *r, const char *path, uint16_t *x, char *why, size_t whylen)
{
  SF_INFO  info;
  SNDFILE *f;
  int64_t  m, n = 0;
  int      sub, st = WAV_OK;

  memset(&info, 0, sizeof info);
  f = sf_open(path, SFM_READ, &info);
  if (!f) {
    snprintf(why, whylen, "not a readable audio file (libsndfile: %s)", sf_strerror(NULL));
    return WAV_BAD;
  }
  sub = info.format & SF_FORMAT_SUBMASK;
  if (info.frames <= 0 || info.channels <= 0) {
    snprintf(why, whylen, "has no audio samples");
    st = WAV_BAD;
  } else if (info.channels != 1 && !r->convert) {
    snprintf(why, whylen, "has %d channels; mono expected (-convert averages them)", info.channels);
    st = WAV_BAD;
  } else if (sub != SF_FORMAT_PCM_16 && !r->convert) {
    snprintf(why, whylen, "is %s; 16-bit PCM expected (-convert accepts it)", subformat_name(info.format));
    st = WAV_BAD;
  } else if (info.samplerate != r->sample_rate && !r->resample) {
    snprintf(why, whylen, "is at %d Hz; -sample_rate %d expected (-resample converts it)", info.samplerate,
             r->sample_rate);
    st = WAV_BAD;
  }
  if (st != WAV_OK) {
    sf_close(f);
    return st;
  }
  m = frames_needed(r, info.samplerate);
  if (m > info.frames) m = info.frames;
  if (info.channels == 1 && sub == SF_FORMAT_PCM_16 && info.samplerate == r->sample_rate) {
    /* the normal case: exact 16-bit samples, no conversion */
    int64_t got;
    if (grow((void **)&r->sbuf, &r->scap, (size_t)m, sizeof(short)))
      st = WAV_NOMEM;
    else if ((got = sf_readf_short(f, r->sbuf, m)) < m) {
      snprintf(why, whylen, "truncated: read %lld of %lld frames", (long long)got, (long long)m);
      st = WAV_BAD;
    } else {
      for (int64_t i = 0; i < m; i++) x[i] = (uint16_t)(r->sbuf[i] + 32768);
      n = m;
    }
  } else {
    st = read_float(r, f, &info, m, x, &n, why, whylen);
  }
  sf_close(f);
  if (st != WAV_OK) return st;
  for (int64_t i = n; i < r->length; i++) x[i] = 32768; /* pad with silence */
  return WAV_OK;
}

int wav_label_from_path(const char *path)
{
  const char *end = strrchr(path, '/'), *start;
  size_t      len;
  if (!end) return -1;
  for (start = end; start > path && start[-1] != '/'; start--) {
  }
  len = (size_t)(end - start);
  for (int d = 0; d < 10; d++)
    if (strlen(digit_words[d]) == len && !strncmp(start, digit_words[d], len)) return d;
  return -1;
}

void wav_speaker(const char *path, char *speaker, size_t len)
{
  const char *base = strrchr(path, '/'), *cut;
  size_t      n;
  base = base ? base + 1 : path;
  cut = strstr(base, "_nohash_");
  if (!cut) cut = strrchr(base, '.');
  n = cut ? (size_t)(cut - base) : strlen(base);
  if (n == 0) n = strlen(base); /* a name like ".wav" or "_nohash_1.wav": keep it whole */
  if (n >= len) n = len - 1;
  memcpy(speaker, base, n);
  speaker[n] = 0;
}
