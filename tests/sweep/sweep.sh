#!/usr/bin/env bash
# tests/sweep/sweep.sh — `gammacl sweep` end to end on tiny Fashion-MNIST cells.
#
#   sweep.sh GAMMACL CKPT_TOOL CASE
#   kill_rerun  a sweep killed with SIGKILL mid-cell (no child outlives it) and rerun gives a
#               sweep.csv equal to an uninterrupted one in every column but wall time; a finished
#               sweep rerun trains nothing; a cell whose checkpoint is damaged is redone, alone;
#               summary.csv's means and standard deviations match sweep.csv's; plots and report
#   sigterm     SIGTERM to the sweep stops the running cell with a checkpoint (exit 143, the cell
#               says it stopped), and the rerun resumes it and ends equal to an uninterrupted sweep
#   grid        a rerun that contradicts sweep.json (another --epochs, a dropped gamma, --gamma on
#               a sweep) is refused with exit 2 naming what differs; adding a gamma runs only the
#               new cells
#   devices     cells spread over two devices (PoCL and Mesa rusticl, when both are there): each
#               device runs cells, and every cell is evaluated on the device it trained on
#   tasks       long-tailed and open-set axes: --rhos and --splits make a cell per (rho, split),
#               each trained with its --imbalance and its split's --known classes (distinct,
#               reproducible); sweep.csv and summary.csv carry rho, split, known, shot-group
#               accuracies, AUROC and OSCR; summary.csv groups over splits; the long_tail and
#               open_set plots and the report's tables are made; conflicting options are refused
#   failure     a cell that stops on NaN is recorded as failed with its reason and the sweep goes on
#               (exit 1, tables say so); a rerun keeps it failed without training; --fail-fast
#               stops at the first failure
#   timeout     --cell-timeout: a training child that hangs in a launch (GAMMACL_FAULT=hang:N) is
#               stopped (SIGTERM, then SIGKILL 10 s later) and recorded as failed with the reason,
#               the sweep goes on to its next cell and exits 1; a long training is stopped with a
#               checkpoint that --retry-failed resumes from; bad limits are refused; without a
#               limit, a second SIGTERM to the sweep ends a hung cell at once; a Ctrl-C to the
#               sweep's process group (the cell gets it twice: from the terminal and from the
#               sweep) stops the cell after its step with a checkpoint, as one signal does
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
case_name=${3:-}

SWEEP=(sweep --devices "$device" --epochs 2 --train-limit 256 --test-limit 128
       --metrics-train-limit 128 --batch 64)

# run_sweep DIR ARGS...: runs a sweep into DIR; its output in DIR.out, exit status in $?
run_sweep() {
    local dir=$1
    shift
    timeout "$limit" "$gammacl" "${SWEEP[@]}" --out "$dir" "$@" > "$dir.out" 2>&1
}

# sweep.csv without its wall-time column (seconds, the 11th)
table_without_time() { cut -d, -f1-10,12- "$1/sweep.csv"; }

same_table() { cmp -s <(table_without_time "$1") <(table_without_time "$2"); }

starts() { grep -c '^  start ' "$1.out"; }

png_ok() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && [ "$(stat -c %s "$1")" -gt 5000 ]; }
svg_ok() { head -c 200 "$1" | grep -q '<svg'; }

# the mean of column NAME over the rows of sweep.csv with loss L and gamma G, against summary.csv
summary_matches() {
    local dir=$1 loss=$2 gamma=$3 name=$4
    awk -F, -v loss="$loss" -v gamma="$gamma" -v name="$name" '
        FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; next }
        FILENAME ~ /sweep.csv$/ && $3 == loss && $4 + 0 == gamma + 0 && $2 == "done" {
            v = $(col[FILENAME, name]); s += v; ss += v * v; n++ }
        FILENAME ~ /summary.csv$/ && $1 == loss && $2 + 0 == gamma + 0 {
            m = $(col[FILENAME, name "_mean"]); sd = $(col[FILENAME, name "_std"]); k = $(col[FILENAME, "n"]) }
        END {
            mean = s / n; var = (ss - n * mean * mean) / (n - 1); if (var < 0) var = 0
            ok = n == 2 && k == 2 && (m - mean) ^ 2 < 1e-14 && (sd - sqrt(var)) ^ 2 < 1e-10
            if (!ok) printf "sweep.csv: n %d mean %.9g sd %.9g; summary.csv: n %d mean %.9g sd %.9g\n", n, mean, sqrt(var), k, m, sd
            exit !ok }' "$dir/sweep.csv" "$dir/summary.csv"
}

