/* synth.c: the SC09-style spoken-digit synthesiser behind input/sc09/make.sh.
   Speaks "zero".."nine" with libespeak-ng (in-process: no process per clip) across many
   speakers (English voice x voice variant, each with its own base speed and pitch), and
   writes 1-second 16 kHz 16-bit mono WAV files (libsndfile) in the Speech Commands layout:
     OUT/<word>/<speaker>_nohash_<rep>.wav, OUT/validation_list.txt, OUT/testing_list.txt,
     OUT/speakers.txt (speaker id, voice, split, base speed, base pitch).
   Each clip: synthesis at espeak-ng's 22050 Hz -> windowed-sinc resampling to 16 kHz
   (src/prep/resample.c, the same code as `ardm prep -resample`) -> leading/trailing silence
   trimmed (40 dB below the peak) -> a quarter of the clips get a small Schroeder reverb ->
   placed at a random offset in exactly 16000 samples (never cut) -> a white, pink or brown
   noise floor 20..60 dB below the peak on the whole clip -> peak set to -1..-24 dBFS.
   Speakers are split disjointly: 10% test, 10% valid, the rest train.
   Every random draw comes from Philox streams (src/core/rng.c) keyed by (seed, what, index), and
   each speaker is spoken by a process forked from the freshly initialised engine, so the
   set depends only on the seed and the size, not on how many parts make it.
   Usage: synth OUTDIR SPEAKERS REPS SEED [PART PARTS]
     SPEAKERS: how many speakers (0 = all), REPS: takes of each word per speaker,
     PART/PARTS: make only the speakers k with k % PARTS == PART (for parallel runs; part 0
     also writes the lists). */
#include "prep/resample.h"
#include "core/rng.h"
#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RATE        16000
#define CLIP        16000 /* samples per clip: 1 s */
#define TRIM_DB     40.0  /* silence = below peak - 40 dB */
#define MARGIN      160   /* 10 ms kept around the trimmed word */
#define REVERB_PROB 0.25

static const char *const words[10] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};

/* English voices of espeak-ng (the MBROLA ones need extra packages and are left out). */
static const char *const voices[] = {"en",         "en-us",          "en-gb-scotland", "en-gb-x-gbclan",
                                     "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",         "en-us-nyc"};
/* Voice variants, without the robotic and joke ones (robosoft*, UniRobot, anikaRobot,
   Demonic, announcer, croak, whisper*, fast, Tweaky, RicishayMax*, Mr serious, Storm). */
static const char *const variants[] = {
    "m1",      "m2",      "m3",      "m4",       "m5",          "m6",      "m7",     "m8",     "f1",         "f2",
    "f3",      "f4",      "f5",      "klatt",    "klatt2",      "klatt3",  "klatt4", "klatt5", "klatt6",     "Alex",
    "Alicia",  "Andrea",  "Andy",    "Annie",    "AnxiousAndy", "Denis",   "Diogo",  "Gene",   "Gene2",      "Henrique",
    "Hugo",    "Jacky",   "Lee",     "Marco",    "Mario",       "Michael", "Mike",   "Nguyen", "adam",       "anika",
    "antonio", "aunty",   "belinda", "benjamin", "boris",       "caleb",   "david",  "ed",     "edward",     "edward2",
    "grandma", "grandpa", "gustave", "iven",     "iven2",       "iven3",   "iven4",  "john",   "kaukovalta", "linda",
    "marcelo", "max",     "michel",  "miguel",   "norbert",     "pablo",   "paul",   "pedro",  "quincy",     "rob",
    "robert",  "sandro",  "shelby",  "steph",    "steph2",      "steph3",  "travis", "victor", "zac"};
#define NVOICES   ((int)(sizeof voices / sizeof voices[0]))
#define NVARIANTS ((int)(sizeof variants / sizeof variants[0]))

typedef struct {
  char name[64]; /* voice+variant, as espeak-ng takes it */
  char id[16];   /* 8 hex digits, the "<speaker>" of the file names */
  int  split;    /* 0 train, 1 valid, 2 test */
  int  speed;    /* base words per minute */
  int  pitch;    /* base pitch 0..99 */
} speaker;

/* synthesis output collected by the callback */
static short  *syn_buf;
static int64_t syn_n, syn_cap;

