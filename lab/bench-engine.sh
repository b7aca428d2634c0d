#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-engine: the base kernel against the patched one, on the same
# KSM workloads, side by side.
#
# Runs guest/ksm-engine-bench (scenarios vm, unique, prefix, volatile; see
# there) twice per kernel:
#  - under User-Mode Linux (lab/build-kernel.sh ARCH=um), where ksmd runs
#    natively on the host CPU: ksmd CPU time per scanned page, time until
#    "vm" converged and pages_sharing then, at SIZES MiB (default
#    "256 1024 2048 4096");
#  - under QEMU with the lab kernel plus config/bench.config (the ftrace
#    function profiler): memcmp_pages() calls per scanned page, at
#    QEMU_SIZES MiB (default "64 256"); TCG's CPU times are emulated, so
#    only their ratio is shown.
# SCENARIOS picks scenarios (default all four); PARTS=uml or PARTS=qemu runs
# one half; RUNS (default 3) runs each scenario and size that many times in
# each boot, and the table shows the median and the spread, (max - min) /
# median, of ksmd CPU per page; REPORT_ONLY=1 prints the table again from
# the last runs' logs.
# Prints one table; writes build/bench-engine.txt and .csv, and the table
# into docs/benchmarks.md (lab/bench-doc.sh).
# It needs an idle machine: UML's CPU times count the host's wall time while
# ksmd runs. The full run takes about an hour.

. "$(dirname "$0")/lib.sh"

SIZES=${SIZES:-256 1024 2048 4096}
QEMU_SIZES=${QEMU_SIZES:-64 256}
SCENARIOS=${SCENARIOS:-vm unique prefix volatile}
PARTS=${PARTS:-uml qemu}
RUNS=${RUNS:-3}
[ "$RUNS" -ge 1 ] 2>/dev/null || die "RUNS=$RUNS: the runs of each scenario and size, at least 1"
LOGS=$BUILD/logs
out=$BUILD/bench-engine.txt
csv=$BUILD/bench-engine.csv

if [ -z "${REPORT_ONLY:-}" ]; then
	bash "$TOP/lab/deps.sh"
	[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"
	initrd=$(bash "$TOP/lab/initramfs.sh" patched)
fi

runs() { # runs SIZES: the lab.bench= value, each run RUNS times
	local s z i r=
	for ((i = 0; i < RUNS; i++)); do
		for z in $1; do
			for s in $SCENARIOS; do
				r=$r${r:+,}$s:$z
			done
		done
	done
	echo "$r"
}

max_mib() {
	echo "$1" | tr ' ' '\n' | sort -n | tail -n 1
}

declare -A line
for part in $PARTS; do
	case $part in
	uml)
		sizes=$SIZES mem=$(($(max_mib "$SIZES") + 1024))M
		args=
		;;
	qemu)
		sizes=$QEMU_SIZES mem=$(($(max_mib "$QEMU_SIZES") * 2 + 1024))M
		args=lab.bench_args=-c
		;;
	*) die "PARTS: uml and/or qemu" ;;
	esac
	for k in base patched; do
		if [ -n "${REPORT_ONLY:-}" ]; then
			:
		elif [ "$part" = uml ]; then
			kernel=$(ARCH=um bash "$TOP/lab/build-kernel.sh" "$k")
		else
			kernel=$(FRAGMENTS="lab bench" bash "$TOP/lab/build-kernel.sh" "$k")
		fi
		name=bench-engine-$part-$k
		# shellcheck disable=SC2086 # args is empty or one parameter
		[ -n "${REPORT_ONLY:-}" ] ||
			ARCH=$([ "$part" = uml ] && echo um || echo x86_64) \
			bash "$TOP/lab/run-vm.sh" -t $((7200 * RUNS + 1800)) -m "$mem" "$name" "$kernel" "$initrd" \
			bench-engine lab.timeout=$((7200 * RUNS)) lab.bench="$(runs "$sizes")" $args ||
			die "the $part run of the $k kernel failed: see build/logs/$name.*"
		[ -f "$LOGS/$name.tap" ] || continue
		while read -r l; do
			sc=$(echo "$l" | sed -n 's/.*scenario=\([a-z]*\).*/\1/p')
			mib=$(echo "$l" | sed -n 's/.* mib=\([0-9]*\).*/\1/p')
			line[$part:$k:$sc:$mib]=${line[$part:$k:$sc:$mib]:+${line[$part:$k:$sc:$mib]}
}$l
		done < <(sed -n 's/^[# ]*ksm-engine-bench: \(scenario=\)/\1/p' "$LOGS/$name.tap")
	done
done

values() { # values PART KERNEL SCENARIO MIB KEY: one per run
	echo "${line[$1:$2:$3:$4]:-}" | tr ' ' '\n' | sed -n "s/^$5=//p"
}

field() { # field PART KERNEL SCENARIO MIB KEY: the median over the runs
	values "$@" | stat_median
}

spread() { # spread PART KERNEL SCENARIO MIB KEY: (max - min) / median
	values "$@" | stat_spread
}

known() { # a counter, or - when the guest had none (printed as -1)
	case $1 in -* | "") echo - ;; *) echo "$1" ;; esac
}

