#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the unpatched base kernel and the patched kernel, booted with
# the same ksm.* parameters and the same workload (guest/plans/demo, the
# ksm-demo program), side by side.
#
# The base kernel does not know the ksm.* parameters; ksm-demo then writes
# the same values through sysfs before the workload starts, and the report
# says so ("boot params: written" against "applied").
#
# Writes build/logs/demo-<kernel>.* and build/logs/demo-report.txt.

. "$(dirname "$0")/lib.sh"

LOGS=$BUILD/logs
bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"

declare -A res
for k in base patched; do
	kernel=$(bash "$TOP/lab/build-kernel.sh" "$k")
	initrd=$(bash "$TOP/lab/initramfs.sh" "$k")
	bash "$TOP/lab/run-vm.sh" "demo-$k" "$kernel" "$initrd" demo ||
		die "the demo boot of the $k kernel failed: see build/logs/demo-$k.console.log"
	line=$(grep -h '^# ksm-demo: boot_params=' "$LOGS/demo-$k.tap" | tail -n 1 || true)
	[ -n "$line" ] || die "no ksm-demo result in build/logs/demo-$k.tap"
	res[$k]=$line
done

field() { # field KERNEL KEY
	echo "${res[$1]}" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

workload=$(grep -h '^# ksm-demo: workers=' "$LOGS/demo-patched.tap" | sed 's/^# ksm-demo: //')
params=$(sed -n 's/^# boot: *//p' "$GUEST/plans/demo")
{
	echo "KSM demo: $(base_version "$TREE") base vs base + $(wc -l <"$PATCHES/series") patches"
	echo "workload: $workload"
	echo "ksm.* parameters: $params"
	echo "machine: QEMU $(qemu_accel | tr a-z A-Z), 2 vCPUs, 2 NUMA nodes; times are emulated"
	echo
	printf '%-26s %14s %14s\n' "" base patched
	for row in "boot params:boot_params" "pages_shared:pages_shared" \
		"pages_sharing:pages_sharing" "memory saved (MiB):saved_mib" \
		"general_profit (MiB):general_profit_mib" "full scans:full_scans" \
		"ksmd CPU time (s):ksmd_cpu_s" "converged:converged" \
		"time to converge (s):converge_s"; do
		printf '%-26s %14s %14s\n' "${row%%:*}" "$(field base "${row#*:}")" \
			"$(field patched "${row#*:}")"
	done
} | tee "$LOGS/demo-report.txt"
