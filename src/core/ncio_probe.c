/* ncio_probe.c: a damaged file must end a command with an input error, not a crash or a hang
   (see ncio.h, ncio_probe). The HDF5 library trusts a file's metadata: fuzzing found files on
   which nc_open frees a wild pointer (glibc aborts the process: exit 134) or walks a corrupted
   heap in a circle forever, with no error code to catch (benchmarks/RESULTS.md, "Fuzzing the
   readers"). So before the parallel open, rank 0 forks a child that opens the file with the
   serial library and walks all of its metadata; the child dying by a signal, or running past the
   watchdog's limit, makes the file an input error on every rank. The child never talks MPI, and
   it ends with _exit: nothing of the parent's state (MPI, HDF5, open files) is finalised twice.
   Library users (no watchdog_init: the unit tests, the fuzzer) get the serial open in-process. */
#include "core/ncio.h"
#include "core/watchdog.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX_ATT   (1u << 20) /* attribute values read in full up to this many bytes */
#define PROBE_MAX_DEPTH 32         /* nested groups walked */

/* The last file that passed, so that a command opening its input twice (ncio_set_parent, then
   ncio_open) probes it once; a file changed since (size, time, inode) is probed again. */
static struct stat probed;
static char        probed_path[PATH_MAX];

static int atomic_type(nc_type t)
{
  return t >= NC_BYTE && t <= NC_UINT64 && t != NC_STRING;
}

/* Reads attribute a of variable v (NC_GLOBAL for the group's own); errors are ignored: only a
   crash or a hang matters here, and the command's own checks report a readable file's defects. */
static void probe_att(int ncid, int v, int a)
{
  char    name[NC_MAX_NAME + 1];
  nc_type t;
  size_t  len, size;

  if (nc_inq_attname(ncid, v, a, name) || nc_inq_att(ncid, v, name, &t, &len) || !len) return;
  if (t == NC_STRING && len <= PROBE_MAX_ATT / sizeof(char *)) {
    char **s = calloc(len, sizeof *s);
    if (s && !nc_get_att_string(ncid, v, name, s)) (void)nc_free_string(len, s);
    free(s);
  } else if (atomic_type(t) && !nc_inq_type(ncid, t, NULL, &size) && len <= PROBE_MAX_ATT / size) {
    void *buf = malloc(len * size);
    if (buf) (void)nc_get_att(ncid, v, name, buf);
    free(buf);
  }
}

/* Reads variable v's definition, its attributes and its first value (which reaches the chunk
   index and the filters). */
static void probe_var(int ncid, int v)
{
  int     ndims, dimids[NC_MAX_VAR_DIMS], natts, empty = 0;
  nc_type t;
  size_t  start[NC_MAX_VAR_DIMS] = {0}, len;
  char    name[NC_MAX_NAME + 1];
  double  value[2];

  if (nc_inq_var(ncid, v, name, &t, &ndims, dimids, &natts)) return;
  for (int a = 0; a < natts; a++) probe_att(ncid, v, a);
  for (int d = 0; d < ndims; d++)
    if (nc_inq_dim(ncid, dimids[d], name, &len) || !len) empty = 1;
  if (!empty && atomic_type(t)) (void)nc_get_var1(ncid, v, start, value);
}

static void probe_group(int ncid, int depth)
{
  int nvars = 0, natts = 0, ngrps = 0, ndims = 0, *ids;

  if (!nc_inq(ncid, &ndims, &nvars, &natts, NULL)) {
    for (int a = 0; a < natts; a++) probe_att(ncid, NC_GLOBAL, a);
    for (int v = 0; v < nvars; v++) probe_var(ncid, v);
  }
  if (depth >= PROBE_MAX_DEPTH || nc_inq_grps(ncid, &ngrps, NULL) || ngrps <= 0) return;
  ids = calloc((size_t)ngrps, sizeof *ids);
  if (ids && !nc_inq_grps(ncid, NULL, ids))
    for (int g = 0; g < ngrps; g++) probe_group(ids[g], depth + 1);
  free(ids);
}

/* The child: the default action for the signals a library fault raises (PETSc's handler would
   print its trace and call MPI_Abort, and the job's MPI connection belongs to the parent), no
   output (glibc's "free(): invalid pointer" would be a second line), killed with the parent, and
   no HDF5 file lock (a read needs none, and Lustre without flock would refuse it). Its exit code
   is the serial open's status: 0, an errno (1..127), or 128 + -(NetCDF error) (128 if beyond). */
