#!/usr/bin/env bash
# tests/parallel/data_parallel.sh — `gammacl train --data-parallel` as 2 ranks of one MPI job on
# this machine (loopback), against plain one-process runs of the same global batch.
#
#   data_parallel.sh GAMMACL CKPT_TOOL MPIRUN CASE
#   equivalence  a model without batch norm (nobn.spec), CE, a batch of 61 (parts of 31 and 30;
#                the epoch's last batch of 1 leaves rank 1 an empty part): per epoch, train and
#                test CE and BCE of 2 ranks within DP_TOLERANCE (relative) of one process, the
#                accuracies within one test image; the measured figures are printed. One rank
#                with --data-parallel is the plain run bit for bit (the split step, the fused
#                gradient buffer and its sum change nothing). Only rank 0 writes: the same files
#                as a plain run, nothing in the ranks' working folder; summary.json records
#                data_parallel 2 (1 when plain), the checkpoint data-parallel=2 (a plain one no
#                such line); the epoch lines are printed once.
#   bce_resume   a BCE run (its shared bias is a parameter: the ranks' digests must agree every
#                epoch) stopped by SIGTERM sent to rank 1 alone: the whole job stops at the same
#                step (rank 0 writes the checkpoint), exits 143; resuming under 3 ranks or as one
#                process is refused (exit 2, both counts named) and leaves the checkpoint as it
#                was; resuming under 2 ranks ends with the uninterrupted 2-rank run's metrics.csv,
#                class_acc.csv and tensors, bit for bit.
#   usage        --data-parallel without an MPI launcher: exit 2, a message, no folder made;
#                --data-parallel=2: exit 2 (a flag: mpirun sets the count); a plain run's
#                checkpoint resumed by 2 ranks with --data-parallel: exit 2.
#   faults       a device fault injected on rank 1 alone, or on rank 0 alone, at several points
#                of a step: the job always ends (no rank left waiting) with a non-zero exit and
#                the failing rank's message.
#   bn           cnn3 (batch norm: statistics per rank, so not the same computation): 2 ranks run
#                to the end; their difference from one process is printed, not bounded.
# DP_TOLERANCE (default 1e-4): the bound of the equivalence case; measured on PoCL: ~1e-7.
# shellcheck source-path=SCRIPTDIR source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
mpirun=${3:-}
case_name=${4:-}
spec=$(realpath "$(dirname "$0")/nobn.spec")
tolerance=${DP_TOLERANCE:-1e-4}
[ -x "$mpirun" ] || fail_now "usage: $0 GAMMACL CKPT_TOOL MPIRUN CASE (no MPI launcher '$mpirun')"

# Open MPI: more ranks than cores are fine, and root (CI containers) may run them
mpi_flags=()
if "$mpirun" --version 2>&1 | grep -q "Open MPI"; then
    mpi_flags=(--oversubscribe)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# mpi_gammacl LOG NP ARGS...: NP ranks of gammacl under the timeout, output to LOG.out/.err, run
# from an empty folder of their own ($work/cwd) so a stray write would show
mkdir -p "$work/cwd"
mpi_gammacl() {
    local log=$1 np=$2
    shift 2
    (cd "$work/cwd" && timeout -k 10 "$limit" "$mpirun" "${mpi_flags[@]}" -np "$np" "$gammacl" "$@" \
        > "$log.out" 2> "$log.err")
}

# differences ONE TWO: "LOSS ACC ROWS LAST_LOSS LAST_ACC" — the largest relative difference of
# train/test CE and BCE over the trained epochs' rows, the largest difference of train/test
# accuracy, the rows compared, and the same two for the last row alone
differences() {
    awk -F, '
        FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        NR == FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; next }
        $1 + 0 >= 1 {
            last_loss = last_acc = 0
            split("train_ce train_bce test_ce test_bce", L, " ")
            for (k in L) {
                x = a[FNR, col[L[k]]] + 0; y = $col[L[k]] + 0
                d = x > y ? x - y : y - x; d /= (x > 0 ? x : -x)
                if (d > last_loss) last_loss = d
            }
            split("train_acc test_acc", A, " ")
            for (k in A) {
                d = a[FNR, col[A[k]]] - $col[A[k]]; if (d < 0) d = -d
                if (d > last_acc) last_acc = d
            }
            if (last_loss > loss) loss = last_loss
            if (last_acc > acc) acc = last_acc
            rows++
        }
        END { printf "%.3g %.3g %d %.3g %.3g\n", loss, acc, rows, last_loss, last_acc }' "$1" "$2"
}

# below X LIMIT: X < LIMIT as numbers
# shellcheck disable=SC2317 # called through check
below() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x + 0 < y + 0) }'; }

# summary_ranks DIR: summary.json's data_parallel
summary_ranks() { sed -n 's/^[[:space:]]*"data_parallel":[[:space:]]*\([0-9]*\).*/\1/p' "$1/summary.json"; }

# descendants PID: the processes below PID (a launcher's ranks, or its helpers' ranks)
descendants() {
    local p
    for p in $(pgrep -P "$1"); do
        echo "$p"
        descendants "$p"
    done
}

