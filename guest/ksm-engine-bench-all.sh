#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-engine-bench-all: the scenarios of make bench-engine, one after the
# other, as TAP. The host chooses them on the kernel command line:
#   lab.bench=SCENARIO:MIB[,SCENARIO:MIB...]   (default vm:64,unique:64,prefix:64,volatile:64)
#   lab.bench_args=ARGS                        (more ksm-engine-bench options,
#                                               ':' for spaces, e.g. -c)
# Each run is one TAP result; its "# ksm-engine-bench:" line carries the
# figures. A timed-out run fails; a kernel without KSM skips.

. /lib/lab.sh

runs=$(cmdline_arg lab.bench | tr ',' ' ')
[ -n "$runs" ] || runs="vm:64 unique:64 prefix:64 volatile:64"
extra=$(cmdline_arg lab.bench_args | tr ':' ' ')
set -- $runs
echo "1..$#"
n=0
failed=0
for r in $runs; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # extra holds several options
	out=$(ksm-engine-bench -s "${r%%:*}" -m "${r#*:}" $extra 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	case $rc in
	0) echo "ok $n $r" ;;
	4) echo "ok $n $r # SKIP no KSM" ;;
	*) echo "not ok $n $r (exit $rc)"; failed=$((failed + 1)) ;;
	esac
done
[ $failed = 0 ]
