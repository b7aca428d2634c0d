#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-numa-bench-all: the workloads of make bench-numa on the 4-node
# machine, as TAP: all cold, all hot, and 20 % hot (-H 0, 100, 20), RUNS
# runs of each (lab.runs=RUNS on the kernel command line, default 3).
# Each run merges across all nodes, switches to the policy under test,
# and back:
#   base kernel:    merge_across_nodes 1, then 0 and 1 again, each switch
#                   through run=2 (the base refuses it while pages merge)
#   patched kernel: merge_nodes_distance 255, then 12 (the lab's groups),
#                   cold_scans 2 (cold pages merge across the groups),
#                   cold_scans 0, and 255 again, each switch while pages
#                   stay merged
# Each run is one TAP result; its "# ksm-numa-bench:" lines carry the
# figures, one per phase.

. /lib/lab.sh

runs=$(cmdline_arg lab.runs)
[ -n "$runs" ] || runs=3
if [ -e /sys/kernel/mm/ksm/merge_nodes_distance ]; then
	phases="merge_nodes_distance=255 live:merge_nodes_distance=12 live:cold_scans=2"
	phases="$phases live:cold_scans=0 live:merge_nodes_distance=255"
else
	phases="merge_across_nodes=1 unmerged:merge_across_nodes=0 unmerged:merge_across_nodes=1"
fi
echo "1..$((3 * runs))"
n=0
failed=0
for hot in 0 100 20; do
	r=0
	while [ $r -lt "$runs" ]; do
		r=$((r + 1))
		n=$((n + 1))
		# shellcheck disable=SC2086 # phases holds several arguments
		out=$(ksm-numa-bench -p 4 -m 64 -H $hot $phases 2>&1)
		rc=$?
		echo "$out" | grep -v '^ok \|^not ok ' | sed 's/^# //; s/^/# /'
		if [ $rc = 0 ] && echo "$out" | grep -q '^ok '; then
			echo "ok $n -H $hot run $r"
		else
			echo "not ok $n -H $hot run $r (exit $rc)"
			failed=$((failed + 1))
		fi
	done
done
[ $failed = 0 ]
