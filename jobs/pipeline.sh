#!/bin/bash
# jobs/pipeline.sh: submits the whole ardm workflow as a chain of Slurm jobs,
#   prep -> train -> eval -> plan -> sample (+ export) -> report,
# each step starting only when the previous one succeeded (--dependency=afterok). When a step
# fails, Slurm cancels every step after it (--kill-on-invalid-dep=yes; without it they would
# wait forever with DependencyNeverSatisfied). Run it where sbatch works (a login node).
#
# Usage:  RUN_DIR=output/sc09 ARDM_PREP_ARGS="-in /data/sc09" ARDM_OPTIONS=input/sc09.opts \
#           jobs/pipeline.sh [--dry-run]
# Prints one line "STEP JOBID" per submitted step and writes the same to $RUN_DIR/jobs.txt;
# each step logs to $RUN_DIR/logs/STEP-JOBID.out. --dry-run prints the sbatch commands only.
# Variables (all optional; the environment is passed to every job, so the variables of the job
# scripts jobs/*.sbatch, e.g. ARDM_OPTIONS, ARDM_STEPS, ARDM_BUDGETS, apply as documented there):
#   ARDM_ROOT      ardm checkout or installation (default: the directory above this script)
#   RUN_DIR        the run's directory (default $ARDM_ROOT/output/run; made absolute)
#   ARDM_STEPS_RUN which steps to submit, in order (default "prep train eval plan sample report";
#                  leave out prep when $RUN_DIR/data already holds the data sets)
#   ARDM_AFTER     job id the first step waits for (afterok), e.g. to chain pipelines (default none)
#   ARDM_NTASKS_<STEP>, ARDM_TIME_<STEP>  ranks and time limit per step, STEP in upper case
#                  (e.g. ARDM_NTASKS_TRAIN=8 ARDM_TIME_TRAIN=12:00:00; default: the script's #SBATCH)
#   ARDM_SBATCH_ARGS  extra sbatch options for every step (default none)
#   Partition and account: SBATCH_PARTITION and SBATCH_ACCOUNT (read by sbatch itself).
# Exit: 0 all steps submitted; 1 a submission failed (the steps already submitted are cancelled).
set -u
ARDM_ROOT=${ARDM_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RUN_DIR=${RUN_DIR:-$ARDM_ROOT/output/run}
mkdir -p "$RUN_DIR/logs" || { echo "pipeline: cannot create $RUN_DIR/logs" >&2; exit 1; }
RUN_DIR=$(cd "$RUN_DIR" && pwd)
export ARDM_ROOT RUN_DIR
dry=0
[ "${1:-}" = --dry-run ] && dry=1

submitted=()
abort() {
  echo "pipeline: error: $*" >&2
  if [ ${#submitted[@]} -gt 0 ]; then
    echo "pipeline: cancelling the steps already submitted: ${submitted[*]}" >&2
    scancel "${submitted[@]}"
  fi
  exit 1
}

prev=${ARDM_AFTER:-}
[ $dry = 1 ] || : >"$RUN_DIR/jobs.txt"
for step in ${ARDM_STEPS_RUN:-prep train eval plan sample report}; do
  script="$ARDM_ROOT/jobs/$step.sbatch"
  [ -f "$script" ] || abort "no job script $script for step '$step'"
  up=$(echo "$step" | tr a-z A-Z)
  ntasks_var="ARDM_NTASKS_$up" time_var="ARDM_TIME_$up"
  cmd=(sbatch --parsable --job-name="ardm-$step" --output="$RUN_DIR/logs/$step-%j.out"
    --kill-on-invalid-dep=yes)
  [ -n "$prev" ] && cmd+=(--dependency="afterok:$prev")
  [ -n "${!ntasks_var:-}" ] && cmd+=(--ntasks="${!ntasks_var}")
  [ -n "${!time_var:-}" ] && cmd+=(--time="${!time_var}")
  # shellcheck disable=SC2206
  [ -n "${ARDM_SBATCH_ARGS:-}" ] && cmd+=($ARDM_SBATCH_ARGS)
  cmd+=("$script")
  if [ $dry = 1 ]; then
    echo "${cmd[*]}"
    prev="<$step>"
    continue
  fi
  out=$("${cmd[@]}" 2>&1) || abort "sbatch for step $step failed: $out"
  id=${out%%;*} # --parsable prints "id" or "id;cluster"
  case "$id" in "" | *[!0-9]*) abort "sbatch for step $step printed '$out', not a job id" ;; esac
  submitted+=("$id")
  echo "$step $id" | tee -a "$RUN_DIR/jobs.txt"
  prev=$id
done
[ $dry = 1 ] || echo "pipeline: watch with: squeue -j $(IFS=,; echo "${submitted[*]}"); logs in $RUN_DIR/logs" >&2
