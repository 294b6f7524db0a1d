/* prep_image.c: image data sets from PNG directories and the CIFAR-10 binary batches, and PNG
   reading/writing through libpng's simplified API (prep_image.h). */
#include "prep/prep_image.h"
#include "prep/prep_list.h"
#include "prep/prep_write.h"
#include <errno.h>
#include <ftw.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CIFAR_SIDE   32
#define CIFAR_DIM    (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_DIM)

/* ---- PNG files ---- */

int png_read_planar(const char *path, int height, int width, uint8_t *rgb, char *why, size_t len)
{
  png_image   img;
  png_color   white = {255, 255, 255};
  uint8_t    *buf;
  int64_t     hw = (int64_t)height * width;
  const char *what = NULL;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path)) {
    snprintf(why, len, "not a readable PNG (%s)", img.message);
    return 1;
  }
  if ((int)img.width != width || (int)img.height != height) {
    snprintf(why, len, "%u x %u pixels (width x height), expected %d x %d", img.width, img.height, width, height);
    png_image_free(&img);
    return 1;
  }
  img.format = PNG_FORMAT_RGB; /* grey is expanded, alpha composited onto the background */
  buf = (uint8_t *)malloc(PNG_IMAGE_SIZE(img));
  if (!buf) {
    png_image_free(&img);
    snprintf(why, len, "out of memory");
    return 1;
  }
  if (!png_image_finish_read(&img, &white, buf, 0, NULL)) what = img.message;
  if (!what)
    for (int64_t p = 0; p < hw; p++)
      for (int c = 0; c < 3; c++) rgb[c * hw + p] = buf[3 * p + c];
  if (what) snprintf(why, len, "cannot decode: %s", what);
  png_image_free(&img);
  free(buf);
  return what != NULL;
}

int png_write_planar(const char *path, int height, int width, int channels, const uint8_t *planar, char *why,
                     size_t len)
{
  png_image img;
  int64_t   hw = (int64_t)height * width;
  uint8_t  *buf = (uint8_t *)malloc((size_t)(hw * channels));
  char      tmp[4200];
  FILE     *fp;
  int       err = 0;
  why[0] = 0;
  if (!buf) return ENOMEM;
  for (int64_t p = 0; p < hw; p++)
    for (int c = 0; c < channels; c++) buf[channels * p + c] = planar[c * hw + p];
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)width, img.height = (png_uint_32)height;
  img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()); /* renamed into place when complete */
  /* our own stream, so that a write error keeps its errno (libpng says only "Write Error") */
  if (!(fp = fopen(tmp, "wb"))) {
    err = errno ? errno : EIO;
  } else {
    errno = 0;
    if (!png_image_write_to_stdio(&img, fp, 0, buf, 0, NULL)) {
      err = errno ? errno : EIO;
      if (err == EIO) snprintf(why, len, "%s", img.message);
    }
    png_image_free(&img);
    if (!err && (fflush(fp) || ferror(fp))) err = errno ? errno : EIO;
    if (fclose(fp) && !err) err = errno ? errno : EIO;
  }
  free(buf);
  if (!err && rename(tmp, path)) err = errno;
  if (err) (void)unlink(tmp);
  if (err && !why[0]) snprintf(why, len, "%s", strerror(err));
  return err;
}

/* ---- the PNG list (rank 0 walks the tree, every rank gets the sorted list) ---- */

static char  **walk_names;
static int64_t walk_n, walk_cap;
static size_t  walk_root_len;

