/* main.c: bin/ardm entry point: picks the subcommand, starts MPI and PETSc, maps errors to
   exit codes. Usage: ardm <command> [positional args] [-options]. */
#include "core/ardm.h"
#include "cmd/commands.h"
#include "core/ncio.h"
#include "core/opts.h"
#include "core/prof.h"
#include "core/threads.h"
#include "core/watchdog.h"
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  command_fn  fn;
  const char *summary;
} command;

static const command commands[] = {
    {"prep", cmd_prep, "raw data (WAV tree/list, text) -> NetCDF data sets train.nc/valid.nc/test.nc"},
    {"train", cmd_train, "train an ARDM; writes checkpoints, the training log and loss components"},
    {"eval", cmd_eval, "held-out bits/dim and loss components; with -plan the parallel NLL bound"},
    {"plan", cmd_plan, "loss components -> exact optimal generation plans and the cost curve"},
    {"sample", cmd_sample, "sample with a plan (or all D steps), optionally conditioned on given dims"},
    {"export", cmd_export, "samples or data sets -> WAV / text files"},
    {"info", cmd_info, "one-screen summary of any file ardm writes"},
    {"report", cmd_report, "a run's report: RUN_DIR/report/index.html with figures, samples and audio"},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *out)
{
  fprintf(out, "ardm %s: autoregressive diffusion models on MPI clusters\n\n", ARDM_VERSION);
  fprintf(out, "usage: [mpirun -n P] ardm <command> [args] [-option value ...]\n\ncommands:\n");
  for (int i = 0; i < NCOMMANDS; i++) fprintf(out, "  %-7s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'ardm <command> -help' lists every option of a command with its default;\n"
               "'-options_file F' reads options from a file.\n");
}

/* The command line as typed, for the history attribute of every output file. */
static void record_cmdline(int argc, char **argv)
{
  char   line[4096] = "";
  size_t used = 0;
  for (int i = 0; i < argc && used < sizeof line; i++)
    used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "", argv[i]);
  ncio_set_command_line(line);
}

int main(int argc, char **argv)
{
  const command *cmd = NULL;
  char           name[80], help[512], msg[PATH_MAX + 256];
  int            npos = 0, pargc = 1, code;
  char         **pargv;
  PetscErrorCode ierr;

  ardm_memory_init();
  if (argc == 4 && !strcmp(argv[1], NCIO_PROBE_ARG)) return ncio_probe_main(argv[2], atol(argv[3])); /* a child */

  if (argc < 2 || !strcmp(argv[1], "-help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return argc < 2 ? ARDM_EXIT_INPUT : ARDM_EXIT_OK;
  }
  if (!strcmp(argv[1], "-version") || !strcmp(argv[1], "--version")) {
    printf("ardm %s\n", ARDM_VERSION);
    return 0;
  }
  for (int i = 0; i < NCOMMANDS; i++)
    if (!strcmp(argv[1], commands[i].name)) cmd = &commands[i];
  if (!cmd) {
    fprintf(stderr, "ardm: error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return ARDM_EXIT_INPUT;
  }
  record_cmdline(argc, argv);
  /* positional arguments come before the first option; PETSc sees only the options */
  while (2 + npos < argc && argv[2 + npos][0] != '-') npos++;
  for (int i = 3 + npos; i < argc; i++) /* after the options, a word must be the value of the option before it */
    if (argv[i][0] != '-' && argv[i - 1][0] != '-') {
      fprintf(stderr, "ardm %s: error: unexpected argument '%s' (positional arguments go before the options)\n",
              cmd->name, argv[i]);
      return ARDM_EXIT_INPUT;
    }
  pargv = (char **)malloc(sizeof(char *) * (size_t)(argc + 1));
  if (!pargv) return ARDM_EXIT_ABORT;
  pargv[0] = argv[0];
  for (int i = 2 + npos; i < argc; i++) pargv[pargc++] = argv[i];
  pargv[pargc] = NULL;

  snprintf(name, sizeof name, "ardm %s", cmd->name);
  /* MPI first, so that options files are checked (one line from rank 0, exit 1 on every rank)
     before PETSc's reader can crash on a cycle or print a traceback */
  ncio_mpi_env(); /* read by MPI_Init */
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return ARDM_EXIT_ABORT;
  if (opts_check_files(pargc, pargv, msg, sizeof msg)) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) fprintf(stderr, "%s: error: %s\n", name, msg);
    MPI_Finalize();
    free(pargv);
    return ARDM_EXIT_INPUT;
  }
  snprintf(help, sizeof help, "%s: %s\n", name, cmd->summary);
  ierr = PetscInitialize(&pargc, &pargv, NULL, help);
  if (ierr) { /* PETSc has printed why */
    MPI_Finalize();
    free(pargv);
    return ARDM_EXIT_INPUT;
  }
  signal(SIGPIPE, SIG_DFL); /* `ardm info F | head` ends quietly, like any Unix tool */
  ierr = ardm_errors_init(name);
  if (!ierr) ierr = watchdog_init(name); /* ARDM_IO_TIMEOUT: no job hangs on a damaged file */
  if (!ierr) ierr = prof_init();
  if (!ierr) ierr = threads_init(PETSC_COMM_WORLD); /* -threads, an option of every command */
  if (!ierr) ierr = cmd->fn(npos, argv + 2);
  if (ierr) ncio_abandon_all(ardm_error_is_input(ierr)); /* no temporary file outlives a failure */
  code = ardm_errors_finish(ierr);
  PetscFinalize();
  MPI_Finalize(); /* PETSc leaves MPI to whoever started it */
  free(pargv);
  return code;
}
