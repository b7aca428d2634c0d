#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: everything CI runs.
#
#  1. install what is missing (lab/deps.sh)
#  2. fetch the base lab/base.conf pins (lab/fetch-base.sh) and make
#     build/linux from it and patches/ (lab/tree.sh)
#  3. checkpatch.pl --strict on every patch (lab/checkpatch.sh)
#  4. build the patched kernel, its debug build (config/debug.config: KASAN,
#     lockdep, DEBUG_VM, ...) and the initramfs
#  5. boot them once per entry of CHECK_BOOTS (KERNEL:PLAN[,PLAN...]); each
#     boot also fails on any kernel report in its console log, and its
#     KUnit results (the kernel's suites, run before /init) count too
#  6. print the merged TAP and "N passed, N failed, N skipped"; exit 1 on
#     any failure, and on any skip that lab/expected-skips does not list
#
# A step before the boots (1, 2, 4) that fails ends the run there, with the
# same TAP and summary: the step counts as one failed result, named after
# its error, and its output stays above it behind "# ".
#
# Logs: build/logs/ (<step>.log for the steps before the boots).

. "$(dirname "$0")/lib.sh"

# Each page hash QEMU's TCG offers gets a boot that forces it (under TCG
# the boot timing picks xxhash or avx2) and runs the KSM kselftests
# (run_vmtests.sh -t ksm and -t ksm_numa: the kernel's and the series') and
# the stress test with it: crc32c and avx2 on the lab kernel, xxhash on the
# debug kernel. AVX-512 is not emulated: make bench-hash checks it
# natively. hash-calibrated checks the timing's choice and runtime switches.
# The avx2 boot keeps 4 bits of each checksum (checksum-collide), so that
# its tests run on colliding checksums: only page contents decide merges.
# memory-offline, on the lockdep kernel, takes memory blocks that hold KSM
# pages offline while the page hash keeps changing: both paths take
# ksm_thread_mutex, memory offline under cpus_read_lock().
# hugetlbfs (libhugetlbfs's hugeadm and get_huge_pages(), MAP_HUGETLB)
# checks that KSM leaves hugetlb memory alone while it merges THPs, on both
# kernels, before the stress test fragments their memory.
# Every skip must be listed, with its reason, in lab/expected-skips.
CHECK_BOOTS=${CHECK_BOOTS:-"patched:hash-crc32c,kselftests,hugetlbfs,stress
	patched:hash-avx2,checksum-collide,kselftests,stress,checksum-collide-check
	patched:bootparams-valid patched:bootparams-invalid patched:bootparams-garbage
	patched:bootparams-advisor patched:hash-bogus patched:hash-calibrated
	debug:hash-xxhash,kselftests,hugetlbfs,stress-debug,memory-offline
	patched:numa4,stress debug:numa4"}
LOGS=$BUILD/logs
start=$(date +%s)
mkdir -p "$LOGS"
rm -f "$LOGS"/*.tap "$LOGS"/*.reports
streams=()

summary() {
	log "make check took $(($(date +%s) - start)) s"
	EXPECTED_SKIPS=$TOP/lab/expected-skips bash "$TOP/lab/tap-merge.sh" "${streams[@]}" |
		tee "$LOGS/check.tap"
	exit "${PIPESTATUS[0]}"
}

# step NAME CMD...: run one step before the boots as a one-result TAP
# stream. Its stderr is shown as it runs and kept in build/logs/NAME.log,
# its stdout (a path the next steps need) in $step_out. On failure the
# result is named after the step's last "error: " line, and check.sh goes
# straight to the summary: a failed step leaves nothing to boot.
step() {
	local name=$1 tap=$LOGS/$1.tap log=$LOGS/$1.log rc=0 why
	shift
	{ "$@" 2>&1 >"$LOGS/$name.out" | tee "$log" >&2; } || rc=$?
	step_out=$(cat "$LOGS/$name.out")
	rm -f "$LOGS/$name.out"
	streams+=("$name:$tap")
	if [ "$rc" -eq 0 ]; then
		printf 'TAP version 13\n1..1\nok 1 done\n' >"$tap"
		return 0
	fi
	why=$(sed -n 's/^error: \(.*[^:]\):*$/\1/p' "$log" | tail -n 1)
	{
		printf 'TAP version 13\n1..1\n'
		tail -n 40 "$log" | sed 's/^/# /'
		printf 'not ok 1 %s\n' "${why:-failed (exit $rc), see build/logs/$name.log}"
	} >"$tap"
	summary
}

# shellcheck disable=SC2317 # run through step
make_tree() {
	[ -s "$PATCHES/series" ] || die "patches/series is missing or empty"
	bash "$TOP/lab/tree.sh"
}

step deps bash "$TOP/lab/deps.sh"
step base bash "$TOP/lab/fetch-base.sh"
step tree make_tree

# checkpatch: one result per patch.
cp_tap=$LOGS/checkpatch.tap
{
	echo "TAP version 13"
	echo "1..$(wc -l <"$PATCHES/series")"
	i=0
	while read -r p; do
		i=$((i + 1))
		if out=$(bash "$TOP/lab/checkpatch.sh" "$PATCHES/$p" 2>&1); then
			echo "ok $i $p"
		else
			echo "$out" | sed 's/^/# /'
			echo "not ok $i $p"
		fi
	done <"$PATCHES/series"
} >"$cp_tap"
streams+=("checkpatch:$cp_tap")

declare -A kernel
step kernel-patched bash "$TOP/lab/build-kernel.sh" patched
kernel[patched]=$step_out
step kernel-debug env FRAGMENTS="lab debug" bash "$TOP/lab/build-kernel.sh" patched
kernel[debug]=$step_out
step initramfs bash "$TOP/lab/initramfs.sh" patched
initrd=$step_out

for boot in $CHECK_BOOTS; do
	k=${boot%%:*} plan=${boot#*:}
	name=check-$k-${plan//,/+}
	suite=$k/$plan
	vm_tap=$LOGS/$name.vm.tap
	if bash "$TOP/lab/run-vm.sh" "$name" "${kernel[$k]}" "$initrd" "$plan" lab.kernel="$k"; then
		printf 'TAP version 13\n1..1\nok 1 %s: finished, console log clean\n' "$suite" >"$vm_tap"
	else
		{
			printf 'TAP version 13\n1..1\n'
			sed 's/^/# /' "$LOGS/$name.reports" 2>/dev/null || true
			printf 'not ok 1 %s: guest did not finish or the kernel reported a problem (%s)\n' \
				"$suite" "build/logs/$name.console.log"
		} >"$vm_tap"
	fi
	streams+=("$suite:$LOGS/$name.tap" "vm:$vm_tap")
	# The kernel's own KUnit suites: a kernel built with KUnit must report.
	kunit=$LOGS/$name.kunit.tap
	if [ ! -f "$kunit" ] && grep -qx 'CONFIG_KUNIT=y' "${kernel[$k]%/arch/*}/.config"; then
		printf 'TAP version 13\n1..1\nnot ok 1 no KUnit results on the console\n' >"$kunit"
	fi
	[ -f "$kunit" ] && streams+=("$suite/kunit:$kunit")
done

summary
