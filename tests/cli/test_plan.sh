#!/bin/sh
# test_plan.sh: `ardm plan`: loss components (written with ncgen from CDL) -> plan.nc on 1 and 2
# ranks; the reference's check values in the file, identical files on 1 and 2 ranks, upscale
# stages with -allocate optimal, eval files as input, and one-line errors for bad input.
. "$(dirname "$0")/../lib.sh"

# loss_nc NAME KIND S D LOSSES COUNTS: a CDL loss-components file -> $T/NAME.nc
loss_nc() {
  cat >"$T/$1.cdl" <<EOF
netcdf $1 {
dimensions:
  stage = $3 ;
  t = $4 ;
variables:
  double loss(stage, t) ;
  int64 count(stage, t) ;
  double loss_sq(stage, t) ;
:ardm_kind = "$2" ;
data:
  loss = $5 ;
  count = $6 ;
  loss_sq = $5 ;
}
EOF
  ncgen -k nc4 -o "$T/$1.nc" "$T/$1.cdl"
}
# ncvals FILE VAR: the variable's values, one per line
ncvals() { ncdump -v "$2" "$1" | sed -n '/^data:/,$p' | tr -d ' \n;}' | sed "s/.*$2=//" | tr ',' '\n'; }
# close_list "A B C" FILE VAR: the values equal the list within 1e-9 (ncdump prints 15+ digits)
close_list() {
  ncvals "$2" "$3" | awk -v want="$1" 'BEGIN { n = split(want, w, " ") }
    { i++; d = $1 - w[i]; if (d < 0) d = -d; if (d > 1e-9) bad = 1 } END { exit (bad || i != n) }'
}
# plan_is FILE B "STARTS": row B (1-based) of starts(budget, stage 0, step) is STARTS
plan_is() {
  got=$(ncvals "$1" starts | awk -v b="$2" -v w="$(echo "$3" | wc -w)" 'NR > (b - 1) * w && NR <= b * w' | tr '\n' ' ')
  echo "got: $got"; [ "$got" = "$3 " ]
}
# no_worse OPT EQ: every expected_bpd of OPT <= the one of EQ (same number of network calls)
no_worse() {
  v=$(echo $(ncvals "$1" expected_bpd) $(ncvals "$2" expected_bpd)); echo "$v"
  echo "$v" | awk '{ exit !(NF == 4 && $1 <= $3 * (1 + 1e-12) && $2 <= $4 * (1 + 1e-12)) }'
}
# steps_within FILE TOTAL: the two stages' steps for the first budget add up to 1..TOTAL
steps_within() { ncvals "$1" nsteps | head -n 2 | awk -v n="$2" '{ s += $1; k++ } END { print s; exit !(k == 2 && s >= 2 && s <= n) }'; }

# The reference's check: l = 5, 4, 3, 2.85, 2.8 costs 25, 19, 18, 17.7, 17.65 for budgets 1..5
# (bits/dim: divided by D = 5); budget 2 is the plan [0, 2].
loss_nc ref loss_components 1 5 "5, 4, 3, 2.85, 2.8" "10, 10, 10, 10, 10"
ok    plan-np1 ardm_np 1 plan -loss "$T/ref.nc" -out "$T/p1.nc" -budgets 1,2,3,4,5
ok    plan-np2 ardm_np 2 plan -loss "$T/ref.nc" -out "$T/p2.nc" -budgets 1,2,3,4,5
check kind-plan sh -c "ncdump -h '$T/p1.nc' | grep -q 'ardm_kind = \"plan\"'"
check dims sh -c "ncdump -h '$T/p1.nc' | grep -q 'budget = 5' && ncdump -h '$T/p1.nc' | grep -q 'step = 5' && ncdump -h '$T/p1.nc' | grep -q 'n = 5'"
check attributes sh -c "ncdump -h '$T/p1.nc' | grep -q ':D = 5' && ncdump -h '$T/p1.nc' | grep -q ':monotone = \"sort\"' && ncdump -h '$T/p1.nc' | grep -q ':allocate = \"equal\"'"
check reference-costs close_list "5 3.8 3.6 3.54 3.53" "$T/p1.nc" expected_bpd
check reference-curve close_list "5 3.8 3.6 3.54 3.53" "$T/p1.nc" curve_bpd
check budget1-plan     plan_is "$T/p1.nc" 1 "0 -1 -1 -1 -1"
check budget2-plan     plan_is "$T/p1.nc" 2 "0 2 -1 -1 -1"
check budget5-all-steps plan_is "$T/p1.nc" 5 "0 1 2 3 4"
ncdump "$T/p1.nc" | grep -v -e ':history' -e ':command_line' -e ':options' -e '^netcdf' >"$T/d1"
ncdump "$T/p2.nc" | grep -v -e ':history' -e ':command_line' -e ':options' -e '^netcdf' >"$T/d2"
check same-on-1-and-2-ranks cmp "$T/d1" "$T/d2"
check no-temporary-left sh -c "! ls '$T' | grep -q 'tmp'"

