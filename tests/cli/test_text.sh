#!/bin/sh
# test_text.sh: the Transformer OA-ARDM on text through every command with real MPI ranks and
# real files: prep -format text, train (1 and 2 ranks agree, exact resume, -max_hours requeue),
# eval (bits/char below uniform), plan a 20-step budget, sample with that budget (exactly 20
# network calls), export -format txt, -given with a prefix and with every other character;
# prep -format text8 on a small file of text8's shape (exact character ranges per split) and
# its bad input; the order-R Markov source of benchmarks/markov_text.sh.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

# ~40k characters of the Jargon File (Debian jargon-text), cleaned, chunks of 32
gzip -dc /usr/share/doc/jargon-text/jargon.txt.gz | head -c 60000 >"$T/j.txt"
ok prep-text ardm_np 2 prep -format text -in "$T/j.txt" -out "$T/d" -length 32
M="-model transformer -model_layers 2 -model_width 32 -model_heads 4 -model_mlp 2"
S="-data $T/d/train.nc $M -batch 8 -lr 2e-3 -log_every 10 -seed 4"

# data parallel: the same global batch on 1 and 2 ranks gives the same losses and weights
ok train-np1 ardm_np 1 train $S -steps 20 -out "$T/r1"
ok train-np2 ardm_np 2 train $S -steps 20 -out "$T/r2"
check info-transformer sh -c "'$ARDM' info '$T/r2/checkpoint.nc' | grep -q 'model_layers *2'"
check same-loss-np1-np2 $NC same "$T/r1/train_log.nc" "$T/r2/train_log.nc" loss 1e-5
# (params to 1e-4: the attention key bias has an exactly zero gradient, softmax being invariant
# to the q . b_k shared by all keys, so Adam moves it by normalised rounding noise, ~4e-5 after
# 20 steps; every other weight agrees to ~1e-6)
check same-params-np1-np2 $NC same "$T/r1/checkpoint.nc" "$T/r2/checkpoint.nc" params 1e-4
# exact restart: 10 steps then resume to 20 == 20 in one go (bitwise)
ok train-first-10 ardm_np 2 train $S -steps 10 -out "$T/rs"
ok train-resume-to-20 ardm_np 2 train $S -steps 20 -out "$T/rs" -resume
check restart-params-bitwise $NC same "$T/r2/checkpoint.nc" "$T/rs/checkpoint.nc" params 0
check restart-adam-bitwise $NC same "$T/r2/checkpoint.nc" "$T/rs/checkpoint.nc" adam_v 0
# the checkpoint-and-requeue path (the same one SIGUSR1 takes)
mpirun -n 2 "$ARDM" train $S -steps 50 -max_hours 1e-9 -out "$T/mh" >"$T/mh.log" 2>&1
rc=$?
check max-hours-exit-3 test $rc -eq 3
# a model that depends on the options: resuming with another width is refused
fails_exit resume-other-width 1 'differs from the options' ardm_np 1 train $S -model_width 64 -steps 30 -out "$T/rs" \
  -resume

# learns: 150 steps, held-out bits/char well below uniform (log2 27 = 4.75)
ok train-150 ardm_np 2 train $S -steps 150 -out "$T/r" -ema 0.9
ok eval ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/d/valid.nc" -out "$T/ev.nc" -draws 2 -weights params
check eval-below-uniform sh -c "b=\$($NC get '$T/ev.nc' bpd); echo bpd \$b; awk -v b=\"\$b\" 'BEGIN { exit !(b != \"\" && b + 0 < 4.4) }'"

# the option file for 2 cores parses and trains (2 steps at batch 2)
ok opts-small ardm_np 2 train -options_file input/text8_small.opts -data "$T/d/train.nc" -steps 2 -batch 2 -out "$T/o"
check opts-small-model sh -c "'$ARDM' info '$T/o/checkpoint.nc' | grep -q 'model_width *128'"

# plan 20 steps from the loss components, sample with that budget
ok plan ardm_np 2 plan -loss "$T/ev.nc" -out "$T/plan.nc" -budgets 20
ok sample-20 ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/plan.nc" -budget 20 -n 4 -batch 2 -out "$T/s.nc"
check calls-20 test "$($NC att "$T/s.nc" network_calls_per_stage)" -eq 20
ok export-txt "$ARDM" export -format txt -in "$T/s.nc" -out "$T/ex" -name s
check txt-lines sh -c "test \$(grep -c '' '$T/ex/s.txt') -eq 4 && ! grep -qv '^[a-z ]\{32\}\$' '$T/ex/s.txt'"

# conditioning: a prefix (first half) and every other character of held-out text are kept
for mask in first_half every_other; do
  ok given-$mask ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -budget 10 -n 3 -given "$T/d/test.nc" \
    -given_mask $mask -out "$T/g_$mask.nc"
