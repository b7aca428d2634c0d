#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-checksum-collide: make KSM's checksums collide, so that its trees must
# tell different pages apart by their contents alone.
#
#   ksm-checksum-collide BITS    keep BITS bits of every checksum (debugfs
#                                ksm/checksum_bits), until the VM stops
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
#             on colliding checksums;
#          2. bytes_compared counts 4096 for each compare of equal pages
#             and 1 to 4096 for each of different pages: no more than
#             4096 a compare, and less, since some pages differed.
# Exit status: 0 when all pass, 1 otherwise, 4 (skip) without the file.

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
	echo "1..0 # SKIP no $f (CONFIG_DEBUG_FS, debugfs mounted?)"
	exit 4
fi
case $1 in
check)
	echo "1..2"
	echo "# engine_stats: $(tr '\n' ' ' <$d/engine_stats)"
	u=$(stat compares_unequal)
	c=$(stat compares)
	b=$(stat bytes_compared)
	rc=0
	if [ "$(cat $f)" -lt 32 ] && [ "${u:-0}" -gt 0 ]; then
		echo "ok 1 compared $u different pages with equal checksums," \
			"at checksum_bits $(cat $f)"
	else
		echo "not ok 1 no different pages with equal checksums compared" \
			"(compares_unequal ${u:-none}, checksum_bits $(cat $f))"
		rc=1
	fi
	# Equal pages read 4096 bytes, different ones 1 to 4096.
	lo=$(((${c:-0} - ${u:-0}) * 4096 + ${u:-0}))
	hi=$((${c:-0} * 4096))
	if [ -n "$b" ] && [ "$b" -ge "$lo" ] && [ "$b" -lt "$hi" ]; then
		echo "ok 2 bytes_compared $b within [$lo, $hi), as $u of" \
			"$c compares were of different pages"
	else
		echo "not ok 2 bytes_compared ${b:-none} not within [$lo, $hi)" \
			"for $c compares, $u of different pages"
		rc=1
	fi
	exit $rc
	;;
[0-9]*)
	echo "1..1"
	rc=0
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
