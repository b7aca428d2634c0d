#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make stress: a long ksm-stress soak in one boot (plan stress, or
# stress-debug on the debug kernel).
#
#   make stress [DURATION=seconds] [KERNEL=patched|debug|base] [NODES=2|4]
#
# DURATION defaults to 1800. KERNEL picks the lab kernel (patched, the
# default), the debug kernel (patched, with config/debug.config: KASAN,
# lockdep, DEBUG_VM, ...) or the unpatched base kernel. NODES=4 boots the
# 4-node machine of lab/run-vm.sh -n 4 instead of 2 nodes. The guest's summary
# line "# ksm-stress: ..." is printed at the end; logs are in
# build/logs/stress-<kernel>.*.

. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-1800}
KERNEL=${KERNEL:-patched}
[[ $DURATION =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 10 ] || die "DURATION must be seconds, at least 10"

bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"
plan=stress
case $KERNEL in
patched) kernel=$(bash "$TOP/lab/build-kernel.sh" patched) flavor=patched ;;
debug) kernel=$(FRAGMENTS="lab debug" bash "$TOP/lab/build-kernel.sh" patched) flavor=patched plan=stress-debug ;;
base) kernel=$(bash "$TOP/lab/build-kernel.sh" base) flavor=base ;;
*) die "KERNEL must be patched, debug or base" ;;
esac
initrd=$(bash "$TOP/lab/initramfs.sh" "$flavor")

name=stress-$KERNEL
rc=0
nodes=()
case ${NODES:-2} in
2) ;;
4) nodes=(-n 4) name=$name-4nodes ;;
*) die "NODES must be 2 or 4" ;;
esac
bash "$TOP/lab/run-vm.sh" "${nodes[@]}" -t $((DURATION * 2 + 900)) "$name" "$kernel" "$initrd" "$plan" \
	lab.kernel="$KERNEL" lab.duration="$DURATION" lab.timeout=$((DURATION * 2 + 600)) || rc=$?
bash "$TOP/lab/tap-merge.sh" "$name:$BUILD/logs/$name.tap" >"$BUILD/logs/$name.merged.tap" || rc=1
grep -h '^# # ksm-stress: \|passed, .* failed' "$BUILD/logs/$name.merged.tap" || true
[ $rc -eq 0 ] && log "stress on the $KERNEL kernel passed" || log "stress on the $KERNEL kernel FAILED: build/logs/$name.*"
exit $rc
