/* cmd_prep.c: `ardm prep`: raw data -> NetCDF data sets DIR/train.nc, valid.nc, test.nc
   (doc/formats.md "Data set").
   -format wav: audio files (directory tree or list file; prep_list.h) read through libsndfile
     (prep_wav.h), int16 + 32768 as NC_USHORT, K = 65536, label = spoken digit from the parent
     folder. Each rank reads a contiguous share of the sorted file list; the examples keep the
     list order, so the files are identical on any number of ranks.
   -format text: one text file, text8-cleaned (prep_text.h) and cut into chunks of -length
     symbols, K = 27, NC_UBYTE; valid and test are the contiguous tail blocks (text8 style).
     Several files (-in A,B,...) are each cut and split that way, and the splits concatenated.
   -format text8: the text8 file itself (one line of a-z and spaces, no cleaning): split by
     characters, the first 1 - valid_frac - test_frac of them train, then valid, then test (90M /
     5M / 5M for the 100M-character file at the default 0.05 / 0.05), each cut into chunks.
   -format png / cifar10: image data sets (prep_image.h), channel-planar, K = 256.
   -format markov: synthetic sequences from a Markov chain with a known entropy (prep_markov.h),
     for tests and benchmarks: -n train examples, and -valid_frac / -test_frac of that many for
     valid and test, each split from its own seed. */
#include "cmd/commands.h"
#include "core/opts.h"
#include "prep/prep_image.h"
#include "prep/prep_markov.h"
#include "prep/prep_text.h"
#include "prep/prep_wav.h"
#include "prep/prep_write.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTED 50 /* bad audio files listed by name per rank */

typedef struct {
  int       text;          /* -format text or text8 (else wav) */
  int       text8;         /* -format text8: already clean, split by characters */
  int       markov;        /* -format markov */
  int       png, cifar;    /* -format png, -format cifar10 */
  PetscInt  height, width; /* png: image size */
  PetscInt  n, classes;    /* markov: train examples, K */
  PetscInt  order;         /* markov: dim i depends on dim i - order */
  PetscReal p_stay, tau;   /* markov: chain parameters */
  char      in[PATH_MAX], out[PATH_MAX];
  char      valid_list[PATH_MAX], test_list[PATH_MAX];
  PetscInt  length, sample_rate, seed;
  PetscBool resample, convert, digits_only, on_bad_skip;
  PetscReal valid_frac, test_frac;
  PetscBool fracs_set; /* -valid_frac or -test_frac given */
} prep_opts;

