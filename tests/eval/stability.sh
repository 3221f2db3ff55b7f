#!/usr/bin/env bash
# tests/eval/stability.sh — prediction stability (science.md §5): metrics.csv's test_flip_prev is
# the share of test samples that the last epoch's training changed the prediction of. Two runs of
# the same seed and a constant learning rate (1 and 2 epochs, so the first epoch is the same in
# both) are evaluated with `gammacl eval --export`; the disagreement of the two exports'
# predictions, computed by NumPy, must be the 2-epoch run's test_flip_prev at epoch 2. Epoch 0
# has no pass before it (empty cell), summary.json's final figure is the last row's,
# test_predictions.csv holds the export's labels and predictions, and the checkpoint carries the
# predictions (a resumed run's column is tested by the reliability
# suite's resume tests, which compare metrics.csv whole).
#
#   stability.sh GAMMACL CKPT_TOOL
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"

column() { # column FILE NAME EPOCH: a metrics.csv cell
    awk -F, -v name="$2" -v epoch="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        $1 == epoch { print $c; exit }' "$1"
}
for e in 1 2; do
    run=$work/run$e
    run_gammacl "$run" "${TRAIN[@]}" --epochs "$e" --lr-schedule step --milestones 100 --progress 0 \
        --out "$run" || { cat "$run.err"; fail_now "the $e-epoch run failed"; }
    run_gammacl "$work/eval$e" eval --run "$run" --device "$device" --noise none --feature-noise none \
        --weight-noise none --fgsm none --export "$work/p$e.npz" || fail_now "the eval of run $e failed"
done
csv=$work/run2/metrics.csv
check "epoch 0 has no pass before it: an empty cell" [ -z "$(column "$csv" test_flip_prev 0)" ]
check "the same first epoch in both runs" \
    [ "$(column "$work/run1/metrics.csv" test_acc 1)" = "$(column "$csv" test_acc 1)" ]
flip=$(column "$csv" test_flip_prev 2)
check "epoch 2 has a flip rate in [0, 1] ($flip)" awk -v f="$flip" 'BEGIN { exit !(f != "" && f >= 0 && f <= 1) }'
final=$(awk '$1 == "\"test_flip_prev\":" { v = $2; gsub(/,/, "", v); print v; exit }' "$work/run2/summary.json")
check "summary.json's final test_flip_prev ($final) is the last row's" \
    awk -v a="$final" -v b="$flip" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-6 && d > -1e-6) }'
check "the checkpoint carries the test predictions" bash -c "'$ckpt_tool' info '$work/run2/model.ckpt' | grep -q run.test_predictions"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check "test_flip_prev ($flip) is the disagreement of the epoch-1 and epoch-2 predictions" \
        /usr/bin/python3 -c "
import sys, numpy as np
a = np.load('$work/p1.npz')['predictions']; b = np.load('$work/p2.npz')['predictions']
want = float((a != b).mean())
print('exports disagree on', want, 'of', len(a))
sys.exit(0 if len(a) == len(b) and 0 < want and abs(want - $flip) < 1e-6 else 1)"
    check "test_predictions.csv holds the final pass's labels and predictions" /usr/bin/python3 -c "
import sys, numpy as np
z = np.load('$work/p2.npz'); t = np.loadtxt('$work/run2/test_predictions.csv', delimiter=',', skiprows=1, dtype=np.int64)
sys.exit(0 if t.shape == (len(z['predictions']), 3) and (t[:, 0] == np.arange(len(t))).all() and
         (t[:, 1] == z['labels']).all() and (t[:, 2] == z['predictions']).all() else 1)"
else
    echo "note: no NumPy for /usr/bin/python3; the comparison with the eval exports is skipped"
fi
done_checks
