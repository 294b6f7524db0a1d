#!/bin/sh
# tests/slurm/slurm_up.sh: starts a private single-node Slurm for tests (POSIX sh, run as root).
# A fresh temporary directory holds everything: slurm.conf generated for this machine (hostname,
# CPUs, sockets/cores/threads and memory from `slurmd -C`), a new munge key, a private munged
# socket, state, spool, pid and log files. Started: munged (as user munge), slurmctld and slurmd
# (as root); returns when the node is idle. Nothing outside the directory is touched, so a
# system Slurm/munge or the leftovers of an earlier run do not interfere.
#
# Usage:  out=$(sh tests/slurm/slurm_up.sh) && eval "$out"      # sets SLURM_CONF, ARDM_SLURM_DIR
#   or:   sh tests/slurm/slurm_up.sh >/dev/null; . "$(cat ...)"  # the same lines are in DIR/env
#         ... sbatch/srun/squeue with SLURM_CONF set ...
#         sh tests/slurm/slurm_down.sh                           # stops only what this started
# stdout: only the export lines; progress and errors go to stderr.
# Exit: 0 node idle; 1 failed to start (everything started is stopped again, logs shown);
#       2 Slurm or munge is not installed, or not root.
# Env (all optional):
#   ARDM_SLURM_BASE    parent of the temporary directory (default ${TMPDIR:-/tmp})
#   ARDM_SLURM_CPUS    CPUs of the node; more than the machine has makes an overcommitted test
#                      node (SlurmdParameters=config_overrides), e.g. to submit 4-rank jobs on 2
#                      cores (default: what slurmd -C reports)
#   ARDM_SLURM_PORT    slurmctld port, slurmd gets the next one (default: first free pair >= 6817)
#   ARDM_SLURM_CRED_EXPIRE  seconds a requeued job waits before it may start again (Slurm's
#                      default is 120; default here 5 so requeue tests are fast)
set -eu