done
check given-kept /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
g = np.asarray(Dataset('$T/d/test.nc').variables['x'][:3]).astype(int)
a = np.asarray(Dataset('$T/g_first_half.nc').variables['x'][:]).astype(int)
b = np.asarray(Dataset('$T/g_every_other.nc').variables['x'][:]).astype(int)
sys.exit(0 if (a[:, :16] == g[:, :16]).all() and (b[:, ::2] == g[:, ::2]).all() and not (a == g).all() else 1)"
ok export-given "$ARDM" export -format txt -in "$T/g_first_half.nc" -out "$T/ex" -name g

# several sources (-in A,B): each is split 90/5/5 on its own, so valid and test hold both
printf 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi\n%.0s' $(seq 1 25) >"$T/s1"
printf 'the quick brown fox jumps over the lazy dog\n%.0s' $(seq 1 40) >"$T/s2"
ok prep-two-sources ardm_np 2 prep -format text -in "$T/s1,$T/s2" -out "$T/ms" -length 20
check two-sources-mixed /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
al = ' abcdefghijklmnopqrstuvwxyz'
txt = lambda n: ''.join(al[v] for v in np.asarray(Dataset('$T/ms/%s.nc' % n).variables['x'][:]).astype(int).ravel())
n1, n2 = 2100 // 20, 1760 // 20   # chunks of each cleaned source (2100 and 1760 characters)
want = {'train': n1 - 2 * (n1 // 20) + n2 - 2 * (n2 // 20), 'valid': n1 // 20 + n2 // 20, 'test': n1 // 20 + n2 // 20}
ok = all(len(txt(k)) == 20 * v for k, v in want.items())
ok = ok and all('lambda' in txt(k) or 'omicron' in txt(k) for k in want) and all('lazy' in txt(k) for k in want)
print({k: len(txt(k)) // 20 for k in want}, want); sys.exit(0 if ok else 1)"
fails_exit missing-source 1 "-in $T/nope: cannot read the text file" \
  "$ARDM" prep -format text -in "$T/s1,$T/nope" -out "$T/ms2"

# text8: a single line of a-z and spaces, 100,000 characters (text8 scaled by 1/1000): split by
# characters, 90,000 / 5,000 / 5,000, chunks of 250 (360 / 20 / 20)
/usr/bin/python3 -c "
import random
random.seed(3)
w = 'the of and one in a to zero nine is as anarchism originated term'.split()
s = ''
while len(s) < 100000: s += ' ' + random.choice(w)
open('$T/t8', 'w').write(s[:100000])"
ok prep-text8 ardm_np 2 prep -format text8 -in "$T/t8" -out "$T/t8d"
check text8-split /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
s = open('$T/t8').read(); al = ' abcdefghijklmnopqrstuvwxyz'
ok = True
for name, a, b in (('train', 0, 90000), ('valid', 90000, 95000), ('test', 95000, 100000)):
    x = np.asarray(Dataset('$T/t8d/%s.nc' % name).variables['x'][:]).astype(int)
    got = ''.join(al[v] for v in x.ravel())
    print(name, x.shape, got == s[a:b])
    ok = ok and x.shape == ((b - a) // 250, 250) and got == s[a:b]
sys.exit(0 if ok else 1)"
printf ' one two Three' >"$T/bad8"
fails_exit text8-not-clean 1 'byte 9 is not a-z or space; -format text8 takes the clean text8 file' \
  "$ARDM" prep -format text8 -in "$T/bad8" -out "$T/b8"
check text8-nothing-written test ! -e "$T/b8/train.nc"

# the order-R Markov source of the learning benchmark (benchmarks/markov_text.sh): dim i repeats
# dim i - 3 with probability 0.8 (and the dim 1 back only by chance), the entropy attribute is
# the exact (3 log2 27 + 29 h) / 32 with h the per-dim entropy of the stay-or-jump draw
ok prep-markov-order3 ardm_np 2 prep -format markov -classes 27 -order 3 -p_stay 0.8 -length 32 -n 2000 \
  -out "$T/mk3"
check markov-order3 /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
f = Dataset('$T/mk3/train.nc'); x = np.asarray(f.variables['x'][:]).astype(int)
s3 = (x[:, 3:] == x[:, :-3]).mean(); s1 = (x[:, 1:] == x[:, :-1]).mean()
h = -0.8 * np.log2(0.8) - 0.2 * np.log2(0.2 / 26); want = (3 * np.log2(27) + 29 * h) / 32
print('lag-3 repeats', s3, 'lag-1', s1, 'entropy', f.getncattr('entropy_bpd'), want, f.getncattr('markov_order'))
sys.exit(0 if abs(s3 - 0.8) < 0.02 and s1 < 0.1 and abs(f.getncattr('entropy_bpd') - want) < 1e-9 else 1)"
finish
