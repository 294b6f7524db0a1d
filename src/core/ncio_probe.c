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
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

/* One byte to the parent per object walked: the limit is on a walk that stops advancing. */
static void probe_progress(void)
{
  ssize_t w = write(STDOUT_FILENO, ".", 1);
  (void)w;
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
  probe_progress();
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

/* The child's exit code: 0 = read, 1 = no verdict (a transient failure: out of memory or
   descriptors, an I/O error; the parallel open may still succeed and names its own errors),
   1 + -(NetCDF error) for a file the library refuses. */
#define PROBE_EXIT_PASS      0
#define PROBE_EXIT_UNDECIDED 1
/* The child's first output: the parent accepts a verdict only from a process that wrote it (the
   program /proc/self/exe started is ardm's probe, not, say, valgrind's tool run directly). */
#define PROBE_HELLO "ardm-probe\n"

int ncio_probe_main(const char *path, long parent)
{
  /* crashes end the child with the default action and no core file (a copy of a large process
     on a parallel file system); the job's signals (Slurm's USR1 warning, TERM, INT, HUP go to
     every process of a step) are the parent's to handle: it kills the child if it must */
  static const int ignored[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGHUP, SIGPIPE};
  struct rlimit    none = {0, 0};
  int              ncid, s;

  (void)setrlimit(RLIMIT_CORE, &none);
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) signal(ignored[i], SIG_IGN);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  if ((long)getppid() != parent) return PROBE_EXIT_UNDECIDED; /* the parent died before prctl */
  setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  if (write(STDOUT_FILENO, PROBE_HELLO, sizeof PROBE_HELLO - 1) != sizeof PROBE_HELLO - 1) return PROBE_EXIT_UNDECIDED;
  s = nc_open(path, NC_NOWRITE, &ncid);
  if (s == NC_NOERR) {
    probe_group(ncid, 0);
    (void)nc_close(ncid);
    return PROBE_EXIT_PASS;
  }
  /* only the library's verdict on the contents; errno values and NC_ENOMEM are the system's */
  return s < 0 && s != NC_ENOMEM && s > -255 ? 1 - s : PROBE_EXIT_UNDECIDED;
}

/* What the child found (rank 0's verdict, broadcast to every rank). */
typedef struct {
  int what; /* PROBE_OK, PROBE_SIGNAL (code = the signal), PROBE_HANG, PROBE_OPEN (code = nc_open's status) */
  int code;
} probe_result;
enum { PROBE_OK, PROBE_SIGNAL, PROBE_HANG, PROBE_OPEN, PROBE_NONE };

/* A signal a fault in the library raises (any other one came from outside: no verdict). */
static int crash_signal(int sig)
{
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGILL || sig == SIGFPE || sig == SIGSYS ||
         sig == SIGTRAP;
}

static double seconds_since(const struct timespec *t0)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

/* Starts `ardm --ncio-probe path pid` with stdout on a pipe, stderr on /dev/null, the default
   action for every signal and none blocked. Returns 0 or an errno. */
static int probe_spawn(const char *path, int out, pid_t *pid)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t          at;
  sigset_t                   all, none;
  char                       ppid[32], *argv[5];
  int                        err;

  snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
  argv[0] = "ardm";
  argv[1] = NCIO_PROBE_ARG;
  argv[2] = (char *)path;
  argv[3] = ppid;
  argv[4] = NULL;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* MPI's sockets and shared memory stay the parent's */
#endif
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  err = posix_spawn(pid, "/proc/self/exe", &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return err;
}

/* Rank 0: runs the child and reads its progress; limit seconds (0 = none) without a byte is a
   hang. A child that cannot be started, or one killed from outside, gives no verdict: the probe
   is a safety net, not a requirement. */
static probe_result probe_run(const char *path, unsigned limit)
{
  struct timespec last;
  probe_result    res = {PROBE_NONE, 0};
  int             fds[2], status = 0, open = 1;
  size_t          hello = 0; /* bytes of PROBE_HELLO seen */
  pid_t           pid, r;

  if (pipe2(fds, O_CLOEXEC)) return res;
  if (probe_spawn(path, fds[1], &pid)) {
    close(fds[0]);
    close(fds[1]);
    return res;
  }
  close(fds[1]);
  clock_gettime(CLOCK_MONOTONIC, &last);
  while (open) {
    struct pollfd p = {fds[0], POLLIN, 0};
    double        left = limit ? (double)limit - seconds_since(&last) : -1;
    char          buf[256];
    if (limit && left <= 0) break;
    if (poll(&p, 1, limit ? (int)(1000 * left) + 1 : -1) <= 0) continue; /* time-out or EINTR: look again */
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      for (ssize_t i = 0; i < n && hello < sizeof PROBE_HELLO - 1; i++)
        hello = buf[i] == PROBE_HELLO[hello] ? hello + 1 : sizeof PROBE_HELLO; /* a mismatch: never */
      clock_gettime(CLOCK_MONOTONIC, &last);
    } else if (n == 0 || errno != EINTR)
      open = 0; /* the child exited (or the pipe broke) */
  }
  close(fds[0]);
  if (open) { /* no progress for the limit */
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (hello == sizeof PROBE_HELLO - 1) res.what = PROBE_HANG;
    return res;
  }
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (r != pid || hello != sizeof PROBE_HELLO - 1) return res;
  if (WIFSIGNALED(status) && crash_signal(WTERMSIG(status))) {
    res.what = PROBE_SIGNAL;
    res.code = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_EXIT_PASS) {
    res.what = PROBE_OK;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) > PROBE_EXIT_UNDECIDED) {
    res.what = PROBE_OPEN;
    res.code = 1 - WEXITSTATUS(status);
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
    else if (s < 0 && s != NC_ENOMEM)
      res = (probe_result){PROBE_OPEN, s};
  } else if (rank == 0 && !stat(path, &st) && S_ISREG(st.st_mode)) {
    int same = !strcmp(path, probed_path) && st.st_ino == probed.st_ino && st.st_dev == probed.st_dev &&
               st.st_size == probed.st_size && st.st_mtim.tv_sec == probed.st_mtim.tv_sec &&
               st.st_mtim.tv_nsec == probed.st_mtim.tv_nsec;
    if (!same) {
      /* another file's watch is paused meanwhile: its countdown must not name this file's wait */
      struct timespec t0;
      unsigned        pending = alarm(0);
      clock_gettime(CLOCK_MONOTONIC, &t0);
      res = probe_run(path, watchdog_limit());
      if (pending) {
        double spent = seconds_since(&t0);
        alarm(spent + 1 < pending ? pending - (unsigned)spent : 1);
      }
    }
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