say() { echo "slurm_up: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || { say "must run as root (the daemons run as root and munge)"; exit 2; }
for p in munged mungekey slurmctld slurmd sinfo scontrol; do
  command -v "$p" >/dev/null 2>&1 || { say "$p is not installed (Debian: slurm-wlm munge)"; exit 2; }
done
id munge >/dev/null 2>&1 || { say "user munge does not exist (Debian package munge)"; exit 2; }

t_start=$(date +%s.%N)
D=$(mktemp -d "${ARDM_SLURM_BASE:-${TMPDIR:-/tmp}}/ardm-slurm.XXXXXX")
chmod 755 "$D" # munged runs as user munge and must reach its subdirectory
: >"$D/.ardm-slurm" # marker: slurm_down only removes directories that carry it
mkdir -p "$D/state" "$D/spool" "$D/log" "$D/munge" "$D/munge-socket"
chown munge:munge "$D/munge" "$D/munge-socket"
chmod 700 "$D/munge"        # key, seed, log, pid: munge only
chmod 755 "$D/munge-socket" # munged insists that every user can reach its socket
CONF="$D/slurm.conf"
SOCK="$D/munge-socket/munge.socket"

# From here on a failure stops whatever was started and shows the logs.
failed() {
  say "error: $*"
  for f in "$D/log/slurmctld.log" "$D/log/slurmd.log" "$D/munge/munged.log"; do
    [ -f "$f" ] && { say "--- tail $f"; tail -n 15 "$f" >&2; }
  done
  ARDM_SLURM_KEEP=${ARDM_SLURM_KEEP:-0} sh "$(dirname "$0")/slurm_down.sh" "$D" >&2 || true
  exit 1
}

# munge: a new key and a private daemon on its own socket (Slurm finds it via AuthInfo).
runuser -u munge -- mungekey --create --keyfile="$D/munge/munge.key" ||
  failed "mungekey could not create a key"
runuser -u munge -- munged --socket="$SOCK" --key-file="$D/munge/munge.key" \
  --log-file="$D/munge/munged.log" --pid-file="$D/munge/munged.pid" \
  --seed-file="$D/munge/munged.seed" || failed "munged did not start"
cp "$D/munge/munged.pid" "$D/munged.pid"
munge -n -S "$SOCK" | unmunge -S "$SOCK" >/dev/null || failed "munge credential round trip failed"

# Hardware as slurmd sees it: "NodeName=h CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
# ThreadsPerCore=1 RealMemory=24105".
hw=$(slurmd -C | head -n 1)
field() { echo "$hw" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
host=$(hostname -s)
cpus=$(field CPUs) sockets=$(field SocketsPerBoard) cores=$(field CoresPerSocket)
threads=$(field ThreadsPerCore) mem=$(field RealMemory)
[ -n "$cpus" ] && [ -n "$mem" ] || failed "could not parse 'slurmd -C': $hw"
mem=$((mem * 95 / 100)) # a little below the total so the node is never drained for low memory
node="Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads CPUs=$cpus"
extra=""
if [ -n "${ARDM_SLURM_CPUS:-}" ] && [ "$ARDM_SLURM_CPUS" != "$cpus" ]; then
  node="Sockets=1 CoresPerSocket=$ARDM_SLURM_CPUS ThreadsPerCore=1 CPUs=$ARDM_SLURM_CPUS"
  extra="SlurmdParameters=config_overrides" # accept a node larger than the hardware
fi

# Ports: the first pair not already listened on (a system Slurm may use 6817/6818).
port_used() { # a TCP socket listens on port $1 (state 0A in /proc/net/tcp*; no iproute2 needed)
  awk -v h="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
port=${ARDM_SLURM_PORT:-}
if [ -n "$port" ]; then
  ! port_used "$port" && ! port_used $((port + 1)) || failed "ARDM_SLURM_PORT: port $port or $((port + 1)) is in use"
else
  port=6817
  while port_used "$port" || port_used $((port + 1)); do
    port=$((port + 10))
    [ "$port" -lt 7817 ] || failed "no free port pair between 6817 and 7817"
  done
fi

: >"$D/plugstack.conf" # no SPANK plugins from /etc/slurm
cat >"$CONF" <<EOF
# Private single-node Slurm generated by tests/slurm/slurm_up.sh on $(date -u +%FT%TZ)
ClusterName=ardmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK,cred_expire=${ARDM_SLURM_CRED_EXPIRE:-5}
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
PlugStackConfig=$D/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Test speed only: rescan pending jobs every second (default 60 s main loop, 30 s backfill), so a
# requeued job starts as soon as its begin time (cred_expire) has passed.
SchedulerParameters=sched_interval=1,bf_interval=1
SwitchType=switch/none
MpiDefault=pmix
ReturnToService=2
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
MinJobAge=600
KillWait=5
$extra
NodeName=$host NodeAddr=127.0.0.1 $node RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

export SLURM_CONF="$CONF"
slurmctld -f "$CONF" || failed "slurmctld did not start"
slurmd -f "$CONF" || failed "slurmd did not start"

# Wait (up to 30 s) for the node to be idle; stop waiting when a daemon has died.
running() { [ -s "$D/$1.pid" ] && [ "$(cat "/proc/$(tr -dc 0-9 <"$D/$1.pid")/comm" 2>/dev/null)" = "$1" ]; }
state=""
i=0
while [ $i -lt 300 ]; do
  state=$(sinfo -h -o %T 2>/dev/null | head -n 1) || state=""
  [ "$state" = idle ] && break
  if [ $i -ge 20 ]; then
    for f in slurmctld slurmd; do running $f || failed "$f is not running (its log follows)"; done
  fi
  sleep 0.1
  i=$((i + 1))
done
[ "$state" = idle ] || failed "node not idle after 30 s (state '$state')"
for f in slurmctld slurmd; do [ -s "$D/$f.pid" ] || failed "$f wrote no pid file"; done

{
  echo "export SLURM_CONF='$CONF'"
  echo "export ARDM_SLURM_DIR='$D'"
} >"$D/env"
cat "$D/env"
say "node $host idle ($(echo "$node" | sed 's/.*CPUs=//') CPUs, ports $port/$((port + 1))) after" \
  "$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t_start }") s; state in $D"