static PetscErrorCode prep_options(MPI_Comm comm, prep_opts *o, PetscBool *help_only)
{
  static const char *const formats[] = {"wav", "text", "markov", "text8", "png", "cifar10"}, *const on_bad[] = {"error",
                                                                                                                "skip"};
  PetscInt  fmt = 0, bad = 0;
  PetscBool wav_only[7] = {PETSC_FALSE}, any_wav_only = PETSC_FALSE, vset = PETSC_FALSE, tset = PETSC_FALSE;

  PetscFunctionBegin;
  memset(o, 0, sizeof *o);
  PetscOptionsBegin(comm, NULL, "ardm prep: raw data -> NetCDF data sets DIR/train.nc, valid.nc, test.nc", NULL);
  PetscCall(opts_choice(PetscOptionsObject, "-format",
                        "input kind: wav (audio files), text (one text file, cleaned), markov (synthetic "
                        "Markov-chain sequences with a known entropy) or text8 (the clean 100M-character text8 "
                        "file: standard 90M/5M/5M split by characters), png (a directory of PNG images) or "
                        "cifar10 (the CIFAR-10 binary batches)",
                        formats, 6, &fmt, NULL));
  o->text = fmt == 1 || fmt == 3;
  o->text8 = fmt == 3;
  o->markov = fmt == 2;
  o->png = fmt == 4;
  o->cifar = fmt == 5;
  o->height = o->width = 32;
  if (o->png) {
    PetscCall(opts_int(PetscOptionsObject, "-height", "png: image height in pixels (every image must have it)",
                       &o->height, 1, 4096, NULL));
    PetscCall(opts_int(PetscOptionsObject, "-width", "png: image width in pixels (every image must have it)", &o->width,
                       1, 4096, NULL));
  }
  o->n = 512, o->classes = 4, o->p_stay = 0.7, o->tau = 0, o->order = 1;
  if (o->markov) {
    PetscCall(opts_int(PetscOptionsObject, "-n", "markov: training examples", &o->n, 1, 1 << 30, NULL));
    PetscCall(opts_int(PetscOptionsObject, "-classes", "markov: symbols K", &o->classes, 2, 65536, NULL));
    PetscCall(opts_real(PetscOptionsObject, "-p_stay",
                        "markov: probability of repeating the symbol -order dims back, 0..1", &o->p_stay, "[0,1]",
                        NULL));
    PetscCall(opts_int(PetscOptionsObject, "-order",
                       "markov: dim i depends on dim i - order (R interleaved first-order chains; 1 = the plain chain)",
                       &o->order, 1, 1 << 20, NULL));
    PetscCall(opts_real(PetscOptionsObject, "-tau",
                        "markov: jumps go to w ~ exp(-w/tau) (0: uniformly to another symbol)", &o->tau, "[0,inf)",
                        NULL));
  }
  PetscCall(PetscOptionsString("-in",
                               "wav: a directory tree of audio files or a list file (one path per line, "
                               "relative to the list's folder); text: a text file, or several as A,B,... (each source "
                               "is split 90/5/5 alike, so every split has the same mix); text8: the text8 file "
                               "(required)",
                               NULL, o->in, o->in, sizeof o->in, NULL));
  PetscCall(PetscOptionsString("-out",
                               "output directory for train.nc, valid.nc, test.nc; created if missing (required)", NULL,
                               o->out, o->out, sizeof o->out, NULL));
  o->length = o->markov ? 64 : o->text ? 250 : 16000;
  PetscCall(opts_int(PetscOptionsObject, "-length",
                     "dims per example: samples (wav, default 16000) or characters (text, default "
                     "250); 1..1073741824",
                     &o->length, 1, 1 << 30, NULL));
  o->valid_frac = o->text || o->png ? 0.05 : 0.1;
  o->test_frac = o->text || o->png ? 0.05 : 0.1;
  PetscCall(opts_real(PetscOptionsObject, "-valid_frac",
                      "share for valid, 0..1 (wav: of the speakers, hashed, only without split "
                      "lists, default 0.1; text: the tail block before test, default 0.05, of the chunks "
                      "(text) or of the characters (text8))",
                      &o->valid_frac, "[0,1)", &vset));
  PetscCall(opts_real(PetscOptionsObject, "-test_frac",
                      "share for test, 0..1, valid_frac + test_frac < 1 (wav default 0.1: hashed "
                      "speakers; text default 0.05: the last block)",
                      &o->test_frac, "[0,1)", &tset));
  o->fracs_set = vset || tset ? PETSC_TRUE : PETSC_FALSE;
  o->seed = 0;
  PetscCall(opts_int(PetscOptionsObject, "-seed", "wav: seed of the hashed speaker split, >= 0", &o->seed, 0,
                     PETSC_MAX_INT, NULL));
  o->sample_rate = 16000;
  PetscCall(opts_int(PetscOptionsObject, "-sample_rate",
                     "wav: sample rate in Hz, 1..768000; files at other rates are bad input "
                     "unless -resample",
                     &o->sample_rate, 1, 768000, &wav_only[0]));
  PetscCall(PetscOptionsBool("-resample",
                             "wav: convert files at other rates (windowed-sinc, Kaiser window, 32 zero "
                             "crossings)",
                             NULL, o->resample, &o->resample, &wav_only[1]));
  PetscCall(PetscOptionsBool("-convert",
                             "wav: accept any channel count (averaged to mono) and sample format "
                             "(8/24/32-bit, float); without it only mono 16-bit PCM is accepted",
                             NULL, o->convert, &o->convert, &wav_only[2]));
  PetscCall(opts_choice(PetscOptionsObject, "-on_bad",
                        "wav: a malformed or mismatching file (reported by name) stops the run "
                        "(error) or is left out (skip)",
                        on_bad, 2, &bad, &wav_only[3]));
  o->on_bad_skip = bad == 1 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscOptionsString("-valid_list",
                               "wav: list of relative paths that form valid (default: "
                               "validation_list.txt in a directory -in, when present)",
                               NULL, o->valid_list, o->valid_list, sizeof o->valid_list, &wav_only[4]));
  PetscCall(PetscOptionsString("-test_list",
                               "wav: list of relative paths that form test (default: testing_list.txt "
                               "in a directory -in, when present)",
                               NULL, o->test_list, o->test_list, sizeof o->test_list, &wav_only[5]));
  PetscCall(PetscOptionsBool("-digits_only", "wav: only files in folders zero..nine (SC09 out of Speech Commands)",
                             NULL, o->digits_only, &o->digits_only, &wav_only[6]));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "prep", help_only));
  if (*help_only) PetscFunctionReturn(0);

  for (int i = 0; i < 7; i++) any_wav_only = any_wav_only || wav_only[i];
  PetscCheck(!o->text || !any_wav_only, comm, ARDM_ERR_INPUT,
             "-sample_rate, -resample, -convert, -on_bad, -valid_list, -test_list and -digits_only apply to -format "
             "wav only");
  PetscCheck(!(o->png || o->cifar) || !any_wav_only, comm, ARDM_ERR_INPUT,
             "-sample_rate, -resample, -convert, -on_bad, -valid_list, -test_list and -digits_only apply to -format "
             "wav only");
  PetscCheck(!o->markov || !any_wav_only, comm, ARDM_ERR_INPUT,
             "-sample_rate, -resample, -convert, -on_bad, -valid_list, -test_list and -digits_only apply to -format "
             "wav only");
  PetscCheck(o->markov || o->in[0], comm, ARDM_ERR_INPUT, "missing -in: give the %s",
             o->text    ? "text file"
             : o->png   ? "directory of PNG images"
             : o->cifar ? "directory with the CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)"
                        : "directory of audio files or a list file");
  PetscCheck(o->valid_frac >= 0 && o->test_frac >= 0 && o->valid_frac + o->test_frac < 1, comm, ARDM_ERR_INPUT,
             "-valid_frac %g, -test_frac %g: expected shares >= 0 with a sum below 1", (double)o->valid_frac,
             (double)o->test_frac);
  PetscFunctionReturn(0);
}