static int walk_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  size_t      l = strlen(path);
  const char *base = path + ftw->base;
  if (type != FTW_F || base[0] == '.' || l < 4 || strcasecmp(path + l - 4, ".png")) return 0;
  if (walk_n == walk_cap) {
    char **p = (char **)realloc(walk_names, sizeof(char *) * (size_t)(walk_cap = 2 * walk_cap + 64));
    if (!p) return 1;
    walk_names = p;
  }
  if (!(walk_names[walk_n] = strdup(path + walk_root_len + 1))) return 1;
  walk_n++;
  return 0;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *dir, const char *sub)
{
  char        p[PATH_MAX + 16];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", dir, sub);
  return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* Rank 0: lists and splits; returns 0 or an errno-like code with a message. */
static int list_pngs(const prep_image_opts *o, char **pool, size_t *poolsize, int **split, int64_t *n, char *msg,
                     size_t len)
{
  struct stat st;
  int         by_folder, rc;
  size_t      at = 0;
  walk_names = NULL, walk_n = walk_cap = 0, walk_root_len = strlen(o->in);
  while (walk_root_len > 1 && o->in[walk_root_len - 1] == '/') walk_root_len--;
  if (stat(o->in, &st) || !S_ISDIR(st.st_mode)) {
    snprintf(msg, len, "-in %s: not a directory (expected a directory of PNG files)", o->in);
    return 1;
  }
  by_folder = is_dir(o->in, "train") || is_dir(o->in, "valid") || is_dir(o->in, "test");
  rc = nftw(o->in, walk_visit, 32, FTW_PHYS);
  if (rc) {
    snprintf(msg, len, "-in %s: cannot list the directory: %s", o->in, strerror(errno));
    return 1;
  }
  if (!walk_n) {
    snprintf(msg, len, "-in %s: no .png files found", o->in);
    return 1;
  }
  qsort(walk_names, (size_t)walk_n, sizeof(char *), cmp_names);
  *poolsize = 0;
  for (int64_t i = 0; i < walk_n; i++) *poolsize += strlen(walk_names[i]) + 1;
  *pool = (char *)malloc(*poolsize);
  *split = (int *)malloc(sizeof(int) * (size_t)walk_n);
  if (!*pool || !*split) {
    snprintf(msg, len, "out of memory listing %s", o->in);
    return 1;
  }
  for (int64_t i = 0; i < walk_n; i++) {
    const char *r = walk_names[i];
    int         s = -1;
    if (by_folder) {
      for (int k = 0; k < NSPLITS; k++) {
        size_t kl = strlen(split_names[k]);
        if (!strncmp(r, split_names[k], kl) && r[kl] == '/') s = k;
      }
      if (s < 0) {
        snprintf(msg, len,
                 "-in %s: %s is outside train/, valid/ and test/ (with split folders every image must be in one)",
                 o->in, r);
        return 1;
      }
    } else
      s = file_list_hash_split(r, o->seed, o->valid_frac, o->test_frac);
    (*split)[i] = s;
    memcpy(*pool + at, r, strlen(r) + 1);
    at += strlen(r) + 1;
    free(walk_names[i]);
  }
  free(walk_names);
  *n = walk_n;
  return 0;
}

PetscErrorCode prep_png(MPI_Comm comm, const prep_image_opts *o)
{
  PetscMPIInt rank, size;
  char       *pool = NULL, msg[PATH_MAX + 256] = "", why[256], path[2 * PATH_MAX];
  size_t      poolsize = 0;
  int        *split = NULL, bad = 0;
  int64_t     n = 0, hdr[2], lo, hi, D = 3 * (int64_t)o->height * o->width, *rows = NULL;
  char      **rel = NULL;
  uint8_t    *x = NULL;
  prep_part   part[NSPLITS];
  prep_data   d;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (rank == 0) bad = list_pngs(o, &pool, &poolsize, &split, &n, msg, sizeof msg);
  ArdmCheckAll(comm, !bad, "%s", msg);
  hdr[0] = n, hdr[1] = (int64_t)poolsize;
  PetscCallMPI(MPI_Bcast(hdr, 2, MPI_INT64_T, 0, comm));
  n = hdr[0], poolsize = (size_t)hdr[1];
  if (rank) {
    PetscCall(PetscMalloc1(poolsize, &pool));
    PetscCall(PetscMalloc1(n, &split));
  }
  PetscCallMPI(MPI_Bcast(pool, (PetscMPIInt)poolsize, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(split, (PetscMPIInt)n, MPI_INT, 0, comm));
  PetscCall(PetscMalloc1(n, &rel));
  for (int64_t i = 0, at = 0; i < n; i++) rel[i] = pool + at, at += (int64_t)strlen(pool + at) + 1;
  lo = n * rank / size, hi = n * (rank + 1) / size;
  PetscCall(ardm_alloc((size_t)((hi - lo) * D) + 1, &x)); /* x[files of this rank][3][H][W] */
  for (int64_t i = lo; i < hi && !bad; i++) {
    snprintf(path, sizeof path, "%s/%s", o->in, rel[i]);
    if (png_read_planar(path, o->height, o->width, x + (i - lo) * D, why, sizeof why)) {
      snprintf(msg, sizeof msg, "-in %s: %s: %s (-height/-width give the size; every image must have it)", o->in,
               rel[i], why);
      bad = 1;
    }
  }
  ArdmCheckAll(comm, !bad, "%s", msg);
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)(hi - lo + 1), &rows));
  memset(part, 0, sizeof part);
  for (int64_t s = 0, at = 0; s < NSPLITS; s++) { /* this rank's rows of each split, in list order */
    part[s].rows = rows + at;
    for (int64_t i = lo; i < hi; i++)
      if (split[i] == s) rows[at + part[s].count++] = i - lo;
    at += part[s].count;
  }
  PetscCall(prep_parts_sum(comm, part));
  PetscCall(PetscPrintf(comm, "ardm prep: %lld PNG images of %d x %d -> train %lld, valid %lld, test %lld examples\n",
                        (long long)n, o->width, o->height, (long long)part[0].total, (long long)part[1].total,
                        (long long)part[2].total));
  memset(&d, 0, sizeof d);
  d.D = D, d.K = 256, d.u8 = x;
  snprintf(d.attrs.modality, sizeof d.attrs.modality, "image");
  d.attrs.height = o->height, d.attrs.width = o->width, d.attrs.channels = 3;
  PetscCall(prep_write_sets(comm, o->out, &d, part));
  ardm_free(&x);
  ardm_free(&rows);
  if (rank == 0) {
    free(pool);
    free(split);
  } else {
    PetscCall(PetscFree(pool));
    PetscCall(PetscFree(split));
  }
  PetscCall(PetscFree(rel));
  PetscFunctionReturn(0);
}

