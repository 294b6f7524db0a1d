#!/bin/sh
# test_image.sh: images through the whole product with a tiny U-Net (-model unet) on 8 x 8 RGB:
# prep from PNG directories and CIFAR-10 binary batches (small files of the exact formats,
# tests/images.py), training on 2 ranks with an exact resume, eval, 50-step plans, sampling,
# PNG export with the grid, inpainting (-given_mask top_half / centre), the upscale ARDM (b = 4,
# per-stage plans with equal and optimal allocation), and b = K = 256 identical to the OA-ARDM.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"
IMG="/usr/bin/python3 tests/images.py"

# ---- prep ----
ok make-sequences ardm_np 1 prep -format markov -out "$T/mk" -n 8 -length 16 -classes 4
ok make-pngs $IMG png "$T/png" 60 8
ok prep-png ardm_np 2 prep -format png -in "$T/png" -out "$T/d" -height 8 -width 8
check png-values-exact $IMG check-png "$T/png" "$T/d"
ok make-flat-pngs $IMG png-flat "$T/flat" 20 8
ok prep-png-hashed ardm_np 1 prep -format png -in "$T/flat" -out "$T/dh" -height 8 -width 8 -valid_frac 0.2 -test_frac 0.2
check png-hashed-all-kept /usr/bin/python3 -c "
import sys
from netCDF4 import Dataset
n = sum(len(Dataset('$T/dh/%s.nc' % s).dimensions['example']) for s in ('train', 'valid', 'test'))
sys.exit(0 if n == 20 else 1)"
ok make-odd $IMG png-odd "$T/odd"
fails_exit png-wrong-size 1 'odd.png: 8 x 6 pixels \(width x height\), expected 32 x 32' \
  ardm_np 2 prep -format png -in "$T/odd" -out "$T/do"
check png-wrong-size-nothing-written test ! -e "$T/do/train.nc"
ok make-cifar $IMG cifar "$T/cifar" 6
ok prep-cifar10 ardm_np 2 prep -format cifar10 -in "$T/cifar" -out "$T/dc" -valid_frac 0.2
check cifar-values-labels-exact $IMG check-cifar "$T/cifar" "$T/dc" 0.2
rm "$T/cifar/data_batch_3.bin"
fails_exit cifar-missing-batch 1 'cannot open data_batch_3.bin' ardm_np 2 prep -format cifar10 -in "$T/cifar" -out "$T/dc2"
head -c 3000 "$T/cifar/test_batch.bin" >"$T/cifar/data_batch_3.bin"
fails_exit cifar-partial-record 1 'data_batch_3.bin has 3000 bytes, not a whole number of 3073-byte records' \
  ardm_np 1 prep -format cifar10 -in "$T/cifar" -out "$T/dc2"

# ---- OA-ARDM: train (2 ranks, exact resume), eval, plan, sample, export ----
NET="-model unet -model_channels 8 -model_blocks 1 -model_levels 2 -model_attention 2"
TR="-data $T/d/train.nc $NET -batch 8 -lr 2e-3 -log_every 5 -seed 3"
ok train-oa ardm_np 2 train $TR -steps 20 -out "$T/oa"
ok train-oa-10 ardm_np 2 train $TR -steps 10 -out "$T/rs"
ok train-oa-resume ardm_np 2 train $TR -steps 20 -out "$T/rs" -resume
check resume-exact $NC same "$T/oa/checkpoint.nc" "$T/rs/checkpoint.nc" params 0
fails_exit unet-needs-image 1 'needs an image data set' ardm_np 1 train -data "$T/mk/train.nc" -model unet \
  -steps 1 -out "$T/bad"
fails_exit unet-levels-vs-size 1 'model_levels 5 needs height and width divisible by 16' ardm_np 1 train \
  -data "$T/d/train.nc" -model unet -model_levels 5 -steps 1 -out "$T/bad"
ok eval-oa ardm_np 2 eval -ckpt "$T/oa/checkpoint.nc" -data "$T/d/test.nc" -out "$T/oa/eval.nc" -draws 2
check eval-bpd-sane /usr/bin/python3 -c "import sys; b=float('$($NC get "$T/oa/eval.nc" bpd)'); print(b); sys.exit(0 if 0 < b < 9 else 1)"
ok plan-oa-50 ardm_np 2 plan -loss "$T/oa/eval.nc" -out "$T/oa/plan.nc" -budgets 50
ok sample-oa ardm_np 2 sample -ckpt "$T/oa/checkpoint.nc" -plan "$T/oa/plan.nc" -budget 50 -n 6 -batch 3 \
  -out "$T/oa/s.nc"
check sample-50-calls test "$($NC att "$T/oa/s.nc" network_calls_per_stage)" -eq 50
check sample-image-attrs test "$($NC att "$T/oa/s.nc" height)x$($NC att "$T/oa/s.nc" width)" = 8x8
ok export-png ardm_np 2 export -format png -in "$T/oa/s.nc" -out "$T/png_out"
check export-png-files /usr/bin/python3 -c "
import os, struct, sys
def size(p):
    h = open(p, 'rb').read(24); return struct.unpack('>II', h[16:24])
n = sorted(f for f in os.listdir('$T/png_out') if f.startswith('sample_0'))
g = size('$T/png_out/sample_grid.png')
print(n, size('$T/png_out/' + n[0]), g)
sys.exit(0 if len(n) == 6 and size('$T/png_out/' + n[0]) == (8, 8) and g == (73, 73) else 1)"
# the PNGs hold exactly the samples (the grid has another size, so it is moved away first)
mv "$T/png_out/sample_grid.png" "$T/grid.png"
ok export-png-reprep ardm_np 1 prep -format png -in "$T/png_out" -out "$T/rt" -height 8 -width 8 -valid_frac 0 \
  -test_frac 0
