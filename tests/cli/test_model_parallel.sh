#!/bin/sh
# test_model_parallel.sh: -model_parallel Q (doc/design.md "Model parallelism") through real
# ranks and files: 10 training steps with (P, Q) = (1, 1), (4, 1), (4, 2), (2, 2), (4, 4) give
# the same losses and parameters; resuming across a change of (P, Q); an upscale model; a
# replica without an example; the parameters and gradients held 1/P per rank (banner and peak
# memory); eval and sampling with Q = 2 equal Q = 1; bad input exits 1 with one line.
# Tolerance 1e-5 relative: the parts of D change only the order of float sums (the gradient
# of every weight is summed over D in Q pieces), as different rank counts already do.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

ok make-markov ardm_np 2 prep -format markov -out "$T/mk" -n 64 -length 32 -classes 4 -p_stay 0.7 -seed 3
SMALL="-data $T/mk/train.nc -batch 4 -lr 2e-3 -model_blocks 3 -model_channels 8 -model_cycle 2 -log_every 1 -seed 7"

for pq in 1:1 4:1 4:2 2:2 4:4; do
  p=${pq%:*} q=${pq#*:}
  ok train-p$p-q$q ardm_np $p train $SMALL -steps 10 -model_parallel $q -out "$T/r$p$q"
done
for r in 41 42 22 44; do
  check same-loss-11-$r $NC same "$T/r11/train_log.nc" "$T/r$r/train_log.nc" loss 1e-5
  check same-params-11-$r $NC same "$T/r11/checkpoint.nc" "$T/r$r/checkpoint.nc" params 1e-5
done
check same-losst-11-42 $NC same "$T/r11/loss_t.nc" "$T/r42/loss_t.nc" count 0

# a checkpoint of (2, 2) resumes as (4, 1), and one of (1, 1) as (4, 4)
ok train-5-p2-q2 ardm_np 2 train $SMALL -steps 5 -model_parallel 2 -out "$T/a"
ok resume-p4-q1 ardm_np 4 train $SMALL -steps 10 -model_parallel 1 -out "$T/a" -resume
check resume-q2-to-q1-params $NC same "$T/r11/checkpoint.nc" "$T/a/checkpoint.nc" params 1e-5
ok train-5-p1-q1 ardm_np 1 train $SMALL -steps 5 -out "$T/b"
ok resume-p4-q4 ardm_np 4 train $SMALL -steps 10 -model_parallel 4 -out "$T/b" -resume
check resume-q1-to-q4-params $NC same "$T/r11/checkpoint.nc" "$T/b/checkpoint.nc" params 1e-5

# an upscale model (stage categorical head, 16 classes in 2 stages of b = 4)
ok make-markov16 ardm_np 1 prep -format markov -out "$T/m16" -n 32 -length 32 -classes 16 -p_stay 0.7 -seed 4
UP="-data $T/m16/train.nc -batch 4 -lr 2e-3 -model_blocks 3 -model_channels 8 -model_cycle 2 -log_every 1 -seed 5 \
  -upscale_b 4 -steps 5"
ok train-upscale-q1 ardm_np 2 train $UP -out "$T/u1"
ok train-upscale-q2 ardm_np 2 train $UP -model_parallel 2 -out "$T/u2"
check upscale-same-loss $NC same "$T/u1/train_log.nc" "$T/u2/train_log.nc" loss 1e-5

# eval and sampling split over 2 ranks per example
ok eval-q1 ardm_np 2 eval -ckpt "$T/r11/checkpoint.nc" -data "$T/mk/valid.nc" -draws 2 -out "$T/e1.nc"
ok eval-q2 ardm_np 2 eval -ckpt "$T/r11/checkpoint.nc" -data "$T/mk/valid.nc" -draws 2 -model_parallel 2 \
  -out "$T/e2.nc"
check eval-same-bpd $NC same "$T/e1.nc" "$T/e2.nc" bpd 1e-6
ok sample-q1 ardm_np 1 sample -ckpt "$T/r11/checkpoint.nc" -budget 8 -n 4 -batch 2 -out "$T/s1.nc"
ok sample-q2 ardm_np 4 sample -ckpt "$T/r11/checkpoint.nc" -budget 8 -n 4 -batch 2 -model_parallel 2 -out "$T/s2.nc"
check samples-same $NC same "$T/s1.nc" "$T/s2.nc" x 0
ok sample-upscale-q1 ardm_np 1 sample -ckpt "$T/u1/checkpoint.nc" -budget 8 -n 2 -out "$T/su1.nc"
ok sample-upscale-q2 ardm_np 2 sample -ckpt "$T/u1/checkpoint.nc" -budget 8 -n 2 -model_parallel 2 -out "$T/su2.nc"
check samples-upscale-same $NC same "$T/su1.nc" "$T/su2.nc" x 0

# a replica with no example in a step (global batch 1 on 2 replicas) still takes part in the
# parameter gathers and gradient reduce-scatters of the sharded parameters
ok train-batch1-p1-q1 ardm_np 1 train $SMALL -batch 1 -steps 4 -out "$T/z11"
ok train-batch1-p4-q2 ardm_np 4 train $SMALL -batch 1 -steps 4 -model_parallel 2 -out "$T/z42"
for v in params ema adam_v; do check batch1-same-$v $NC same "$T/z11/checkpoint.nc" "$T/z42/checkpoint.nc" $v 1e-5; done

# memory: with Q = 2 the parameters and gradients are held 1/P per rank (sharded like the EMA
# and Adam moments) and gathered block by block. A wide network (12 x 256, 13.8 M parameters,
# F = 55 MB per whole buffer) at D = 32, where the activations are negligible: on 2 ranks
# (P, Q) = (2, 2) must report slices of half the whole size and peak at least 0.75 F below
# (2, 1), which holds whole parameters and gradients (plus the gradient slice): held whole
# again, either buffer alone would leave about 0.5 F, or less, between them.
WIDE="-data $T/mk/train.nc -batch 2 -model_blocks 12 -model_channels 256 -model_cycle 2 -steps 1 -log_every 1"
ardm_np 2 train $WIDE -model_parallel 1 -out "$T/w21" >"$T/w21.log" 2>&1
ardm_np 2 train $WIDE -model_parallel 2 -out "$T/w22" >"$T/w22.log" 2>&1
held() { sed -n 's/.*per rank: parameters \([0-9.]*\) MB and gradients \([0-9.]*\) MB (.*; whole \([0-9.]*\) MB each).*/\1 \2 \3/p' "$1"; }
peak() { sed -n 's/.*peak memory per rank \([0-9.]*\) MB (largest).*/\1/p' "$1"; }
sliced() { # parameters and gradients held: half the whole buffer each
  set -- $(held "$T/w22.log"); echo "held per rank: parameters $1 MB, gradients $2 MB, whole $3 MB"
  grep -q 'sharded 1/2, gathered block by block' "$T/w22.log" &&
    awk -v p="$1" -v g="$2" -v w="$3" 'BEGIN { exit !((2 * p - w) ^ 2 < 1e-4 && (2 * g - w) ^ 2 < 1e-4) }'
}
lower() { # peak of (2, 2) at least 0.75 F below (2, 1)
  w=$(held "$T/w21.log" | cut -d' ' -f3) a=$(peak "$T/w21.log") b=$(peak "$T/w22.log")
  echo "peak MB per rank: (2, 1) $a, (2, 2) $b; F = $w MB"
  awk -v a="$a" -v b="$b" -v w="$w" 'BEGIN { exit !(w > 50 && a - b >= 0.75 * w) }'
}
check wide-sliced sliced
check wide-whole-q1 grep -q 'gradients [0-9.]* MB (whole on every rank' "$T/w21.log"
check wide-peak-lower lower

# bad input: one line, exit 1 on every rank
fails_exit q-not-dividing-p 1 'model_parallel 3: must divide the number of ranks \(2\)' \
  ardm_np 2 train $SMALL -steps 1 -model_parallel 3 -out "$T/bad1"
fails_exit q-too-large-for-d 1 'model_parallel 4: too large for D = 32' \
  ardm_np 4 train $SMALL -steps 1 -model_parallel 4 -model_blocks 6 -model_cycle 6 -out "$T/bad2"
fails_exit q-zero 1 'model_parallel' ardm_np 1 train $SMALL -steps 1 -model_parallel 0 -out "$T/bad3"
fails_exit q-sample-not-dividing 1 'must divide the number of ranks' \
  ardm_np 2 sample -ckpt "$T/r11/checkpoint.nc" -n 2 -model_parallel 3 -out "$T/bad4.nc"
check help-documents-it sh -c "'$ARDM' train -help 2>&1 | grep -q -- '-model_parallel'"
finish
