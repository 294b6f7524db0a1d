#!/bin/sh
# tests/slurm/slurm_down.sh: stops a private Slurm started by tests/slurm/slurm_up.sh and removes
# its directory (POSIX sh, run as root). Only the processes that slurm_up started are stopped:
# the pids in its directory's pid files, each checked to still be that program, plus any
# slurmstepd left behind by that slurmd (recognised by SLURM_CONF=<that directory> in its
# environment). Jobs still in the queue are cancelled first.
#
# Usage: sh tests/slurm/slurm_down.sh [DIR]   (DIR defaults to $ARDM_SLURM_DIR, else the directory
#        of $SLURM_CONF). ARDM_SLURM_KEEP=1 keeps the directory (logs) and says where it is.
# Exit 0 when everything is stopped (also when it was already stopped).
set -u

say() { echo "slurm_down: $*" >&2; }
D=${1:-${ARDM_SLURM_DIR:-}}
[ -n "$D" ] || { [ -n "${SLURM_CONF:-}" ] && D=$(dirname "$SLURM_CONF"); }
[ -n "$D" ] || { say "no directory given (argument, ARDM_SLURM_DIR or SLURM_CONF)"; exit 1; }
[ -f "$D/.ardm-slurm" ] || { say "$D was not made by slurm_up.sh; not touching it"; exit 1; }
export SLURM_CONF="$D/slurm.conf"

# alive PIDFILE NAME: prints the pid when the file names a running process called NAME.
alive() {
  [ -s "$1" ] || return 1
  pid=$(tr -dc 0-9 <"$1")
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
}
# wait_gone SECONDS PID...: waits until none of the pids is running; 1 on time-out.
wait_gone() {
  n=$(($1 * 10)); shift
  while [ $n -gt 0 ]; do
    left=""
    for p in "$@"; do [ -d "/proc/$p" ] && left="$left $p"; done
    [ -z "$left" ] && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

ctld=$(alive "$D/slurmctld.pid" slurmctld) || ctld=""
slurmd=$(alive "$D/slurmd.pid" slurmd) || slurmd=""
munged=$(alive "$D/munged.pid" munged) || munged=""

# 1. Cancel the jobs still queued or running and wait (KillWait is 5 s) until they are gone.
if [ -n "$ctld" ]; then
  jobs=$(squeue -h -t all -o %A 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "$(echo "$jobs" | tr -d ' ')" ]; then
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    n=150
    while [ $n -gt 0 ] && squeue -h -t PD,R,CG,S,CF,RQ,RS,SO 2>/dev/null | grep -q .; do sleep 0.1; n=$((n - 1)); done
  fi
fi

# 2. Daemons: ask politely, then TERM, then KILL, each only for the pids recorded here.
[ -n "$ctld" ] && scontrol shutdown >/dev/null 2>&1
pids="$ctld $slurmd"
if [ -n "$(echo "$pids" | tr -d ' ')" ]; then
  # shellcheck disable=SC2086
  if ! wait_gone 15 $pids; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    # shellcheck disable=SC2086
    wait_gone 5 $pids || { say "killing $pids"; kill -KILL $pids 2>/dev/null; }
  fi
fi

# 3. Step daemons of this slurmd that outlived it (normally none after step 1).
for p in $(pgrep -x slurmstepd 2>/dev/null); do
  if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_CONF=$D/slurm.conf"; then
    say "killing leftover slurmstepd $p"
    kill -KILL "$p" 2>/dev/null
  fi
done

# 4. munged.
if [ -n "$munged" ]; then
  runuser -u munge -- munged --stop --socket="$D/munge-socket/munge.socket" >/dev/null 2>&1 || kill -TERM "$munged" 2>/dev/null
  wait_gone 5 "$munged" || kill -KILL "$munged" 2>/dev/null
fi

if [ "${ARDM_SLURM_KEEP:-0}" = 1 ]; then
  say "stopped; logs kept in $D/log"
else
  rm -rf "$D"
fi
exit 0
