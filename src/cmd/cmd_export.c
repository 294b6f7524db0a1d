/* cmd_export.c: `ardm export`: samples or data sets -> files people can listen to or read:
   -format wav writes DIR/<name>_<i>.wav (16-bit PCM at the file's sample rate, through
   libsndfile; audio values are int16 + 32768, other K are scaled to the int16 range);
   -format txt writes DIR/<name>.txt with one example per line through the alphabet;
   -format png writes images (files with height/width/channels attributes, channel-planar) as
   DIR/<name>_<i>.png plus DIR/<name>_grid.png, the first 64 in an 8 x 8 grid (libpng; values
   scaled to 0..255 when K != 256). Ranks split the examples for WAV and PNG files; text and
   the grid are written by rank 0. */
#include "cmd/commands.h"
#include "core/ncio.h"
#include "core/opts.h"
#include "prep/prep_image.h"
#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char     in[PATH_MAX], out[PATH_MAX], name[64];
  PetscInt max, wav, png;
} export_options;

static PetscErrorCode process_options(MPI_Comm comm, export_options *o, PetscBool *help)
{
  static const char *const formats[] = {"txt", "wav", "png"};
  PetscInt                 f = 1;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->out, sizeof o->out, "samples");
  snprintf(o->name, sizeof o->name, "sample");
  PetscOptionsBegin(comm, NULL, "ardm export: samples or data sets -> WAV / text / PNG files", "export");
  PetscCall(opts_choice(PetscOptionsObject, "-format", "output format: txt (text), wav (audio) or png (images)",
                        formats, 3, &f, NULL));
  PetscCall(PetscOptionsString("-in", "samples or data set file", "", o->in, o->in, sizeof o->in, NULL));
  PetscCall(PetscOptionsString("-out", "output directory (created)", "", o->out, o->out, sizeof o->out, NULL));
  PetscCall(PetscOptionsString("-name", "file name prefix", "", o->name, o->name, sizeof o->name, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-max", "export at most this many examples (0 = all)", &o->max, 0,
                     PETSC_MAX_INT, NULL));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "export", help));
  o->wav = f == 1, o->png = f == 2;
  PetscCheck(*help || o->in[0], comm, ARDM_ERR_INPUT, "-in FILE is required (a samples or data set file)");
  PetscFunctionReturn(0);
}

/* Writes one WAV file to a temporary name and renames it when complete; returns 0 or an errno
   (ENOSPC on a full disk) so that the caller can agree on the outcome with the other ranks. */
static int write_wav(const char *path, const int32_t *x, int64_t D, int K, int rate)
{
  SF_INFO  info = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE *sf;
  short    buf[4096];
  char     tmp[PATH_MAX + 128];
  int      err = 0;
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  sf = sf_open(tmp, SFM_WRITE, &info);
  if (!sf) {
    err = errno ? errno : EIO;
    (void)unlink(tmp); /* libsndfile may have created it */
    return err;
  }
  for (int64_t i0 = 0; i0 < D && !err; i0 += 4096) {
    int64_t n = PetscMin(4096, D - i0);
    for (int64_t i = 0; i < n; i++) {
      int32_t v = x[i0 + i];
      buf[i] = (short)(K == 65536 ? v - 32768 : (int32_t)((double)v / (K - 1) * 65535.0) - 32768);
    }
    errno = 0;
    if (sf_writef_short(sf, buf, n) != n) err = errno ? errno : EIO;
  }
  if (sf_close(sf) && !err) err = errno ? errno : EIO;
  if (!err && rename(tmp, path)) err = errno;
  if (err) (void)unlink(tmp);
  return err;
}

/* The text of every example, one a line, through the alphabet (rank 0); as write_wav. */
static int write_txt(const char *path, const int32_t *x, int64_t n, int64_t D, const char *alphabet)
{
  char  tmp[PATH_MAX + 128];
  FILE *fp;
  int   err = 0;
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  if (!(fp = fopen(tmp, "w"))) {
    err = errno;
    (void)unlink(tmp);
    return err;
  }
  for (int64_t i = 0; i < n; i++) {
    for (int64_t d = 0; d < D; d++) fputc(alphabet[x[i * D + d]], fp);
    fputc('\n', fp);
  }
  if (fflush(fp) || ferror(fp)) err = errno ? errno : EIO;
  if (fclose(fp) && !err) err = errno ? errno : EIO;
  if (!err && rename(tmp, path)) err = errno;
  if (err) (void)unlink(tmp);
  return err;
}

static const char *write_error(int err)
{
  return err == ENOSPC || err == EDQUOT ? "no space left on the device" : strerror(err);
}

/* Example x[C][H][W] as bytes (scaled from K levels to 256). */
static void to_bytes(uint8_t *out, const int32_t *x, int64_t D, int64_t K)
{
  for (int64_t i = 0; i < D; i++) out[i] = (uint8_t)(K == 256 ? x[i] : (int64_t)x[i] * 255 / (K - 1));
}