static void probe_child(const char *path)
{
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM, SIGTERM, SIGUSR1, SIGINT};
  int              fd, ncid, s;

  alarm(0);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  fd = open("/dev/null", O_WRONLY);
  if (fd >= 0) {
    (void)dup2(fd, STDOUT_FILENO);
    (void)dup2(fd, STDERR_FILENO);
  }
  setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  s = nc_open(path, NC_NOWRITE, &ncid);
  if (s == NC_NOERR) {
    probe_group(ncid, 0);
    (void)nc_close(ncid);
  }
  _exit(s == NC_NOERR ? 0 : s > 0 && s < 128 ? s : s < 0 && s > -128 ? 128 - s : 128);
}

/* What the child found (rank 0's verdict, broadcast to every rank). */
typedef struct {
  int what; /* PROBE_OK, PROBE_SIGNAL (code = the signal), PROBE_HANG, PROBE_OPEN (code = nc_open's status) */
  int code;
} probe_result;
enum { PROBE_OK, PROBE_SIGNAL, PROBE_HANG, PROBE_OPEN };

/* Rank 0: runs the child and waits for it up to limit seconds (0 = no limit). No child (fork
   failed) passes: the probe is a safety net, not a requirement. */
static probe_result probe_run(const char *path, unsigned limit)
{
  struct timespec t0, now, nap = {0, 1000000};
  probe_result    res = {PROBE_OK, 0};
  int             status;
  pid_t           pid;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid = fork();
  if (pid < 0) return res;
  if (pid == 0) probe_child(path);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return res;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (limit && (double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec) >= (double)limit) {
      kill(pid, SIGKILL);
      (void)waitpid(pid, &status, 0);
      res.what = PROBE_HANG;
      return res;
    }
    nanosleep(&nap, NULL);
    if (nap.tv_nsec < 50000000) nap.tv_nsec *= 2; /* 1 ms, 2 ms, ... 64 ms between looks */
  }
  if (WIFSIGNALED(status)) {
    res.what = PROBE_SIGNAL;
    res.code = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status)) {
    int e = WEXITSTATUS(status);
    res.what = PROBE_OPEN;
    res.code = e < 128 ? e : e == 128 ? NC_EHDFERR : 128 - e;
  }
  return res;
}

PetscErrorCode ncio_probe(MPI_Comm comm, const char *path)
{
  PetscMPIInt  rank;
  probe_result res = {PROBE_OK, 0};
  struct stat  st;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0 && !watchdog_started()) {
    /* library users (the unit tests, the fuzzer) get the serial open in their own process: the
       same verdict on a file the serial library refuses, and a crash stays a fuzzer finding */
    int ncid, s = nc_open(path, NC_NOWRITE, &ncid);
    if (s == NC_NOERR)
      (void)nc_close(ncid);
    else if (s != ENOENT && s != EACCES)
      res = (probe_result){PROBE_OPEN, s};
  } else if (rank == 0 && !stat(path, &st) && S_ISREG(st.st_mode)) {
    int same = !strcmp(path, probed_path) && st.st_ino == probed.st_ino && st.st_dev == probed.st_dev &&
               st.st_size == probed.st_size && st.st_mtim.tv_sec == probed.st_mtim.tv_sec &&
               st.st_mtim.tv_nsec == probed.st_mtim.tv_nsec;
    if (!same) res = probe_run(path, watchdog_limit());
    if (res.what == PROBE_OK && strlen(path) < sizeof probed_path) {
      probed = st;
      snprintf(probed_path, sizeof probed_path, "%s", path);
    }
  }
  PetscCallMPI(MPI_Bcast(&res, 2, MPI_INT, 0, comm));
  PetscCheck(res.what != PROBE_HANG, comm, ARDM_ERR_INPUT, WATCHDOG_HANG_FMT, path, watchdog_limit());
  PetscCheck(res.what != PROBE_SIGNAL, comm, ARDM_ERR_INPUT,
             "%s: the file is damaged: the HDF5 library crashes reading its metadata (%s in a test open); restore it "
             "from a good copy",
             path, strsignal(res.code));
  /* a file the serial library refuses is refused here: the parallel library can crash while it
     cleans up after the same error (every checkpoint the fuzzer crashed, RESULTS.md) */
  PetscCheck(res.what != PROBE_OPEN, comm, ARDM_ERR_INPUT, "%s: not a readable NetCDF-4 file (%s)", path,
             nc_strerror(res.code));
  PetscFunctionReturn(0);
}
