#!/usr/bin/env bash
# tests/sweep/scale_out.sh — several processes in one sweep folder: shards and MPI ranks.
#
#   scale_out.sh GAMMACL CKPT_TOOL CASE
#   shards  two `--shard I/2` processes started together into one folder end with a sweep.csv
#           equal to a single process's (every column but wall time), each running only its own
#           cells (k mod 2); a shard whose cells are done exits 0 while the other's are not;
#           --collect rebuilds the tables; a plain sweep is refused while a shard works in the
#           folder; malformed --shard values and --data-parallel are refused with exit 2
#   mpi     `mpirun -np 2 gammacl sweep` (loopback, --oversubscribe): both ranks run cells, rank 0
#           alone writes the tables, equal to the single process's; a rank killed with SIGKILL
#           mid-sweep ends the job, and a rerun finishes the sweep with the same table; under
#           --enable-recovery the job outlives the killed rank and rank 0 finishes its cell
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
case_name=${3:-}

SWEEP=(sweep --devices "$device" --epochs 2 --train-limit 256 --test-limit 128 --batch 64
       --model cnn3 --no-eval --gammas 1,8)

table_without_time() { cut -d, -f1-10,12- "$1/sweep.csv"; }
same_table() { cmp -s <(table_without_time "$1") <(table_without_time "$2"); }

reference() {
    timeout "$limit" "$gammacl" "${SWEEP[@]}" --out "$work/one" > "$work/one.out" 2>&1 ||
        { cat "$work/one.out"; fail_now "the single-process sweep failed"; }
}

case_shards() {
    reference
    local dir=$work/two rc
    timeout "$limit" "$gammacl" "${SWEEP[@]}" --out "$dir" --shard 1/2 > "$work/s1.out" 2>&1 &
    local p1=$!
    timeout "$limit" "$gammacl" "${SWEEP[@]}" --out "$dir" --shard 2/2 > "$work/s2.out" 2>&1
    local rc2=$?
    wait "$p1"
    local rc1=$?
    check "both shards exit 0 ($rc1, $rc2)" [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]
    check "shard 1 ran cells 0 and 2 only" bash -c "[ \"\$(grep '^  start' '$work/s1.out' | awk '{print \$2}' | tr '\n' ' ')\" = 'ce-g1-s1 ce-g8-s1 ' ]"
    check "shard 2 ran cells 1 and 3 only" bash -c "[ \"\$(grep '^  start' '$work/s2.out' | awk '{print \$2}' | tr '\n' ' ')\" = 'bce-g1-s1-zero bce-g8-s1-zero ' ]"
    # the last shard to end had every cell in its tables; --collect gives the same
    run_gammacl "$work/collect" sweep --out "$dir" --collect --no-eval
    rc=$?
    check "--collect exits 0 ($rc)" [ "$rc" -eq 0 ]
    check "the shards' sweep.csv equals the single process's" same_table "$work/one" "$dir"
    check "--collect says every cell is done" grep -q '^4 of 4 cells done, 0 failed' "$work/collect.out"

    # a shard alone: its own cells done, the sweep's not: exit 0, and it says how far the sweep is
    run_gammacl "$work/alone" "${SWEEP[@]}" --out "$work/alone" --shard 1/2
    local rc=$?
    check "a shard whose cells are done exits 0 ($rc)" [ "$rc" -eq 0 ]
    check "it says 2 of 2 of its cells and 2 of 4 of the sweep's" \
        grep -q '^shard 1/2: 2 of 2 cells done, 0 failed, in .*; the sweep: 2 of 4 cells done' "$work/alone.out"
    check "its tables hold its cells" [ "$(grep -c ',done,' "$work/alone/sweep.csv")" -eq 2 ]

    # a shard may not grow the grid (the split would differ); --collect may, running nothing
    run_gammacl "$work/grow" "${SWEEP[@]}" --gammas 1,8,16 --out "$dir" --shard 1/2
    rc=$?
    check "a shard that adds a gamma exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message says every shard needs the same grid" grep -q "every shard must be given the same grid" "$work/grow.err"
    run_gammacl "$work/grow2" "${SWEEP[@]}" --gammas 1,8,16 --out "$dir" --collect
    check "--collect adds the cells of a new gamma and runs none" \
        bash -c "grep -q '^4 of 6 cells done' '$work/grow2.out' && ! grep -q '^  start' '$work/grow2.out'"

    # --retry-failed in one shard keeps the other shard's failure records
    local bad=$work/badshards
    run_gammacl "$work/bad1" "${SWEEP[@]}" --data "$work/no-such-data" --out "$bad" --shard 1/2
    check "shard 1 records its 2 failed cells" [ "$(ls "$bad"/cells/*/failed.json 2>/dev/null | wc -l)" -eq 2 ]
    run_gammacl "$work/bad2" "${SWEEP[@]}" --data "$work/no-such-data" --out "$bad" --shard 2/2 --retry-failed
    check "after shard 2 --retry-failed all 4 failure records are there" \
        [ "$(ls "$bad"/cells/*/failed.json 2>/dev/null | wc -l)" -eq 4 ]

    # a plain sweep wants the folder alone
    timeout "$limit" "$gammacl" sweep --devices "$device" --epochs 2 --train-limit 4096 --test-limit 128 \
        --batch 64 --model cnn3 --no-eval --gammas 1 --losses ce --out "$work/busy" --shard 1/1 \
        > "$work/busy.first.out" 2>&1 &
    local pid=$!
    wait_for_line "$pid" "$work/busy.first.out" "start ce-g1-s1" || fail_now "the shard never started its cell"
    run_gammacl "$work/busy.second" sweep --out "$work/busy"
    rc=$?
    check "a plain sweep on a folder a shard works in exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message says the folder is in use" grep -q "in use by another process" "$work/busy.second.err"
    run_gammacl "$work/busy.collect" sweep --out "$work/busy" --collect --no-eval
    rc=$?
    check "--collect beside a working shard exits (0 or 1: not all done) without waiting ($rc)" [ "$rc" -le 1 ]
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null

    for bad in 0/2 3/2 1/0 x 1/ /2 1/2/3; do
        run_gammacl "$work/bad" "${SWEEP[@]}" --out "$work/bad" --shard "$bad"
        rc=$?
        check "--shard $bad exits 2 ($rc)" [ "$rc" -eq 2 ]
        check "--shard $bad: the message says what is wanted" grep -q -- "--shard: .* is not I/N" "$work/bad.err"
    done
    run_gammacl "$work/dp" "${SWEEP[@]}" --out "$work/dp" --data-parallel
    rc=$?
    check "--data-parallel on a sweep exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message says why" grep -q -- "--data-parallel cannot be given to a sweep" "$work/dp.err"
}