/* ---- CIFAR-10 binary batches ---- */

static const char *const cifar_files[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};

PetscErrorCode prep_cifar10(MPI_Comm comm, const prep_image_opts *o)
{
  PetscMPIInt rank, size;
  int64_t     nrec[6], ntrain = 0, ntest, count[NSPLITS], first[NSPLITS], total, lo, hi, *rows = NULL;
  char        msg[PATH_MAX + 256] = "", path[PATH_MAX + 32];
  int         bad = 0, *label = NULL;
  uint8_t    *x = NULL, rec[CIFAR_RECORD];
  FILE       *fp = NULL;
  prep_part   part[NSPLITS];
  prep_data   d;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (rank == 0)
    for (int f = 0; f < 6 && !bad; f++) {
      struct stat st;
      snprintf(path, sizeof path, "%s/%s", o->in, cifar_files[f]);
      if (stat(path, &st)) {
        snprintf(msg, sizeof msg,
                 "-in %s: cannot open %s: %s (expected the CIFAR-10 binary version: "
                 "data_batch_1..5.bin, test_batch.bin)",
                 o->in, cifar_files[f], strerror(errno));
        bad = 1;
      } else if (st.st_size == 0 || st.st_size % CIFAR_RECORD) {
        snprintf(msg, sizeof msg,
                 "-in %s: %s has %lld bytes, not a whole number of %d-byte records (1 label + 3072 pixels)", o->in,
                 cifar_files[f], (long long)st.st_size, CIFAR_RECORD);
        bad = 1;
      } else
        nrec[f] = (int64_t)st.st_size / CIFAR_RECORD;
    }
  ArdmCheckAll(comm, !bad, "%s", msg);
  PetscCallMPI(MPI_Bcast(nrec, 6, MPI_INT64_T, 0, comm));
  for (int f = 0; f < 5; f++) ntrain += nrec[f];
  ntest = nrec[5];
  /* splits over the concatenated records: train, valid (the tail of the train batches), test */
  count[SPLIT_VALID] = (int64_t)(o->valid_frac * (double)ntrain);
  count[SPLIT_TRAIN] = ntrain - count[SPLIT_VALID];
  count[SPLIT_TEST] = ntest;
  first[SPLIT_TRAIN] = 0, first[SPLIT_VALID] = count[SPLIT_TRAIN], first[SPLIT_TEST] = ntrain;
  total = ntrain + ntest;
  lo = total * rank / size, hi = total * (rank + 1) / size;
  PetscCall(ardm_alloc((size_t)((hi - lo) * CIFAR_DIM) + 1, &x));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)(hi - lo + 1), &label));
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)(hi - lo + 1), &rows));
  for (int64_t g = lo, base = 0, f = 0, open_f = -1; g < hi && !bad; g++) { /* record g of the concatenation */
    while (g >= base + nrec[f]) base += nrec[f++];
    if (open_f != f) { /* each rank reads a contiguous range: one open and one seek per file */
      if (fp) fclose(fp);
      snprintf(path, sizeof path, "%s/%s", o->in, cifar_files[f]);
      fp = fopen(path, "rb");
      open_f = f;
      if (fp && fseeko(fp, (off_t)((g - base) * CIFAR_RECORD), SEEK_SET)) fclose(fp), fp = NULL;
    }
    if (!fp || fread(rec, 1, CIFAR_RECORD, fp) != CIFAR_RECORD) {
      snprintf(msg, sizeof msg, "-in %s: cannot read record %lld of %s", o->in, (long long)(g - base), cifar_files[f]);
      bad = 1;
    } else if (rec[0] > 9) {
      snprintf(msg, sizeof msg, "-in %s: record %lld of %s has label %d, expected 0..9 (not a CIFAR-10 batch?)", o->in,
               (long long)(g - base), cifar_files[f], rec[0]);
      bad = 1;
    } else {
      label[g - lo] = rec[0];
      memcpy(x + (g - lo) * CIFAR_DIM, rec + 1, CIFAR_DIM);
    }
  }
  if (fp) fclose(fp);
  ArdmCheckAll(comm, !bad, "%s", msg);
  memset(part, 0, sizeof part);
  for (int s = 0, at = 0; s < NSPLITS; s++) { /* the part of [lo, hi) inside each split's range */
    int64_t a = first[s] > lo ? first[s] : lo, b = first[s] + count[s] < hi ? first[s] + count[s] : hi;
    part[s].rows = rows + at;
    for (int64_t g = a; g < b; g++) rows[at + part[s].count++] = g - lo;
    at += (int)part[s].count;
  }
  PetscCall(prep_parts_sum(comm, part));
  PetscCall(PetscPrintf(comm,
                        "ardm prep: CIFAR-10 %lld train + %lld test records -> train %lld, valid %lld, test %lld\n",
                        (long long)ntrain, (long long)ntest, (long long)part[0].total, (long long)part[1].total,
                        (long long)part[2].total));
  memset(&d, 0, sizeof d);
  d.D = CIFAR_DIM, d.K = 256, d.u8 = x, d.has_label = PETSC_TRUE, d.label = label;
  snprintf(d.attrs.modality, sizeof d.attrs.modality, "image");
  d.attrs.height = d.attrs.width = CIFAR_SIDE, d.attrs.channels = 3;
  PetscCall(prep_write_sets(comm, o->out, &d, part));
  ardm_free(&x);
  ardm_free(&label);
  ardm_free(&rows);
  PetscFunctionReturn(0);
}
