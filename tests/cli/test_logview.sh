#!/bin/sh
# test_logview.sh: -log_view is ardm's one profiler: train, eval and sample report their stages
# (Setup, Train, Eval, Sample), an event per layer kind and for the network's forward/backward,
# the head, the optimizer, the collectives and I/O, with the network's FLOPs; sample's printed
# timing comes from its events.
. "$(dirname "$0")/../lib.sh"
SMALL="-model_blocks 2 -model_channels 8 -batch 4"

ok make-data ardm_np 1 prep -format markov -out "$T/d" -n 64 -length 16 -classes 4
ardm_np 2 train -data "$T/d/train.nc" -out "$T/r" -steps 4 -log_every 2 $SMALL -log_view >"$T/train.log" 2>&1
check train-ran grep -q 'step       4' "$T/train.log"
for name in 'Setup:' 'Train:'; do
  check "train-stage-$name" grep -Eq "^ *[0-9]+: +$name" "$T/train.log"
done
for ev in ArdmNetFwd ArdmNetBwd ArdmHead ArdmConv1d ArdmConv1x1 ArdmActivation ArdmResSkip ArdmOptimizer \
  ArdmGradComm ArdmIORead ArdmIOWrite; do
  check "train-event-$ev" grep -Eq "^$ev +[1-9][0-9]* " "$T/train.log"
done
# the network's FLOPs are logged (column 6 of an event line: total flops, non-zero)
check train-flops awk '$1 == "ArdmNetFwd" && $6 + 0 > 0 { found = 1 } END { exit !found }' "$T/train.log"

ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/d/valid.nc" -out "$T/e.nc" -draws 1 -log_view >"$T/eval.log" 2>&1
check eval-stage grep -Eq '^ *[0-9]+: +Eval:' "$T/eval.log"
check eval-event grep -Eq '^ArdmNetFwd +[1-9]' "$T/eval.log"

ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -out "$T/s.nc" -n 2 -budget 4 -log_view >"$T/sample.log" 2>&1
check sample-stage grep -Eq '^ *[0-9]+: +Sample:' "$T/sample.log"
check sample-loop-event grep -Eq '^ArdmSampleLoop +1 ' "$T/sample.log"
# the printed timing is taken from the events, so it is there without -log_view too
ok sample-no-logview ardm_np 1 sample -ckpt "$T/r/checkpoint.nc" -out "$T/s1.nc" -n 2 -budget 4
check sample-timing sh -c "'$ARDM' sample -ckpt '$T/r/checkpoint.nc' -out '$T/s2.nc' -n 2 -budget 4 | grep -Eq 'sampling [0-9.]+ s, of which [0-9.]+ s in network calls \(ratio [1-9]'"
finish
