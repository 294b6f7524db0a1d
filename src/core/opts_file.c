/* opts_file.c: checks -options_file files before PETSc reads them. PETSc's reader recurses
   without end on a file that includes itself (a crash) and reports a malformed line with a
   multi-line traceback before ardm's error handler exists; both are the user's mistake and
   get one line and exit 1 here instead. The grammar mirrors PETSc's: per line, text after
   '#' is a comment; a line is empty, "-name [value...]" or "alias -new -old"; an
   "-options_file F" anywhere includes F. */
#include "core/opts.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

static int check_file(const char *path, char stack[][PATH_MAX], int depth, char *msg, size_t len);

static int check_line(const char *path, int lineno, char *line, char stack[][PATH_MAX], int depth, char *msg,
                      size_t len)
{
  char *save = NULL, *tok, *first;
  char *hash = strchr(line, '#');
  if (hash) *hash = 0;
  first = strtok_r(line, " \t\r\n", &save);
  if (!first) return 0;
  if (!strcmp(first, "alias")) {
    char *a = strtok_r(NULL, " \t\r\n", &save), *b = strtok_r(NULL, " \t\r\n", &save);
    if (!a || !b || a[0] != '-' || b[0] != '-') {
      snprintf(msg, len, "options file %s line %d: expected 'alias -new_name -old_name'", path, lineno);
      return 1;
    }
    return 0;
  }
  if (first[0] != '-') {
    snprintf(msg, len, "options file %s line %d: '%s' is not an option (options start with '-'; '#' starts a comment)",
             path, lineno, first);
    return 1;
  }
  for (tok = first; tok; tok = strtok_r(NULL, " \t\r\n", &save))
    if (!strcmp(tok, "-options_file")) {
      char *f = strtok_r(NULL, " \t\r\n", &save);
      if (!f) {
        snprintf(msg, len, "options file %s line %d: -options_file needs a file name", path, lineno);
        return 1;
      }
      if (check_file(f, stack, depth, msg, len)) return 1;
    }
  return 0;
}

/* stack[0..depth-1]: the real paths of the files being read (the include chain). */
static int check_file(const char *path, char stack[][PATH_MAX], int depth, char *msg, size_t len)
{
  char  real[PATH_MAX], line[8192];
  FILE *f;
  int   lineno = 0, bad = 0;
  if (!realpath(path, real) || !(f = fopen(path, "r"))) {
    snprintf(msg, len, "cannot read options file %s: %s", path, strerror(errno));
    return 1;
  }
  for (int i = 0; i < depth; i++)
    if (!strcmp(stack[i], real)) {
      snprintf(msg, len, "options file %s includes itself (through -options_file)", path);
      fclose(f);
      return 1;
    }
  if (depth == MAX_DEPTH) {
    snprintf(msg, len, "options file %s: -options_file nested more than %d deep", path, MAX_DEPTH);
    fclose(f);
    return 1;
  }
  snprintf(stack[depth], PATH_MAX, "%s", real);
  while (!bad && fgets(line, sizeof line, f)) bad = check_line(path, ++lineno, line, stack, depth + 1, msg, len);
  fclose(f);
  return bad;
}

int opts_check_files(int argc, char **argv, char *msg, size_t len)
{
  static char stack[MAX_DEPTH][PATH_MAX];
  for (int i = 0; i < argc; i++)
    if (!strcmp(argv[i], "-options_file")) {
      if (i + 1 >= argc) {
        snprintf(msg, len, "-options_file needs a file name");
        return 1;
      }
      if (check_file(argv[i + 1], stack, 0, msg, len)) return 1;
    }
  return 0;
}
