#!/usr/bin/env bash
# tests/bench/bench.sh — `gammacl bench --quick` end to end on one device (PoCL unless
# GAMMACL_DEVICE names another):
#   - interrupted with SIGINT in its science sweep, it exits 130 and says how to continue; the
#     rerun finishes, and every file check_bench.py reads is consistent (bench.json figures are
#     finite and of the recipe's sizes, bench.csv agrees with bench.json, the PNGs are valid)
#   - a second rerun measures and trains nothing (every step is kept); a cell recorded as failed
#     is tried again by the next rerun, and the device stays in the tables
#   - bench.json read back through --compare (--devices none) gives the same bench.csv rows
#   - forged --compare files (truncated, a string for a number, another recipe, a negative
#     kernel time, a zero FMA peak, a cell twice or off the grid, format 1.7, a non-ASCII id)
#     exit 2 with a message naming the file and the problem, before anything is written; a bench
#     folder of the other mode and bad flags exit 2 too
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
check_py=$3
limit=${BENCH_TIMEOUT:-400}
dir=$work/bench
log=$work/bench

"$gammacl" bench --quick --devices "$device" --out "$dir" > "$log.1.out" 2>&1 &
pid=$!
wait_for_line "$pid" "$log.1.out" "science sweep" || fail_now "the bench never reached its science sweep"
sleep 2
kill -INT "$pid"
wait "$pid"
rc=$?
check "interrupted bench exits 130 (got $rc)" test "$rc" -eq 130
check "it says how to continue" grep -q "rerun the same command to continue" "$log.1.out"

run_gammacl "$log.2" bench --quick --devices "$device" --out "$dir"
rc=$?
check "the rerun finishes (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { cat "$log.2.out" "$log.2.err"; fail_now "no bench to check"; }
check "the rerun kept the measurement (no second probe run)" bash -c "! grep -q 'peak probes' '$log.2.out'"
check "the table has every section" bash -c "grep -q '== science' '$log.2.out' && grep -q '== agreement' '$log.2.out' \
    && grep -q '== convergence, epochs to a target' '$log.2.out' \
    && ! grep -q 'equivalen' '$log.2.out' && grep -q '== speed and the limit' '$log.2.out'"
check "bench.json, bench.csv and the charts are consistent" python3 "$check_py" "$dir"
check "the science sweep trains its cells without robustness evaluation (--no-eval)" \
    bash -c "ls '$dir'/devices/*/science/cells/*/model.ckpt >/dev/null && ! ls '$dir'/devices/*/science/cells/*/eval.json 2>/dev/null"

starts() { cat "$dir"/devices/*/science.log "$dir"/devices/*/convergence.log | grep -c '^  start '; }
before=$(starts)
run_gammacl "$log.3" bench --quick --devices "$device" --out "$dir"
check "a finished bench reruns without measuring" \
    bash -c "! grep -Eq 'probes|builds' '$log.3.out' && grep -q '^bench:' '$log.3.out'"
check "a finished bench reruns without training ($before cell starts before, $(starts) after)" \
    test "$(starts)" -eq "$before"

