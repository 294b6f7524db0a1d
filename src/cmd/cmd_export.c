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

/* One image as a PNG file (through a temporary name); returns 0 or an errno as write_wav, with
   libpng's reason in why. */
static int write_png(const char *path, const int32_t *x, int64_t K, int H, int W, int C, uint8_t *buf, char *why,
                     size_t len)
{
  to_bytes(buf, x, (int64_t)C * H * W, K);
  return png_write_planar(path, H, W, C, buf, why, len);
}

/* The first min(n, 64) examples x[n][C][H][W] in an 8 x 8 grid with 1-pixel black borders; *err
   as write_png. */
static PetscErrorCode write_grid(const char *path, const int32_t *x, int64_t n, int64_t K, int H, int W, int C,
                                 int *err, char *why, size_t len)
{
  int      GH = 8 * (H + 1) + 1, GW = 8 * (W + 1) + 1;
  int64_t  D = (int64_t)C * H * W;
  uint8_t *g, *one;
  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)C * GH * GW, &g, D, &one));
  for (int64_t e = 0; e < n && e < 64; e++) {
    int r0 = (int)(e / 8) * (H + 1) + 1, c0 = (int)(e % 8) * (W + 1) + 1;
    to_bytes(one, x + e * D, D, K);
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++) memcpy(g + ((int64_t)c * GH + r0 + y) * GW + c0, one + ((int64_t)c * H + y) * W, W);
  }
  *err = png_write_planar(path, GH, GW, C, g, why, len);
  PetscCall(PetscFree2(g, one));
  PetscFunctionReturn(0);
}

/* What export reads, validated: every attribute, the shape and type of x and (after the read) every
   value; an input error names the file before any output exists. */
typedef struct {
  int64_t  K, rate, n, D, H, W, C, lo, hi;
  char     alphabet[128];
  int32_t *x, *xgrid; /* this rank's examples lo..hi-1, rank 0's grid (png) */
} export_input;

static PetscErrorCode read_meta(ncio_file *f, const export_options *o, export_input *in, int *vx)
{
  const char *const dims_d[] = {"example", "dim"}, *const dims_s[] = {"sample", "dim"};
  const nc_type types[] = {NC_UBYTE, NC_USHORT};
  char          kind[32];
  size_t        len;
  nc_type       t;
  PetscBool     has, h1, h2, h3;

  PetscFunctionBegin;
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "ardm_kind", kind, sizeof kind));
  PetscCheck(!strcmp(kind, "samples") || !strcmp(kind, "dataset"), f->comm, ARDM_ERR_INPUT,
             "%s: is an ardm '%s' file, expected samples or dataset", o->in, kind);
  PetscCall(ncio_var(f, "x", 2, strcmp(kind, "samples") ? dims_d : dims_s, 2, types, vx, &t));
  PetscCall(ncio_dim(f, strcmp(kind, "samples") ? "example" : "sample", &len));
  in->n = (int64_t)len;
  PetscCall(ncio_dim(f, "dim", &len));
  in->D = (int64_t)len;
  PetscCheck(in->n > 0 && in->D > 0, f->comm, ARDM_ERR_INPUT, "%s: x has %lld examples of %lld dims: nothing to export",
             o->in, (long long)in->n, (long long)in->D);
  if (o->max) in->n = PetscMin(in->n, o->max);
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "num_classes", &in->K));
  PetscCheck(in->K >= 2 && in->K <= 65536, f->comm, ARDM_ERR_INPUT, "%s: num_classes = %lld, expected 2..65536", o->in,
             (long long)in->K);
  PetscCheck(t == (in->K <= 256 ? NC_UBYTE : NC_USHORT), f->comm, ARDM_ERR_INPUT,
             "%s: variable 'x' has type %s but num_classes = %lld needs %s", o->in, t == NC_UBYTE ? "ubyte" : "ushort",
             (long long)in->K, in->K <= 256 ? "ubyte" : "ushort");
  in->rate = 16000;
  PetscCall(ncio_has_att(f, NC_GLOBAL, "sample_rate", &has));
  if (has) PetscCall(ncio_get_att_int(f, NC_GLOBAL, "sample_rate", &in->rate));
  PetscCheck(in->rate >= 1 && in->rate <= 655350, f->comm, ARDM_ERR_INPUT,
             "%s: sample_rate = %lld, expected 1..655350 Hz", o->in, (long long)in->rate);
  PetscCall(ncio_has_att(f, NC_GLOBAL, "alphabet", &has));
  if (has) PetscCall(ncio_get_att_text(f, NC_GLOBAL, "alphabet", in->alphabet, sizeof in->alphabet));
  PetscCheck(!strpbrk(in->alphabet, "\n\r"), f->comm, ARDM_ERR_INPUT, "%s: the alphabet holds a line break", o->in);
  PetscCall(ncio_has_att(f, NC_GLOBAL, "height", &h1));
  PetscCall(ncio_has_att(f, NC_GLOBAL, "width", &h2));
  PetscCall(ncio_has_att(f, NC_GLOBAL, "channels", &h3));
  PetscCheck(h1 == h2 && h2 == h3, f->comm, ARDM_ERR_INPUT,
             "%s: has only some of the attributes height, width and channels (all three or none)", o->in);
  if (h1) {
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "height", &in->H));
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "width", &in->W));
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "channels", &in->C));
    PetscCheck(in->H >= 1 && in->W >= 1 && in->C >= 1 && in->H <= in->D && in->W <= in->D / in->H &&
                   in->C <= in->D / (in->H * in->W) && in->H * in->W * in->C == in->D,
               f->comm, ARDM_ERR_INPUT, "%s: height x width x channels = %lld x %lld x %lld does not match dim = %lld",
               o->in, (long long)in->H, (long long)in->W, (long long)in->C, (long long)in->D);
  }
  PetscCheck(!o->png || (h1 && (in->C == 1 || in->C == 3)), f->comm, ARDM_ERR_INPUT,
             "%s: -format png needs an image file (height, width and channels 1 or 3 attributes with height x width x "
             "channels = %lld dims)",
             o->in, (long long)in->D);
  PetscCheck(o->wav || o->png || (int64_t)strlen(in->alphabet) == in->K, f->comm, ARDM_ERR_INPUT,
             "%s: -format txt needs an alphabet of K = %lld symbols (text data)", o->in, (long long)in->K);
  PetscFunctionReturn(0);
}

