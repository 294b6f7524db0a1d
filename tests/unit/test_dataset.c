/* test_dataset.c: the data set contract through real parallel NetCDF files: collective write
   and read round trip (every rank gets exactly its examples), shuffled reads, and every
   validation error raised on all ranks together; no file but the temporary one beside a file
   being written. */
// ranks: 1 2 4
#include "harness.h"
#include "io/dataset.h"
#include "core/rng.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char        dir[256];
static PetscMPIInt rank, size;

static int32_t value_of(int64_t i, int64_t d, int K)
{
  return (int32_t)((i * 7919 + d * 31 + i * d) % K);
}

/* Writes n examples of D dims with K classes; each rank writes its contiguous share. */
static PetscErrorCode write_set(const char *path, int64_t n, int64_t D, int K)
{
  dataset       ds;
  dataset_attrs a = {.modality = "audio", .split = "train", .sample_rate = 16000};
  int64_t       lo = n * rank / size, hi = n * (rank + 1) / size;
  int32_t      *x, *lab;
  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &x));
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(hi - lo + 1), &lab));
  for (int64_t i = lo; i < hi; i++) {
    lab[i - lo] = (int32_t)(i % 10);
    for (int64_t d = 0; d < D; d++) x[(i - lo) * D + d] = value_of(i, d, K);
  }
  PetscCall(dataset_create(PETSC_COMM_WORLD, path, n, D, K, PETSC_TRUE, &a, &ds));
  PetscCall(dataset_write(&ds, lo, hi - lo, x, lab));
  PetscCall(dataset_commit(&ds));
  ardm_free(&x);
  ardm_free(&lab);
  PetscFunctionReturn(0);
}

static int test_round_trip(void)
{
  char    path[300];
  dataset ds;
  int64_t n = 37, D = 100, lo, hi;
  int     K = 65536;
  int32_t x[37 * 100], lab[37];
  snprintf(path, sizeof path, "%s/rt.nc", dir);
  CHECK_OK(write_set(path, n, D, K));
  CHECK(access(path, F_OK) == 0, "committed file missing");
  CHECK_OK(dataset_open(PETSC_COMM_WORLD, path, &ds));
  CHECK(ds.n == n && ds.D == D && ds.K == K, "n=%lld D=%lld K=%d", (long long)ds.n, (long long)ds.D, ds.K);
  CHECK(!strcmp(ds.attrs.modality, "audio") && ds.attrs.sample_rate == 16000, "attributes");
  /* a different split of the examples than the writer used: ranks in reverse order */
  lo = n * (size - 1 - rank) / size, hi = n * (size - rank) / size;
  CHECK_OK(dataset_read(&ds, lo, hi - lo, x, lab));
  for (int64_t i = lo; i < hi; i++) {
    CHECK(lab[i - lo] == i % 10, "label %lld", (long long)i);
    for (int64_t d = 0; d < D; d++)
      CHECK(x[(i - lo) * D + d] == value_of(i, d, K), "x[%lld][%lld]", (long long)i, (long long)d);
  }
  CHECK_OK(dataset_expect(&ds, K, D));
  CHECK_OK(dataset_close(&ds));
  return 0;
}

static int test_read_list(void)
{
  char       path[300];
  dataset    ds;
  int64_t    idx[8], count = 1 + rank % 3; /* different counts per rank */
  int32_t    x[8 * 100], lab[8];
  rng_stream s;
  snprintf(path, sizeof path, "%s/rt.nc", dir);
  rng_init(&s, 7, 0, (uint64_t)rank, RNG_MISC);
  for (int64_t i = 0; i < count; i++) idx[i] = (int64_t)rng_below(&s, 37);
  CHECK_OK(dataset_open(PETSC_COMM_WORLD, path, &ds));
  CHECK_OK(dataset_read_list(&ds, idx, count, x, lab));
  for (int64_t i = 0; i < count; i++)
    for (int64_t d = 0; d < 100; d++)
      CHECK(x[i * 100 + d] == value_of(idx[i], d, 65536), "example %lld", (long long)idx[i]);
  CHECK_OK(dataset_close(&ds));
  return 0;
}