static PetscErrorCode write_png(const char *path, const int32_t *x, int64_t K, int H, int W, int C, uint8_t *buf)
{
  char why[PATH_MAX + 256];
  PetscFunctionBegin;
  to_bytes(buf, x, (int64_t)C * H * W, K);
  PetscCheck(!png_write_planar(path, H, W, C, buf, why, sizeof why), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s", why);
  PetscFunctionReturn(0);
}

/* The first min(n, 64) examples x[n][C][H][W] in an 8 x 8 grid with 1-pixel black borders. */
static PetscErrorCode write_grid(const char *path, const int32_t *x, int64_t n, int64_t K, int H, int W, int C)
{
  int      GH = 8 * (H + 1) + 1, GW = 8 * (W + 1) + 1;
  int64_t  D = (int64_t)C * H * W;
  uint8_t *g, *one;
  char     why[PATH_MAX + 256];
  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)C * GH * GW, &g, D, &one));
  for (int64_t e = 0; e < n && e < 64; e++) {
    int r0 = (int)(e / 8) * (H + 1) + 1, c0 = (int)(e % 8) * (W + 1) + 1;
    to_bytes(one, x + e * D, D, K);
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++) memcpy(g + ((int64_t)c * GH + r0 + y) * GW + c0, one + ((int64_t)c * H + y) * W, W);
  }
  PetscCheck(!png_write_planar(path, GH, GW, C, g, why, sizeof why), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s", why);
  PetscCall(PetscFree2(g, one));
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
  int64_t        K, rate = 16000, n, D, lo, hi, H = 0, W = 0, C = 0;
  int            vx, dimids[2];
  size_t         len[2];
  int32_t       *x, *xgrid = NULL;

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
  PetscCall(ncio_has_att(&f, NC_GLOBAL, "height", &has));
  if (has) {
    PetscCall(ncio_get_att_int(&f, NC_GLOBAL, "height", &H));
    PetscCall(ncio_get_att_int(&f, NC_GLOBAL, "width", &W));
    PetscCall(ncio_get_att_int(&f, NC_GLOBAL, "channels", &C));
  }
  PetscCheck(!o.png || (H > 0 && W > 0 && (C == 1 || C == 3) && H * W * C == D), comm, ARDM_ERR_INPUT,
             "%s: -format png needs an image file (height, width and channels 1 or 3 attributes with height x width x "
             "channels = %lld dims)",
             o.in, (long long)D);
  PetscCheck(o.wav || o.png || (int64_t)strlen(alphabet) == K, comm, ARDM_ERR_INPUT,
             "%s: -format txt needs an alphabet of K = %lld symbols (text data)", o.in, (long long)K);
  PetscCall(ncio_make_dir(comm, o.out, "-out"));
  lo = o.wav || o.png ? n * rank / size : 0, hi = o.wav || o.png ? n * (rank + 1) / size : n;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &x));
  {
    size_t st[2] = {hi > lo ? (size_t)lo : 0, 0}, ct[2] = {(size_t)(hi - lo), (size_t)D};
    PetscCall(ncio_collective(&f, vx));
    NCCall(&f, nc_get_vara_int(f.ncid, vx, st, ct, x));
  }
  if (o.png) { /* rank 0 also reads the grid's examples */
    int64_t ng = rank == 0 ? PetscMin(n, 64) : 0;
    size_t  st[2] = {0, 0}, ct[2] = {(size_t)ng, (size_t)D};
    PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(ng * D + 1), &xgrid));
    NCCall(&f, nc_get_vara_int(f.ncid, vx, st, ct, xgrid));
  }
  PetscCall(ncio_close(&f));
  {
    char path[PATH_MAX + 96] = "";
    int  err = 0;
    if (o.png) {
      uint8_t *buf;
      PetscCall(PetscMalloc1(D, &buf));
      for (int64_t i = lo; i < hi; i++) {
        snprintf(path, sizeof path, "%s/%s_%04lld.png", o.out, o.name, (long long)i);
        PetscCall(write_png(path, x + (i - lo) * D, K, (int)H, (int)W, (int)C, buf));
      }
      PetscCall(PetscFree(buf));
      if (rank == 0) {
        snprintf(path, sizeof path, "%s/%s_grid.png", o.out, o.name);
        PetscCall(write_grid(path, xgrid, PetscMin(n, 64), K, (int)H, (int)W, (int)C));
      }
      ardm_free(&xgrid);
    } else if (o.wav) {
      for (int64_t i = lo; i < hi && !err; i++) {
        snprintf(path, sizeof path, "%s/%s_%04lld.wav", o.out, o.name, (long long)i);
        err = write_wav(path, x + (i - lo) * D, D, (int)K, (int)rate);
      }
    } else if (rank == 0) {
      snprintf(path, sizeof path, "%s/%s.txt", o.out, o.name);
      err = write_txt(path, x, n, D, alphabet);
    }
    ArdmCheckAll(comm, !err, "%s: cannot write (%s)", path, write_error(err));
  }
  ardm_free(&x);
  PetscCall(PetscPrintf(comm, "ardm export: %lld examples of %s -> %s/ (%s)\n", (long long)n, o.in, o.out,
                        o.png   ? "PNG, and an 8 x 8 grid"
                        : o.wav ? "WAV, 16-bit PCM"
                                : "text"));
  PetscFunctionReturn(0);
}
