/* test_prep_audio.c: the audio side of `ardm prep`: windowed-sinc resampling (resample.h),
   reading and shaping files through libsndfile (prep_wav.h: exact 16-bit values, padding,
   trimming, the bad-input verdicts, -convert and -resample), labels and speakers from
   paths, and the hashed speaker split (prep_list.h). Test files are written here with
   libsndfile into a temporary directory. */
// ranks: 1
#include "harness.h"
#include "prep/prep_list.h"
#include "prep/prep_wav.h"
#include "prep/resample.h"
#include "core/rng.h"
#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

static char         tmpdir[256];
static const double PI = 3.14159265358979323846;

/* Max |resampled - exact| for a sine of freq Hz (amplitude 0.5), away from both ends by
   the kernel's reach, and the RMS of the output there. */
static void sine_case(double rin, double rout, double freq, double *maxerr, double *rms)
{
  int64_t nin = (int64_t)rin / 2, nout = resample_length(nin, rin, rout), n = 0;
  float  *in = malloc(sizeof(float) * (size_t)nin), *out = malloc(sizeof(float) * (size_t)nout);
  double  ss = 0;
  for (int64_t i = 0; i < nin; i++) in[i] = (float)(0.5 * sin(2 * PI * freq * (double)i / rin));
  resample_run(in, nin, rin, rout, out, nout);
  *maxerr = 0;
  for (int64_t i = nout / 5; i < nout - nout / 5; i++, n++) { /* kernel reach: 32 / 0.95 input periods */
    double want = 0.5 * sin(2 * PI * freq * (double)i / rout);
    *maxerr = fmax(*maxerr, fabs(out[i] - want));
    ss += (double)out[i] * out[i];
  }
  *rms = sqrt(ss / (double)n);
  free(in);
  free(out);
}

static int test_resample_sines(void)
{
  double err, rms;
  CHECK(resample_length(22050, 22050, 16000) == 16000, "length %lld", (long long)resample_length(22050, 22050, 16000));
  CHECK(resample_length(8000, 8000, 16000) == 16000, "upsampling length");
  /* Pass band (well below the 0.95 roll-off): the Kaiser (beta 8.6) windowed sinc has
     ripple ~1e-5 and the table interpolation adds < 1e-5 (measured: ~5e-6), so 1e-4 of full
     scale separates correct from broken (a wrong time step or cut-off gives O(0.1) errors). */
  sine_case(22050, 16000, 440, &err, &rms);
  CHECK(err < 1e-4, "22050 -> 16000, 440 Hz: max error %g", err);
  sine_case(22050, 16000, 5000, &err, &rms);
  CHECK(err < 1e-4, "22050 -> 16000, 5 kHz: max error %g", err);
  sine_case(8000, 16000, 1000, &err, &rms);
  CHECK(err < 1e-4, "8000 -> 16000, 1 kHz: max error %g", err);
  sine_case(44100, 16000, 3000, &err, &rms);
  CHECK(err < 1e-4, "44100 -> 16000, 3 kHz: max error %g", err);
  /* Stop band: a 10 kHz tone cannot exist at 16 kHz; what is left is aliasing. The stop
     band of a beta 8.6 Kaiser window is about -90 dB (measured: -100 dB), so the residue must
     stay below -80 dB of the tone's RMS (0.35); without the low-pass it would be ~0.35. */
  sine_case(22050, 16000, 10000, &err, &rms);
  CHECK(rms < 3.5e-5, "10 kHz tone leaks through with RMS %g", rms);
  return 0;
}

static int write_file(const char *name, int format, int channels, int rate, const double *x, int64_t frames, char *path)
{
  SF_INFO  info = {.samplerate = rate, .channels = channels, .format = format};
  SNDFILE *f;
  snprintf(path, 512, "%s/%s", tmpdir, name);
  f = sf_open(path, SFM_WRITE, &info);
  if (!f) return 1;
  sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
  sf_writef_double(f, x, frames);
  sf_close(f);
  return 0;
}

