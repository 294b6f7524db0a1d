#!/bin/sh
# test_scale_floor.sh: the logistic mixture's log-scale floor -model_scale_floor is a model
# attribute (doc/method.md section 4, Heads). The default comes from K (round(ln(2/(K-1))) - 3 above
# K = 256, else -7); checkpoints record it (ardm info); eval and sample use the stored floor; a
# checkpoint without the attribute (written before the option) reads 0, which means the old floor
# -7, and evaluates bit for bit like a run with -model_scale_floor 0; resuming it with the new
# default is refused naming the option.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

# K = 1000 classes: the default floor is round(ln(2/999)) - 3 = -6 - 3 = -9
ok prep ardm_np 1 prep -format markov -out "$T/d" -n 48 -length 32 -classes 1000 -seed 2
S="-data $T/d/train.nc -model_blocks 1 -model_channels 8 -model_cycle 2 -mixtures 3 -batch 4 -lr 3e-3"
S="$S -log_every 5 -seed 3 -steps 10"
E="-data $T/d/valid.nc -draws 2 -weights params -seed 5"

ok train-default sh -c "mpirun -n 1 '$ARDM' train $S -out '$T/def' >'$T/def.out' 2>&1"
check info-default-floor sh -c "'$ARDM' info '$T/def/checkpoint.nc' | grep -q '^ *model_scale_floor *-9\$'"
check describe-floor grep -q 'head=logistic_mixture(M=3, floor -9)' "$T/def.out"
# a floor above the initial log-scales (-ln 3 - small) clamps from the first step: another network
ok train-floor-1 ardm_np 1 train $S -model_scale_floor -1 -out "$T/f1"
check floor-changes-training sh -c "! $NC same '$T/def/checkpoint.nc' '$T/f1/checkpoint.nc' params 1e-3"
# eval uses the checkpoint's floor: the default checkpoint relabelled -1 evaluates differently
ok eval-default ardm_np 1 eval -ckpt "$T/def/checkpoint.nc" $E -out "$T/ev.nc"
cp "$T/def/checkpoint.nc" "$T/relabel.nc"
ok relabel $NC setatt "$T/relabel.nc" model_scale_floor -1
ok eval-relabelled ardm_np 1 eval -ckpt "$T/relabel.nc" $E -out "$T/ev_relabel.nc"
check eval-uses-stored-floor sh -c "! $NC same '$T/ev.nc' '$T/ev_relabel.nc' bpd 1e-6"
ok sample-default ardm_np 1 sample -ckpt "$T/def/checkpoint.nc" -n 2 -out "$T/s.nc"

# a checkpoint from before the option: no attribute = 0 = the floor -7
ok train-floor-0 ardm_np 1 train $S -model_scale_floor 0 -out "$T/old"
check info-floor-0 sh -c "'$ARDM' info '$T/old/checkpoint.nc' | grep -q '^ *model_scale_floor *0\$'"
cp "$T/old/checkpoint.nc" "$T/old.nc"
ok strip $NC delatt "$T/old.nc" model_scale_floor
ok eval-floor-0 ardm_np 1 eval -ckpt "$T/old/checkpoint.nc" $E -out "$T/ev0.nc"
ok eval-stripped ardm_np 1 eval -ckpt "$T/old.nc" $E -out "$T/ev0s.nc"
check stripped-reads-floor-0 $NC same "$T/ev0.nc" "$T/ev0s.nc" bpd 0
mv "$T/old.nc" "$T/old/checkpoint.nc"
fails_exit resume-stripped-default 1 \
  'checkpoint.nc: its model has -model_scale_floor 0, the options say -9 \(resume with -model_scale_floor 0\)$' \
  ardm_np 1 train $S -steps 15 -resume -out "$T/old"
ok resume-stripped-floor-0 ardm_np 1 train $S -steps 15 -resume -model_scale_floor 0 -out "$T/old"

# bounds: the option, and a checkpoint's attribute
fails_exit floor-too-large 1 'error: -model_scale_floor 2: expected an integer in -30\.\.1$' \
  ardm_np 1 train $S -model_scale_floor 2 -out "$T/bad"
cp "$T/def/checkpoint.nc" "$T/bad.nc"
ok corrupt $NC setatt "$T/bad.nc" model_scale_floor -31
fails_exit floor-in-file 1 'bad\.nc: model_scale_floor = -31: expected -30\.\.0 \(and 0 without a mixture head\)$' \
  ardm_np 1 eval -ckpt "$T/bad.nc" $E -out "$T/evbad.nc"
finish
