/* cmd_report.c: `ardm report RUN_DIR`: a run's report, RUN_DIR/report/index.html with PNG
   figures (training curves, loss components, plans, evaluation with codec baselines, samples
   with audio players, scaling). This command checks the input, finds the drawing tool
   (tools/report.py, which uses Debian's python3-matplotlib and reads the NetCDF files with
   python3-netcdf4) and runs it on rank 0; the other ranks only wait for its verdict. */
#include "cmd/commands.h"
#include "core/ncio.h"
#include "core/opts.h"
#include <errno.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
  char     out[PATH_MAX], tool[PATH_MAX], python[PATH_MAX];
  PetscInt max_samples, codec_examples;
} report_options;

static PetscErrorCode process_options(MPI_Comm comm, report_options *o, PetscBool *help)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->python, sizeof o->python, "/usr/bin/python3");
  o->max_samples = 8, o->codec_examples = 24;
  PetscOptionsBegin(comm, NULL, "ardm report RUN_DIR: figures, audio and index.html for a run", "report");
  PetscCall(
      PetscOptionsString("-out", "output directory (default RUN_DIR/report)", "", o->out, o->out, sizeof o->out, NULL));
  PetscCall(PetscOptionsString("-tool",
                               "the drawing tool (default: tools/report.py of this ardm, found from $ARDM_ROOT "
                               "or next to the binary)",
                               "", o->tool, o->tool, sizeof o->tool, NULL));
  PetscCall(PetscOptionsString("-python", "Python with numpy, netCDF4 and matplotlib", "", o->python, o->python,
                               sizeof o->python, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-max_samples", "samples shown (audio: each with a player)", &o->max_samples,
                     1, 1000, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-codec_examples",
                     "examples of the evaluated data set the codec baselines (FLAC, gzip/xz, PNG) compress",
                     &o->codec_examples, 1, 100000, NULL));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "report", help));
  PetscFunctionReturn(0);
}

static int readable(const char *path)
{
  return path[0] && access(path, R_OK) == 0;
}

/* tools/report.py: $ARDM_ROOT/tools, then ../tools and ../share/ardm/tools beside the binary. */
static void find_tool(char *tool, size_t len)
{
  char        exe[PATH_MAX], dir[PATH_MAX];
  const char *root = getenv("ARDM_ROOT");
  ssize_t     n;
  if (root && snprintf(tool, len, "%s/tools/report.py", root) > 0 && readable(tool)) return;
  n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  tool[0] = 0;
  if (n <= 0) return;
  exe[n] = 0;
  snprintf(dir, sizeof dir, "%s", dirname(exe));
  if (snprintf(tool, len, "%s/../tools/report.py", dir) > 0 && readable(tool)) return;
  if (snprintf(tool, len, "%s/../share/ardm/tools/report.py", dir) > 0 && readable(tool)) return;
  tool[0] = 0;
}

/* Runs PYTHON TOOL RUN OUT MAX CODEC and returns its exit status (-1: could not start). */
static int run_tool(const report_options *o, const char *run)
{
  char  max[32], codec[32];
  char *argv[] = {(char *)o->python, (char *)o->tool, (char *)run, (char *)o->out, max, codec, NULL};
  pid_t pid;
  int   status;
  snprintf(max, sizeof max, "%d", (int)o->max_samples);
  snprintf(codec, sizeof codec, "%d", (int)o->codec_examples);
  fflush(stdout);
  if (posix_spawn(&pid, o->python, NULL, NULL, argv, environ)) return -1;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

PetscErrorCode cmd_report(int npos, char **pos)
{
  MPI_Comm       comm = PETSC_COMM_WORLD;
  report_options o;
  PetscBool      help;
  PetscMPIInt    rank;
  struct stat    st;
  int            rc = 0, err;

  PetscFunctionBegin;
  PetscCall(process_options(comm, &o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos == 1, comm, ARDM_ERR_INPUT, "expected one run directory (usage: ardm report RUN_DIR [-out DIR])");
  err = stat(pos[0], &st) ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  PetscCheck(!err, comm, ARDM_ERR_INPUT, "%s: not a run directory (%s)", pos[0], strerror(err));
  if (!o.out[0]) snprintf(o.out, sizeof o.out, "%s/report", pos[0]);
  PetscCall(ncio_make_dir(comm, o.out, "-out"));
  if (!o.tool[0]) find_tool(o.tool, sizeof o.tool);
  PetscCheck(readable(o.tool), comm, ARDM_ERR_INPUT,
             "cannot find the drawing tool tools/report.py%s%s: give -tool FILE or set ARDM_ROOT to the ardm checkout",
             o.tool[0] ? " at " : "", o.tool);
  PetscCheck(access(o.python, X_OK) == 0, comm, ARDM_ERR_INPUT,
             "-python %s: not an executable (Debian: apt-get install python3-matplotlib python3-netcdf4)", o.python);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) rc = run_tool(&o, pos[0]);
  PetscCallMPI(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
  PetscCheck(rc != 5, comm, ARDM_ERR_INPUT,
             "%s lacks numpy, netCDF4 or matplotlib (Debian: apt-get install python3-numpy python3-netcdf4 "
             "python3-matplotlib)",
             o.python);
  PetscCheck(rc == 0, comm, PETSC_ERR_LIB, "%s %s failed (exit %d%s)", o.python, o.tool, rc,
             rc < 0 ? ": could not start it" : "");
  PetscCall(PetscPrintf(comm, "ardm report: wrote %s/index.html\n", o.out));
  PetscFunctionReturn(0);
}
