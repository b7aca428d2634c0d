#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-stress-run: run ksm-stress with swap and memory pressure.
#
#   ksm-stress-run [-l LIMIT_MIB] [-p PROGRAM] [options...]
#
# -p runs another KSM test program in the same setup instead of ksm-stress,
# with the remaining options (ksm-swapin-exit uses the swap device and the
# cgroup's memory.reclaim).
#
# Turns the first RAM disk (/dev/ram0, from brd.rd_nr=1 brd.rd_size=... on
# the kernel command line) into a swap device, creates a memory cgroup whose
# memory.high is LIMIT_MIB (default 64), and runs ksm-stress inside it, so
# that reclaim swaps KSM pages out and faults bring them back. memory.high
# reclaims and throttles but never OOM-kills: with memory.max at 64 MiB a
# 30-minute run thrashed into a memcg OOM kill. ksmd runs
# flat out: pages_to_scan 5000, sleep_millisecs 0. lab.duration=SECONDS on
# the kernel command line overrides the run time (make stress DURATION=...).
# Exits with the program's status; a swap or cgroup setup failure exits 1.

limit=64
prog=ksm-stress
while :; do
	case $1 in
	-l) limit=$2 ;;
	-p) prog=$2 ;;
	*) break ;;
	esac
	shift 2
done

fail() {
	echo "ksm-stress-run: $*"
	exit 1
}

[ -b /dev/ram0 ] || fail "no /dev/ram0 (boot with brd.rd_nr=1 brd.rd_size=KiB)"
mkswap /dev/ram0 >/dev/null || fail "mkswap /dev/ram0 failed"
swapon /dev/ram0 || fail "swapon /dev/ram0 failed"
echo "# swap: $(grep SwapTotal /proc/meminfo)"

cg=/sys/fs/cgroup/ksm-stress
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir -p $cg || fail "cannot create $cg"
echo $((limit << 20)) >$cg/memory.high || fail "cannot set memory.high"
echo $$ >$cg/cgroup.procs || fail "cannot join $cg"
echo "# memory cgroup: memory.high=${limit} MiB"

echo 5000 >/sys/kernel/mm/ksm/pages_to_scan
echo 0 >/sys/kernel/mm/ksm/sleep_millisecs
echo 1 >/sys/kernel/mm/ksm/run

duration=
[ "$prog" = ksm-stress ] &&
	duration=$(sed -n 's/.*lab\.duration=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
# shellcheck disable=SC2086 # empty or "-t N"
"$prog" "$@" ${duration:+-t $duration}
rc=$?

echo "# memory cgroup: $(tr '\n' ' ' <$cg/memory.events)"
echo "# memory.swap.events: $(tr '\n' ' ' <$cg/memory.swap.events 2>/dev/null)"
echo 2 >/sys/kernel/mm/ksm/run
echo $$ >/sys/fs/cgroup/cgroup.procs
swapoff /dev/ram0 || { echo "ksm-stress-run: swapoff failed"; rc=1; }
exit $rc