{
	echo "bench-engine: $(base_version "$TREE") base vs base + $(wc -l <"$PATCHES/series") patches"
	echo "KSM: smart_scan=0 pages_to_scan=1000 sleep_millisecs=0; per scanned page over 3 full scans after 2"
	# The runs the logs hold (a guest timeout leaves fewer than RUNS)
	nruns=$(for key in "${!line[@]}"; do echo "${line[$key]}" | wc -l; done | stat_range)
	echo "runs: ${nruns:-0} of each scenario and size per boot, one boot per kernel and part; medians, spread = (max - min) / median"
	echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo
	printf '%-9s %6s | %-41s | %-27s | %-23s | %-17s\n' "" "" \
		"ksmd CPU/page, UML (us), spread" "compares/page (QEMU)" "vm: converge (s), UML" "vm: final pages_sharing"
	printf '%-9s %6s | %9s %5s %9s %5s %7s | %8s %8s %9s | %7s %7s %7s | %8s %8s\n' scenario MiB \
		base "" patched "" "b/p" base patched "CPU b/p" base patched "b/p" base patched
	echo "scenario,mib,part,kernel,run,cpu_per_page_us,compares_per_page,ksmd_cpu_s,converge_s,pages_sharing,ideal_sharing,engine_compares_per_page,unstable_levels_per_walk,stable_levels_per_walk,stream_ns_per_page" >"$csv"
	for sc in $SCENARIOS; do
		for mib in $(echo "$SIZES $QEMU_SIZES" | tr ' ' '\n' | sort -nu); do
			[ -n "${line[uml:base:$sc:$mib]:-}${line[qemu:base:$sc:$mib]:-}" ] || continue
			ub=$(field uml base "$sc" "$mib" cpu_per_page_us)
			up=$(field uml patched "$sc" "$mib" cpu_per_page_us)
			qb=$(field qemu base "$sc" "$mib" compares_per_page)
			qp=$(field qemu patched "$sc" "$mib" compares_per_page)
			qcb=$(field qemu base "$sc" "$mib" cpu_per_page_us)
			qcp=$(field qemu patched "$sc" "$mib" cpu_per_page_us)
			cb=$(field uml base "$sc" "$mib" converge_s)
			cp=$(field uml patched "$sc" "$mib" converge_s)
			sb=$(field uml base "$sc" "$mib" pages_sharing)
			sp=$(field uml patched "$sc" "$mib" pages_sharing)
			[ "$sc" = vm ] || cb='' cp='' sb='' sp=''
			printf '%-9s %6s | %9s %5s %9s %5s %7s | %8s %8s %9s | %7s %7s %7s | %8s %8s\n' \
				"$sc" "$mib" "${ub:--}" "$(spread uml base "$sc" "$mib" cpu_per_page_us)" \
				"${up:--}" "$(spread uml patched "$sc" "$mib" cpu_per_page_us)" "$(ratio "$ub" "$up")" \
				"${qb:--}" "${qp:--}" "$(ratio "$qcb" "$qcp")" \
				"${cb:--}" "${cp:--}" "$(ratio "$cb" "$cp")" "${sb:--}" "${sp:--}"
			for part in uml qemu; do
				for k in base patched; do
					[ -n "${line[$part:$k:$sc:$mib]:-}" ] || continue
					r=0
					while read -r l; do
						r=$((r + 1))
						echo "$sc,$mib,$part,$k,$r$(for key in cpu_per_page_us compares_per_page \
							ksmd_cpu_s converge_s pages_sharing ideal_sharing \
							engine_compares_per_page unstable_levels_per_walk \
							stable_levels_per_walk stream_ns_per_page; do
							printf ',%s' "$(echo "$l" | tr ' ' '\n' | sed -n "s/^$key=//p")"
						done)" >>"$csv"
					done <<<"${line[$part:$k:$sc:$mib]}"
				done
			done
		done
	done
	echo
	echo "b/p: base divided by patched (higher is better for the patched kernel)."
	echo "QEMU runs under TCG: its CPU times are emulated; only their ratio is shown."
	echo
	echo "The patched engine's own counters (debugfs ksm/engine_stats), UML runs"
	echo "(- where the scenario made no tree walks: volatile pages never reach the trees),"
	echo "and its ksmd CPU per page against the streaming-read limit of the same boot"
	echo "(a user-space read of up to 512 MiB in address order, before KSM starts):"
	printf '%-9s %6s | %13s | %20s | %18s | %9s | %12s\n' scenario MiB "compares/page" \
		"unstable levels/walk" "stable levels/walk" "stream ns" "ksmd/stream"
	for sc in $SCENARIOS; do
		for mib in $SIZES; do
			[ -n "${line[uml:patched:$sc:$mib]:-}" ] || continue
			st=$(field uml patched "$sc" "$mib" stream_ns_per_page)
			printf '%-9s %6s | %13s | %20s | %18s | %9s | %12s\n' "$sc" "$mib" \
				"$(known "$(field uml patched "$sc" "$mib" engine_compares_per_page)")" \
				"$(known "$(field uml patched "$sc" "$mib" unstable_levels_per_walk)")" \
				"$(known "$(field uml patched "$sc" "$mib" stable_levels_per_walk)")" \
				"${st:--}" \
				"$(ratio "$(field uml patched "$sc" "$mib" cpu_per_page_us | awk '{ print $1 * 1000 }')" "$st")"
		done
	done
} | tee "$out"
log "table: ${out#"$TOP"/}; CSV: ${csv#"$TOP"/}"
[ -n "${REPORT_ONLY:-}" ] || bash "$TOP/lab/bench-doc.sh" bench-engine \
	"make bench-engine PARTS=\"$PARTS\" SIZES=\"$SIZES\" QEMU_SIZES=\"$QEMU_SIZES\" SCENARIOS=\"$SCENARIOS\" RUNS=$RUNS" "$out"