/* Lists bad files by name on stderr (rank 0, in file order). Each rank sends its first
   MAX_REPORTED lines. */
static PetscErrorCode report_bad(MPI_Comm comm, const char *lines, int64_t nbad_total, PetscBool skip)
{
  PetscMPIInt rank, size, len = (PetscMPIInt)strlen(lines), *lens = NULL, *offs = NULL, total = 0;
  char       *all = NULL;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (rank == 0) {
    PetscCall(PetscCalloc2(size, &lens, size, &offs));
  }
  PetscCallMPI(MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, comm));
  if (rank == 0) {
    for (int r = 0; r < size; r++) {
      offs[r] = total;
      total += lens[r];
    }
    PetscCall(PetscMalloc1(total + 1, &all));
  }
  PetscCallMPI(MPI_Gatherv(lines, len, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, comm));
  if (rank == 0) {
    all[total] = 0;
    fprintf(stderr, "%s", all);
    if (skip)
      fprintf(stderr, "ardm prep: skipped %lld bad audio file%s (-on_bad skip)\n", (long long)nbad_total,
              nbad_total == 1 ? "" : "s");
    fflush(stderr);
    PetscCall(PetscFree2(lens, offs));
    PetscCall(PetscFree(all));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode print_split_summary(MPI_Comm comm, const prep_opts *o, const file_list *fl)
{
  PetscFunctionBegin;
  if (fl->from_lists)
    PetscCall(PetscPrintf(comm,
                          "ardm prep: splits from lists: valid %lld entries (%lld files matched), test %lld "
                          "entries (%lld matched); the other %lld files are train\n",
                          (long long)fl->list_entries[SPLIT_VALID], (long long)fl->list_matched[SPLIT_VALID],
                          (long long)fl->list_entries[SPLIT_TEST], (long long)fl->list_matched[SPLIT_TEST],
                          (long long)fl->list_matched[SPLIT_TRAIN]));
  if (fl->from_lists && o->fracs_set)
    PetscCall(PetscPrintf(comm, "ardm prep: note: -valid_frac/-test_frac are not used when split lists define the "
                                "splits\n"));
  if (!fl->from_lists)
    PetscCall(PetscPrintf(comm, "ardm prep: no split lists: speakers hashed with seed %d (valid %g, test %g)\n",
                          (int)o->seed, (double)o->valid_frac, (double)o->test_frac));
  PetscFunctionReturn(0);
}

static PetscErrorCode prep_audio(MPI_Comm comm, const prep_opts *o)
{
  file_list_opts lo = {o->in,        o->valid_list,     o->test_list,  o->valid_frac,
                       o->test_frac, (uint64_t)o->seed, o->digits_only};
  file_list      fl;
  wav_reader     rd;
  PetscMPIInt    rank, size;
  int64_t        D = o->length, lo_i, hi_i, kept = 0, nbad = 0, nbad_total, haslab = 0, nreported = 0;
  uint16_t      *x = NULL;
  int           *label = NULL, *split = NULL;
  int64_t       *rows = NULL;
  char          *lines = NULL, why[512];
  size_t         lines_used = 0, lines_cap = 0;
  prep_part      part[NSPLITS];
  prep_data      d;
  int            nomem = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(file_list_build(comm, &lo, &fl));
  PetscCall(print_split_summary(comm, o, &fl));
  lo_i = fl.n * rank / size;
  hi_i = fl.n * (rank + 1) / size;
  PetscCall(opts_check_memory(comm, "-length", (long long)D, (double)(hi_i - lo_i) * (double)D * sizeof(uint16_t)));
  PetscCall(ardm_alloc((size_t)((hi_i - lo_i) * D) * sizeof(uint16_t), &x)); /* x[files of this rank][D] */
  PetscCall(ardm_alloc((size_t)(hi_i - lo_i + 1) * sizeof(int), &label));
  PetscCall(ardm_alloc((size_t)(hi_i - lo_i + 1) * sizeof(int), &split));
  PetscCall(ardm_alloc((size_t)(hi_i - lo_i + 1) * sizeof(int64_t), &rows));
  wav_reader_init(&rd, (int)o->sample_rate, D, o->resample, o->convert);
  for (int64_t i = lo_i; i < hi_i && !nomem; i++) {
    int st = wav_read(&rd, fl.path[i], x + kept * D, why, sizeof why);
    if (st == WAV_NOMEM)
      nomem = 1;
    else if (st == WAV_BAD) {
      if (nreported++ < MAX_REPORTED) { /* "ardm prep: bad audio file PATH: WHY\n" */
        size_t need = strlen(fl.path[i]) + strlen(why) + 64;
        if (lines_used + need > lines_cap) {
          if (PetscRealloc(lines_cap = 2 * (lines_cap + need), &lines)) nomem = 1;
        }
        if (!nomem)
          lines_used += (size_t)snprintf(lines + lines_used, lines_cap - lines_used, "ardm prep: %s %s: %s\n",
                                         o->on_bad_skip ? "skipping" : "bad audio file", fl.path[i], why);
      }
      nbad++;
    } else {
      label[kept] = fl.label[i];
      split[kept] = fl.split[i];
      haslab |= fl.label[i] >= 0;
      kept++;
    }
  }
  wav_reader_free(&rd);
  PetscCheck(!nomem, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory reading audio files");
  PetscCallMPI(MPI_Allreduce(&nbad, &nbad_total, 1, MPI_INT64_T, MPI_SUM, comm));
  if (nbad_total) PetscCall(report_bad(comm, lines ? lines : "", nbad_total, o->on_bad_skip));
  PetscCall(PetscFree(lines));
  PetscCheck(!nbad_total || o->on_bad_skip, comm, ARDM_ERR_INPUT,
             "-in %s: %lld of %lld audio files are malformed or do not match the options (listed above); fix them, "
             "or leave them out with -on_bad skip",
             o->in, (long long)nbad_total, (long long)fl.n);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &haslab, 1, MPI_INT64_T, MPI_MAX, comm));

  /* this rank's rows of each split, in file order (rows[] is partitioned by split) */
  memset(part, 0, sizeof part);
  for (int64_t s = 0, at = 0; s < NSPLITS; s++) {
    part[s].rows = rows + at;
    for (int64_t r = 0; r < kept; r++)
      if (split[r] == s) rows[at + part[s].count++] = r;
    at += part[s].count;
  }
  PetscCall(prep_parts_sum(comm, part));
  PetscCheck(part[0].total + part[1].total + part[2].total > 0, comm, ARDM_ERR_INPUT,
             "-in %s: no usable audio files (all %lld were bad)", o->in, (long long)fl.n);
  PetscCall(PetscPrintf(comm, "ardm prep: %lld audio files -> train %lld, valid %lld, test %lld examples%s\n",
                        (long long)fl.n, (long long)part[0].total, (long long)part[1].total, (long long)part[2].total,
                        haslab ? " with digit labels" : ""));
  memset(&d, 0, sizeof d);
  d.D = D;
  d.K = 65536;
  d.has_label = haslab ? PETSC_TRUE : PETSC_FALSE;
  snprintf(d.attrs.modality, sizeof d.attrs.modality, "audio");
  d.attrs.sample_rate = (int)o->sample_rate;
  d.u16 = x;
  d.label = label;
  PetscCall(prep_write_sets(comm, o->out, &d, part));
  ardm_free(&x);
  ardm_free(&label);
  ardm_free(&split);
  ardm_free(&rows);
  file_list_free(&fl);
  PetscFunctionReturn(0);
}

