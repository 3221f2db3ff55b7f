#!/usr/bin/env bash
# tests/eval/test_data.sh — `gammacl train --test-data PATH` on tiny PNG class trees: a short run
# trains on --data and tests on PATH (summary.json, metrics.csv and eval.json count PATH's
# images), --resume and `gammacl eval` of the run take the same test set from the checkpoint,
# --test-limit applies to it, --known takes its unknowns from it; class folders, image sizes or
# channels that differ, and damaged, truncated or forged files of every reader (PNG, IDX, CIFAR)
# exit 2 with a message that names the problem, never a crash.
#
#   test_data.sh GAMMACL CKPT_TOOL MAKE_TEST_SETS_PY
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
make_sets=$(realpath "$3")
sets=$work/sets
python3 "$make_sets" "$sets" || fail_now "cannot write the small data sets"
TINY=(train --data "$sets/train" --model cnn3 --batch 6 --epochs 1 --device "$device" --progress 0)

# json FILE KEY...: the value at that path of a JSON file
json() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[k]
print(d)' "$@"
}
# last_csv FILE COLUMN: that column of the last row of a CSV file
last_csv() {
    awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i } END { print $c }' "$1"
}

run=$work/run
run_gammacl "$run" "${TINY[@]}" --test-data "$sets/test" --out "$run" ||
    { cat "$run.err"; fail_now "the run with --test-data failed"; }
check "summary.json: 12 test images, those of --test-data" [ "$(json "$run/summary.json" metrics test n)" = 12 ]
check "summary.json: 18 training images, those of --data" [ "$(json "$run/summary.json" metrics train n)" = 18 ]
check "summary.json records --test-data" [ "$(json "$run/summary.json" arguments test-data)" = "$sets/test" ]
check "metrics.csv: test_n 12" [ "$(last_csv "$run/metrics.csv" test_n)" = 12 ]

run_gammacl "$run.eval" eval --run "$run" --device "$device" || { cat "$run.eval.err"; fail_now "eval of the run"; }
check "eval of the run uses the checkpoint's test set (12 images)" [ "$(json "$run/eval.json" test_count)" = 12 ]
run_gammacl "$run.other" eval --run "$run" --device "$device" --data "$sets/split" --json "$work/other.json" ||
    { cat "$run.other.err"; fail_now "eval with --data of a split folder"; }
check "eval --data of a split folder reads its test/ (9 images)" [ "$(json "$work/other.json" test_count)" = 9 ]

limited=$work/limited
cp -r "$run" "$limited"
"$ckpt_tool" set-meta "$limited/model.ckpt" test-limit 5 || fail_now "cannot edit the checkpoint"
run_gammacl "$limited.eval" eval --run "$limited" --device "$device" ||
    { cat "$limited.eval.err"; fail_now "eval with test-limit 5"; }
check "--test-limit 5 applies to the --test-data set" [ "$(json "$limited/eval.json" test_count)" = 5 ]

"$ckpt_tool" set-meta "$run/model.ckpt" epochs 2 || fail_now "cannot edit the checkpoint"
run_gammacl "$run.resume" train --resume "$run" --device "$device" --progress 0 ||
    { cat "$run.resume.err"; fail_now "--resume of the run"; }
check "--resume tests on the checkpoint's --test-data (epoch 2: test_n 12)" \
    [ "$(last_csv "$run/metrics.csv" epoch),$(last_csv "$run/metrics.csv" test_n)" = 2,12 ]

os=$work/open
run_gammacl "$os" "${TINY[@]}" --test-data "$sets/test" --known 0,1 --out "$os" ||
    { cat "$os.err"; fail_now "the open-set run with --test-data failed"; }
run_gammacl "$os.eval" eval --run "$os" --device "$device" || { cat "$os.eval.err"; fail_now "eval of the open-set run"; }
check "--known: 8 known test images of --test-data" [ "$(json "$os/eval.json" test_count)" = 8 ]
check "--known: the unknowns are --test-data's 4 owls" [ "$(json "$os/eval.json" open_set unknown_count)" = 4 ]

bad() { refused "$1" "$2" "${TINY[@]}" --out "$work/bad-run" "${@:3}"; }
bad "other class folders" "classes differ from the training set's: 'dog' only in training, 'kat' only in test" \
    --test-data "$sets/test-kat"
bad "a class folder missing" "'owl' only in training" --test-data "$sets/test-two"
bad "larger images" "test set images are 3x10x10 \(channels x height x width\), the training set's 3x8x8" \
    --test-data "$sets/test-big"
bad "gray images" "test set images are 1x8x8" --test-data "$sets/test-gray"
bad "IDX images of another shape" "test set images are 1x28x28" --test-data "$sets/idx-good"
bad "a truncated PNG" "png-truncated/dog/01.png: damaged PNG: .*truncated" --test-data "$sets/png-truncated"
bad "a corrupted PNG" "png-corrupt/owl/00.png: damaged PNG" --test-data "$sets/png-corrupt"
bad "a PNG with a forged size" "png-forged/cat/01.png: image size .* exceeds" --test-data "$sets/png-forged"
bad "not a PNG" "png-notpng/cat/00.png: not a PNG" --test-data "$sets/png-notpng"
bad "a truncated IDX file" "t10k-images-idx3-ubyte: truncated" --test-data "$sets/idx-truncated"
bad "a forged IDX count" "t10k-images-idx3-ubyte: the header declares .*forged" --test-data "$sets/idx-forged"
bad "a forged IDX type" "t10k-images-idx3-ubyte: IDX element type" --test-data "$sets/idx-magic"
bad "an IDX file without its pair" "no t10k-labels-idx1-ubyte" --test-data "$sets/idx-lonely"
bad "a truncated CIFAR batch" "test_batch.bin: length .* truncated" --test-data "$sets/cifar-truncated"
bad "a truncated CIFAR batch file" "test_batch.bin: length .* truncated" --test-data "$sets/cifar-file/test_batch.bin"
bad "a forged CIFAR label" "test_batch.bin: record 1: label 200" --test-data "$sets/cifar-label"
bad "an empty CIFAR batch" "empty file" --test-data "$sets/cifar-empty"
bad "a missing test set" "--test-data: unknown data set" --test-data "$sets/nothing"
bad "a file that is no data set" "is a file, .*one CIFAR batch file" --test-data "$sets/train/cat/00.png"
done_checks
