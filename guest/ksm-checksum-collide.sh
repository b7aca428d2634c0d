#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-checksum-collide: make KSM's checksums collide, so that its trees must
# tell different pages apart by their contents alone.
#
#   ksm-checksum-collide BITS    keep BITS bits of every checksum (debugfs
#                                ksm/checksum_bits), until the VM stops,
#                                and count the engine's work
#                                (ksm/engine_stats_on)
#   ksm-checksum-collide check   after the other tests of the boot
#
# The merge engine orders its trees by checksum, then by contents, and a
# checksum match is never a merge. With 4 bits, 16 checksums for all pages,
# nearly every page the trees compare is a different page with an equal
# checksum. The plans that follow (kselftests, ksm-stress, ...) must pass as
# they do with full checksums: nothing merges but equal pages.
# Checks, as TAP:
#   BITS:  1. checksum_bits takes BITS, and refuses 0, 33 and "x" (EINVAL)
#             without changing;
#   check: 1. the trees compared different pages with equal checksums
#             (engine_stats compares_unequal > 0), so the tests before ran
#             on colliding checksums.
# Exit status: 0 when all pass, 1 otherwise, 4 (skip) without the file
# (CONFIG_DEBUG_KSM_CHECKSUM_BITS).

d=/sys/kernel/debug/ksm
f=$d/checksum_bits

stat() {
	sed -n "s/^$1 //p" $d/engine_stats
}

case $1 in
check | [0-9]*) ;;
*)
	echo "usage: ksm-checksum-collide BITS|check" >&2
	exit 2
	;;
esac
if [ ! -f $f ]; then
	echo "1..0 # SKIP no $f (CONFIG_DEBUG_KSM_CHECKSUM_BITS, debugfs mounted?)"
	exit 4
fi
case $1 in
check)
	echo "1..1"
	echo "# engine_stats: $(tr '\n' ' ' <$d/engine_stats)"
	u=$(stat compares_unequal)
	rc=0
	if [ "$(cat $f)" -lt 32 ] && [ "${u:-0}" -gt 0 ]; then
		echo "ok 1 compared $u different pages with equal checksums," \
			"at checksum_bits $(cat $f)"
	else
		echo "not ok 1 no different pages with equal checksums compared" \
			"(compares_unequal ${u:-none}, checksum_bits $(cat $f))"
		rc=1
	fi
	exit $rc
	;;
[0-9]*)
	echo "1..1"
	rc=0
	# The check at the end of the boot reads the counters
	echo 1 >$d/engine_stats_on || { echo "# engine_stats_on refused 1"; rc=1; }
	echo "$1" >$f || rc=1
	[ "$(cat $f)" = "$1" ] || rc=1
	for bad in 0 33 x; do
		if echo "$bad" >$f 2>/dev/null; then
			echo "# checksum_bits took $bad"
			rc=1
		fi
		[ "$(cat $f)" = "$1" ] || { echo "# $bad changed it to $(cat $f)"; rc=1; }
	done
	if [ $rc = 0 ]; then
		echo "ok 1 checksum_bits $1; 0, 33 and x refused"
		exit 0
	fi
	echo "not ok 1 checksum_bits $1 (now $(cat $f)); 0, 33 and x refused"
	exit 1
	;;
esac