# files DIR: the run folder's files, relative, sorted
files() { (cd "$1" && find . -type f | sort); }

SMALL=(--data fashion-mnist --model "$spec" --test-limit 256 --metrics-train-limit 256 --gamma 8 --lr 0.02)

case $case_name in
equivalence)
    A=("${SMALL[@]}" --train-limit 977 --batch 61 --epochs 3 --progress 0)
    run_gammacl "$work/one" train "${A[@]}" --device "$device" --out "$work/one" ||
        { cat "$work/one.err"; fail_now "the plain run failed"; }
    # no --device: each rank picks its own (here GAMMACL_DEVICE, the same for both)
    GAMMACL_DEVICE=$device mpi_gammacl "$work/two" 2 train "${A[@]}" --data-parallel --out "$work/two"
    rc=$?
    check "2 ranks: exit 0 (got $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || { cat "$work/two.err"; fail_now "the 2-rank run failed"; }
    read -r loss acc rows last_loss last_acc <<< "$(differences "$work/one/metrics.csv" "$work/two/metrics.csv")"
    echo "measured: 2 ranks vs 1 process over $rows epochs: largest relative difference of train/test CE" \
         "and BCE $loss (last epoch $last_loss), of train/test accuracy $acc (last epoch $last_acc)"
    check "3 trained epochs compared (got $rows)" test "$rows" -eq 3
    check "losses within $tolerance relative (largest $loss)" below "$loss" "$tolerance"
    check "accuracies within one test image (largest difference $acc)" below "$acc" 0.0040
    check "rank 0 alone printed the epochs" test "$(grep -c '^epoch 3/3' "$work/two.out")" -eq 1
    check "each rank named its device" test "$(grep -c '^rank [01] of 2: device: ' "$work/two.out")" -eq 2
    check "the same files as a plain run" diff <(files "$work/one") <(files "$work/two")
    check "nothing written in the ranks' working folder" test -z "$(ls -A "$work/cwd")"
    check "summary.json: data_parallel 2 (got $(summary_ranks "$work/two"))" test "$(summary_ranks "$work/two")" = 2
    check "summary.json of a plain run: data_parallel 1" test "$(summary_ranks "$work/one")" = 1
    check "the checkpoint's meta: data-parallel=2" grep -aqx "data-parallel=2" "$work/two/model.ckpt"
    check "a plain checkpoint's meta has no data-parallel line" \
        bash -c "! grep -aq '^data-parallel=' '$work/one/model.ckpt'"
    mpi_gammacl "$work/np1" 1 train "${A[@]}" --device "$device" --data-parallel --out "$work/np1"
    rc=$?
    check "1 rank: exit 0 (got $rc)" test "$rc" -eq 0
    check "1 rank with --data-parallel: metrics.csv equals the plain run's (all but $WALL_CLOCK)" \
        same_metrics "$work/one/metrics.csv" "$work/np1/metrics.csv"
    check "1 rank with --data-parallel: the plain run's tensors, bit for bit" \
        "$ckpt_tool" tensors-equal "$work/one/model.ckpt" "$work/np1/model.ckpt"
    ;;

bce_resume)
    B=("${SMALL[@]}" --device "$device" --loss bce --bias-init theory --train-limit 3000 --batch 61 --epochs 3)
    mpi_gammacl "$work/ref" 2 train "${B[@]}" --progress 0 --data-parallel --out "$work/ref"
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$work/ref.err"; fail_now "the uninterrupted 2-rank BCE run exited $rc"; }
    check "BCE, 2 ranks: 3 epochs, the parameters (shared bias included) equal on both ranks every epoch" \
        test "$(rows "$work/ref/metrics.csv")" -eq 3
    run=$work/run
    (cd "$work/cwd" && exec "$mpirun" "${mpi_flags[@]}" -np 2 "$gammacl" train "${B[@]}" --progress 1 \
        --data-parallel --out "$run" > "$run.out" 2> "$run.err") &
    pid=$!
    wait_for_line "$pid" "$run.err" '^epoch 2/3 +batch' || { cat "$run.err"; fail_now "the run never reached epoch 2"; }
    # rank 1: the process below the launcher whose environment says rank 1
    rank1=
    for p in $(descendants "$pid"); do
        tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -Eqx '(OMPI_COMM_WORLD_RANK|PMI_RANK)=1' && rank1=$p
    done
    [ -n "$rank1" ] || fail_now "rank 1's process not found"
    kill -TERM "$rank1"
    deadline=$((SECONDS + limit))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail_now "the job did not stop within ${limit}s"; }
    { wait "$pid"; rc=$?; } 2>/dev/null
    check "SIGTERM to rank 1 alone: the job exits 143 (got $rc)" test "$rc" -eq 143
    check "rank 0 stopped too, wrote the checkpoint and says how to resume" \
        has_line "$run.err" "stopped by SIGTERM after epoch [23](, step [0-9]+)?; checkpoint written\. Continue with: gammacl train --resume $run"
    grep -o 'stopped by SIGTERM after epoch [^;]*' "$run.err"
    cp "$run/model.ckpt" "$work/stopped.ckpt"
    mpi_gammacl "$work/np3" 3 train --resume "$run" --device "$device" --progress 0
    rc=$?
    check "resume under 3 ranks: exit 2 (got $rc)" test "$rc" -eq 2
    check "resume under 3 ranks: the message names both counts" \
        has_line "$work/np3.err" "over 2 ranks; this job has 3"
    run_gammacl "$work/plain" train --resume "$run" --device "$device" --progress 0
    rc=$?
    check "resume as one process: exit 2 (got $rc)" test "$rc" -eq 2
    check "resume as one process: the message names the count and how to resume" \
        has_line "$work/plain.err" "over 2 ranks; this is a single process.*mpirun -np 2 gammacl train --resume"
    check "the refused resumes left the checkpoint as it was" cmp -s "$work/stopped.ckpt" "$run/model.ckpt"
    mpi_gammacl "$run.r1" 2 train --resume "$run" --device "$device" --progress 0
    rc=$?
    check "resume under 2 ranks: exit 0 (got $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || cat "$run.r1.err"
    check "resumed: metrics.csv equals the uninterrupted 2-rank run's (all but $WALL_CLOCK)" \
        same_metrics "$work/ref/metrics.csv" "$run/metrics.csv"
    check "resumed: class_acc.csv equals the uninterrupted run's" \
        same_metrics "$work/ref/class_acc.csv" "$run/class_acc.csv"
    check "resumed: the final tensors equal the uninterrupted run's, bit for bit" \
        "$ckpt_tool" tensors-equal "$work/ref/model.ckpt" "$run/model.ckpt"
    check "no checkpoint temporary is left" no_temp_files "$run"
    ;;