/* Makes a file by hand (rank 0, serial NetCDF-4) with one thing wrong. */
typedef enum { BAD_NONE, BAD_NO_X, BAD_TYPE, BAD_RANK, BAD_NO_K, BAD_VALUE, BAD_KIND, BAD_MODALITY, BAD_EMPTY } badness;
static void make_bad(const char *path, badness b)
{
  if (rank == 0) {
    int     nc, d[2], v;
    int     K = 16;
    uint8_t x[4 * 8];
    for (int i = 0; i < 32; i++) x[i] = (uint8_t)(i % K);
    if (b == BAD_VALUE) x[21] = 200;
    nc_create(path, NC_NETCDF4 | NC_CLOBBER, &nc);
    nc_def_dim(nc, "example", b == BAD_EMPTY ? NC_UNLIMITED : 4, &d[0]);
    nc_def_dim(nc, "dim", 8, &d[1]);
    nc_put_att_text(nc, NC_GLOBAL, "ardm_kind", 7, b == BAD_KIND ? "samplez" : "dataset");
    nc_put_att_text(nc, NC_GLOBAL, "modality", b == BAD_MODALITY ? 5 : 8, b == BAD_MODALITY ? "video" : "sequence");
    nc_put_att_text(nc, NC_GLOBAL, "split", 4, "test");
    if (b != BAD_NO_K) nc_put_att_int(nc, NC_GLOBAL, "num_classes", NC_INT, 1, &K);
    if (b != BAD_NO_X) nc_def_var(nc, "x", b == BAD_TYPE ? NC_FLOAT : NC_UBYTE, b == BAD_RANK ? 1 : 2, d, &v);
    nc_enddef(nc);
    if (b != BAD_NO_X && b != BAD_TYPE && b != BAD_RANK && b != BAD_EMPTY) nc_put_var_uchar(nc, v, x);
    nc_close(nc);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
}

/* Opens (and reads) a bad file: every rank must get the input error, with the right message. */
static int expect_error(badness b, const char *needle)
{
  char           path[300];
  dataset        ds;
  PetscErrorCode e;
  int32_t        x[32];
  const char    *text;
  char          *msg = NULL;
  snprintf(path, sizeof path, "%s/bad%d.nc", dir, (int)b);
  make_bad(path, b);
  e = dataset_open(PETSC_COMM_WORLD, path, &ds);
  if (!e) {
    int64_t lo = 4 * rank / size, hi = 4 * (rank + 1) / size;
    e = dataset_read(&ds, lo, hi - lo, x, NULL);
    dataset_close(&ds);
  }
  CHECK(e == ARDM_ERR_INPUT, "case %d: error %d, expected the input error on every rank", (int)b, (int)e);
  PetscErrorMessage(e, &text, &msg);
  CHECK(msg && strstr(msg, needle) && strstr(msg, path), "case %d: message '%s' lacks '%s' or the path", (int)b,
        msg ? msg : "", needle);
  return 0;
}

static int test_bad_files(void)
{
  if (expect_error(BAD_NO_X, "missing variable 'x'")) return 1;
  if (expect_error(BAD_TYPE, "type float")) return 1;
  if (expect_error(BAD_RANK, "has 1 dimensions, expected 2")) return 1;
  if (expect_error(BAD_NO_K, "missing attribute 'num_classes'")) return 1;
  if (expect_error(BAD_VALUE, "not below num_classes")) return 1;
  if (expect_error(BAD_KIND, "expected 'dataset'")) return 1;
  if (expect_error(BAD_MODALITY, "modality 'video'")) return 1;
  if (expect_error(BAD_EMPTY, "the data set has no examples")) return 1;
  return 0;
}

/* An empty set is still a valid file for inspection (ardm info). */
static int test_open_any(void)
{
  char    path[300];
  dataset ds;
  snprintf(path, sizeof path, "%s/bad%d.nc", dir, (int)BAD_EMPTY);
  CHECK_OK(dataset_open_any(PETSC_COMM_WORLD, path, &ds));
  CHECK(ds.n == 0 && ds.D == 8, "n=%lld D=%lld", (long long)ds.n, (long long)ds.D);
  CHECK_OK(dataset_close(&ds));
  return 0;
}

/* A file truncated after it was opened: the next read is an input error on every rank naming
   the file (never the zeros HDF5 returns past the end); so is one overwritten in place. */
static int test_changed(void)
{
  char           path[300];
  dataset        ds;
  int64_t        idx[1] = {36};
  int32_t        x[100];
  PetscErrorCode e;
  const char    *text;
  char          *msg = NULL;
  snprintf(path, sizeof path, "%s/changed.nc", dir);
  CHECK_OK(write_set(path, 37, 100, 65536));
  CHECK_OK(dataset_open(PETSC_COMM_WORLD, path, &ds));
  CHECK_OK(dataset_read_list(&ds, idx, 1, x, NULL));
  if (rank == 0) CHECK(truncate(path, 4096) == 0, "truncate");
  MPI_Barrier(PETSC_COMM_WORLD);
  e = dataset_read_list(&ds, idx, 1, x, NULL);
  CHECK(e == ARDM_ERR_INPUT, "truncated: error %d, expected the input error on every rank", (int)e);
  PetscErrorMessage(e, &text, &msg);
  CHECK(msg && strstr(msg, path) && strstr(msg, "changed since it was opened (its size went from"),
        "truncated: message '%s'", msg ? msg : "");
  CHECK_OK(dataset_close(&ds));
  CHECK_OK(write_set(path, 37, 100, 65536));
  CHECK_OK(dataset_open(PETSC_COMM_WORLD, path, &ds));
  if (rank == 0) { /* same size, same inode, new contents (a clock tick later) */
    FILE *fp;
    usleep(20000);
    fp = fopen(path, "r+");
    CHECK(fp && fseek(fp, -16, SEEK_END) == 0 && fwrite("0123456789abcdef", 1, 16, fp) == 16 && !fclose(fp),
          "overwrite");
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  e = dataset_read(&ds, 0, rank == 0, x, NULL);
  CHECK(e == ARDM_ERR_INPUT, "overwritten: error %d, expected the input error on every rank", (int)e);
  PetscErrorMessage(e, &text, &msg);
  CHECK(msg && strstr(msg, "changed since it was opened (it was overwritten"), "overwritten: message '%s'",
        msg ? msg : "");
  CHECK_OK(dataset_close(&ds));
  return 0;
}

static int test_missing_and_mismatch(void)
{
  char           path[300];
  dataset        ds;
  PetscErrorCode e;
  snprintf(path, sizeof path, "%s/does-not-exist.nc", dir);
  e = dataset_open(PETSC_COMM_WORLD, path, &ds);
  CHECK(e == ARDM_ERR_INPUT, "missing file gave %d", (int)e);
  snprintf(path, sizeof path, "%s/rt.nc", dir);
  CHECK_OK(dataset_open(PETSC_COMM_WORLD, path, &ds));
  e = dataset_expect(&ds, 65536, 99);
  CHECK(e == ARDM_ERR_INPUT, "D mismatch gave %d", (int)e);
  e = dataset_expect(&ds, 256, 100);
  CHECK(e == ARDM_ERR_INPUT, "K mismatch gave %d", (int)e);
  CHECK_OK(dataset_close(&ds));
  return 0;
}

/* The names in directory d other than "." and ".." (rank 0; "" when none). */
static int list_dir(const char *d, char *names, size_t len)
{
  DIR           *dp = opendir(d);
  struct dirent *e;
  int            n = 0;
  names[0] = 0;
  if (!dp) return -1;
  while ((e = readdir(dp)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(names + strlen(names), len - strlen(names), "%s%s", n ? " " : "", e->d_name);
      n++;
    }
  closedir(dp);
  return n;
}

/* While a file is being written, nothing but its temporary name exists beside it (Open MPI's
   ompio would add NAME.tmp.<pid>.data.<rank> and .metadata.<rank>, which a rank that stops
   mid-write leaves behind; ncio_mpi_env selects ROMIO), and nothing at all after a discard. */
static int test_no_side_files(void)
{
  char          sub[300], path[320], during[1024] = "", after[1024] = "";
  int           n_during = 0, n_after = 0;
  dataset       ds;
  dataset_attrs a = {.modality = "sequence", .split = "train"};
  snprintf(sub, sizeof sub, "%s/side", dir);
  snprintf(path, sizeof path, "%s/s.nc", sub);
  if (rank == 0) mkdir(sub, 0777);
  CHECK_OK(dataset_create(PETSC_COMM_WORLD, path, 4, 8, 4, PETSC_FALSE, &a, &ds));
  MPI_Barrier(PETSC_COMM_WORLD);
  if (rank == 0) n_during = list_dir(sub, during, sizeof during);
  MPI_Barrier(PETSC_COMM_WORLD);
  CHECK_OK(dataset_discard(&ds));
  MPI_Barrier(PETSC_COMM_WORLD);
  if (rank == 0) n_after = list_dir(sub, after, sizeof after);
  /* listings print at most 512 characters: the failure message buffer is 1 KiB (and -O1 with
     _FORTIFY_SOURCE, the asan build, rejects a possibly truncated %s under -Werror) */
  CHECK(rank || (n_during == 1 && strstr(during, "s.nc.tmp.") == during), "while writing, the directory holds: %.512s",
        during);
  CHECK(n_after == 0, "after the discard, the directory holds: %.512s", after);
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  if (rank == 0) snprintf(dir, sizeof dir, "%s", mkdtemp(strcpy(dir, "/tmp/ardm-dataset-XXXXXX")));
  (void)MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, PETSC_COMM_WORLD);
  TH_RUN(test_round_trip);
  TH_RUN(test_read_list);
  TH_RUN(test_bad_files);
  TH_RUN(test_missing_and_mismatch);
  TH_RUN(test_open_any);
  TH_RUN(test_changed);
  TH_RUN(test_no_side_files);
  if (rank == 0) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  }
  return TH_FINISH();
}