/* Rank 0: reads and cleans the whole text file into *text (PetscMalloc'd); raw (text8) copies it
   as it is. Returns 0 or errno. */
static int read_clean(const char *path, int raw, char **text, int64_t *n, int64_t *nraw)
{
  FILE         *f = fopen(path, "rb");
  unsigned char buf[1 << 16];
  size_t        got, cap = 1 << 20;
  text_cleaner  c;
  int           err = 0;
  *n = *nraw = 0;
  *text = NULL;
  if (!f) return errno;
  text_clean_init(&c);
  if (PetscMalloc1(cap, text)) err = ENOMEM;
  while (!err && (got = fread(buf, 1, sizeof buf, f)) > 0) {
    if ((size_t)*n + text_clean_bound(got) > cap) {
      while ((size_t)*n + text_clean_bound(got) > cap) cap *= 2; /* also bounds a raw copy */
      if (PetscRealloc(cap, text)) err = ENOMEM;
    }
    if (!err && raw) memcpy(*text + *n, buf, got), *n += (int64_t)got;
    if (!err && !raw) *n += (int64_t)text_clean(&c, buf, got, *text + *n);
    *nraw += (int64_t)got;
  }
  if (!err && ferror(f)) err = EIO;
  fclose(f);
  return err;
}

#define MAX_SOURCES 64