static int on_audio(short *wav, int n, espeak_EVENT *ev)
{
  (void)ev;
  if (!wav || n <= 0) return 0;
  if (syn_n + n > syn_cap) {
    syn_cap = 2 * (syn_n + n);
    syn_buf = (short *)realloc(syn_buf, (size_t)syn_cap * sizeof(short));
    if (!syn_buf) return 1;
  }
  memcpy(syn_buf + syn_n, wav, (size_t)n * sizeof(short));
  syn_n += n;
  return 0;
}

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "synth: error: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static int irange(rng_stream *s, int lo, int hi)
{
  return lo + (int)rng_below(s, (uint64_t)(hi - lo + 1));
}
static double urange(rng_stream *s, double lo, double hi)
{
  return lo + (hi - lo) * rng_uniform(s);
}
static int clampi(int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* Speaks word into out[] at 16 kHz; returns the sample count. out holds 4 * CLIP. */
static int64_t speak(const speaker *sp, int speed, int pitch, const char *word, int rate_in, float *tmp, float *out)
{
  static char loaded[64];
  int64_t     n;
  if (strcmp(loaded, sp->name)) { /* loading a voice costs more than speaking a word */
    if (espeak_SetVoiceByName(sp->name) != EE_OK) die("espeak-ng cannot load voice", sp->name);
    snprintf(loaded, sizeof loaded, "%s", sp->name);
  }
  espeak_SetParameter(espeakRATE, speed, 0);
  espeak_SetParameter(espeakPITCH, pitch, 0);
  syn_n = 0;
  if (espeak_Synth(word, strlen(word) + 1, 0, POS_CHARACTER, 0, espeakCHARS_AUTO, NULL, NULL) != EE_OK ||
      espeak_Synchronize() != EE_OK || !syn_buf)
    die("espeak-ng synthesis failed for voice", sp->name);
  if (syn_n > 4 * CLIP) syn_n = 4 * CLIP; /* far more than a digit word ever takes */
  for (int64_t i = 0; i < syn_n; i++) tmp[i] = syn_buf[i] / 32768.0f;
  n = resample_length(syn_n, rate_in, RATE);
  if (n > 4 * CLIP) n = 4 * CLIP;
  resample_run(tmp, syn_n, rate_in, RATE, out, n);
  return n;
}

/* Leading/trailing silence removed in place (10 ms kept); returns the new length. */
static int64_t trim(float *x, int64_t n)
{
  double  peak = 0, thr;
  int64_t a = 0, b = n - 1;
  for (int64_t i = 0; i < n; i++) peak = fmax(peak, fabs(x[i]));
  if (peak == 0) return 0;
  thr = peak * pow(10, -TRIM_DB / 20);
  while (a < n && fabs(x[a]) < thr) a++;
  while (b > a && fabs(x[b]) < thr) b--;
  a = a > MARGIN ? a - MARGIN : 0;
  b = b + MARGIN < n - 1 ? b + MARGIN : n - 1;
  memmove(x, x + a, (size_t)(b - a + 1) * sizeof(float));
  return b - a + 1;
}

/* Schroeder reverb (4 parallel feedback combs + 2 series all-passes), wet/dry mix, over
   x[0..n+tail) where the tail x[n..n+tail) starts silent. Room scale and RT60 are drawn. */
static int64_t reverb(rng_stream *s, float *x, int64_t n, int64_t room_left)
{
  static const double comb_ms[4] = {29.7, 37.1, 41.1, 43.7}, ap_ms[2] = {5.0, 1.7};
  double              scale = urange(s, 0.5, 1.2), rt60 = urange(s, 0.15, 0.5), wet = urange(s, 0.1, 0.35);
  int64_t             tail = (int64_t)(rt60 * RATE), m;
  static float        comb[4][2048], ap[2][256], y[4 * CLIP];
  if (tail > room_left) tail = room_left;
  m = n + tail;
  for (int64_t i = n; i < m; i++) x[i] = 0;
  memset(y, 0, sizeof(float) * (size_t)m);
  for (int c = 0; c < 4; c++) { /* comb: y[i] = x[i - d] + g y[i - d], g from RT60 */
    int    d = (int)(comb_ms[c] * scale * RATE / 1000);
    double g = pow(10, -3.0 * d / (rt60 * RATE));
    memset(comb[c], 0, sizeof comb[c]);
    for (int64_t i = 0; i < m; i++) {
      float out = comb[c][i % d];
      comb[c][i % d] = (float)(x[i] + g * out);
      y[i] += out * 0.25f;
    }
  }
  for (int a = 0; a < 2; a++) { /* all-pass: v = y + g buf; out = buf - g v */
    int d = (int)(ap_ms[a] * RATE / 1000);
    memset(ap[a], 0, sizeof ap[a]);
    for (int64_t i = 0; i < m; i++) {
      float b = ap[a][i % d], v = (float)(y[i] + 0.7 * b);
      ap[a][i % d] = v;
      y[i] = (float)(b - 0.7 * v);
    }
  }
  for (int64_t i = 0; i < m; i++) x[i] = (float)((1 - wet) * x[i] + wet * y[i]);
  for (int64_t i = 0; i < 160 && i < tail; i++) x[m - 1 - i] *= (float)i / 160; /* 10 ms fade-out */
  return m;
}

/* Adds white, pink (Kellett's filter) or brown (leaky integrator) noise of the given RMS. */
static void add_noise(rng_stream *s, float *x, int type, double rms)
{
  static double nz[CLIP];
  double        b[7] = {0}, sum = 0;
  for (int i = 0; i < CLIP; i++) {
    double w = rng_normal(s), v = w;
    if (type == 1) {
      b[0] = 0.99886 * b[0] + w * 0.0555179;
      b[1] = 0.99332 * b[1] + w * 0.0750759;
      b[2] = 0.96900 * b[2] + w * 0.1538520;
      b[3] = 0.86650 * b[3] + w * 0.3104856;
      b[4] = 0.55000 * b[4] + w * 0.5329522;
      b[5] = -0.7616 * b[5] - w * 0.0168980;
      v = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
      b[6] = w * 0.115926;
    } else if (type == 2) {
      b[0] = 0.995 * b[0] + w;
      v = b[0];
    }
    nz[i] = v;
    sum += v * v;
  }
  double g = rms / sqrt(sum / CLIP + 1e-30);
  for (int i = 0; i < CLIP; i++) x[i] += (float)(g * nz[i]);
}

static void write_wav(const char *path, const float *x)
{
  static short q[CLIP];
  SF_INFO      info = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE     *f = sf_open(path, SFM_WRITE, &info);
  if (!f) die("cannot write", path);
  for (int i = 0; i < CLIP; i++) {
    double v = floor(x[i] * 32768.0 + 0.5);
    q[i] = (short)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
  }
  if (sf_writef_short(f, q, CLIP) != CLIP) die("short write", path);
  sf_close(f);
}

/* One clip: speaker sp says word w (take rep); all draws from the clip's own stream. */
static double word_ms_sum; /* trimmed word lengths, for the closing summary */

static void make_clip(const char *out, const speaker *sp, int w, int rep, uint64_t seed, int64_t idx, int rate_in)
{
  static float tmp[4 * CLIP], x[4 * CLIP], clip[CLIP];
  rng_stream   s;
  char         path[4096];
  int          speed, pitch, noise_type;
  int64_t      n, off;
  double       peak = 0, level_db, noise_db;

  rng_init(&s, seed, 2, (uint64_t)idx, RNG_DATA);
  srand(rng_u32(&s));
  speed = clampi(sp->speed + irange(&s, -20, 20), 120, 240);
  pitch = clampi(sp->pitch + irange(&s, -10, 10), 15, 85);
  level_db = urange(&s, -24, -1);
  noise_type = irange(&s, 0, 2);
  noise_db = urange(&s, 20, 60);
  for (;;) { /* a word too long for 1 s is said faster (never happens at these speeds) */
    n = trim(x, speak(sp, speed, pitch, words[w], rate_in, tmp, x));
    if (n <= CLIP - 2 * MARGIN || speed >= 400) break;
    speed += 40;
  }
  if (n <= 0 || n > CLIP) die("word does not fit in one second for voice", sp->name);
  word_ms_sum += 1000.0 * (double)n / RATE;
  if (rng_uniform(&s) < REVERB_PROB) n = reverb(&s, x, n, CLIP - n);
  for (int64_t i = 0; i < n; i++) peak = fmax(peak, fabs(x[i]));
  off = (int64_t)rng_below(&s, (uint64_t)(CLIP - n + 1));
  memset(clip, 0, sizeof clip);
  for (int64_t i = 0; i < n; i++) clip[off + i] = (float)(x[i] / peak * pow(10, level_db / 20));
  add_noise(&s, clip, noise_type, pow(10, (level_db - noise_db) / 20));
  peak = 0; /* the noise can lift the peak a little: set the level on the final clip */
  for (int i = 0; i < CLIP; i++) peak = fmax(peak, fabs(clip[i]));
  for (int i = 0; i < CLIP; i++) clip[i] = (float)(clip[i] / peak * pow(10, level_db / 20));
  snprintf(path, sizeof path, "%s/%s/%s_nohash_%d.wav", out, words[w], sp->id, rep);
  write_wav(path, clip);
}

static void make_speakers(speaker *sp, int nsp, uint64_t seed)
{
  int64_t    total = (int64_t)NVOICES * NVARIANTS, perm[NVOICES * NVARIANTS];
  int        ntest = (nsp + 5) / 10, nvalid = (nsp + 5) / 10;
  rng_stream s;
  if (nsp >= 3 && ntest < 1) ntest = nvalid = 1;
  rng_init(&s, seed, 0, 0, RNG_DATA);
  rng_permutation(&s, total, perm);
  for (int i = 0; i < nsp; i++) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of the name: a stable speaker id */
    int      v = (int)(perm[i] / NVARIANTS), k = (int)(perm[i] % NVARIANTS);
    snprintf(sp[i].name, sizeof sp[i].name, "%s+%s", voices[v], variants[k]);
    for (const char *p = sp[i].name; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    snprintf(sp[i].id, sizeof sp[i].id, "%08x", (unsigned)(h ^ (h >> 32)));
    sp[i].split = i < ntest ? 2 : i < ntest + nvalid ? 1 : 0;
    rng_init(&s, seed, 1, (uint64_t)i, RNG_DATA);
    sp[i].speed = irange(&s, 130, 220);
    sp[i].pitch = irange(&s, 20, 80);
  }
  for (int i = 0; i < nsp; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(sp[i].id, sp[j].id)) die("speaker id collision", sp[i].name);
}

static void write_lists(const char *out, const speaker *sp, int nsp, int reps)
{
  char  path[4096];
  FILE *f[3];
  snprintf(path, sizeof path, "%s/speakers.txt", out);
  if (!(f[0] = fopen(path, "w"))) die("cannot write", path);
  for (int i = 0; i < nsp; i++)
    fprintf(f[0], "%s %s %s %d %d\n", sp[i].id, sp[i].name,
            sp[i].split == 2 ? "test"
            : sp[i].split    ? "valid"
                             : "train",
            sp[i].speed, sp[i].pitch);
  fclose(f[0]);
  snprintf(path, sizeof path, "%s/validation_list.txt", out);
  if (!(f[1] = fopen(path, "w"))) die("cannot write", path);
  snprintf(path, sizeof path, "%s/testing_list.txt", out);
  if (!(f[2] = fopen(path, "w"))) die("cannot write", path);
  for (int w = 0; w < 10; w++)
    for (int i = 0; i < nsp; i++)
      for (int r = 0; r < reps; r++)
        if (sp[i].split) fprintf(f[sp[i].split], "%s/%s_nohash_%d.wav\n", words[w], sp[i].id, r);
  fclose(f[1]);
  fclose(f[2]);
}

int main(int argc, char **argv)
{
  const char *out;
  int         nsp, reps, part = 0, parts = 1, rate_in;
  uint64_t    seed;
  speaker    *sp;
  char        path[4096];
  int64_t     made = 0;

  if (argc != 5 && argc != 7) {
    fprintf(stderr, "usage: synth OUTDIR SPEAKERS REPS SEED [PART PARTS]\n");
    return 1;
  }
  out = argv[1];
  nsp = atoi(argv[2]);
  reps = atoi(argv[3]);
  seed = strtoull(argv[4], NULL, 10);
  if (argc == 7) part = atoi(argv[5]), parts = atoi(argv[6]);
  if (nsp <= 0 || nsp > NVOICES * NVARIANTS) nsp = NVOICES * NVARIANTS;
  if (reps < 1 || parts < 1 || part < 0 || part >= parts) die("bad arguments", NULL);
  if (!(sp = (speaker *)calloc((size_t)nsp, sizeof *sp))) die("out of memory", NULL);
  make_speakers(sp, nsp, seed);
  for (int w = 0; w < 10; w++) {
    snprintf(path, sizeof path, "%s/%s", out, words[w]);
    if (mkdir(path, 0777) && errno != EEXIST) die("cannot create", path);
  }
  if (part == 0) write_lists(out, sp, nsp, reps);
  rate_in = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT);
  if (rate_in <= 0) die("espeak-ng initialisation failed", NULL);
  espeak_SetSynthCallback(on_audio);
  for (int k = part; k < nsp; k += parts) {
    /* Each speaker is made in a child forked from the freshly initialised engine: espeak-ng
       keeps state from one utterance to the next (the word lengths change with what was
       said before), so this way a clip depends on its speaker's earlier takes only, and the
       set is the same for any PARTS. */
    int    fd[2], status;
    pid_t  pid;
    double ms = 0;
    if (pipe(fd) || (pid = fork()) < 0) die("cannot fork", strerror(errno));
    if (pid == 0) {
      close(fd[0]);
      word_ms_sum = 0;
      for (int w = 0; w < 10; w++)
        for (int r = 0; r < reps; r++) make_clip(out, &sp[k], w, r, seed, ((int64_t)k * 10 + w) * reps + r, rate_in);
      if (write(fd[1], &word_ms_sum, sizeof word_ms_sum) != (ssize_t)sizeof word_ms_sum) _exit(1);
      _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], &ms, sizeof ms) != (ssize_t)sizeof ms) ms = 0;
    close(fd[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
      die("failed for speaker", sp[k].name);
    word_ms_sum += ms;
    made += 10 * reps;
  }
  printf("synth part %d/%d: %lld clips, mean trimmed word length %.0f ms\n", part, parts, (long long)made,
         made ? word_ms_sum / (double)made : 0.0);
  espeak_Terminate();
  free(sp);
  free(syn_buf);
  return 0;
}
