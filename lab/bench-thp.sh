#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-thp: what KSM does to transparent huge pages that hold a few
# duplicate subpages, the base kernel against the patched one, in one run.
#
# Boots the lab kernel of each (QEMU, THP on) with plan bench-thp:
# guest/ksm-thp-bench, 256 MiB in 128 PMD-sized THPs, k duplicate subpages
# in each (k = 0, 1, 8, 64, 256, 512), 4 full scans, 3 runs of each k, at
# thp_split_threshold=64 on the patched kernel; and row 8p, k = 8 under
# memory pressure (a memory cgroup with memory.high at half its use).
# Prints, base against patched, the huge pages kept whole, the memory
# saved, the THPs split, the subpages merged per THP split, and the ratio
# of ksmd CPU per scanned subpage (TCG: emulated times, so only the ratio).
# Medians of the 3 runs; the spread is (max - min) / median of the CPU per
# subpage. Writes build/bench-thp.txt and .csv, build/bench-thp.png (kept
# against saved) and the table into docs/benchmarks.md (lab/bench-doc.sh).
# REPORT_ONLY=1 prints the table again from the last runs' logs.

. "$(dirname "$0")/lib.sh"

LOGS=$BUILD/logs
out=$BUILD/bench-thp.txt
csv=$BUILD/bench-thp.csv

[ -n "${REPORT_ONLY:-}" ] || bench_boots bench-thp "-t 9000 -m 1G"

declare -A lines
for k in base patched; do
	[ -f "$LOGS/bench-thp-$k.tap" ] || die "no build/logs/bench-thp-$k.tap: run make bench-thp"
	while read -r l; do
		d=$(echo "$l" | sed -n 's/.*dups=\([0-9]*\) .*/\1/p')
		case $l in *" pressure=1 "*) d=${d}p ;; esac
		lines[$k:$d]=${lines[$k:$d]:+${lines[$k:$d]}
}$l
	done < <(tr -d '\r' <"$LOGS/bench-thp-$k.tap" | sed -n 's/^[# ]*ksm-thp-bench: \(dups=\)/\1/p')
done

values() { # values KERNEL DUPS KEY: one per run
	echo "${lines[$1:$2]:-}" | tr ' ' '\n' | sed -n "s/^$3=//p"
}

median() { # median KERNEL DUPS KEY
	values "$@" | stat_median
}

spread() { # spread KERNEL DUPS KEY: (max - min) / median
	values "$@" | stat_spread
}

per_split() { # merged subpages per THP split
	awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", s / n; else print "-" }'
}

dups=$(for key in "${!lines[@]}"; do echo "${key#*:}"; done | sort -Vu)
threshold=$(echo "${lines[patched:0]:-}" | tr ' ' '\n' | sed -n 's/^threshold=//p' | head -n 1)
# The runs the logs hold, fewest-most over k and kernel (3 when all ran)
runs=$(for key in "${!lines[@]}"; do echo "${lines[$key]}" | wc -l; done | stat_range)
{
	echo "bench-thp: $(base_version "$TREE") base vs base + $(wc -l <"$PATCHES/series") patches, QEMU ($(qemu_accel), -cpu $QEMU_CPU), 2 vCPUs, THP always"
	echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "workload: 256 MiB in 128 THPs, k duplicate subpages per THP; KSM: smart_scan=0 pages_to_scan=1000 sleep_millisecs=0, 4 full scans"
	echo "patched: thp_split_threshold=${threshold:-?}; 8p: k = 8 in a memory cgroup with memory.high at half its use"
	echo "runs: $runs per k and kernel, one boot per kernel; medians, spread = (max - min) / median"
	echo
	printf '%4s | %-15s | %-15s | %-13s | %-15s | %-23s\n' "" "THPs kept (%)" "saved (MiB)" \
		"THPs split" "merged/split" "ksmd CPU/subpage"
	printf '%4s | %7s %7s | %7s %7s | %6s %6s | %7s %7s | %7s %7s %7s\n' k \
		base patched base patched base patched base patched "spr b" "spr p" "b/p"
	echo "kernel,dups,run,thps,thps_kept,kept_pct,thp_split,pages_sharing,saved_mib,pages_scanned,ksmd_cpu_s,cpu_per_page_us,pressure,threshold" >"$csv"
	for d in $dups; do
		for k in base patched; do
			r=0
			while read -r l; do
				[ -n "$l" ] || continue
				r=$((r + 1))
				echo "$k,${d%p},$r$(for key in thps thps_kept kept_pct thp_split pages_sharing \
					saved_mib pages_scanned ksmd_cpu_s cpu_per_page_us pressure threshold; do
					printf ',%s' "$(echo "$l" | tr ' ' '\n' | sed -n "s/^$key=//p")"
				done)" >>"$csv"
			done <<<"${lines[$k:$d]:-}"
		done
		printf '%4s | %7s %7s | %7s %7s | %6s %6s | %7s %7s | %7s %7s %7s\n' "$d" \
			"$(median base "$d" kept_pct)" "$(median patched "$d" kept_pct)" \
			"$(median base "$d" saved_mib)" "$(median patched "$d" saved_mib)" \
			"$(median base "$d" thp_split)" "$(median patched "$d" thp_split)" \
			"$(per_split "$(median base "$d" pages_sharing)" "$(median base "$d" thp_split)")" \
			"$(per_split "$(median patched "$d" pages_sharing)" "$(median patched "$d" thp_split)")" \
			"$(spread base "$d" cpu_per_page_us)" "$(spread patched "$d" cpu_per_page_us)" \
			"$(ratio "$(median base "$d" cpu_per_page_us)" "$(median patched "$d" cpu_per_page_us)")"
	done
	echo
	echo "THPs kept: AnonHugePages after the scans. Merged/split: pages_sharing per THP"
	echo "split (thp_split_page). b/p: base divided by patched ksmd CPU per scanned"
	echo "subpage (higher is better for the patched kernel); spr b, spr p: the spread of"
	echo "each kernel's runs. Chart: build/bench-thp.png."
} | tee "$out"

rm -f "$BUILD"/bench-thp-*.dat
awk -F, 'NR > 1 { print > ("'"$BUILD"'/bench-thp-" $1 ".dat") }' "$csv"
gnuplot <<GP || die "gnuplot failed"
set terminal pngcairo size 800,500 noenhanced
set output "$BUILD/bench-thp.png"
set title "bench-thp: THPs kept against memory saved, k duplicate subpages per THP"
set xlabel "memory saved (MiB of 256)"
set ylabel "THPs kept whole (%)"
set yrange [-5:105]
set datafile separator ","
set key outside right
plot "$BUILD/bench-thp-base.dat" using 9:6 with points pt 7 ps 1.5 title "base", \
     "$BUILD/bench-thp-base.dat" using 9:6:(sprintf("k=%d", \$2)) with labels offset 1.5,0.7 notitle, \
     "$BUILD/bench-thp-patched.dat" using 9:6 with points pt 6 ps 2 title "patched"
GP
log "table: ${out#"$TOP"/}; CSV: ${csv#"$TOP"/}; chart: build/bench-thp.png"
[ -n "${REPORT_ONLY:-}" ] || bash "$TOP/lab/bench-doc.sh" bench-thp "make bench-thp" "$out"