/* Rank 0, -format text with -in A,B,...: reads and cleans every source, each cut to a whole
   number of chunks of L and appended to *text; nch[j] = chunks of source j. Returns 0 or errno
   (bad = the source that failed). A single source is read as a whole (its tail is left over). */
static int read_sources(const char *in, int raw, int64_t L, char **text, int64_t *n, int64_t *nraw, int64_t *nch,
                        int *nsrc, char *bad, size_t badlen)
{
  char  list[PATH_MAX], *save = NULL, *path;
  int   err = 0;
  char *all = NULL;
  *n = *nraw = 0;
  *nsrc = 0;
  snprintf(list, sizeof list, "%s", in);
  if (raw || !strchr(in, ',')) {
    snprintf(bad, badlen, "%s", in);
    err = read_clean(in, raw, text, n, nraw);
    nch[0] = *n / L;
    *nsrc = 1;
    return err;
  }
  for (path = strtok_r(list, ",", &save); path && !err; path = strtok_r(NULL, ",", &save)) {
    char   *t = NULL, *grown;
    int64_t m, mraw;
    snprintf(bad, badlen, "%s", path);
    if (*nsrc == MAX_SOURCES) return E2BIG;
    if ((err = read_clean(path, 0, &t, &m, &mraw))) break;
    nch[*nsrc] = m / L;
    m = nch[*nsrc] * L;
    if (!(grown = (char *)realloc(all, (size_t)(*n + m + 1)))) err = ENOMEM;
    if (!err) memcpy(grown + *n, t, (size_t)m), all = grown, *n += m, *nraw += mraw, (*nsrc)++;
    free(t);
  }
  if (err) free(all), all = NULL;
  *text = all;
  return err;
}

