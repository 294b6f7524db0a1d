#!/bin/sh
# test_upscale.sh: the upscale ARDM through the whole product (doc/method.md section 3): training to
# within 5% of a known entropy (K = 256, b = 4), b = K identical to the OA-ARDM, per-stage loss
# components, per-stage plans with equal and optimal budget allocation, stage-by-stage sampling
# with S x N network calls, and the data parametrization.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

# independent draws from q(v) ~ exp(-v/10) over K = 256 (entropy known exactly)
ok make-data ardm_np 2 prep -format markov -out "$T/q" -n 1024 -length 64 -classes 256 -p_stay 0 -tau 10 \
  -test_frac 0.5
ok train-b4 ardm_np 2 train -data "$T/q/train.nc" -out "$T/b4" -steps 600 -batch 32 -lr 3e-3 -model_blocks 4 \
  -model_channels 32 -model_cycle 4 -log_every 300 -ema 0.99 -upscale_b 4 -seed 1
check four-stages sh -c "'$ARDM' info '$T/b4/loss_t.nc' | grep -q 'stage=4'"
# 512 test examples x 16 draws: standard error ~0.04 bits/dim against a 5% margin of ~0.24
ok eval-b4 ardm_np 2 eval -ckpt "$T/b4/checkpoint.nc" -data "$T/q/test.nc" -out "$T/b4/eval.nc" -draws 16
H=$($NC att "$T/q/test.nc" entropy_bpd)
B=$($NC get "$T/b4/eval.nc" bpd)
echo "upscale b=4: entropy $H bits/dim, model $B bits/dim"
check learns-within-5pct /usr/bin/python3 -c "import sys; h=$H; b=$B; print(b/h); sys.exit(0 if 0.97 * h <= b <= 1.05 * h else 1)"

# per-stage plans: equal budgets (S x N calls) and the optimal split of a total
ok plan-equal ardm_np 2 plan -loss "$T/b4/eval.nc" -out "$T/b4/plan.nc" -budgets 4,16
ok plan-optimal ardm_np 1 plan -loss "$T/b4/eval.nc" -out "$T/b4/plan_opt.nc" -budgets 16,64 -allocate optimal
check optimal-not-worse /usr/bin/python3 -c "
import sys
from netCDF4 import Dataset
e = Dataset('$T/b4/plan.nc').variables['expected_bpd'][:]; o = Dataset('$T/b4/plan_opt.nc').variables['expected_bpd'][:]
print('equal 4/stage', e[0], 'optimal 16 total', o[0]); sys.exit(0 if o[0] <= e[0] + 1e-9 else 1)"
ok sample-b4 ardm_np 2 sample -ckpt "$T/b4/checkpoint.nc" -plan "$T/b4/plan.nc" -budget 4 -n 8 -batch 4 -out "$T/b4/s.nc"
check sample-calls-per-stage test "$($NC att "$T/b4/s.nc" network_calls_per_stage)" -eq 4
check sample-stages test "$($NC att "$T/b4/s.nc" stages)" -eq 4
check sample-values-in-range /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
x = np.asarray(Dataset('$T/b4/s.nc').variables['x'][:]).astype(int); sys.exit(0 if x.min() >= 0 and x.max() < 256 else 1)"

# conditioning stage by stage: the given dims keep their values through all 4 stages
ok sample-b4-given ardm_np 2 sample -ckpt "$T/b4/checkpoint.nc" -budget 4 -n 4 -given "$T/q/test.nc" \
  -given_mask first_half -out "$T/b4/g.nc"
check given-dims-kept-upscale /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
g = np.asarray(Dataset('$T/q/test.nc').variables['x'][:4]).astype(int)
a = np.asarray(Dataset('$T/b4/g.nc').variables['x'][:]).astype(int)
sys.exit(0 if (a[:, :32] == g[:, :32]).all() and a.max() < 256 else 1)"

# b = K is exactly the OA-ARDM: same training losses, bit for bit
SMALL="-data $T/q/train.nc -steps 5 -batch 8 -model_blocks 2 -model_channels 8 -log_every 1 -seed 4"
ok train-oa ardm_np 2 train $SMALL -head categorical -out "$T/oa"
ok train-bK ardm_np 2 train $SMALL -upscale_b 256 -head stage_categorical -out "$T/bK"
check b-equals-K-losses $NC same "$T/oa/train_log.nc" "$T/bK/train_log.nc" loss 0
check b-equals-K-params $NC same "$T/oa/checkpoint.nc" "$T/bK/checkpoint.nc" params 0

# the data parametrization trains, evaluates and samples through the CLI
ok train-data-param ardm_np 2 train $SMALL -upscale_b 16 -head stage_data -out "$T/dp"
ok sample-data-param ardm_np 1 sample -ckpt "$T/dp/checkpoint.nc" -budget 3 -n 2 -out "$T/dp/s.nc"
fails_exit upscale-needs-stage-head 1 'needs -head stage_categorical' ardm_np 1 train $SMALL -upscale_b 4 -head categorical \
  -out "$T/bad"
finish
