#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-stress-run: run ksm-stress with swap and memory pressure.
#
#   ksm-stress-run [-l LIMIT_MIB] [-p PROGRAM] [options...]
#
# -p runs another KSM test program in the same setup instead of ksm-stress,
# with the remaining options (a program that needs the swap device and the
# cgroup's memory.reclaim).
#
# Turns the first RAM disk (/dev/ram0, from brd.rd_nr=1 brd.rd_size=... on
# the kernel command line) into a swap device, creates a memory cgroup whose
# memory.high is LIMIT_MIB (default 64), and runs ksm-stress inside it, so
# that reclaim swaps KSM pages out and faults bring them back; 64 KiB mTHPs
# are on for the run, beside PMD-sized THPs. memory.high
# reclaims and throttles but never OOM-kills: with memory.max at 64 MiB a
# 30-minute run thrashed into a memcg OOM kill. ksmd runs
# flat out: pages_to_scan 5000, sleep_millisecs 0. lab.duration=SECONDS on
# the kernel command line overrides the run time (make stress DURATION=...).
# Exits with the program's status; a swap or cgroup setup failure exits 1.

. /lib/lab.sh

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

swap_on || fail "no swap on /dev/ram0"

cg=/sys/fs/cgroup/ksm-stress
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir -p $cg || fail "cannot create $cg"
echo $((limit << 20)) >$cg/memory.high || fail "cannot set memory.high"
echo $$ >$cg/cgroup.procs || fail "cannot join $cg"
echo "# memory cgroup: memory.high=${limit} MiB"

ksm_set pages_to_scan 5000
ksm_set sleep_millisecs 0
ksm_set run 1

# 64 KiB mTHPs besides PMD-sized THPs, where the kernel has them: they fill
# the MADV_HUGEPAGE regions' ends that a PMD does not cover.
mthp=/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled
mthp_was=
if [ -w $mthp ]; then
	mthp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $mthp)
	echo always >$mthp || fail "cannot enable 64 KiB mTHPs"
	echo "# mTHP: 64 KiB always (was $mthp_was)"
fi

duration=
[ "$prog" = ksm-stress ] &&
	duration=$(cmdline_arg lab.duration)
# shellcheck disable=SC2086 # empty or "-t N"
"$prog" "$@" ${duration:+-t $duration}
rc=$?

echo "# memory cgroup: $(tr '\n' ' ' <$cg/memory.events)"
echo "# memory.swap.events: $(tr '\n' ' ' <$cg/memory.swap.events 2>/dev/null)"
ksm_set run 2
if [ -n "$mthp_was" ]; then
	st=${mthp%/enabled}/stats
	echo "# mTHP 64 KiB: anon_fault_alloc $(cat "$st/anon_fault_alloc") swpin $(cat "$st/swpin") swpout $(cat "$st/swpout") split $(cat "$st/split")"
	echo "$mthp_was" >$mthp
fi
echo $$ >/sys/fs/cgroup/cgroup.procs
swap_off || { echo "ksm-stress-run: swapoff failed"; rc=1; }
exit $rc