static PetscErrorCode prep_text(MPI_Comm comm, const prep_opts *o)
{
  PetscMPIInt rank, size;
  char       *text = NULL;
  int64_t     n = 0, nraw = 0, L = o->length, nchunks, count[NSPLITS], first[NSPLITS], hdr[4];
  int64_t     nch[MAX_SOURCES], scount[MAX_SOURCES][NSPLITS], sfirst[MAX_SOURCES][NSPLITS], at = 0;
  int         err = 0, nsrc = 1;
  char        bad[PATH_MAX];
  uint8_t    *sym = NULL;
  int64_t    *rows = NULL;
  prep_part   part[NSPLITS];
  prep_data   d;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (rank == 0 && (err = read_sources(o->in, o->text8, L, &text, &n, &nraw, nch, &nsrc, bad, sizeof bad))) free(text);
  ArdmCheckAll(comm, !err, "-in %s: cannot read the text file: %s", bad,
               err == E2BIG ? "more than 64 comma-separated sources" : strerror(err));
  hdr[2] = -1; /* text8: the first byte outside a-z and space (a final newline is dropped) */
  if (rank == 0 && o->text8) {
    if (n > 0 && text[n - 1] == '\n') n--;
    for (int64_t i = 0; i < n && hdr[2] < 0; i++)
      if (text[i] != ' ' && (text[i] < 'a' || text[i] > 'z')) hdr[2] = i;
  }
  hdr[0] = n;
  hdr[1] = nraw;
  hdr[3] = nsrc;
  PetscCallMPI(MPI_Bcast(hdr, 4, MPI_INT64_T, 0, comm));
  n = hdr[0];
  nraw = hdr[1];
  nsrc = (int)hdr[3];
  PetscCallMPI(MPI_Bcast(nch, nsrc, MPI_INT64_T, 0, comm));
  if (hdr[2] >= 0) free(text);
  PetscCheck(hdr[2] < 0, comm, ARDM_ERR_INPUT,
             "-in %s: byte %lld is not a-z or space; -format text8 takes the clean text8 file (use -format text to "
             "clean other text)",
             o->in, (long long)hdr[2]);
  nchunks = n / L;
  PetscCheck(nchunks >= 1, comm, ARDM_ERR_INPUT,
             "-in %s: %lld characters after text8 cleaning (%lld bytes read); -length %lld needs at least that many",
             o->in, (long long)n, (long long)nraw, (long long)L);
  /* every rank gets the cleaned text as symbols (the broadcast goes in pieces below 2^31) */
  PetscCall(ardm_alloc((size_t)n, &sym));
  if (rank == 0) text_encode(text, (size_t)n, sym);
  free(text);
  for (int64_t pos = 0; pos < n; pos += 1 << 30) {
    int64_t m = n - pos < (1 << 30) ? n - pos : (1 << 30);
    PetscCallMPI(MPI_Bcast(sym + pos, (PetscMPIInt)m, MPI_UINT8_T, 0, comm));
  }
  /* contiguous blocks: train, then valid, then test (the leftover characters are dropped) */
  if (o->text8) {
    /* by characters: train [0, a), valid [a, b), test [b, n) with b = n - test_frac n and
       a = b - valid_frac n; each split takes the whole chunks (at multiples of L) inside its
       range. For 10^8 characters and L = 250 that is exactly 90M / 5M / 5M. */
    int64_t e[NSPLITS + 1];
    e[3] = n;
    e[2] = n - (int64_t)(o->test_frac * (double)n + 0.5);
    e[1] = e[2] - (int64_t)(o->valid_frac * (double)n + 0.5);
    e[0] = 0;
    for (int s = 0; s < NSPLITS; s++) {
      first[s] = (e[s] + L - 1) / L;
      count[s] = e[s + 1] / L > first[s] ? e[s + 1] / L - first[s] : 0;
    }
    for (int s = 0; s < NSPLITS; s++) scount[0][s] = count[s], sfirst[0][s] = first[s];
  } else {
    /* every source is split the same way (train, valid, test: contiguous blocks of its own
       chunks), so every split has the same mix of sources */
    int64_t src0 = 0; /* the source's first chunk */
    for (int j = 0; j < nsrc; j++) {
      scount[j][SPLIT_TEST] = (int64_t)(o->test_frac * (double)nch[j]);
      scount[j][SPLIT_VALID] = (int64_t)(o->valid_frac * (double)nch[j]);
      scount[j][SPLIT_TRAIN] = nch[j] - scount[j][SPLIT_VALID] - scount[j][SPLIT_TEST];
      sfirst[j][SPLIT_TRAIN] = src0;
      sfirst[j][SPLIT_VALID] = src0 + scount[j][SPLIT_TRAIN];
      sfirst[j][SPLIT_TEST] = sfirst[j][SPLIT_VALID] + scount[j][SPLIT_VALID];
      src0 += nch[j];
    }
  }
  /* rows in split order: split s lists source 0's block s, then source 1's, ... */
  PetscCall(ardm_alloc((size_t)(nchunks + 1) * sizeof(int64_t), &rows));
  for (int s = 0; s < NSPLITS; s++) {
    first[s] = at;
    count[s] = 0;
    for (int j = 0; j < nsrc; j++)
      for (int64_t k = 0; k < scount[j][s]; k++) rows[at++] = sfirst[j][s] + k, count[s]++;
  }
  memset(part, 0, sizeof part);
  for (int s = 0; s < NSPLITS; s++) { /* this rank's contiguous share of each split */
    int64_t a = count[s] * rank / size, b = count[s] * (rank + 1) / size;
    part[s].count = b - a;
    part[s].rows = rows + first[s] + a;
  }
  PetscCall(prep_parts_sum(comm, part));
  PetscCall(PetscPrintf(comm,
                        "ardm prep: %s: %lld bytes -> %lld characters%s -> %lld chunks of %lld (%d source%s, each "
                        "split alike): "
                        "train %lld, valid %lld, test %lld (%lld characters left over)\n",
                        o->in, (long long)nraw, (long long)n, o->text8 ? "" : " after cleaning",
                        (long long)(count[0] + count[1] + count[2]), (long long)L, nsrc, nsrc > 1 ? "s" : "",
                        (long long)count[0], (long long)count[1], (long long)count[2],
                        (long long)(n - (count[0] + count[1] + count[2]) * L)));
  memset(&d, 0, sizeof d);
  d.D = L;
  d.K = TEXT_K;
  snprintf(d.attrs.modality, sizeof d.attrs.modality, "text");
  snprintf(d.attrs.alphabet, sizeof d.attrs.alphabet, "%s", TEXT_ALPHABET);
  d.u8 = sym;
  PetscCall(prep_write_sets(comm, o->out, &d, part));
  ardm_free(&sym);
  ardm_free(&rows);
  PetscFunctionReturn(0);
}