# mpirun on loopback (CI runs as root: Open MPI asks for these to be set)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun -np 2 --oversubscribe --mca btl self,vader)

# the pid of rank R among mpirun's children
rank_pid() {
    local p
    for p in $(pgrep -P "$1"); do
        if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

case_mpi() {
    command -v mpirun > /dev/null || fail_now "mpirun is missing (the test command installs Open MPI)"
    reference
    local dir=$work/mpi
    timeout "$limit" "${MPIRUN[@]}" "$gammacl" "${SWEEP[@]}" --out "$dir" > "$work/mpi.out" 2>&1
    local rc=$?
    check "mpirun -np 2 gammacl sweep exits 0 ($rc)" [ "$rc" -eq 0 ] || cat "$work/mpi.out"
    check "rank 0 ran cells" grep -q '^  start .* on rank 0, ' "$work/mpi.out"
    check "rank 1 ran cells" grep -q '^  start .* on rank 1, ' "$work/mpi.out"
    check "each cell started once" [ "$(grep -c '^  start' "$work/mpi.out")" -eq 4 ]
    check "rank 0 alone wrote the tables" [ "$(grep -c '^tables: ' "$work/mpi.out")" -eq 1 ]
    check "the ranks' sweep.csv equals the single process's" same_table "$work/one" "$dir"

    # rank 1 killed while it trains: the job ends; the rerun finishes the sweep
    local killed=$work/killed
    timeout "$limit" "${MPIRUN[@]}" "$gammacl" sweep --devices "$device" --epochs 2 --train-limit 2048 \
        --test-limit 128 --batch 64 --model cnn3 --no-eval --gammas 1,8 --out "$killed" > "$killed.out" 2>&1 &
    local job=$!
    wait_for_line "$job" "$killed.out" "on rank 1, " || fail_now "rank 1 never started a cell"
    local r1
    r1=$(rank_pid "$job" 1) || r1=$(rank_pid "$(pgrep -P "$job" | head -1)" 1) || fail_now "rank 1's pid not found"
    kill -9 "$r1"
    wait "$job"
    rc=$?
    check "the job ends when a rank dies (exit $rc, not 0)" [ "$rc" -ne 0 ]
    sleep 1
    check "no cell process outlives the job" bash -c "! pgrep -f '[t]rain .*--out $killed/' > /dev/null"
    run_gammacl "$work/rerun" sweep --out "$killed" --no-eval
    rc=$?
    check "the rerun finishes the sweep ($rc)" [ "$rc" -eq 0 ] && grep -q '^4 of 4 cells done, 0 failed' "$work/rerun.out"
    timeout "$limit" "$gammacl" sweep --devices "$device" --epochs 2 --train-limit 2048 --test-limit 128 \
        --batch 64 --model cnn3 --no-eval --gammas 1,8 --out "$work/clean" > "$work/clean.out" 2>&1
    check "and its sweep.csv equals an uninterrupted sweep's" same_table "$work/clean" "$killed"

    # SIGTERM to rank 0 alone: rank 0 tells rank 1, whose cell stops with a checkpoint too
    local st=$work/stop
    timeout "$limit" "${MPIRUN[@]}" "$gammacl" sweep --devices "$device" --epochs 3 --train-limit 4096 \
        --test-limit 128 --batch 64 --model cnn3 --no-eval --gammas 1,8 --out "$st" > "$st.out" 2>&1 &
    job=$!
    wait_for_line "$job" "$st.out" "on rank 1, " || fail_now "rank 1 never started a cell (stop run)"
    local r0 cell1
    r0=$(rank_pid "$(pgrep -P "$job" | head -1)" 0) || fail_now "rank 0's pid not found"
    cell1=$(grep "on rank 1, " "$st.out" | head -1 | awk '{print $2}')
    sleep 1
    kill -TERM "$r0"
    wait "$job"
    rc=$?
    check "SIGTERM to rank 0 ends the job with a non-zero exit ($rc)" [ "$rc" -ne 0 ]
    check "rank 1's cell $cell1 stopped with a checkpoint" grep -q "stopped by SIGTERM" "$st/cells/$cell1/log.txt"
    run_gammacl "$work/stop.rerun" sweep --out "$st" --no-eval
    rc=$?
    check "the rerun finishes it ($rc)" [ "$rc" -eq 0 ] && grep -q "start $cell1 .*resuming from its checkpoint" "$work/stop.rerun.out"

    # under --enable-recovery the job outlives rank 1: rank 0 sees its lock free and runs its cell
    local rec=$work/recovery
    timeout "$limit" "${MPIRUN[@]}" --enable-recovery "$gammacl" sweep --devices "$device" --epochs 2 \
        --train-limit 2048 --test-limit 128 --batch 64 --model cnn3 --no-eval --gammas 1,8 --out "$rec" \
        > "$rec.out" 2>&1 &
    job=$!
    wait_for_line "$job" "$rec.out" "on rank 1, " || fail_now "rank 1 never started a cell (recovery run)"
    r1=$(rank_pid "$(pgrep -P "$job" | head -1)" 1) || fail_now "rank 1's pid not found (recovery run)"
    kill -9 "$r1"
    wait "$job"
    rc=$?
    check "with --enable-recovery the job goes on and exits 0 ($rc)" [ "$rc" -eq 0 ]
    check "rank 0 says rank 1 has ended" grep -q "rank 1 has ended" "$rec.out"
    check "and finishes every cell" grep -q '^4 of 4 cells done, 0 failed' "$rec.out"
    check "its sweep.csv equals an uninterrupted sweep's" same_table "$work/clean" "$rec"
}

case "$case_name" in
shards) case_shards ;;
mpi) case_mpi ;;
*) fail_now "unknown case '$case_name'" ;;
esac
done_checks
