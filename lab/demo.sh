#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: what the series does for a VM host, the unpatched base kernel
# against the patched one, side by side, natively.
#
# Both kernels run as User-Mode Linux (lab/build-kernel.sh ARCH=um), where
# ksmd runs on the host CPU, with the same ksm.* parameters and the same
# workload, guest/ksm-demo: 4 processes that each hold one 256 MiB image,
# 32 MiB of zero pages, 64 MiB of their own and 16 MiB they keep rewriting.
# Two runs per kernel:
#  - plan demo: ksm.pages_to_scan=2000 ksm.sleep_millisecs=10, ksmd as
#    fast as those settings let it;
#  - plan demo-advisor: the scan-time advisor with a CPU budget
#    (advisor_max_cpu 10 %, advisor_target_scan_time 1 s), sized over 3
#    full scans before the workers load the common image: how long each
#    kernel takes to save the memory on the same budget.
# The base kernel has no ksm.* parameters: ksm-demo writes the same values
# through sysfs ("boot params: written" against "applied").
# Under QEMU, a second part will show THP- and NUMA-aware merging once the
# series has them.
#
# REPORT_ONLY=1 prints the report and chart again from the last runs' logs.
# Prints the report and writes build/logs/demo-report.txt, the report into
# docs/benchmarks.md (lab/bench-doc.sh) and build/demo.png (memory saved
# over time, both kernels, both runs).

. "$(dirname "$0")/lib.sh"

LOGS=$BUILD/logs
bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"

plans="demo demo-advisor"
declare -A res
for k in base patched; do
	if [ -z "${REPORT_ONLY:-}" ]; then
		kernel=$(ARCH=um bash "$TOP/lab/build-kernel.sh" "$k")
		initrd=$(bash "$TOP/lab/initramfs.sh" "$k")
	fi
	for p in $plans; do
		name=demo-$p-$k
		[ -n "${REPORT_ONLY:-}" ] ||
			ARCH=um bash "$TOP/lab/run-vm.sh" -t 2400 -m 3G "$name" "$kernel" "$initrd" "$p" ||
			die "the $p boot of the $k kernel failed: see build/logs/$name.console.log"
		# The guest's lines end in CR LF.
		tr -d '\r' <"$LOGS/$name.tap" >"$LOGS/$name.txt"
		line=$(grep -h '^# ksm-demo: boot_params=' "$LOGS/$name.txt" | tail -n 1 || true)
		[ -n "$line" ] || die "no ksm-demo result in build/logs/$name.tap"
		res[$p:$k]=$line
		sed -n 's/^# ksm-demo-sample: t=\([0-9.]*\) saved_mib=\([0-9.]*\)$/\1 \2/p' \
			"$LOGS/$name.txt" >"$LOGS/$name.samples"
	done
done

field() { # field PLAN KERNEL KEY
	echo "${res[$1:$2]}" | tr ' ' '\n' | sed -n "s/^$3=//p"
}

workload=$(grep -h '^# ksm-demo: workers=' "$LOGS/demo-demo-patched.txt" | sed 's/^# ksm-demo: //')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "KSM demo: $(base_version "$TREE") base vs base + $(wc -l <"$PATCHES/series") patches, $(date -u +%F)"
	echo "machine: User-Mode Linux, 1 CPU, ksmd on the host CPU: $cpu"
	echo "workload: $workload"
	echo "runs: one boot of each kernel per run, no spread measured (make bench-engine has more)"
	for p in $plans; do
		echo
		echo "run $p: $(sed -n 's/^# boot: *//p' "$GUEST/plans/$p" | tr ' ' '\n' | grep -v '^lab\.' | tr '\n' ' ')$(
			sed -n 's/^ksm-demo .*-A \([0-9]*\) -T \([0-9]*\) -W \([0-9]*\).*/advisor_max_cpu=\1 advisor_target_scan_time=\2, after \3 full scans with nothing to merge/p' "$GUEST/plans/$p")"
		printf '%-28s %12s %12s %8s\n' "" base patched "b/p"
		for row in "boot params:boot_params" "pages_shared:pages_shared" \
			"pages_sharing:pages_sharing" "memory saved (MiB):saved_mib" \
			"ksmd CPU (s):ksmd_cpu_s" "ksmd CPU (% of a CPU):ksmd_cpu_pct" \
			"ksmd CPU per page (us):ksmd_us_per_page" "pages_to_scan at the end:pages_to_scan" \
			"full scans:full_scans" "converged:converged" \
			"time to converge (s):converge_s"; do
			b=$(field "$p" base "${row#*:}") q=$(field "$p" patched "${row#*:}")
			case ${row#*:} in
			ksmd_cpu_s | ksmd_us_per_page | converge_s) r=$(ratio "$b" "$q" 1) ;;
			*) r= ;;
			esac
			printf '%-28s %12s %12s %8s\n' "${row%%:*}" "$b" "$q" "$r"
		done
	done
	echo
	echo "b/p: base divided by patched. Converged: pages_sharing reached 95 % of"
	echo "what the workload allows. Times count from when the workload was ready"
	echo "(run demo-advisor: from when the image began to load). Chart: build/demo.png."
	echo "THP and NUMA (QEMU): not in the series yet; this part comes with them."
} | tee "$LOGS/demo-report.txt"

gnuplot <<GP || die "gnuplot failed"
set terminal pngcairo size 900,500 noenhanced
set output "$BUILD/demo.png"
set title "KSM demo: memory saved over time (User-Mode Linux, $cpu)"
set xlabel "seconds since the workload was ready"
set ylabel "memory saved (MiB)"
set key bottom right
plot "$LOGS/demo-demo-base.samples" with lines lw 2 title "base, pages_to_scan 2000", \
     "$LOGS/demo-demo-patched.samples" with lines lw 2 title "patched, pages_to_scan 2000", \
     "$LOGS/demo-demo-advisor-base.samples" with lines lw 2 dt 2 title "base, advisor 10 % CPU", \
     "$LOGS/demo-demo-advisor-patched.samples" with lines lw 2 dt 2 title "patched, advisor 10 % CPU"
GP
log "chart: build/demo.png"
[ -n "${REPORT_ONLY:-}" ] || bash "$TOP/lab/bench-doc.sh" demo "make demo" "$LOGS/demo-report.txt"