# Two stages of 200 steps, noisy and partly unobserved: optimal allocation, isotonic, none.
awk 'BEGIN { srand(7); for (s = 0; s < 2; s++) for (t = 0; t < 200; t++) {
       printf "%s%.6f", (s || t) ? ", " : "", (s + 1) * 6 / (1 + 0.03 * t) + rand() * 0.3 } }' >"$T/l2"
awk 'BEGIN { for (i = 0; i < 400; i++) printf "%s%d", i ? ", " : "", (i % 7 == 3) ? 0 : 5 }' >"$T/c2"
loss_nc up loss_components 2 200 "$(cat "$T/l2")" "$(cat "$T/c2")"
ok    plan-optimal-np2 ardm_np 2 plan -loss "$T/up.nc" -out "$T/po.nc" -budgets 10,40 -allocate optimal -monotone isotonic -curve_max 60
ok    plan-equal-np2 ardm_np 2 plan -loss "$T/up.nc" -out "$T/pe.nc" -budgets 5,20 -curve_max 30
# optimal with 10 (40) calls in total is no worse than 5 (20) per stage
check optimal-beats-equal no_worse "$T/po.nc" "$T/pe.nc"
check optimal-curve-nan-below-stages sh -c "ncdump -v curve_bpd '$T/po.nc' | grep -q 'curve_bpd = NaN, '"
check optimal-steps-within-budget steps_within "$T/po.nc" 10
ok    plan-none ardm_np 1 plan -loss "$T/up.nc" -out "$T/pn.nc" -budgets 7 -monotone none
ok    plan-checkpointed ardm_np 1 plan -loss "$T/up.nc" -out "$T/pc.nc" -budgets 7 -monotone none -memory_mb 1
ok    plan-default-budgets "$ARDM" plan -loss "$T/up.nc" -out "$T/pd.nc"
check default-budgets-20-50-100 close_list "20 50 100" "$T/pd.nc" budgets

# an eval file carries the same variables
loss_nc ev eval 1 5 "5, 4, 3, 2.85, 2.8" "1, 1, 1, 1, 1"
ok    plan-from-eval "$ARDM" plan -loss "$T/ev.nc" -out "$T/pv.nc" -budgets 2

# bad input: one clear line and a non-zero exit (on 2 ranks: every rank)
loss_nc ds dataset 1 5 "5, 4, 3, 2.85, 2.8" "1, 1, 1, 1, 1"
fails_exit wrong-kind 1 "is an ardm 'dataset' file, expected 'loss_components' or 'eval'" ardm_np 2 plan -loss "$T/ds.nc" -out "$T/x.nc"
loss_nc nan loss_components 1 5 "5, 4, NaN, 2.85, 2.8" "1, 1, 1, 1, 1"
fails_exit nan-loss 1 "loss\(0, 2\) = nan" ardm_np 2 plan -loss "$T/nan.nc" -out "$T/x.nc" -budgets 2
loss_nc unseen loss_components 1 5 "5, 4, 3, 2.85, 2.8" "0, 0, 0, 0, 0"
fails_exit no-observations 1 "no observed step" "$ARDM" plan -loss "$T/unseen.nc" -out "$T/x.nc" -budgets 2
ok    no-observations-penalty "$ARDM" plan -loss "$T/unseen.nc" -out "$T/x.nc" -budgets 2 -penalty 8
fails_exit budget-zero 1 "-budgets: 0 is out of range: expected 1..5" ardm_np 2 plan -loss "$T/ref.nc" -out "$T/x.nc" -budgets 0
fails_exit budget-above-D 1 "-budgets: 6 is out of range: expected 1..5" "$ARDM" plan -loss "$T/ref.nc" -out "$T/x.nc" -budgets 3,6
fails_exit budget-twice 1 "-budgets: 3 is given twice" "$ARDM" plan -loss "$T/ref.nc" -out "$T/x.nc" -budgets 3,3
fails_exit optimal-below-stages 1 "-budgets: 1 is out of range: expected 2..400" "$ARDM" plan -loss "$T/up.nc" -out "$T/x.nc" -budgets 1 -allocate optimal
fails_exit curve-above-D 1 "-curve_max 9: expected 1..5" "$ARDM" plan -loss "$T/ref.nc" -out "$T/x.nc" -curve_max 9
fails_exit negative-penalty 1 "-penalty -3: expected a finite number in \\[-1,1e6\\]$" "$ARDM" plan -loss "$T/ref.nc" -out "$T/x.nc" -penalty -3
fails_exit fractional-negative-penalty 1 "-penalty -0.5: expected a finite value >= 0 \\(bits\\), or -1" "$ARDM" plan -loss "$T/ref.nc" -out "$T/x.nc" -penalty -0.5
fails_exit missing-loss-option 1 "-loss FILE is required" "$ARDM" plan
fails_exit missing-file 1 "none.nc: cannot read the file" ardm_np 2 plan -loss "$T/none.nc"
fails_exit missing-variable 1 "missing variable 'loss_ema'" "$ARDM" plan -loss "$T/ref.nc" -loss_variable loss_ema -out "$T/x.nc"
fails_exit bad-monotone 1 "monotone" "$ARDM" plan -loss "$T/ref.nc" -monotone sideways -out "$T/x.nc"
finish
