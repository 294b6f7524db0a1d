/* fuzz_target.c: one entry point that feeds a byte string to one of ardm's file readers, for
   libFuzzer (tests/fuzz/fuzz.c, `make fuzz`) and for the corpus replay in `make check`
   (tests/unit/test_fuzz_corpus.c). The contract checked: every input either reads or is
   rejected as bad input (ARDM_ERR_INPUT, exit 1 in the commands); a crash, a sanitizer report,
   a hang or any other error code (exit 4: "internal error") is a finding. */
#include "fuzz_target.h"
#include "cmd/commands.h"
#include "core/ncio.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "io/plan_file.h"
#include "io/trainlog.h"
#include "prep/prep_image.h"
#include "prep/prep_text.h"
#include "prep/prep_wav.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const fuzz_readers[] = {"dataset", "ckpt", "loss", "plan", "trainlog", "info", "wav", "text", "png", NULL};

static char fuzz_path[256];

static int fuzz_verbose;

/* Errors are the expected outcome of most inputs: print them only with ARDM_FUZZ_VERBOSE=1 (triage). */
static PetscErrorCode quiet_handler(MPI_Comm comm, int line, const char *func, const char *file, PetscErrorCode n,
                                    PetscErrorType p, const char *mess, void *ctx)
{
  if (fuzz_verbose && p == PETSC_ERROR_INITIAL)
    fprintf(stderr, "fuzz: error %d: %s (%s() at %s:%d)\n", (int)n, mess ? mess : "", func, file, line);
  return n;
}

int fuzz_init(int *argc, char ***argv)
{
  const char *dir = getenv("TMPDIR");
  ncio_mpi_env();
  /* no arguments: the fuzzer's own flags must not reach PETSc's option database (the readers'
     commands reject unknown options) */
  if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return 1;
  /* PETSc's SEGV handler would catch a crash, print and MPI_Abort before ASan and libFuzzer see
     it, and the input that crashed would not be saved: leave the signals to the sanitizers */
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL)) return 1;
  if (PetscInitializeNoArguments()) return 1;
  ardm_memory_init();
  fuzz_verbose = getenv("ARDM_FUZZ_VERBOSE") != NULL;
  PetscPushErrorHandler(quiet_handler, NULL);
  snprintf(fuzz_path, sizeof fuzz_path, "%s/ardm-fuzz-%d.input",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (dir ? dir : "/tmp"), (int)getpid());
  return 0;
}

void fuzz_finish(void)
{
  unlink(fuzz_path);
  PetscFinalize();
  MPI_Finalize();
}

int fuzz_reader_index(const char *name)
{
  for (int i = 0; name && fuzz_readers[i]; i++)
    if (!strcmp(name, fuzz_readers[i])) return i;
  return -1;
}

static PetscErrorCode read_dataset(const char *path)
{
  dataset  ds;
  int32_t *x = NULL, label[4];
  int64_t  n;
  PetscFunctionBegin;
  PetscCall(dataset_open(MPI_COMM_SELF, path, &ds));
  n = ds.n < 4 ? ds.n : 4;
  if (n > 0 && ds.D > 0 && ds.D <= (1 << 20)) {
    x = malloc(sizeof *x * (size_t)(n * ds.D));
    if (x) PetscCall(dataset_read(&ds, 0, n, x, ds.labelid >= 0 ? label : NULL));
    free(x);
  }
  PetscCall(dataset_close(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_ckpt(const char *path)
{
  model_config mc;
  model        m = NULL;
  float       *w = NULL;
  size_t       nparam;
  PetscFunctionBegin;
  PetscCall(ckpt_read_config(MPI_COMM_SELF, path, &mc, &nparam));
  PetscCall(ckpt_load_model(MPI_COMM_SELF, path, "ema", 1, MPI_COMM_SELF, &mc, &m, &w));
  ardm_free(&w);
  PetscCall(model_destroy(&m));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_loss(const char *path)
{
  plan_losses ls;
  PetscFunctionBegin;
  memset(&ls, 0, sizeof ls);
  PetscCall(plan_losses_read(MPI_COMM_SELF, path, "loss", 0.0, &ls));
  plan_losses_free(&ls);
  PetscFunctionReturn(0);
}

static PetscErrorCode read_plan(const char *path)
{
  planner_result r;
  PetscFunctionBegin;
  memset(&r, 0, sizeof r);
  PetscCall(plan_file_read(MPI_COMM_SELF, path, &r));
  planner_result_free(&r);
  PetscFunctionReturn(0);
}

static PetscErrorCode read_trainlog(const char *path)
{
  trainlog log = {0};
  PetscFunctionBegin;
  PetscCall(trainlog_load(&log, MPI_COMM_SELF, path, INT64_MAX));
  PetscCall(trainlog_free(&log));
  PetscFunctionReturn(0);
}

/* The byte readers of prep report bad input through their return value, never an error code. */
static PetscErrorCode read_wav(const char *path)
{
  wav_reader r;
  uint16_t   x[16000];
  char       why[256];
  wav_reader_init(&r, 16000, 16000, 1, 1);
  (void)wav_read(&r, path, x, why, sizeof why);
  wav_reader_free(&r);
  return 0;
}

static PetscErrorCode read_text(const uint8_t *data, size_t size)
{
  text_cleaner c;
  char        *out = malloc(text_clean_bound(size) + 1);
  uint8_t     *sym;
  size_t       n;
  if (!out) return 0;
  text_clean_init(&c);
  n = text_clean(&c, data, size, out);
  sym = malloc(n + 1);
  if (sym) (void)text_encode(out, n, sym);
  free(sym);
  free(out);
  return 0;
}

static PetscErrorCode read_png(const char *path)
{
  static uint8_t rgb[3 * 32 * 32];
  char           why[256];
  (void)png_read_planar(path, 32, 32, rgb, why, sizeof why);
  return 0;
}

int fuzz_one(int reader, const uint8_t *data, size_t size)
{
  PetscErrorCode ierr = 0;
  FILE          *f;
  char          *pos[1] = {fuzz_path};
  if (reader == 7) return (int)read_text(data, size);
  if (!(f = fopen(fuzz_path, "wb"))) return 0;
  if (size && fwrite(data, 1, size, f) != size) size = 0;
  if (fclose(f) || !size) return 0;
  switch (reader) {
  case 0:
    ierr = read_dataset(fuzz_path);
    break;
  case 1:
    ierr = read_ckpt(fuzz_path);
    break;
  case 2:
    ierr = read_loss(fuzz_path);
    break;
  case 3:
    ierr = read_plan(fuzz_path);
    break;
  case 4:
    ierr = read_trainlog(fuzz_path);
    break;
  case 5: {
    int so = dup(1), null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1); /* info prints its summary; only the verdict matters here */
    ierr = cmd_info(1, pos);
    fflush(stdout);
    if (so >= 0) dup2(so, 1), close(so);
    if (null >= 0) close(null);
    break;
  }
  case 6:
    ierr = read_wav(fuzz_path);
    break;
  case 8:
    ierr = read_png(fuzz_path);
    break;
  default:
    break;
  }
  if (ierr) ncio_abandon_all(0);
  return ierr == 0 || ierr == ARDM_ERR_INPUT ? 0 : (int)ierr;
}