check export-png-roundtrip-exact $NC same "$T/oa/s.nc" "$T/rt/train.nc" x 0
fails_exit export-png-needs-image 1 'needs an image file' ardm_np 1 export -format png -in "$T/mk/train.nc" \
  -out "$T/x"
# inpainting: the known region of the given image is kept exactly
for m in top_half centre; do
  ok "sample-given-$m" ardm_np 2 sample -ckpt "$T/oa/checkpoint.nc" -budget 20 -n 4 -given "$T/d/test.nc" \
    -given_mask $m -out "$T/oa/g_$m.nc"
  check "given-$m-kept" /usr/bin/python3 -c "
import numpy as np, sys
from netCDF4 import Dataset
g = np.asarray(Dataset('$T/d/test.nc').variables['x'][:4]).astype(int).reshape(4, 3, 8, 8)
a = np.asarray(Dataset('$T/oa/g_$m.nc').variables['x'][:]).astype(int).reshape(4, 3, 8, 8)
m = np.zeros((8, 8), bool)
if '$m' == 'top_half': m[:4] = True
else: m[2:6, 2:6] = True
same = (a == g)[:, :, m].all()
print('known region kept:', same, '; unknown pixels equal to the given:', (a == g)[:, :, ~m].mean())
sys.exit(0 if same else 1)"
done
fails_exit given-image-mask-needs-image 1 'need an image model' sh -c "
  mpirun -n 1 '$ARDM' train -data '$T/mk/train.nc' -out '$T/mkr' -steps 1 -batch 2 -model_blocks 1 -model_channels 4 >/dev/null &&
  mpirun -n 1 '$ARDM' sample -ckpt '$T/mkr/checkpoint.nc' -n 1 -given '$T/mk/train.nc' -given_mask centre -out '$T/mk/s.nc'"

# ---- upscale b = 4: per-stage plans (equal and optimal), stage-by-stage sampling ----
ok train-b4 ardm_np 2 train $TR -steps 10 -upscale_b 4 -out "$T/b4"
ok eval-b4 ardm_np 2 eval -ckpt "$T/b4/checkpoint.nc" -data "$T/d/test.nc" -out "$T/b4/eval.nc" -draws 1
ok plan-b4-equal ardm_np 2 plan -loss "$T/b4/eval.nc" -out "$T/b4/plan.nc" -budgets 50
ok plan-b4-optimal ardm_np 1 plan -loss "$T/b4/eval.nc" -out "$T/b4/plan_opt.nc" -budgets 200 -allocate optimal
ok sample-b4 ardm_np 2 sample -ckpt "$T/b4/checkpoint.nc" -plan "$T/b4/plan.nc" -budget 50 -n 4 -out "$T/b4/s.nc"
check sample-b4-stages test "$($NC att "$T/b4/s.nc" stages)" -eq 4

# ---- b = K is exactly the OA-ARDM for images: the same training losses and parameters ----
SMALL="-data $T/d/train.nc $NET -steps 4 -batch 8 -log_every 1 -seed 4"
ok train-small-oa ardm_np 2 train $SMALL -head categorical -out "$T/soa"
ok train-small-bK ardm_np 2 train $SMALL -upscale_b 256 -head stage_categorical -out "$T/sbK"
check b-equals-K-losses $NC same "$T/soa/train_log.nc" "$T/sbK/train_log.nc" loss 0
check b-equals-K-params $NC same "$T/soa/checkpoint.nc" "$T/sbK/checkpoint.nc" params 0

# ---- -model_fourier F (default 8) is a model attribute; a checkpoint without it has F = 0 ----
model_attr_default model_fourier 8 0 16 "$T/soa/checkpoint.nc" 6 "-data $T/d/test.nc -draws 2 -seed 5" $SMALL
ok sample-fourier ardm_np 2 sample -ckpt "$T/soa/checkpoint.nc" -n 2 -out "$T/soa/s.nc"
# ---- -augment_flip: a mirrored image for half the slots, drawn per global slot ----
# On left-right symmetric images a flip changes nothing (bit for bit); on the others it does.
cp "$T/d/train.nc" "$T/sym.nc"
ok make-symmetric /usr/bin/python3 -c "
from netCDF4 import Dataset
f = Dataset('$T/sym.nc', 'a'); x = f.variables['x']; v = x[:].reshape(-1, 3, 8, 8)
v[..., 4:] = v[..., 3::-1]; x[:] = v.reshape(x.shape); f.close()"
FL="$NET -steps 4 -batch 8 -log_every 1 -seed 4"
ok train-sym ardm_np 2 train -data "$T/sym.nc" $FL -out "$T/sym0"
ok train-sym-flip ardm_np 2 train -data "$T/sym.nc" $FL -augment_flip -out "$T/sym1"
check flip-symmetric-same $NC same "$T/sym0/checkpoint.nc" "$T/sym1/checkpoint.nc" params 0
ok train-flip-np2 ardm_np 2 train -data "$T/d/train.nc" $FL -augment_flip -out "$T/fl2"
check flip-changes-training sh -c "! $NC same '$T/soa/checkpoint.nc' '$T/fl2/checkpoint.nc' params 0"
ok train-flip-np1 ardm_np 1 train -data "$T/d/train.nc" $FL -augment_flip -out "$T/fl1"
check flip-same-any-ranks $NC same "$T/fl1/train_log.nc" "$T/fl2/train_log.nc" loss 1e-5
fails_exit flip-needs-image 1 "-augment_flip: $T/mk/train.nc is not an image data set \(modality sequence\); flips apply" \
  ardm_np 1 train -data "$T/mk/train.nc" -augment_flip -steps 1 -out "$T/bad"
finish
