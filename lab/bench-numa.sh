#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-numa: where KSM places merged pages on a NUMA host, what it
# saves, and what a change of policy costs, the base kernel against the
# patched one, in one run.
#
# Boots each kernel on the 4-node machine (lab/run-vm.sh -n 4: nodes 0+2
# and 1+3 in two groups, SLIT 12 within, 32 across) with plan bench-numa:
# guest/ksm-numa-bench, 4 processes on each node with 64 MiB of their
# node's memory each, all equal (1 GiB in all), all cold, all hot, and 20 %
# hot, RUNS runs of each (default 3). Each run merges across all nodes,
# switches to the policy under test and back:
#   base:    merge_across_nodes 1, then 0 and 1, each through run=2
#   patched: merge_nodes_distance 255, then 12 (the groups), cold_scans 2
#            (cold pages across the groups), cold_scans 0 and 255, each
#            while pages stay merged
# Prints, for every workload and policy, the memory saved, the share of
# remote mappings (page more than SLIT 12 from its process's node), overall
# and among hot pages, the largest share of the remote mappings one process
# holds, the same two for pages on any other node (off-node), and for each
# switch its time and peak extra memory. Medians of the
# runs; spread = (max - min) / median. Writes build/bench-numa.txt and .csv.
# REPORT_ONLY=1 prints the table again from the last runs' logs.

. "$(dirname "$0")/lib.sh"

LOGS=$BUILD/logs
out=$BUILD/bench-numa.txt
csv=$BUILD/bench-numa.csv
RUNS=${RUNS:-3}

[ -n "${REPORT_ONLY:-}" ] || bench_boots bench-numa "-t 9000" lab.runs="$RUNS"

# kernel,hot_pct,phase,run,key=value... from the guest's lines
echo "kernel,hot_pct,phase,saved_mib,remote_pct,remote_hot_pct,max_proc_share_pct,fair_share_pct,off_node_pct,max_proc_off_node_pct,switch_s,peak_extra_mib,pages_shared,pages_sharing" >"$csv"
for k in base patched; do
	[ -f "$LOGS/bench-numa-$k.tap" ] || die "no build/logs/bench-numa-$k.tap: run make bench-numa"
	tr -d '\r' <"$LOGS/bench-numa-$k.tap" | sed -n 's/^[# ]*ksm-numa-bench: \(phase=\)/\1/p' |
		while read -r l; do
			printf '%s' "$k"
			for key in hot_pct phase saved_mib remote_pct remote_hot_pct max_proc_share_pct \
				fair_share_pct off_node_pct max_proc_off_node_pct switch_s peak_extra_mib \
				pages_shared pages_sharing; do
				printf ',%s' "$(echo "$l" | tr ' ' '\n' | sed -n "s/^$key=//p")"
			done
			echo
		done >>"$csv"
done

col() { # col KERNEL HOT PHASE KEY: the values of the runs
	awk -F, -v k="$1" -v h="$2" -v p="$3" -v key="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == k && $2 == h && $3 == p { print $c[key] }' "$csv"
}
med() { col "$@" | stat_median; }
spr() { col "$@" | stat_spread; }

runs=$(awk -F, 'NR > 1 { n[$1 "," $2 "," $3]++ } END { for (k in n) print n[k] }' "$csv" | stat_range)
policies=(
	"base merge_across_nodes=1 =1"
	"base unmerged:merge_across_nodes=0 =0"
	"patched live:merge_nodes_distance=12 12"
	"patched live:cold_scans=2 12+cold"
)
{
	echo "bench-numa: $(base_version "$TREE") base vs base + $(wc -l <"$PATCHES/series") patches, QEMU ($(qemu_accel), -cpu $QEMU_CPU), 2 vCPUs, 4 nodes"
	echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "machine: nodes 0+2 and 1+3, SLIT 10 within a node, 12 within a group, 32 across"
	echo "workload: 4 processes per node, 64 MiB of their node's memory each, all equal (1 GiB); hot pages read every 20 ms"
	echo "KSM: pages_to_scan=5000 sleep_millisecs=0 max_page_sharing=256; each phase until pages_sharing holds for 2 full scans"
	echo "remote: the page more than SLIT 12 from its process's node; runs: $runs per row, one boot per kernel; medians, spr = (max - min) / median"
	echo
	printf '%-8s %-8s | %9s | %8s %8s | %9s %6s | %9s %9s\n' workload policy "saved MiB" "remote%" "hot rem%" \
		"max proc%" "fair%" "off-node%" "max proc%"
	for hot in 0 100 20; do
		case $hot in 0) w="all cold" ;; 100) w="all hot" ;; *) w="80/20" ;; esac
		for p in "${policies[@]}"; do
			read -r k phase name <<<"$p"
			hr=-
			[ "$hot" = 0 ] || hr=$(med "$k" "$hot" "$phase" remote_hot_pct)
			printf '%-8s %-8s | %9s | %8s %8s | %9s %6s | %9s %9s\n' "$w" "$name" \
				"$(med "$k" "$hot" "$phase" saved_mib)" "$(med "$k" "$hot" "$phase" remote_pct)" \
				"$hr" \
				"$(med "$k" "$hot" "$phase" max_proc_share_pct)" \
				"$(med "$k" "$hot" "$phase" fair_share_pct)" \
				"$(med "$k" "$hot" "$phase" off_node_pct)" \
				"$(med "$k" "$hot" "$phase" max_proc_off_node_pct)"
		done
	done
	echo
	printf '%-37s| %6s %5s | %14s %5s\n' "switch, workload" "time s" spr "peak extra MiB" spr
	for hot in 0 100 20; do
		for p in "base unmerged:merge_across_nodes=0 1->0" "base unmerged:merge_across_nodes=1 0->1" \
			"patched live:merge_nodes_distance=12 255->12" "patched live:cold_scans=2 c0->2" \
			"patched live:cold_scans=0 c2->0" "patched live:merge_nodes_distance=255 12->255"; do
			read -r k phase name <<<"$p"
			printf '%-7s %-7s -H %-3s %14s| %6s %5s | %14s %5s\n' "$k" "$name" "$hot" "" \
				"$(med "$k" "$hot" "$phase" switch_s)" "$(spr "$k" "$hot" "$phase" switch_s)" \
				"$(med "$k" "$hot" "$phase" peak_extra_mib)" "$(spr "$k" "$hot" "$phase" peak_extra_mib)"
		done
	done
	echo
	echo "=1/=0: base merge_across_nodes; 12: patched merge_nodes_distance=12;"
	echo "12+cold: and cold_scans=2, cold pages merging across the groups;"
	echo "c0->2, c2->0: cold_scans switched at 12."
	echo "saved: pages_sharing. remote%: of all mappings; hot rem%: of the hot ones."
	echo "max proc%: the largest share of the remote mappings one process holds;"
	echo "fair%: one process's fair share. off-node%: of all mappings, those"
	echo "whose page sits on another node than the process's, and the largest"
	echo "share of them one process holds. Peak extra: the largest drop of"
	echo "pages_sharing during the switch (every page stays mapped). The base"
	echo "switches through run=2; the patched kernel while pages stay merged."
} | tee "$out"
log "table: ${out#"$TOP"/}; CSV: ${csv#"$TOP"/}"
[ -n "${REPORT_ONLY:-}" ] || bash "$TOP/lab/bench-doc.sh" bench-numa "make bench-numa" "$out"