/* Synthetic train/valid/test sets, each from its own seed (seed, seed + 1, seed + 2). */
static PetscErrorCode prep_markov(MPI_Comm comm, const prep_opts *o)
{
  const char *const splits[] = {"train", "valid", "test"};
  int64_t           n[3] = {o->n, (int64_t)(o->n * o->valid_frac + 0.5), (int64_t)(o->n * o->test_frac + 0.5)};
  PetscMPIInt       size;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(
      opts_check_memory(comm, "-n", (long long)o->n, ((double)o->n / size + 1) * (double)o->length * sizeof(int32_t)));
  for (int s = 0; s < 3; s++) {
    char path[PATH_MAX + 16];
    if (!n[s]) continue;
    snprintf(path, sizeof path, "%s/%s.nc", o->out, splits[s]);
    PetscCall(markov_write(comm, path, splits[s], n[s], o->length, (int)o->classes, o->p_stay, o->tau, (int)o->order,
                           (uint64_t)o->seed + (uint64_t)s));
    PetscCall(PetscPrintf(comm, "ardm prep: wrote %s: %lld sequences x %lld dims, K = %d, entropy %.6f bits/dim\n",
                          path, (long long)n[s], (long long)o->length, (int)o->classes,
                          markov_entropy_bpd((int)o->classes, o->length, o->p_stay, o->tau, (int)o->order)));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_prep(int npos, char **pos)
{
  MPI_Comm  comm = PETSC_COMM_WORLD;
  prep_opts o;
  PetscBool help_only;

  PetscFunctionBegin;
  PetscCheck(npos == 0, comm, ARDM_ERR_INPUT, "unexpected argument '%s': ardm prep takes options only (see -help)",
             npos ? pos[0] : "");
  PetscCall(prep_options(comm, &o, &help_only));
  if (help_only) PetscFunctionReturn(0);
  PetscCall(prep_out_dir(comm, o.out));
  if (o.png || o.cifar) {
    prep_image_opts io = {.in = o.in,
                          .out = o.out,
                          .height = (int)o.height,
                          .width = (int)o.width,
                          .valid_frac = o.valid_frac,
                          .test_frac = o.test_frac,
                          .seed = (uint64_t)o.seed};
    if (o.png)
      PetscCall(prep_png(comm, &io));
    else
      PetscCall(prep_cifar10(comm, &io));
  } else if (o.markov)
    PetscCall(prep_markov(comm, &o));
  else if (o.text)
    PetscCall(prep_text(comm, &o));
  else
    PetscCall(prep_audio(comm, &o));
  PetscFunctionReturn(0);
}
