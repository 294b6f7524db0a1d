#!/bin/sh
# test_sample.sh: planning, sampling and the parallel NLL bound on a trained model (Parallelized
# ARDM, doc/method.md section 2): exactly N network calls per stage, samples identical on 1 and 2
# ranks, samples that reproduce the Markov chain's statistics, conditioning on given dims,
# eval -plan, export, and bad input.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

ok make-markov ardm_np 2 prep -format markov -out "$T/m" -n 512 -length 64 -classes 4 -p_stay 0.7 -seed 5
ok train ardm_np 2 train -data "$T/m/train.nc" -out "$T/r" -steps 1000 -batch 32 -lr 3e-3 -model_blocks 6 \
  -model_channels 32 -model_cycle 6 -log_every 500 -ema 0.99 -seed 2
ok eval-loss-components ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/valid.nc" -out "$T/r/eval.nc" -draws 4
ok plan ardm_np 2 plan -loss "$T/r/eval.nc" -out "$T/r/plan.nc" -budgets 4,8,64 -curve_max 64
check info-plan sh -c "'$ARDM' info '$T/r/plan.nc' | grep -q 'budget 8:'"

# exactly N network calls per stage, counted by the model
for n in 4 8; do
  ok sample-budget-$n ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/r/plan.nc" -budget $n -n 6 -batch 3 \
    -out "$T/s$n.nc"
  check calls-equal-budget-$n test "$($NC att "$T/s$n.nc" network_calls_per_stage)" -eq $n
done
ok sample-even-5 ardm_np 1 sample -ckpt "$T/r/checkpoint.nc" -budget 5 -n 2 -out "$T/e5.nc"
check calls-even-5 test "$($NC att "$T/e5.nc" network_calls_per_stage)" -eq 5

# the same seed gives the same samples on 1 and 2 ranks
ok sample-np1 ardm_np 1 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/r/plan.nc" -budget 8 -n 6 -batch 3 -out "$T/s8b.nc"
check samples-rank-independent $NC same "$T/s8.nc" "$T/s8b.nc" x 0

# full-budget samples reproduce the chain: P(stay) = 0.7 and uniform marginals, within 0.05
# (sampling noise on 128 x 63 transitions is ~0.005; the rest is model error)
ok sample-full ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/r/plan.nc" -budget 64 -n 128 -batch 16 \
  -out "$T/full.nc"
check markov-statistics /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
x = np.asarray(Dataset('$T/full.nc').variables['x'][:]).astype(int)
stay = (x[:, 1:] == x[:, :-1]).mean(); marg = np.bincount(x.ravel(), minlength=4) / x.size
print('stay', stay, 'marginals', marg)
sys.exit(0 if abs(stay - 0.7) < 0.05 and np.all(np.abs(marg - 0.25) < 0.05) else 1)"

# conditioning: the given dims are kept, the others generated
for mask in first_half every_other; do
  ok given-$mask ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -budget 8 -n 4 -given "$T/m/test.nc" \
    -given_mask $mask -out "$T/g_$mask.nc"
done
check given-dims-kept /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
g = np.asarray(Dataset('$T/m/test.nc').variables['x'][:4]).astype(int)
a = np.asarray(Dataset('$T/g_first_half.nc').variables['x'][:]).astype(int)
b = np.asarray(Dataset('$T/g_every_other.nc').variables['x'][:]).astype(int)
ok = (a[:, :32] == g[:, :32]).all() and (b[:, ::2] == g[:, ::2]).all() and not (a[:, 32:] == g[:, 32:]).all()
sys.exit(0 if ok else 1)"

# the parallel NLL bound per budget next to the planner's expectation
ok eval-plan ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/test.nc" -plan "$T/r/plan.nc" -draws 4 \
  -out "$T/ep.nc"
check eval-plan-budgets /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
d = Dataset('$T/ep.nc'); b = d.variables['budget_bpd'][:]; e = d.variables['planner_expected_bpd'][:]
full = float(d.variables['bpd'][:])
print('budget bpd', b, 'expected', e, 'full', full)
sys.exit(0 if b[0] > b[-1] and abs(b[-1] - full) < 0.1 and np.all(np.abs(b - e) < 0.15) else 1)"
# per example (for paired comparisons): their means are the file's figures, and one rank gives
# the same values as two (each example's draws are keyed by its index, not by the rank)
ok eval-plan-1rank ardm_np 1 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/test.nc" -plan "$T/r/plan.nc" -draws 4 \
  -out "$T/ep1.nc"