/* Reads and validates the input (collective); every value must be below K on every rank. */
static PetscErrorCode read_input(MPI_Comm comm, const export_options *o, export_input *in)
{
  PetscMPIInt rank, size;
  ncio_file   f;
  int         vx;
  int64_t     bad = -1, D;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMemzero(in, sizeof *in));
  PetscCall(ncio_open(comm, o->in, NULL, &f));
  PetscCall(read_meta(&f, o, in, &vx));
  D = in->D;
  in->lo = o->wav || o->png ? in->n * rank / size : 0, in->hi = o->wav || o->png ? in->n * (rank + 1) / size : in->n;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((in->hi - in->lo) * D + 1), &in->x));
  {
    size_t st[2] = {in->hi > in->lo ? (size_t)in->lo : 0, 0}, ct[2] = {(size_t)(in->hi - in->lo), (size_t)D};
    PetscCall(ncio_collective(&f, vx));
    NCRead(&f, vx, nc_get_vara_int(f.ncid, vx, st, ct, in->x));
  }
  if (o->png) { /* rank 0 also reads the grid's examples */
    int64_t ng = rank == 0 ? PetscMin(in->n, 64) : 0;
    size_t  st[2] = {0, 0}, ct[2] = {(size_t)ng, (size_t)D};
    PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(ng * D + 1), &in->xgrid));
    NCRead(&f, vx, nc_get_vara_int(f.ncid, vx, st, ct, in->xgrid));
  }
  PetscCall(ncio_close(&f));
  for (int64_t i = 0; i < (in->hi - in->lo) * D && bad < 0; i++)
    if (in->x[i] < 0 || in->x[i] >= in->K) bad = i;
  ArdmCheckAll(comm, bad < 0, "%s: x[%lld][%lld] = %d is not below num_classes = %lld", o->in,
               (long long)(in->lo + (bad < 0 ? 0 : bad / D)), (long long)(bad < 0 ? 0 : bad % D),
               bad < 0 ? 0 : in->x[bad], (long long)in->K);
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_export(int npos, char **pos)
{
  MPI_Comm       comm = PETSC_COMM_WORLD;
  PetscMPIInt    rank;
  export_options o;
  export_input   in;
  PetscBool      help;
  char           path[PATH_MAX + 96] = "", why[256] = "";
  int            err = 0;

  PetscFunctionBegin;
  PetscCall(process_options(comm, &o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos == 0, comm, ARDM_ERR_INPUT, "unexpected argument '%s' (options start with -)", pos[0]);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(read_input(comm, &o, &in)); /* all of it checked before any output exists */
  PetscCall(ncio_make_dir(comm, o.out, "-out"));
  if (o.png) {
    uint8_t *buf;
    PetscCall(PetscMalloc1(in.D, &buf));
    for (int64_t i = in.lo; i < in.hi && !err; i++) {
      snprintf(path, sizeof path, "%s/%s_%04lld.png", o.out, o.name, (long long)i);
      err = write_png(path, in.x + (i - in.lo) * in.D, in.K, (int)in.H, (int)in.W, (int)in.C, buf, why, sizeof why);
    }
    PetscCall(PetscFree(buf));
    if (rank == 0 && !err) {
      snprintf(path, sizeof path, "%s/%s_grid.png", o.out, o.name);
      PetscCall(
          write_grid(path, in.xgrid, PetscMin(in.n, 64), in.K, (int)in.H, (int)in.W, (int)in.C, &err, why, sizeof why));
    }
  } else if (o.wav) {
    for (int64_t i = in.lo; i < in.hi && !err; i++) {
      snprintf(path, sizeof path, "%s/%s_%04lld.wav", o.out, o.name, (long long)i);
      err = write_wav(path, in.x + (i - in.lo) * in.D, in.D, (int)in.K, (int)in.rate);
    }
  } else if (rank == 0) {
    snprintf(path, sizeof path, "%s/%s.txt", o.out, o.name);
    err = write_txt(path, in.x, in.n, in.D, in.alphabet);
  }
  /* a full disk says so in the same words for every format; libpng's own reasons otherwise */
  ArdmCheckAll(comm, !err, "%s: cannot write (%s)", path,
               err == ENOSPC || err == EDQUOT || !why[0] ? write_error(err) : why);
  ardm_free(&in.xgrid);
  ardm_free(&in.x);
  PetscCall(PetscPrintf(comm, "ardm export: %lld examples of %s -> %s/ (%s)\n", (long long)in.n, o.in, o.out,
                        o.png   ? "PNG, and an 8 x 8 grid"
                        : o.wav ? "WAV, 16-bit PCM"
                                : "text"));
  PetscFunctionReturn(0);
}
