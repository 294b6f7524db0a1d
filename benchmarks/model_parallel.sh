#!/bin/sh
# benchmarks/model_parallel.sh: -model_parallel Q (doc/design.md "Model parallelism") measured
# with `ardm train` itself, every ratio from runs of this one invocation:
#  1. peak memory per rank (train's own "peak memory per rank" line, getrusage maxrss) of the
#     36 x 256 network at D = 16000, batch 1: Q = 2 against Q = 1 (target <= 0.6);
#  2. long clips: the 12 x 64 network at D = 160000, batch 1: Q = 2 and Q = 4 against Q = 1
#     (targets <= 0.55 and <= 0.3);
#  3. throughput on 2 ranks, 36 x 256, global batch 2: Q = 2 (one replica) against Q = 1 (two
#     replicas), seconds per step from -log_view (target Q=1 time / Q=2 time >= 0.8), with the
#     time split into forward/backward and head (ArdmNetFwd + ArdmNetBwd + ArdmHead, of which
#     ArdmMPHalo is the neighbour exchange and ArdmMPParams the block-by-block gathers of the
#     sharded parameters and reduce-scatters of their gradients, Q > 1 only), gradient
#     communication (ArdmGradComm: reduce-scatter, norm allreduce, all-gather; Q = 1) and the
#     update (ArdmOptimizer); data reads and checkpoints are not counted.
# Data: synthetic Markov chains with 256 classes (categorical head). Runs at nice 19, one at a time.
# Usage: sh benchmarks/model_parallel.sh [STEPS]   (STEPS for part 3, default 2; env OUT=dir, PARTS="1 2 3")
set -eu
cd "$(dirname "$0")/.."
STEPS=${1:-2}
OUT=${OUT:-/tmp/ardm-model-parallel}
PARTS=${PARTS:-"1 2 3"}
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT"
REF="-model_blocks 36 -model_channels 256 -model_cycle 12"
SMALL="-model_blocks 12 -model_channels 64 -model_cycle 6"
data() { # data NAME D N
  [ -f "$OUT/$1/train.nc" ] || nice -n 19 mpirun -n 1 bin/ardm prep -format markov -out "$OUT/$1" -n "$3" -length "$2" \
    -classes 256 -valid_frac 0 -test_frac 0 >/dev/null
}
# run NAME P Q BATCH STEPS DATA MODEL...: prints "peak_MB s_per_step fwdbwd halo gradcomm update params"
run() {
  name=$1 p=$2 q=$3 b=$4 s=$5 d=$6; shift 6
  rm -rf "$OUT/$name"
  nice -n 19 mpirun -n "$p" bin/ardm train -data "$OUT/$d/train.nc" -out "$OUT/$name" -steps "$s" -batch "$b" \
    -model_parallel "$q" "$@" -log_every "$s" -ckpt_every 1000000 -log_view ":$OUT/$name.log" >"$OUT/$name.out" 2>&1
  peak=$(sed -n 's/.*peak memory per rank \([0-9.]*\) MB (largest).*/\1/p' "$OUT/$name.out")
  awk -v pk="$peak" -v s="$s" '
    $1 == "ArdmNetFwd" || $1 == "ArdmNetBwd" || $1 == "ArdmHead" {c += $4}
    $1 == "ArdmMPHalo" {h = $4} $1 == "ArdmGradComm" {g = $4} $1 == "ArdmOptimizer" {u = $4} $1 == "ArdmMPParams" {m = $4}
    END {printf "%s %.3f %.3f %.3f %.3f %.3f %.3f\n", pk, (c + g + u) / s, c / s, h / s, g / s, u / s, m / s}' "$OUT/$name.log"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
echo "model_parallel.sh: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

case " $PARTS " in *" 1 "*)
  data d16k 16000 4
  set -- $(run m36q1 1 1 1 1 d16k $REF); m1=$1
  set -- $(run m36q2 2 2 1 1 d16k $REF); m2=$1
  echo "1. 36x256 D=16000 batch 1: peak MB per rank Q=1 $m1, Q=2 $m2: ratio $(ratio "$m2" "$m1") (target <= 0.6)" ;;
esac

case " $PARTS " in *" 2 "*)
  data d160k 160000 2
  set -- $(run l64q1 1 1 1 1 d160k $SMALL); l1=$1
  set -- $(run l64q2 2 2 1 1 d160k $SMALL); l2=$1
  set -- $(run l64q4 4 4 1 1 d160k $SMALL); l4=$1
  echo "2. 12x64 D=160000 batch 1: peak MB per rank Q=1 $l1, Q=2 $l2, Q=4 $l4: ratios $(ratio "$l2" "$l1") (target <= 0.55)," \
    "$(ratio "$l4" "$l1") (target <= 0.3)" ;;
esac

case " $PARTS " in *" 3 "*)
  data d16k 16000 4
  printf "3. 36x256 D=16000, 2 ranks, global batch 2, %s steps (s/step: total fwdbwd halo gradcomm update params)\n" "$STEPS"
  t1=$(run t36q1 2 1 2 "$STEPS" d16k $REF); echo "   Q=1 (2 replicas): peak MB $t1"
  t2=$(run t36q2 2 2 2 "$STEPS" d16k $REF); echo "   Q=2 (1 replica):  peak MB $t2"
  echo "   throughput Q=2 / Q=1: $(ratio "$(echo "$t1" | cut -d' ' -f2)" "$(echo "$t2" | cut -d' ' -f2)") (target >= 0.8)" ;;
esac
