/* cmd_export.c: `ardm export`: samples or data sets -> files people can listen to or read:
   -format wav writes DIR/<name>_<i>.wav (16-bit PCM at the file's sample rate, through
   libsndfile; audio values are int16 + 32768, other K are scaled to the int16 range);
   -format txt writes DIR/<name>.txt with one example per line through the alphabet. Ranks
   split the examples for WAV files; text is gathered on rank 0. */
#include "cmd/commands.h"
#include "core/ncio.h"
#include "core/opts.h"
#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  char     in[PATH_MAX], out[PATH_MAX], name[64];
  PetscInt max, wav;
} export_options;

static PetscErrorCode process_options(MPI_Comm comm, export_options *o, PetscBool *help)
{
  static const char *const formats[] = {"txt", "wav"};
  PetscInt                 f = 1;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->out, sizeof o->out, "samples");
  snprintf(o->name, sizeof o->name, "sample");
  PetscOptionsBegin(comm, NULL, "ardm export: samples or data sets -> WAV / text files", "export");
  PetscCall(opts_choice(PetscOptionsObject, "-format", "output format", formats, 2, &f, NULL));
  PetscCall(PetscOptionsString("-in", "samples or data set file", "", o->in, o->in, sizeof o->in, NULL));
  PetscCall(PetscOptionsString("-out", "output directory (created)", "", o->out, o->out, sizeof o->out, NULL));
  PetscCall(PetscOptionsString("-name", "file name prefix", "", o->name, o->name, sizeof o->name, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-max", "export at most this many examples (0 = all)", &o->max, 0,
                     PETSC_MAX_INT, NULL));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "export", help));
  o->wav = f == 1;
  PetscCheck(*help || o->in[0], comm, ARDM_ERR_INPUT, "-in FILE is required (a samples or data set file)");
  PetscFunctionReturn(0);
}

static PetscErrorCode write_wav(const char *path, const int32_t *x, int64_t D, int K, int rate)
{
  SF_INFO  info = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE *sf;
  short    buf[4096];
  PetscFunctionBegin;
  sf = sf_open(path, SFM_WRITE, &info);
  PetscCheck(sf, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot write (%s)", path, sf_strerror(NULL));
  for (int64_t i0 = 0; i0 < D; i0 += 4096) {
    int64_t n = PetscMin(4096, D - i0);
    for (int64_t i = 0; i < n; i++) {
      int32_t v = x[i0 + i];
      buf[i] = (short)(K == 65536 ? v - 32768 : (int32_t)((double)v / (K - 1) * 65535.0) - 32768);
    }
    sf_writef_short(sf, buf, n);
  }
  sf_close(sf);
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_export(int npos, char **pos)
{
  MPI_Comm       comm = PETSC_COMM_WORLD;
  PetscMPIInt    rank, size;
  export_options o;
  PetscBool      help, has;
  ncio_file      f;
  char           kind[32], alphabet[128] = "", dimname[NC_MAX_NAME + 1];
  int64_t        K, rate = 16000, n, D, lo, hi;
  int            vx, dimids[2];
  size_t         len[2];
  int32_t       *x;

  PetscFunctionBegin;
  PetscCall(process_options(comm, &o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos == 0, comm, ARDM_ERR_INPUT, "unexpected argument '%s' (options start with -)", pos[0]);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(ncio_open(comm, o.in, NULL, &f));
  PetscCall(ncio_get_att_text(&f, NC_GLOBAL, "ardm_kind", kind, sizeof kind));
  PetscCheck(!strcmp(kind, "samples") || !strcmp(kind, "dataset"), comm, ARDM_ERR_INPUT,
             "%s: is an ardm '%s' file, expected samples or dataset", o.in, kind);
  PetscCall(ncio_var(&f, "x", 2, NULL, 0, NULL, &vx, NULL));
  NCCall(&f, nc_inq_vardimid(f.ncid, vx, dimids));
  for (int i = 0; i < 2; i++) NCCall(&f, nc_inq_dim(f.ncid, dimids[i], dimname, &len[i]));
  n = (int64_t)len[0], D = (int64_t)len[1];
  if (o.max) n = PetscMin(n, o.max);
  PetscCall(ncio_get_att_int(&f, NC_GLOBAL, "num_classes", &K));
  PetscCall(ncio_has_att(&f, NC_GLOBAL, "sample_rate", &has));
  if (has) PetscCall(ncio_get_att_int(&f, NC_GLOBAL, "sample_rate", &rate));
  PetscCall(ncio_has_att(&f, NC_GLOBAL, "alphabet", &has));
  if (has) PetscCall(ncio_get_att_text(&f, NC_GLOBAL, "alphabet", alphabet, sizeof alphabet));
  PetscCheck(o.wav || (int64_t)strlen(alphabet) == K, comm, ARDM_ERR_INPUT,
             "%s: -format txt needs an alphabet of K = %lld symbols (text data)", o.in, (long long)K);
  PetscCall(ncio_make_dir(comm, o.out, "-out"));
  lo = o.wav ? n * rank / size : 0, hi = o.wav ? n * (rank + 1) / size : n;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &x));
  {
    size_t st[2] = {hi > lo ? (size_t)lo : 0, 0}, ct[2] = {(size_t)(hi - lo), (size_t)D};
    PetscCall(ncio_collective(&f, vx));
    NCCall(&f, nc_get_vara_int(f.ncid, vx, st, ct, x));
  }
  PetscCall(ncio_close(&f));
  if (o.wav) {
    for (int64_t i = lo; i < hi; i++) {
      char path[PATH_MAX + 96];
      snprintf(path, sizeof path, "%s/%s_%04lld.wav", o.out, o.name, (long long)i);
      PetscCall(write_wav(path, x + (i - lo) * D, D, (int)K, (int)rate));
    }
  } else if (rank == 0) {
    char  path[PATH_MAX + 96];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s.txt", o.out, o.name);
    fp = fopen(path, "w");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot write (%s)", path, strerror(errno));
    for (int64_t i = 0; i < n; i++) {
      for (int64_t d = 0; d < D; d++) fputc(alphabet[x[i * D + d]], fp);
      fputc('\n', fp);
    }
    fclose(fp);
  }
  ardm_free(&x);
  PetscCall(PetscPrintf(comm, "ardm export: %lld examples of %s -> %s/ (%s)\n", (long long)n, o.in, o.out,
                        o.wav ? "WAV, 16-bit PCM" : "text"));
  PetscFunctionReturn(0);
}