case_kill_rerun() {
    local a=$work/A b=$work/B
    run_sweep "$a" --gammas 1,8 --seeds 2 || { cat "$a.out"; fail_now "the uninterrupted sweep failed"; }
    check "8 cells done" grep -q '^8 of 8 cells done, 0 failed' "$a.out"
    check "summary.csv: CE gamma 1 test_acc mean and sd over 2 seeds" summary_matches "$a" ce 1 test_acc
    check "summary.csv: BCE gamma 8 test_compact mean and sd over 2 seeds" summary_matches "$a" bce 8 test_compact
    for p in convergence_rate excess_loss geometry robustness bias stability; do
        check "plots/$p.png is a PNG" png_ok "$a/plots/$p.png"
        check "plots/$p.svg is an SVG" svg_ok "$a/plots/$p.svg"
    done
    check "report.md has a row per point and the plots" \
        bash -c "[ \$(grep -c '^| \(CE\|BCE\)[ ,]' '$a/report.md') -eq 4 ] && grep -q 'plots/geometry.png' '$a/report.md'"
    check "report.md: no learned b for CE (it trains none), a number for BCE; b* for both" \
        bash -c "[ \$(grep -Ec '^\| CE \|.*\| – \| [0-9.]+( ± [0-9.]+)? \|\$' '$a/report.md') -eq 2 ] &&
                 [ \$(grep -Ec '^\| BCE.*\| -?[0-9.]+( ± [0-9.]+)? \| [0-9.]+( ± [0-9.]+)? \|\$' '$a/report.md') -eq 2 ]"
    check "eval figures reach sweep.csv" bash -c "head -1 '$a/sweep.csv' | grep -q flip_fgsm_1 && ! cut -d, -f2 '$a/sweep.csv' | grep -q pending"
    check "seed_disagreement: each cell's share of test predictions differing from the other seed's" \
        seeds_disagree "$a" ce-g1-s1 ce-g1-s2
    check "seed_disagreement: the same for BCE at gamma 8" seeds_disagree "$a" bce-g8-s1-zero bce-g8-s2-zero
    check "weight noise and the last epoch's prediction changes reach sweep.csv" bash -c \
        "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if (\$i == \"flip_weight_noise_0.1\") w = i; if (\$i == \"test_flip_prev\") s = i } next }
                  !(w && s && \$w != \"\" && \$s != \"\") { bad = 1 } END { exit bad || NR < 2 }' '$a/sweep.csv'"

    # the same sweep, killed while its second cell trains
    "$gammacl" "${SWEEP[@]}" --out "$b" --gammas 1,8 --seeds 2 > "$b.first.out" 2>&1 &
    local pid=$!
    wait_epoch1 "$pid" "$b" bce-g1-s1-zero
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    sleep 1
    check "no cell outlives a killed sweep" bash -c "! pgrep -f '[t]rain .*$b/cells' > /dev/null"
    run_sweep "$b" || { cat "$b.out"; fail_now "the rerun failed"; }
    check "the rerun finished every cell" grep -q '^8 of 8 cells done, 0 failed' "$b.out"
    check "the interrupted cell resumed from its checkpoint" grep -q 'start bce-g1-s1-zero .*resuming' "$b.out"
    check "killed and rerun: sweep.csv equals the uninterrupted one (but wall time)" same_table "$a" "$b"

    run_sweep "$b" || fail_now "the rerun of a finished sweep failed"
    check "a finished sweep rerun trains nothing" [ "$(starts "$b")" -eq 0 ]
    check "and reports every cell done" grep -q '8 done, 0 failed before' "$b.out"

    head -c 1000 "$b/cells/ce-g8-s2/model.ckpt" > "$b/ckpt.part" && mv "$b/ckpt.part" "$b/cells/ce-g8-s2/model.ckpt"
    rm -f "$b/cells/bce-g1-s2-zero/eval.json"
    run_sweep "$b" || { cat "$b.out"; fail_now "the rerun after damage failed"; }
    check "a damaged checkpoint: that cell alone is retrained" \
        bash -c "[ $(starts "$b") -eq 1 ] && grep -q 'start ce-g8-s2 ' '$b.out'"
    check "a missing eval.json: evaluated again, not retrained" grep -q 'bce-g1-s2-zero' "$b.out"
    check "after the repairs sweep.csv equals the uninterrupted one" same_table "$a" "$b"
}

# seeds_disagree DIR CELL1 CELL2: both cells' seed_disagreement in sweep.csv is the share of
# samples on which their test_predictions.csv differ (two seeds: each has the other only)
seeds_disagree() {
    local want
    want=$(paste -d, "$1/cells/$2/test_predictions.csv" "$1/cells/$3/test_predictions.csv" |
        awk -F, 'NR > 1 { n++; d += $3 != $6 } END { if (n) printf "%.9f", d / n }')
    awk -F, -v a="$2" -v b="$3" -v want="$want" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seed_disagreement") c = i; next }
        $1 == a || $1 == b { d = $c - want; if ($c == "" || d > 1e-9 || d < -1e-9) bad = 1; seen++ }
        END { if (want == "" || seen != 2 || bad) { printf "want %s\n", want; exit 1 } }' "$1/sweep.csv"
}

# wait_epoch1 PID DIR CELL: waits until the cell has finished its first epoch (its checkpoint is there)
wait_epoch1() {
    wait_for_file "$1" "$2/cells/$3/log.txt" && wait_for_line "$1" "$2/cells/$3/log.txt" "^epoch 1/2" &&
        wait_for_file "$1" "$2/cells/$3/model.ckpt" || fail_now "cell $3 never finished epoch 1"
}

case_sigterm() {
    local a=$work/T1 b=$work/T2
    run_sweep "$a" --gammas 4 --seeds 1 --train-limit 2048 || { cat "$a.out"; fail_now "the uninterrupted sweep failed"; }
    "$gammacl" "${SWEEP[@]}" --out "$b" --gammas 4 --seeds 1 --train-limit 2048 > "$b.first.out" 2>&1 &
    local pid=$!
    wait_epoch1 "$pid" "$b" bce-g4-s1-zero
    kill -TERM "$pid"
    wait "$pid"
    local rc=$?
    check "SIGTERM: the sweep exits 143 ($rc)" [ "$rc" -eq 143 ]
    check "SIGTERM: the sweep says how to continue" grep -q "rerun .gammacl sweep --out" "$b.first.out"
    check "SIGTERM: the running cell stopped with a checkpoint" \
        grep -q "stopped by SIGTERM.*checkpoint written" "$b/cells/bce-g4-s1-zero/log.txt"
    run_sweep "$b" --train-limit 2048 || { cat "$b.out"; fail_now "the rerun failed"; }
    check "SIGTERM: the rerun resumes the cell" grep -q 'start bce-g4-s1-zero .*resuming' "$b.out"
    check "SIGTERM: then sweep.csv equals the uninterrupted one (but wall time)" same_table "$a" "$b"
}

case_grid() {
    local a=$work/G
    run_sweep "$a" --gammas 1 --seeds 1 || { cat "$a.out"; fail_now "the first sweep failed"; }
    timeout "$limit" "$gammacl" sweep --out "$a" --epochs 3 > "$a.e.out" 2>&1
    local rc=$?
    check "another --epochs is refused with exit 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message names --epochs and both values" grep -q -- "--epochs is 2 in the sweep.*but 3" "$a.e.out"
    timeout "$limit" "$gammacl" sweep --out "$a" --gammas 2 > "$a.g.out" 2>&1
    rc=$?
    check "dropping gamma 1 is refused with exit 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message names the gamma" grep -q "leaves out gamma 1" "$a.g.out"
    timeout "$limit" "$gammacl" sweep --out "$a" --gamma 2 > "$a.h.out" 2>&1
    check "--gamma on a sweep is refused, pointing at --gammas" grep -q -- "--gammas" "$a.h.out"
    run_sweep "$a" --gammas 1,2 || { cat "$a.out"; fail_now "growing the sweep failed"; }
    check "adding gamma 2 runs only its 2 cells" [ "$(starts "$a")" -eq 2 ]
    check "the grown sweep has 4 rows" [ "$(($(wc -l < "$a/sweep.csv") - 1))" -eq 4 ]
    check "sweep.json records both gammas" grep -q '"gammas":.\[1, 2\]' "$a/sweep.json"
    check "sweep.json records provenance" grep -q '"cpu_model"' "$a/sweep.json"
    check "every cell's summary.json records provenance" grep -q '"commit"' "$a/cells/ce-g2-s1/summary.json"
}

# poison DIR: a finished 1-epoch cell of the sweep (asked to run 2) whose class weights hold a NaN
poison_cell() {
    local cell=$1
    run_gammacl "$cell" train --data fashion-mnist --epochs 1 --train-limit 256 --test-limit 128 \
        --metrics-train-limit 128 --batch 64 --loss ce --gamma 1 --seed 1 --bias-init zero \
        --device "$device" --progress 0 --out "$cell" || { cat "$cell.err"; fail_now "the base cell failed"; }
    "$ckpt_tool" set-meta "$cell/model.ckpt" epochs 2 || fail_now "cannot edit the checkpoint"
    "$ckpt_tool" poison "$cell/model.ckpt" head.w nan || fail_now "cannot poison the checkpoint"
}

case_failure() {
    local a=$work/F
    mkdir -p "$a/cells"
    poison_cell "$a/cells/ce-g1-s1"
    run_sweep "$a" --gammas 1 --seeds 1
    local rc=$?
    check "a failed cell makes the sweep exit 1 ($rc)" [ "$rc" -eq 1 ]
    check "the other cell still ran" grep -q '^2 of 2\|1 of 2 cells done, 1 failed' "$a.out"
    check "failed.json names the NaN" grep -q 'NaN' "$a/cells/ce-g1-s1/failed.json"
    check "sweep.csv marks it failed with the reason" grep -q '^ce-g1-s1,failed,.*NaN' "$a/sweep.csv"
    check "summary.csv counts the failure" bash -c "grep -q '^ce,1,,,0,1' '$a/summary.csv'"
    check "report.md lists the failed cell" grep -q '`ce-g1-s1`' "$a/report.md"
    run_sweep "$a"
    check "a rerun keeps it failed and trains nothing" \
        bash -c "[ $(starts "$a") -eq 0 ] && grep -q '1 done, 1 failed before' '$a.out'"
    local b=$work/FF
    mkdir -p "$b/cells"
    poison_cell "$b/cells/ce-g1-s1"
    run_sweep "$b" --gammas 1 --seeds 1 --fail-fast
    rc=$?
    check "--fail-fast stops at the first failure ($rc)" \
        bash -c "[ $rc -eq 1 ] && [ $(starts "$b") -eq 1 ] && grep -q '0 of 2 cells done, 1 failed' '$b.out'"
}

case_timeout() {
    local a=$work/T t0 took
    # every child hangs at its 30th kernel launch: SIGTERM does not end it, SIGKILL does
    t0=$SECONDS
    GAMMACL_FAULT=hang:30 run_sweep "$a" --gammas 1 --seeds 1 --cell-timeout 5
    local rc=$? took=$((SECONDS - t0))
    check "hung cells make the sweep exit 1 ($rc)" [ "$rc" -eq 1 ]
    check "both hung cells were stopped, one after the other (${took}s for two 5 s limits and 10 s graces)" \
        bash -c "[ $took -lt 60 ] && [ \$(grep -c '^  stop  .*ran past --cell-timeout 5s' '$a.out') -eq 2 ]"
    check "they were hung in their launch" grep -q '^GAMMACL_FAULT: launch 30 .* hangs' "$a/cells/ce-g1-s1/log.txt"
    check "failed.json says it ran past the limit and needed SIGKILL" \
        grep -q 'ran past --cell-timeout 5s and was stopped with SIGKILL' "$a/cells/ce-g1-s1/failed.json"
    check "sweep.csv marks both cells failed" \
        bash -c "[ \$(grep -c '^[a-z-]*g1-s1[a-z-]*,failed,.*cell-timeout' '$a/sweep.csv') -eq 2 ]"
    check "no hung child outlives the sweep" bash -c "! pgrep -f '[t]rain .*$a/cells' > /dev/null"

    # a long training (1000 epochs) stops with its checkpoint, and --retry-failed resumes it
    local b=$work/TL
    local long=(sweep --devices "$device" --epochs 1000 --train-limit 128 --test-limit 64
                --metrics-every 0 --batch 64 --gammas 4 --losses ce --seeds 1 --out "$b")
    timeout "$limit" "$gammacl" "${long[@]}" --cell-timeout 6 > "$b.out" 2>&1
    rc=$?
    check "a long cell past its limit: exit 1 ($rc)" [ "$rc" -eq 1 ]
    check "failed.json: stopped, its checkpoint kept" \
        grep -q 'ran past --cell-timeout 6s and was stopped (its last checkpoint is kept' "$b/cells/ce-g4-s1/failed.json"
    local done_epochs
    done_epochs=$(ckpt_epoch "$b/cells/ce-g4-s1/model.ckpt")
    check "the stopped cell has a checkpoint past epoch 0 (${done_epochs:-none})" [ "${done_epochs:-0}" -ge 1 ]
    timeout "$limit" "$gammacl" "${long[@]}" --cell-timeout 6 --retry-failed > "$b.retry.out" 2>&1
    check "--retry-failed resumes it from that checkpoint" grep -q 'start ce-g4-s1 .*resuming' "$b.retry.out"
    check "and it went on past the first run's epochs" \
        [ "$(ckpt_epoch "$b/cells/ce-g4-s1/model.ckpt")" -gt "${done_epochs:-0}" ]

    # no limit, a hung cell, and two SIGTERMs to the sweep: the first is passed on and the cell
    # keeps waiting for its step, the second (two seconds later) is passed on too and ends it
    local h=$work/TH
    GAMMACL_FAULT=hang:30 "$gammacl" "${SWEEP[@]}" --out "$h" --gammas 1 --seeds 1 --losses ce > "$h.out" 2>&1 &
    local pid=$!
    wait_for_file "$pid" "$h/cells/ce-g1-s1/log.txt" &&
        wait_for_line "$pid" "$h/cells/ce-g1-s1/log.txt" '^GAMMACL_FAULT: launch 30 .* hangs' ||
        fail_now "the sweep's cell never reached its hanging launch"
    kill -TERM "$pid"
    sleep 2
    check "one SIGTERM: the hung cell heard it and keeps waiting" bash -c \
        "kill -0 $pid && grep -q 'SIGTERM: stopping after this step' '$h/cells/ce-g1-s1/log.txt'"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid"
    rc=$?
    check "a second SIGTERM ends the sweep and its hung cell at once: exit 143 ($rc)" [ "$rc" -eq 143 ]
    check "the cell says it stopped at once" grep -q 'stopped at once by a second signal' "$h/cells/ce-g1-s1/log.txt"
    check "no hung child outlives the sweep" bash -c "! pgrep -f '[t]rain .*$h/cells' > /dev/null"

    # Ctrl-C at a terminal: SIGINT to the sweep's whole process group (a background job of this
    # shell leads its own), so the cell gets it from there and again from the sweep
    local g=$work/TG
    "$gammacl" "${SWEEP[@]}" --out "$g" --gammas 4 --seeds 1 --losses ce --train-limit 2048 > "$g.out" 2>&1 &
    pid=$!
    wait_epoch1 "$pid" "$g" ce-g4-s1
    kill -INT -- "-$pid"
    wait "$pid"
    rc=$?
    check "Ctrl-C to the process group: the sweep exits 130 ($rc)" [ "$rc" -eq 130 ]
    check "the cell got it twice and stopped after its step with a checkpoint, as for one" bash -c \
        "grep -q 'stopped by SIGINT.*checkpoint written' '$g/cells/ce-g4-s1/log.txt' &&
         ! grep -q 'stopped at once' '$g/cells/ce-g4-s1/log.txt'"

    refused "--cell-timeout 0" "--cell-timeout: '0' is not a time above 0" sweep --out "$work/bad" --cell-timeout 0
    refused "--cell-timeout 5x" "--cell-timeout: '5x'" sweep --out "$work/bad" --cell-timeout 5x
}

case_devices() {
    local a=$work/D
    if ! "$gammacl" devices 2>/dev/null | grep -qi llvmpipe; then
        fail_now "this case needs both CPU drivers (PoCL and Mesa rusticl's llvmpipe)"
    fi
    # cnn3 without feature metrics: llvmpipe takes tens of seconds for one cnn5 step on 2 cores
    timeout $((2 * limit)) "$gammacl" sweep --out "$a" --devices pocl,llvmpipe --gammas 1,2,4 --losses ce \
        --epochs 1 --train-limit 32 --test-limit 32 --metrics-every 0 --batch 32 --model cnn3 > "$a.out" 2>&1 ||
        { cat "$a.out"; fail_now "the two-device sweep failed"; }
    check "both devices are listed" bash -c "grep -q 'device 0:0' '$a.out' && grep -qi 'llvmpipe' '$a.out'"
    check "PoCL ran cells" grep -q '^ce-g[0-9]*-s1,done,.*Portable Computing Language' "$a/sweep.csv"
    check "rusticl ran a cell" grep -q '^ce-g[0-9]*-s1,done,.*"llvmpipe' "$a/sweep.csv"
    local same=1
    for c in "$a"/cells/*/; do
        dev=$(grep -m1 '"name":' "$c/summary.json" | sed 's/.*"name":[[:space:]]*"\([^"]*\)".*/\1/')
        grep -q "\"device\":[[:space:]]*\"$dev" "$c/eval.json" || same=0
    done
    check "every cell is evaluated on the device it trained on" [ "$same" -eq 1 ]
}

# column NAME of a CSV file (sweep.csv, summary.csv), one value per row (quoted fields read as CSV)
column_of() {
    python3 -c 'import csv, sys; [print(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))]' "$1" "$2"
}

case_tasks() {
    local a=$work/T
    mkdir -p "$a"
    timeout "$limit" "$gammacl" sweep --out "$a" --devices "$device" --gammas 4 --losses ce,bce --rhos 10,100 \
        --splits 2 --epochs 1 --train-limit 400 --test-limit 300 --metrics-train-limit 64 --batch 64 \
        --model cnn3 > "$a.out" 2>&1 || { cat "$a.out"; fail_now "the long-tailed open-set sweep failed"; }
    check "8 cells: 2 losses x 2 rhos x 2 splits" [ "$(($(wc -l < "$a/sweep.csv") - 1))" -eq 8 ]
    check "cells are named by rho and split" [ -f "$a/cells/bce-g4-s1-zero-rho10-split2/eval.json" ]
    check "rhos 10 and 100" [ "$(column_of "$a/sweep.csv" rho | sort -un | tr '\n' ' ')" = '10 100 ' ]
    check "splits 1 and 2" [ "$(column_of "$a/sweep.csv" split | sort -u | tr '\n' ' ')" = '1 2 ' ]
    local k1 k2
    k1=$(grep '^ce-g4-s1-rho10-split1,' "$a/sweep.csv" | cut -d'"' -f2)
    k2=$(grep '^ce-g4-s1-rho10-split2,' "$a/sweep.csv" | cut -d'"' -f2)
    check "a split's known classes: 6 of 10 ($k1)" bash -c "[ \$(tr ',' '\n' <<< '$k1' | sort -u | wc -l) -eq 6 ]"
    check "the two splits differ ($k1 / $k2)" [ "$k1" != "$k2" ]
    check "CE and BCE of a split share its classes" grep -q "^bce-g4-s1-zero-rho10-split1,.*\"$k1\"" "$a/sweep.csv"
    check "the cell trained with them" grep -q "\"known\":[[:space:]]*\"$k1\"" "$a/cells/ce-g4-s1-rho10-split1/summary.json"
    check "and with --imbalance 10" grep -q '"imbalance":[[:space:]]*"10"' "$a/cells/ce-g4-s1-rho10-split1/summary.json"
    local auroc
    auroc=$(column_of "$a/sweep.csv" auroc_max_cosine | head -1)
    check "sweep.csv has the AUROC ($auroc)" awk -v x="$auroc" 'BEGIN { exit !(x > 0 && x < 1) }'
    check "sweep.csv has many-shot accuracies" grep -q '[0-9]' <(column_of "$a/sweep.csv" acc_many_shot)
    check "summary.csv: one row per loss and rho, over both splits" \
        [ "$(column_of "$a/summary.csv" n | tr '\n' ' ')" = '2 2 2 2 ' ]
    check "summary.csv's AUROC mean is the mean of the splits'" python3 - "$a" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/sweep.csv")))
summ = {(r["loss"], r["rho"]): r for r in csv.DictReader(open(sys.argv[1] + "/summary.csv"))}
assert len(summ) == 4, summ.keys()
for (loss, rho), s in summ.items():
    v = [float(r["auroc_max_cosine"]) for r in rows if r["loss"] == loss and r["rho"] == rho]
    assert len(v) == 2 and abs(sum(v) / 2 - float(s["auroc_max_cosine_mean"])) < 1e-9, (loss, rho, v)
PY
    check "long_tail plot" png_ok "$a/plots/long_tail.png"
    check "open_set plot" png_ok "$a/plots/open_set.png"
    check "4 lines (loss x rho): robustness in two figures" png_ok "$a/plots/robustness_2.png"
    check "report.md has the long-tailed and open-set tables" \
        bash -c "grep -q '^## Long-tailed' '$a/report.md' && grep -q '^## Open set' '$a/report.md'"
    check "sweep.json records the splits" grep -q '"known_count":[[:space:]]*6' "$a/sweep.json"
    local rc
    timeout "$limit" "$gammacl" sweep --out "$a" --known-count 4 > "$a.bad.out" 2>&1
    rc=$?
    check "another --known-count on this sweep is refused ($rc)" \
        bash -c "[ $rc -eq 2 ] && grep -q '6 known classes' '$a.bad.out'"
    local i=0
    for bad in "--rhos 10 --imbalance 5:set per cell by --rhos" "--splits 2 --known 1,2,3:cannot be given with --splits"; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        timeout "$limit" "$gammacl" sweep --out "$work/TB$i" --train-limit 64 ${bad%%:*} > "$a.bad.out" 2>&1
        rc=$?
        check "'${bad%%:*}' is refused with exit 2 ($rc)" bash -c "[ $rc -eq 2 ] && grep -q -- '${bad#*:}' '$a.bad.out'"
    done
    timeout "$limit" "$gammacl" sweep --out "$work/T2" --known-count 4 > "$a.kc.out" 2>&1
    rc=$?
    check "--known-count without --splits is refused ($rc)" \
        bash -c "[ $rc -eq 2 ] && grep -q 'give --splits' '$a.kc.out'"
    timeout "$limit" "$gammacl" sweep --out "$work/T3" --splits 1 --known-count 10 --train-limit 64 > "$a.k10.out" 2>&1
    rc=$?
    check "10 known of 10 classes is refused ($rc)" bash -c "[ $rc -eq 2 ] && grep -q '2 to 9 known' '$a.k10.out'"
}

case "$case_name" in
tasks) case_tasks ;;
devices) case_devices ;;
kill_rerun) case_kill_rerun ;;
sigterm) case_sigterm ;;
grid) case_grid ;;
failure) case_failure ;;
timeout) case_timeout ;;
*) fail_now "unknown case '$case_name'" ;;
esac
done_checks