usage)
    refused "--data-parallel without an MPI launcher" "start it with an MPI launcher.*mpirun -np" \
        train "${SMALL[@]}" --device "$device" --data-parallel --out "$work/none"
    check "--data-parallel without a launcher made no folder" test ! -e "$work/none"
    refused "--data-parallel=2" "is a flag.*mpirun -np N" train --data-parallel=2
    run_gammacl "$work/plain" train "${SMALL[@]}" --device "$device" --train-limit 256 --batch 64 --epochs 2 --progress 0 \
        --metrics-every 0 --out "$work/plain" || fail_now "the plain run failed"
    "$ckpt_tool" set-meta "$work/plain/model.ckpt" epochs 3 > /dev/null || fail_now "ckpt_tool set-meta failed"
    mpi_gammacl "$work/np2" 2 train --resume "$work/plain" --data-parallel --device "$device" --progress 0
    rc=$?
    check "a plain run resumed by 2 ranks: exit 2 (got $rc)" test "$rc" -eq 2
    check "a plain run resumed by 2 ranks: the message says why" \
        has_line "$work/np2.err" "trained by one process .*this job has 2 ranks"
    ;;

faults)
    A=("${SMALL[@]}" --device "$device" --train-limit 977 --batch 61 --epochs 2 --progress 0)
    for rank in 1 0; do
        for n in 262 286 298; do
            dir=$work/fault-$rank-$n
            # shellcheck disable=SC2016 # the rank's own shell expands them
            (cd "$work/cwd" && timeout -k 10 "$limit" "$mpirun" "${mpi_flags[@]}" -np 2 sh -c \
                'if [ "${OMPI_COMM_WORLD_RANK:-$PMI_RANK}" = "$1" ]; then export GAMMACL_FAULT=$2; fi; shift 2; exec "$@"' \
                sh "$rank" "launch:$n" "$gammacl" train "${A[@]}" --data-parallel --out "$dir" > "$dir.out" 2> "$dir.err")
            rc=$?
            check "launch:$n on rank $rank: the job ends with a clean non-zero exit, no hang (got $rc)" exited_cleanly "$rc"
            check "launch:$n on rank $rank: the failing rank's message" has_line "$dir.err" "GAMMACL_FAULT=launch:$n"
        done
    done
    ;;

bn)
    A=("${SMALL[@]}" --device "$device" --model cnn3 --train-limit 977 --batch 61 --epochs 3 --progress 0)
    run_gammacl "$work/one" train "${A[@]}" --out "$work/one" || { cat "$work/one.err"; fail_now "the plain run failed"; }
    mpi_gammacl "$work/two" 2 train "${A[@]}" --data-parallel --out "$work/two"
    rc=$?
    check "cnn3 (batch norm), 2 ranks: exit 0 (got $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || cat "$work/two.err"
    read -r loss acc rows last_loss last_acc <<< "$(differences "$work/one/metrics.csv" "$work/two/metrics.csv")"
    echo "measured (not bounded: batch-norm statistics per rank): cnn3, 2 ranks vs 1 process over $rows" \
         "epochs: largest relative difference of train/test CE and BCE $loss (last epoch $last_loss), of" \
         "train/test accuracy $acc (last epoch $last_acc)"
    check "3 trained epochs (got $rows)" test "$rows" -eq 3
    ;;

*)
    echo "usage: $0 GAMMACL CKPT_TOOL MPIRUN equivalence|bce_resume|usage|faults|bn" >&2
    exit 2
    ;;
esac
done_checks