# a science cell recorded as failed (what a NaN stop leaves): the sweep alone would keep it failed;
# a rerun of the bench tries it again and keeps the device in the tables
cell=$(ls -d "$dir"/devices/*/science/cells/* | head -1)
echo '{"reason": "a forged failure"}' > "$cell/failed.json"
run_gammacl "$log.retry" bench --quick --devices "$device" --out "$dir"
rc=$?
check "a rerun with a failed cell recorded exits 0 (got $rc)" test "$rc" -eq 0
check "the rerun tried the failed cell again" test ! -e "$cell/failed.json"
check "the rerun names bench.json and keeps the device" bash -c "grep -q '^bench: .*/bench.json' '$log.retry.out' \
    && ! grep -q 'left out of the tables' '$log.retry.err'"

# bench.json through --compare: the same figures
run_gammacl "$log.4" bench --quick --devices none --compare "$dir/bench.json" --out "$work/compared"
rc=$?
check "--compare of a bench.json alone exits 0 (got $rc)" test "$rc" -eq 0
check "--compare gives the same bench.csv" cmp "$dir/bench.csv" "$work/compared/bench.csv"
check "--compare draws the charts" test -s "$work/compared/plots/science.png"

# forged and foreign --compare files
bad_compare() {
    local what=$1 file=$2 pattern=$3 rc
    run_gammacl "$log.bad" bench --quick --devices none --compare "$file" --out "$work/bad-$what"
    rc=$?
    check "$what --compare file: exit 2 (got $rc)" test "$rc" -eq 2
    check "$what --compare file: message" grep -q -- "$pattern" "$log.bad.err"
    check "$what --compare file: message names the file" grep -qF -- "$file" "$log.bad.err"
    check "$what --compare file: nothing written" test ! -e "$work/bad-$what"
}
head -c 300 "$dir/bench.json" > "$work/truncated.json"
bad_compare truncated "$work/truncated.json" "not a JSON object"
python3 - "$dir/bench.json" "$work" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
b["devices"][0]["probes"]["fma_gflops"] = "fast"
json.dump(b, open(sys.argv[2] + "/string.json", "w"))
b = json.load(open(sys.argv[1]))
b["recipe"]["mode"] = "full"
json.dump(b, open(sys.argv[2] + "/other.json", "w"))
b = json.load(open(sys.argv[1]))
b["devices"][0]["trace"]["ce"].pop()
b["devices"][0]["trace"]["bce"].pop()
json.dump(b, open(sys.argv[2] + "/short.json", "w"))
b = json.load(open(sys.argv[1]))
b["devices"].append(7)
json.dump(b, open(sys.argv[2] + "/notobject.json", "w"))
def forged(name, change):
    b = json.load(open(sys.argv[1]))
    change(b, b["devices"][0])
    json.dump(b, open(sys.argv[2] + "/" + name + ".json", "w"), ensure_ascii=False)
forged("neggroup", lambda b, d: d["speed"]["groups_ms"].update({"conv fwd": -1.5}))
forged("zeropeak", lambda b, d: d["probes"].update({"fma_gflops": 0}))
forged("dupcell", lambda b, d: d["science"].append(dict(d["science"][0])))
forged("offgrid", lambda b, d: d["science"][0].update({"gamma": 2.5}))
forged("format", lambda b, d: b.update({"format": 1.7}))
forged("badid", lambda b, d: d.update({"id": "p\u00f6cl"}))
PY
bad_compare string "$work/string.json" '"fma_gflops" is not a number'
bad_compare short "$work/short.json" "recipe's length"
bad_compare notobject "$work/notobject.json" "not an object"
bad_compare neggroup "$work/neggroup.json" '"speed.groups_ms.conv fwd" is negative'
bad_compare zeropeak "$work/zeropeak.json" '"probes.fma_gflops" is not positive'
bad_compare dupcell "$work/dupcell.json" 'cell twice'
bad_compare offgrid "$work/offgrid.json" "not one of the recipe's"
bad_compare format "$work/format.json" "not a bench.json of this gammacl"
bad_compare badid "$work/badid.json" '"id" holds a character outside'

run_gammacl "$log.twice" bench --quick --devices none --compare "$dir/bench.json" --compare "$dir/bench.json" \
    --out "$work/twice"
id=$(awk -F, 'NR == 2 { print $1 }' "$dir/bench.csv")
check "the same device from two files gets two ids ($id, $id@host)" grep -q "^$id@" "$work/twice/bench.csv"
check "comparing files alone writes no bench.json" test ! -e "$work/twice/bench.json"
bad_compare recipe "$work/other.json" "another recipe"
bad_compare missing "$work/none.json" "none.json"

run_gammacl "$log.mode" bench --devices "$device" --out "$dir"
rc=$?
check "a full bench into a quick bench's folder: exit 2 (got $rc)" test "$rc" -eq 2
check "it says the folder holds another recipe" grep -q "another recipe" "$log.mode.err"
run_gammacl "$log.flag" bench --quick --target-acc 1.5 --out "$work/flag"
rc=$?
check "--target-acc 1.5: exit 2 (got $rc)" test "$rc" -eq 2
run_gammacl "$log.flag" bench --frobnicate --out "$work/flag"
rc=$?
check "an unknown flag: exit 2 (got $rc)" test "$rc" -eq 2
done_checks
