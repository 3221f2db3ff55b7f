#!/usr/bin/env bash
# tests/reliability/augment.sh — `gammacl train --augment` end to end:
#   - a run with --augment crop,flip stopped by SIGTERM inside epoch 1 and resumed ends with the
#     uninterrupted run's metrics.csv (every column but the wall-clock ones) and final tensors,
#     bit for bit: the crops and flips come from (seed, epoch, position), not from host state;
#   - the option is stored (summary.json's arguments say "augment": "crop,flip"), and it changes
#     training: epoch 1's train_ce differs from the same run without --augment;
#   - on images smaller than 9x9 (a tiny IDX set written here) --augment crop is refused with
#     exit 2 and a message naming the size, before any device work.
# Usage: augment.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

RUN=(--epochs 2 --metrics-every 0 --seed 7 --progress 1)

ref=$work/ref
run_gammacl "$ref" "${TRAIN[@]}" "${RUN[@]}" --augment crop,flip --out "$ref" ||
    { cat "$ref.err"; fail_now "the uninterrupted augmented run failed"; }
check "summary.json records augment crop,flip" \
    python3 -c "import json, sys; sys.exit(json.load(open('$ref/summary.json'))['arguments']['augment'] != 'crop,flip')"

plain=$work/plain
run_gammacl "$plain" "${TRAIN[@]}" "${RUN[@]}" --out "$plain" ||
    { cat "$plain.err"; fail_now "the run without augmentation failed"; }
train_ce() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "train_ce") c = i } $1 == "1" { print $c }' "$1"; }
check "augmentation changes training (epoch 1 train_ce $(train_ce "$ref/metrics.csv") vs $(train_ce "$plain/metrics.csv") without)" \
    test "$(train_ce "$ref/metrics.csv")" != "$(train_ce "$plain/metrics.csv")"

# SIGTERM inside epoch 1 (on a fast device it may land at the epoch's end: still resumable)
run=$work/term
"$gammacl" "${TRAIN[@]}" "${RUN[@]}" --augment crop,flip --out "$run" > "$run.out" 2> "$run.err" &
pid=$!
wait_for_line "$pid" "$run.err" '^epoch 1/2 +batch [2-7]/8' ||
    { cat "$run.err"; fail_now "the run never reached the middle of epoch 1"; }
kill -TERM "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
check "SIGTERM: exit status 143 (got $rc)" test "$rc" -eq 143
check "SIGTERM: stopped in or right after epoch 1 ($(grep -o 'stopped by SIGTERM after [^;]*' "$run.err"))" \
    has_line "$run.err" "stopped by SIGTERM after epoch 1(, step [0-9]+)?; checkpoint written"
resume_matches "augmented run, SIGTERM + resume" "$run" "$ref" "$run.r1" 1

# a tiny 8x8 IDX set: a crop cannot work on it
tiny=$work/tiny
python3 - "$tiny" <<'EOF'
import os, struct, sys
d = sys.argv[1]
os.makedirs(d)
for split, n in (("train", 20), ("t10k", 10)):
    with open(os.path.join(d, split + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">iiii", 0x803, n, 8, 8) + bytes((i * 7) % 256 for i in range(n * 64)))
    with open(os.path.join(d, split + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">ii", 0x801, n) + bytes(i % 2 for i in range(n)))
EOF
run_gammacl "$work/tiny_crop" train --data "$tiny" --augment crop --device "$device" --out "$work/tiny_crop"
rc=$?
check "--augment crop on 8x8 images exits 2 (got $rc)" test "$rc" -eq 2
check "the message names the size needed and the images' size" \
    has_line "$work/tiny_crop.err" '^gammacl train: --augment crop .*9x9 or more; these are 8x8'
run_gammacl "$work/bad_item" train --augment rotate --out "$work/bad_item"
rc=$?
check "--augment rotate exits 2 (got $rc)" test "$rc" -eq 2
check "the message names the bad item" has_line "$work/bad_item.err" "^gammacl train: --augment: 'rotate'"
done_checks
