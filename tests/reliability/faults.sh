#!/usr/bin/env bash
# tests/reliability/faults.sh — device faults injected through GAMMACL_FAULT: each must end the run
# promptly (under the timeout: no hang) with a clean non-zero exit and one clear message naming
# the failed call or resource, the device, and what to do; nothing half-written may be left as
# the run's checkpoint.
#
#   faults.sh GAMMACL CKPT_TOOL CASE
#   alloc_first   the first device allocation fails (CL_MEM_OBJECT_ALLOCATION_FAILURE)
#   alloc_model   an allocation while the model is built: the message names the layer
#   launch_first  the first kernel launch fails with CL_OUT_OF_RESOURCES
#   build         every kernel program fails to build
#   lost_first    the device is lost at the first launch (CL_DEVICE_NOT_AVAILABLE)
#   lost_resume   the device is lost in epoch 2 (after the epoch-1 checkpoint); then --resume
#                 without the fault ends with the uninterrupted run's metrics.csv (every column
#                 bit for bit but the wall-clock ones) and weights
#   launch_resume the same with CL_OUT_OF_RESOURCES in epoch 2
#   resume_hint   the device is lost in epoch 2: the message must say how to continue
#                 (gammacl train --resume DIR), since starting the same command again starts over
#   build_advice  a failed kernel build: the message must say what the user can do, not only
#                 show the build log
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case_name=${3:-}

# faulty_run FAULT DIR: one run with GAMMACL_FAULT=FAULT; status in $rc, its device name in $dev
faulty_run() {
    local dir=$2
    GAMMACL_FAULT=$1 run_gammacl "$dir" "${TRAIN[@]}" --seed 9 --progress 0 --out "$dir"
    rc=$?
    dev=$(sed -n 's/^device: \(.*\) (.*/\1/p' "$dir.out" | head -n 1)
    echo "GAMMACL_FAULT=$1: exit $rc"
    cat "$dir.err"
}

# common_checks DIR PATTERN ADVICE: the checks every injected fault must pass
common_checks() {
    local dir=$1 what=$2 advice=$3
    check "clean non-zero exit, no hang, no crash (got $rc)" exited_cleanly "$rc"
    check "the message names what failed ($what)" has_line "$dir.err" "$what"
    check "the message names the device" test -n "$dev" -a "$(grep -cF "'$dev'" "$dir.err")" -gt 0
    check "the message says what to do ($advice)" has_line "$dir.err" "$advice"
    check "no checkpoint temporaries are left" no_temp_files "$dir"
}

# fault_after_epoch1 KIND: finds an N whose KIND:N fault lands after the epoch-1 checkpoint (the
# launch count per epoch depends on the device) by doubling N; the run's folder goes to $dir.
fault_after_epoch1() {
    local kind=$1 n=256
    while [ "$n" -le 1048576 ]; do
        dir=$work/$kind-$n
        faulty_run "$kind:$n" "$dir"
        [ "$rc" -eq 0 ] && fail_now "$kind:$n did not fail: the run has fewer launches"
        [ "$(rows "$dir/metrics.csv")" -ge 1 ] && return 0
        n=$((n * 2))
    done
    fail_now "no $kind:N fault landed after epoch 1"
}

# faulty_then_resume KIND WHAT ADVICE: a KIND fault after epoch 1, then --resume without it.
faulty_then_resume() {
    local kind=$1 what=$2 advice=$3
    ref=$work/ref
    reference_run "$ref" --seed 9
    fault_after_epoch1 "$kind"
    common_checks "$dir" "$what" "$advice"
    local done_rows
    done_rows=$(rows "$dir/metrics.csv")
    check "the checkpoint holds the last finished epoch ($done_rows)" \
        test "$(ckpt_epoch "$dir/model.ckpt")" = "$done_rows"
    resume_matches "--resume without the fault" "$dir" "$ref" "$dir.resume" 0
}

case $case_name in
alloc_first)
    faulty_run alloc:1 "$work/a"
    common_checks "$work/a" "could not allocate .*CL_MEM_OBJECT_ALLOCATION_FAILURE" "smaller --batch"
    check "no checkpoint was written" test ! -e "$work/a/model.ckpt"
    ;;
alloc_model)
    faulty_run alloc:5 "$work/a"
    common_checks "$work/a" "layer [a-z0-9_]+ \\(spec line [0-9]+\\).*could not allocate" "smaller --batch"
    ;;
launch_first)
    faulty_run launch:1 "$work/l"
    common_checks "$work/l" "clEnqueueNDRangeKernel [a-z0-9_]+ failed .*CL_OUT_OF_RESOURCES" "smaller --batch"
    check "no checkpoint was written" test ! -e "$work/l/model.ckpt"
    ;;
build)
    faulty_run build "$work/b"
    common_checks "$work/b" "kernels/[a-z0-9_]+\\.cl failed to build" "build log"
    ;;
lost_first)
    faulty_run lost:1 "$work/d"
    common_checks "$work/d" "CL_DEVICE_NOT_AVAILABLE" "gammacl train --resume"
    ;;
lost_resume)
    faulty_then_resume lost "CL_DEVICE_NOT_AVAILABLE" "gammacl train --resume"
    ;;
launch_resume)
    faulty_then_resume launch "CL_OUT_OF_RESOURCES" "smaller --batch"
    ;;
resume_hint)
    fault_after_epoch1 lost
    check "the message says how to continue: gammacl train --resume $dir" \
        has_line "$dir.err" "gammacl train --resume $dir"
    ;;
build_advice)
    faulty_run build "$work/b"
    check "the message says what the user can do (try/use/update/report ...)" \
        has_line "$work/b.err" "(try|use|update|report|install|set|check) "
    ;;
*)
    echo "usage: $0 GAMMACL CKPT_TOOL alloc_first|alloc_model|launch_first|build|lost_first|" \
         "lost_resume|launch_resume|resume_hint|build_advice" >&2
    exit 2
    ;;
esac
done_checks
