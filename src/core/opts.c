/* opts.c: typed options with one-line errors naming the option, -help, unknown-option
   rejection and option bookkeeping for every command. PETSc's own option readers wrap
   integers at 2^32, accept inf/nan reals and report a bad choice as an internal error, so
   the commands read values through these instead (the option text is parsed here). */
#include "core/opts.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Options PETSc itself may read after a command's ProcessOptions (at PetscFinalize or in
   PetscLog), so they are legitimately "unused" at the time we check. */
static const char *const petsc_late_options[] = {"log_view",
                                                 "log_view_memory",
                                                 "log_all",
                                                 "log_trace",
                                                 "malloc_dump",
                                                 "malloc_debug",
                                                 "malloc_view",
                                                 "memory_view",
                                                 "options_left",
                                                 "objects_dump",
                                                 "on_error_abort",
                                                 "on_error_attach_debugger",
                                                 "check_pointer_intensity",
                                                 "no_signal_handler",
                                                 "options_view",
                                                 "history",
                                                 NULL};

/* The option's text as given (set = PETSC_FALSE when absent); marks it used. */
static PetscErrorCode opt_text(PetscOptionItems *PetscOptionsObject, const char *opt, char *buf, size_t len,
                               PetscBool *set)
{
  PetscFunctionBegin;
  buf[0] = 0;
  PetscCall(PetscOptionsGetString(PetscOptionsObject->options, PetscOptionsObject->prefix, opt, buf, len, set));
  PetscFunctionReturn(0);
}

/* The -help line, in PETSc's layout ("<now ...>" marks the value in effect). */
static PetscErrorCode help_line(PetscOptionItems *PetscOptionsObject, const char *opt, const char *now, const char *def,
                                const char *help, const char *allowed)
{
  PetscFunctionBegin;
  if (PetscOptionsObject->printhelp && PetscOptionsObject->count == 1 && !PetscOptionsObject->alreadyprinted)
    PetscCall((*PetscHelpPrintf)(PetscOptionsObject->comm, "  -%s%s <now %s : formerly %s>: %s (%s)\n",
                                 PetscOptionsObject->prefix ? PetscOptionsObject->prefix : "", opt + 1, now, def, help,
                                 allowed));
  PetscFunctionReturn(0);
}

static int parse_int64(const char *s, int64_t *v)
{
  char     *end;
  long long x;
  errno = 0;
  x = strtoll(s, &end, 10);
  if (end == s || *end || errno) return 0;
  *v = (int64_t)x;
  return 1;
}

static void int_range_text(int64_t lo, int64_t hi, char *buf, size_t len)
{
  if (hi == INT64_MAX)
    snprintf(buf, len, "an integer >= %lld", (long long)lo);
  else if (lo <= -(int64_t)PETSC_MAX_INT)
    snprintf(buf, len, "an integer <= %lld", (long long)hi);
  else
    snprintf(buf, len, "an integer in %lld..%lld", (long long)lo, (long long)hi);
}

PetscErrorCode opts_choice(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help,
                           const char *const *list, int n, PetscInt *index, PetscBool *set)
{
  char      v[256], allowed[512] = "", def[64];
  PetscBool given;
  size_t    used = 0;
  int       found = -1;
  PetscFunctionBegin;
  snprintf(def, sizeof def, "%s", list[*index]);
  PetscCall(opt_text(PetscOptionsObject, opt, v, sizeof v, &given));
  for (int i = 0; i < n; i++) {
    if (given && !strcasecmp(v, list[i])) found = i;
    used += (size_t)snprintf(allowed + used, used < sizeof allowed ? sizeof allowed - used : 0, "%s%s",
                             i == 0       ? ""
                             : i == n - 1 ? " or "
                                          : ", ",
                             list[i]);
  }
  PetscCheck(!given || found >= 0, PetscOptionsObject->comm, ARDM_ERR_INPUT, "%s %s: expected %s", opt,
             v[0] ? v : "(no value)", allowed);
  if (given) *index = found;
  PetscCall(help_line(PetscOptionsObject, opt, list[*index], def, help, allowed));
  if (set) *set = given;
  PetscFunctionReturn(0);
}

PetscErrorCode opts_int64(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, int64_t *value,
                          int64_t lo, int64_t hi, PetscBool *set)
{
  char      v[256], range[96], now[32], def[32];
  PetscBool given;
  int64_t   x = *value;
  PetscFunctionBegin;
  snprintf(def, sizeof def, "%lld", (long long)*value);
  int_range_text(lo, hi, range, sizeof range);
  PetscCall(opt_text(PetscOptionsObject, opt, v, sizeof v, &given));
  PetscCheck(!given || (parse_int64(v, &x) && x >= lo && x <= hi), PetscOptionsObject->comm, ARDM_ERR_INPUT,
             "%s %s: expected %s", opt, v[0] ? v : "(no value)", range);
  *value = x;
  snprintf(now, sizeof now, "%lld", (long long)x);
  PetscCall(help_line(PetscOptionsObject, opt, now, def, help, range));
  if (set) *set = given;
  PetscFunctionReturn(0);
}