check eval-per-example /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
d = Dataset('$T/ep.nc'); n = len(Dataset('$T/m/test.nc').dimensions['example'])
ex = np.asarray(d.variables['example_bpd'][:]); eb = np.asarray(d.variables['example_budget_bpd'][:])
idx = np.asarray(d.variables['example'][:])
full = float(d.variables['bpd'][:]); b = np.asarray(d.variables['budget_bpd'][:])
se = float(d.variables['bpd_stderr'][:])
print(n, ex.shape, eb.shape, ex.mean(), full, eb.mean(axis=1), b, ex.std(ddof=1) / np.sqrt(n), se)
ok = (ex.shape == (n,) and eb.shape == (len(b), n) and (idx == np.arange(n)).all()
      and abs(ex.mean() - full) < 1e-9 * full and np.allclose(eb.mean(axis=1), b, rtol=1e-9)
      and abs(ex.std(ddof=1) / np.sqrt(n) - se) < 1e-6 * se and np.all(np.isfinite(ex)) and ex.std() > 0)
sys.exit(0 if ok else 1)"
check eval-per-example-1-vs-2-ranks $NC same "$T/ep.nc" "$T/ep1.nc" example_budget_bpd 1e-5
check eval-per-example-1-vs-2-ranks-full $NC same "$T/ep.nc" "$T/ep1.nc" example_bpd 1e-5
# stratified draws (-stratify: draw r of an example's R in the r-th R-quantile of t): keyed the
# same way (1 rank = 2 ranks), marked in the file, and the same expectation as independent draws:
# the ELBO and each budget's bound within 4 combined standard errors of theirs (16 draws each)
for np_ in 1 2; do
  ok eval-stratified-np$np_ ardm_np $np_ eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/test.nc" -plan "$T/r/plan.nc" \
    -draws 16 -stratify -out "$T/es$np_.nc"
done
ok eval-independent-16 ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/test.nc" -plan "$T/r/plan.nc" \
  -draws 16 -out "$T/ei.nc"
check eval-stratified-1-vs-2-ranks $NC same "$T/es1.nc" "$T/es2.nc" example_budget_bpd 1e-5
check eval-stratified-unbiased /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
s = Dataset('$T/es2.nc'); i = Dataset('$T/ei.nc')
f = lambda d, v: np.atleast_1d(np.asarray(d.variables[v][:], dtype=float))
ms = np.concatenate([f(s, 'bpd'), f(s, 'budget_bpd')]); mi = np.concatenate([f(i, 'bpd'), f(i, 'budget_bpd')])
ss = np.concatenate([f(s, 'bpd_stderr'), f(s, 'budget_bpd_stderr')])
si = np.concatenate([f(i, 'bpd_stderr'), f(i, 'budget_bpd_stderr')])
z = np.abs(ms - mi) / np.hypot(ss, si)
print('stratified', ms, '+-', ss); print('independent', mi, '+-', si); print('z', z)
ok = s.variables['draws'].stratified == 1 and i.variables['draws'].stratified == 0 and np.all(z < 4)
sys.exit(0 if ok else 1)"

# export
ok export-wav ardm_np 2 export -format wav -in "$T/s8.nc" -out "$T/wav"
check export-wav-files sh -c "ls '$T/wav' | grep -c '\.wav$' | grep -qx 6"
fails_exit export-txt-needs-alphabet 1 'needs an alphabet' ardm_np 1 export -format txt -in "$T/s8.nc" -out "$T/txt"

# text: a model trained on text8-cleaned chunks samples text that exports through the alphabet
printf 'The quick brown fox jumps over 12 lazy dogs. %.0s' $(seq 1 60) >"$T/t.txt"
ok prep-text ardm_np 1 prep -format text -in "$T/t.txt" -out "$T/txt" -length 40
ok train-text ardm_np 2 train -data "$T/txt/train.nc" -out "$T/rt" -steps 3 -batch 4 -model_blocks 1 -model_channels 8
ok sample-text ardm_np 2 sample -ckpt "$T/rt/checkpoint.nc" -budget 5 -n 3 -out "$T/ts.nc"
ok export-txt ardm_np 2 export -format txt -in "$T/ts.nc" -out "$T/tx"
check export-txt-lines sh -c "test \$(wc -l <'$T/tx/sample.txt') -eq 3 && grep -qvx '[a-z ]\{40\}' '$T/tx/sample.txt' && exit 1 || exit 0"

# bad input
fails_exit sample-budget-not-in-plan 1 'has no plan for -budget 5' ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" \
  -plan "$T/r/plan.nc" -budget 5
fails_exit sample-budget-too-large 1 'expected 1..D = 64' ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -budget 65
ok make-markov-32 ardm_np 1 prep -format markov -out "$T/m32" -n 64 -length 32 -classes 4
ok train-32 ardm_np 1 train -data "$T/m32/train.nc" -out "$T/r32" -steps 2 -batch 4 -model_blocks 1 -model_channels 4
ok plan-32 ardm_np 1 plan -loss "$T/r32/loss_t.nc" -out "$T/p32.nc" -budgets 4
fails_exit sample-plan-wrong-D 1 'D = 32, but the checkpoint' ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/p32.nc"
fails_exit eval-plan-wrong-D 1 'D = 32, but the checkpoint' ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/test.nc" \
  -plan "$T/p32.nc"
finish
