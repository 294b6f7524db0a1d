#!/bin/sh
# test_attn_bias.sh: the Transformer's -model_attn_bias (none or distance, the default) and
# -model_window (input window R, default 2) are model attributes: checkpoints record them (ardm
# info), eval rebuilds the same network from them, a checkpoint without the attribute (written
# before the option existed) loads as none / 0, and resuming such a run with the new default is
# refused with a message that names the option.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

gzip -dc /usr/share/doc/jargon-text/jargon.txt.gz | head -c 20000 >"$T/j.txt"
ok prep ardm_np 1 prep -format text -in "$T/j.txt" -out "$T/d" -length 16
S="-data $T/d/train.nc -model transformer -model_layers 1 -model_width 16 -model_heads 2 -model_mlp 2 -batch 4"
S="$S -lr 3e-3 -log_every 5 -seed 3 -steps 10"
E="-data $T/d/valid.nc -draws 1 -weights params -seed 5"

ok train-default ardm_np 1 train $S -out "$T/dist"
ok train-none ardm_np 1 train $S -model_attn_bias none -out "$T/none"
check info-default-distance sh -c "'$ARDM' info '$T/dist/checkpoint.nc' | grep -q '^ *model_attn_bias *1$'"
check info-none sh -c "'$ARDM' info '$T/none/checkpoint.nc' | grep -q '^ *model_attn_bias *0$'"
check bias-changes-training sh -c "! $NC same '$T/dist/checkpoint.nc' '$T/none/checkpoint.nc' params 1e-3"

# the attribute removed (a checkpoint from before the option): it is a none model
for m in dist none; do
  cp "$T/$m/checkpoint.nc" "$T/${m}_old.nc"
  ok strip-$m $NC delatt "$T/${m}_old.nc" model_attn_bias
  check stripped-$m sh -c "! '$ARDM' info '$T/${m}_old.nc' | grep -q '^ *model_attn_bias '"
  ok eval-$m ardm_np 1 eval -ckpt "$T/$m/checkpoint.nc" $E -out "$T/ev_$m.nc"
  ok eval-${m}_old ardm_np 1 eval -ckpt "$T/${m}_old.nc" $E -out "$T/ev_${m}_old.nc"
done
# a none model evaluates the same with and without the attribute (bitwise), a distance model
# read without it is a different (none) network
check old-none-same-bpd $NC same "$T/ev_none.nc" "$T/ev_none_old.nc" bpd 0
check old-dist-reads-none sh -c "! $NC same '$T/ev_dist.nc' '$T/ev_dist_old.nc' bpd 1e-6"

# resuming a run from before the option: the default (distance) is refused, naming the option;
# -model_attn_bias none continues it
mv "$T/none_old.nc" "$T/none/checkpoint.nc"
fails_exit resume-old-default 1 \
  'checkpoint.nc: its model has -model_attn_bias none, the options say distance \(resume with -model_attn_bias none\)$' \
  ardm_np 1 train $S -steps 15 -resume -out "$T/none"
ok resume-old-none ardm_np 1 train $S -steps 15 -resume -model_attn_bias none -out "$T/none"

# the input window likewise: R = 0 and the default R = 2 are different networks; a checkpoint
# without model_window is R = 0
model_attr_default model_window 2 0 16 "$T/dist/checkpoint.nc" 15 "$E" $S
finish