PetscErrorCode opts_int(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, PetscInt *value,
                        int64_t lo, int64_t hi, PetscBool *set)
{
  int64_t x = *value;
  PetscFunctionBegin;
  PetscCall(opts_int64(PetscOptionsObject, opt, help, &x, lo, hi < PETSC_MAX_INT ? hi : PETSC_MAX_INT, set));
  *value = (PetscInt)x;
  PetscFunctionReturn(0);
}

PetscErrorCode opts_int_array(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, PetscInt *values,
                              PetscInt *n, int64_t lo, int64_t hi, PetscBool *set)
{
  char      v[4096], range[96], now[64] = "", *tok, *save = NULL;
  PetscBool given;
  PetscInt  max = *n, count = 0;
  PetscFunctionBegin;
  if (hi > PETSC_MAX_INT) hi = PETSC_MAX_INT;
  int_range_text(lo, hi, range, sizeof range);
  PetscCall(opt_text(PetscOptionsObject, opt, v, sizeof v, &given));
  if (given) {
    for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      int64_t x = 0;
      PetscCheck(parse_int64(tok, &x) && x >= lo && x <= hi, PetscOptionsObject->comm, ARDM_ERR_INPUT,
                 "%s: '%s' is not %s", opt, tok, range);
      PetscCheck(count < max, PetscOptionsObject->comm, ARDM_ERR_INPUT, "%s: more than %d values", opt, (int)max);
      values[count++] = (PetscInt)x;
    }
    PetscCheck(count > 0, PetscOptionsObject->comm, ARDM_ERR_INPUT, "%s: expected a comma-separated list of %s", opt,
               range);
    *n = count;
  }
  snprintf(now, sizeof now, "%s", given ? "given" : "default");
  PetscCall(help_line(PetscOptionsObject, opt, now, "default", help, range));
  if (set) *set = given;
  PetscFunctionReturn(0);
}

/* "[lo,hi)" and the like: bracket kinds, bounds (inf allowed). */
static int parse_range(const char *r, double *lo, int *lo_open, double *hi, int *hi_open)
{
  char *e;
  if (r[0] != '[' && r[0] != '(') return 0;
  *lo_open = r[0] == '(';
  *lo = strtod(r + 1, &e);
  if (*e != ',') return 0;
  *hi = strtod(e + 1, &e);
  if (*e != ']' && *e != ')') return 0;
  *hi_open = *e == ')';
  return 1;
}

PetscErrorCode opts_real(PetscOptionItems *PetscOptionsObject, const char *opt, const char *help, PetscReal *value,
                         const char *range, PetscBool *set)
{
  char      v[256], now[32], def[32], *end;
  PetscBool given;
  double    lo, hi, x = *value;
  int       lo_open, hi_open, ok = 1;
  PetscFunctionBegin;
  PetscCheck(parse_range(range, &lo, &lo_open, &hi, &hi_open), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: bad range '%s' in the code", opt, range);
  snprintf(def, sizeof def, "%g", (double)*value);
  PetscCall(opt_text(PetscOptionsObject, opt, v, sizeof v, &given));
  if (given) {
    errno = 0;
    x = strtod(v, &end);
    ok = end != v && !*end && isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }
  PetscCheck(ok, PetscOptionsObject->comm, ARDM_ERR_INPUT, "%s %s: expected a finite number in %s", opt,
             v[0] ? v : "(no value)", range);
  *value = (PetscReal)x;
  snprintf(now, sizeof now, "%g", x);
  snprintf(v, sizeof v, "a number in %s", range);
  PetscCall(help_line(PetscOptionsObject, opt, now, def, help, v));
  if (set) *set = given;
  PetscFunctionReturn(0);
}

PetscErrorCode opts_check_memory(MPI_Comm comm, const char *opt, long long value, double bytes)
{
  const double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
  PetscFunctionBegin;
  ArdmCheckAll(comm, !(mem > 0) || bytes <= mem,
               "%s %lld: needs about %.1f GB of memory per rank, more than the %.1f GB of this machine", opt, value,
               bytes / 1e9, mem / 1e9);
  PetscFunctionReturn(0);
}
static PetscBool is_petsc_late(const char *name)
{
  for (int i = 0; petsc_late_options[i]; i++)
    if (!strcmp(name, petsc_late_options[i])) return PETSC_TRUE;
  return PETSC_FALSE;
}

PetscErrorCode opts_finish(MPI_Comm comm, const char *cmd, PetscBool *help_only)
{
  PetscInt n;
  char   **names, **values;
  char     bad[1024] = "";
  size_t   used = 0;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, help_only));
  if (*help_only) PetscFunctionReturn(0);
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    if (is_petsc_late(names[i])) continue;
    used +=
        (size_t)snprintf(bad + used, used < sizeof bad ? sizeof bad - used : 0, "%s-%s", used ? ", " : "", names[i]);
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!used, comm, ARDM_ERR_INPUT, "unknown option%s %s for 'ardm %s' (see 'ardm %s -help')",
             strchr(bad, ',') ? "s" : "", bad, cmd, cmd);
  PetscFunctionReturn(0);
}