/* A mono ramp of exact 16-bit values: sample i = (i * 37) % 65536 - 32768. */
static double ramp(int64_t i)
{
  return (double)((i * 37) % 65536 - 32768) / 32768.0;
}

static int test_read_exact_pad_trim(void)
{
  char       path[512], why[512];
  double    *x = malloc(sizeof(double) * 20000);
  uint16_t   y[1000];
  wav_reader r;
  for (int i = 0; i < 20000; i++) x[i] = ramp(i);
  wav_reader_init(&r, 16000, 1000, 0, 0);
  /* short clip: 600 exact samples then silence (32768) */
  CHECK(!write_file("short.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 16000, x, 600, path), "write");
  CHECK(wav_read(&r, path, y, why, sizeof why) == WAV_OK, "%s", why);
  for (int i = 0; i < 1000; i++) {
    int want = i < 600 ? (int)(ramp(i) * 32768.0) + 32768 : 32768;
    CHECK(y[i] == want, "short clip sample %d = %d, want %d", i, y[i], want);
  }
  /* long clip: the first 1000 samples */
  CHECK(!write_file("long.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 16000, x, 20000, path), "write");
  CHECK(wav_read(&r, path, y, why, sizeof why) == WAV_OK, "%s", why);
  for (int i = 0; i < 1000; i++) CHECK(y[i] == (int)(ramp(i) * 32768.0) + 32768, "long clip sample %d", i);
  /* FLAC, 16-bit: the same exact values */
  CHECK(!write_file("a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 16000, x, 1000, path), "write");
  CHECK(wav_read(&r, path, y, why, sizeof why) == WAV_OK, "%s", why);
  for (int i = 0; i < 1000; i++) CHECK(y[i] == (int)(ramp(i) * 32768.0) + 32768, "flac sample %d", i);
  wav_reader_free(&r);
  free(x);
  return 0;
}

static int test_read_bad_and_convert(void)
{
  char       path[512], why[512];
  double     x[2 * 800];
  uint16_t   y[800];
  wav_reader strict, conv, res;
  FILE      *f;
  for (int i = 0; i < 800; i++) x[2 * i] = x[2 * i + 1] = 0.25 * sin(i * 0.05);
  wav_reader_init(&strict, 16000, 800, 0, 0);
  wav_reader_init(&conv, 16000, 800, 0, 1);
  wav_reader_init(&res, 16000, 800, 1, 0);
  CHECK(!write_file("stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 16000, x, 800, path), "write");
  CHECK(wav_read(&strict, path, y, why, sizeof why) == WAV_BAD && strstr(why, "2 channels"), "stereo: %s", why);
  CHECK(wav_read(&conv, path, y, why, sizeof why) == WAV_OK, "stereo with -convert: %s", why);
  /* both channels hold the same signal: the average is that signal, to 16-bit rounding */
  for (int i = 0; i < 800; i++) CHECK(abs((int)y[i] - 32768 - (int)lround(x[2 * i] * 32768)) <= 1, "downmix at %d", i);
  CHECK(!write_file("u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1, 16000, x, 400, path), "write");
  CHECK(wav_read(&strict, path, y, why, sizeof why) == WAV_BAD && strstr(why, "8-bit"), "8-bit: %s", why);
  CHECK(wav_read(&conv, path, y, why, sizeof why) == WAV_OK, "8-bit with -convert: %s", why);
  CHECK(!write_file("f32.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 16000, x, 400, path), "write");
  CHECK(wav_read(&strict, path, y, why, sizeof why) == WAV_BAD && strstr(why, "float"), "float: %s", why);
  CHECK(!write_file("r8k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, x, 400, path), "write");
  CHECK(wav_read(&strict, path, y, why, sizeof why) == WAV_BAD && strstr(why, "8000 Hz"), "8 kHz: %s", why);
  CHECK(wav_read(&res, path, y, why, sizeof why) == WAV_OK, "8 kHz with -resample: %s", why);
  for (int i = 400 * 2 + 40; i < 800; i++) CHECK(y[i] == 32768, "resampled clip not padded at %d", i);
  snprintf(path, sizeof path, "%s/empty.wav", tmpdir);
  f = fopen(path, "w");
  fclose(f);
  CHECK(wav_read(&conv, path, y, why, sizeof why) == WAV_BAD && strstr(why, "not a readable"), "empty: %s", why);
  snprintf(path, sizeof path, "%s/text.wav", tmpdir);
  f = fopen(path, "w");
  fprintf(f, "this is not a RIFF file at all, just text pretending to be audio\n");
  fclose(f);
  CHECK(wav_read(&conv, path, y, why, sizeof why) == WAV_BAD, "not RIFF accepted");
  snprintf(path, sizeof path, "%s/missing.wav", tmpdir);
  CHECK(wav_read(&conv, path, y, why, sizeof why) == WAV_BAD, "missing file accepted");
  wav_reader_free(&strict);
  wav_reader_free(&conv);
  wav_reader_free(&res);
  return 0;
}

static int test_labels_and_speakers(void)
{
  char spk[64];
  CHECK(wav_label_from_path("data/zero/x.wav") == 0, "zero");
  CHECK(wav_label_from_path("/abs/seven/x_nohash_1.wav") == 7, "seven");
  CHECK(wav_label_from_path("nine/y.flac") == 9, "nine");
  CHECK(wav_label_from_path("x.wav") == -1, "no folder");
  CHECK(wav_label_from_path("zeroes/x.wav") == -1, "zeroes is not a digit word");
  CHECK(wav_label_from_path("yes/x.wav") == -1, "yes is not a digit word");
  CHECK(wav_label_from_path("seven/sub/x.wav") == -1, "only the parent folder counts");
  wav_speaker("zero/0a1b2c3d_nohash_3.wav", spk, sizeof spk);
  CHECK(!strcmp(spk, "0a1b2c3d"), "speaker '%s'", spk);
  wav_speaker("dir/foo.bar.flac", spk, sizeof spk);
  CHECK(!strcmp(spk, "foo.bar"), "speaker '%s'", spk);
  wav_speaker("noext", spk, sizeof spk);
  CHECK(!strcmp(spk, "noext"), "speaker '%s'", spk);
  return 0;
}

/* Hashed split: deterministic, speaker-level, and the shares near the requested ones: with
   n = 20000 speakers the count of a share p has standard deviation sqrt(n p (1 - p)) <= 71,
   so 5 standard deviations (355) is a test that a correct hash passes essentially always
   and a broken one (everything in one split, shares swapped) fails by thousands. */
static int test_hash_split(void)
{
  int  count[NSPLITS] = {0}, changed = 0;
  char name[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(name, sizeof name, "%08x", (unsigned)(i * 2654435761u));
    int s = file_list_hash_split(name, 0, 0.1, 0.2);
    CHECK(s == file_list_hash_split(name, 0, 0.1, 0.2), "not deterministic");
    changed += s != file_list_hash_split(name, 1, 0.1, 0.2);
    count[s]++;
  }
  CHECK(abs(count[SPLIT_VALID] - 2000) < 355, "valid %d of 20000, want about 2000", count[SPLIT_VALID]);
  CHECK(abs(count[SPLIT_TEST] - 4000) < 355, "test %d of 20000, want about 4000", count[SPLIT_TEST]);
  CHECK(changed > 1000, "the seed changes only %d assignments", changed);
  CHECK(file_list_hash_split("x", 3, 0, 0) == SPLIT_TRAIN, "zero shares give train");
  return 0;
}

int main(int argc, char **argv)
{
  int rc;
  TH_INIT(&argc, &argv);
  snprintf(tmpdir, sizeof tmpdir, "%s/ardm-prep-audio.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) return 2;
  TH_RUN(test_resample_sines);
  TH_RUN(test_read_exact_pad_trim);
  TH_RUN(test_read_bad_and_convert);
  TH_RUN(test_labels_and_speakers);
  TH_RUN(test_hash_split);
  rc = TH_FINISH();
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) rc = rc ? rc : 1;
  }
  return rc;
}
