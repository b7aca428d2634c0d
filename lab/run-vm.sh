#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a lab kernel under QEMU and run one guest test plan.
#
#   run-vm.sh [-t SECONDS] [-m MEM] [-n NODES] NAME BZIMAGE INITRAMFS PLAN[,PLAN...] [KERNEL PARAMS...]
#
# The machine: x86_64, TCG (KVM if /dev/kvm is usable), -cpu max without
# LA57 (QEMU_CPU, lib.sh), 2 vCPUs, THP always on, MEM split evenly
# between its NUMA nodes. NODES is 2 (the default: SLIT distance 20, one
# vCPU each) or 4, two groups of two: nodes 0 and 2, and 1 and 3, at
# distance 12 within a group and 32 across, with a vCPU on nodes 0 and 1
# (2 and 3 are memory only: Linux numbers the nodes with CPUs first, so
# these are the node ids the guest sees). A plan asks for 4 with a
# "# nodes: 4" line; -n overrides. Extra kernel parameters (ksm.*, ...)
# pass through.
#
# With ARCH=um, BZIMAGE is a User-Mode Linux binary (lab/build-kernel.sh
# ARCH=um), run as a host process: one CPU, MEM of RAM in a /dev/shm file,
# no THP, no NUMA. Its stdout is the console, ttyS1 its fd 3. UML maps each
# guest page on its own once KSM has merged it: vm.max_map_count is raised
# to 4000000 on the host if it is lower (root only).
#
# Writes build/logs/<NAME>.console.log (the whole serial console),
# build/logs/<NAME>.tap (the guest's TAP) and, when the kernel ran KUnit
# suites, build/logs/<NAME>.kunit.tap. Exits non-zero when the guest did
# not finish its plan in time, or when the console shows a kernel BUG,
# WARNING, Oops, lockdep, KASAN/UBSAN report or panic, even if every test
# passed.

. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '4,6p' "$0" | sed 's/^# //' >&2
	exit 2
}

timeout_s=${VM_TIMEOUT:-1800}
mem=${VM_MEM:-3G}
nodes=
while getopts "t:m:n:h" o; do
	case $o in
	t) timeout_s=$OPTARG ;;
	m) mem=$OPTARG ;;
	n) nodes=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 4 ] || usage
name=$1 kernel=$2 initrd=$3 plan=$4
shift 4

LOGS=$BUILD/logs
mkdir -p "$LOGS"
console=$LOGS/$name.console.log
tap=$LOGS/$name.tap
rm -f "$console" "$tap"

accel=$(qemu_accel)
# PLAN is one plan or several, comma-separated, run in one boot. A plan
# names the kernel parameters it needs in "# boot:" lines.
plan_files=()
for p in ${plan//,/ }; do
	[ -f "$GUEST/plans/$p" ] || die "no test plan guest/plans/$p"
	plan_files+=("$GUEST/plans/$p")
done
plan_args=$(sed -n 's/^# boot: *//p' "${plan_files[@]}" | tr '\n' ' ')
plan_nodes=$(sed -n 's/^# nodes: *//p' "${plan_files[@]}" | sort -u)
[ "$(echo "$plan_nodes" | grep -c .)" -le 1 ] ||
	die "the plans $plan ask for different numbers of nodes: $(echo "$plan_nodes" | tr '\n' ' ')"
nodes=${nodes:-${plan_nodes:-2}}
start=$(date +%s)
set +e
if [ "${ARCH:-x86_64}" = um ]; then
	if [ "$(sysctl -n vm.max_map_count)" -lt 4000000 ]; then
		log "raising vm.max_map_count to 4000000 for UML"
		sysctl -qw vm.max_map_count=4000000 || die "cannot raise vm.max_map_count (not root?)"
	fi
	log "boot $name: plan $plan, UML, 1 CPU, $mem, append: $plan_args$*"
	# shellcheck disable=SC2086 # plan_args holds several parameters
	TMPDIR=/dev/shm timeout -k 10 "$timeout_s" "$kernel" mem="$mem" initrd="$initrd" \
		con=null con0=null,fd:1 ssl=null ssl1=null,fd:3 noreboot \
		lab.plan="$plan" $plan_args "$@" </dev/null >"$console" 2>&1 3>"$tap"
	rc=$?
else
	part=$(($(numfmt --from=iec "$mem") / nodes / 1048576))M
	numa=()
	for ((i = 0; i < nodes; i++)); do
		numa+=(-object "memory-backend-ram,id=m$i,size=$part")
	done
	# shellcheck disable=SC2054 # QEMU's option values hold the commas
	case $nodes in
	2)
		numa+=(-numa node,nodeid=0,cpus=0,memdev=m0
			-numa node,nodeid=1,cpus=1,memdev=m1
			-numa dist,src=0,dst=1,val=20)
		;;
	4)
		numa+=(-numa node,nodeid=0,cpus=0,memdev=m0
			-numa node,nodeid=1,cpus=1,memdev=m1
			-numa node,nodeid=2,memdev=m2
			-numa node,nodeid=3,memdev=m3
			-numa dist,src=0,dst=2,val=12 -numa dist,src=1,dst=3,val=12
			-numa dist,src=0,dst=1,val=32 -numa dist,src=0,dst=3,val=32
			-numa dist,src=1,dst=2,val=32 -numa dist,src=2,dst=3,val=32)
		;;
	*) die "NODES must be 2 or 4, not '$nodes'" ;;
	esac
	cmdline="console=ttyS0 panic=-1 transparent_hugepage=always lab.plan=$plan $plan_args$*"
	log "boot $name: plan $plan, $accel, 2 vCPUs, $mem on $nodes nodes, append: $plan_args$*"
	timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel "$accel" -cpu "$QEMU_CPU" -smp 2,sockets=2,cores=1,threads=1 -m "$mem" \
		"${numa[@]}" \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		-display none -monitor none -no-reboot \
		-serial "file:$console" -serial "file:$tap" </dev/null
	rc=$?
fi
set -e
log "boot $name: ${ARCH:-x86_64} exited $rc after $(($(date +%s) - start)) s; console: ${console#"$TOP"/}"

# The kernel's KUnit results (KTAP on the console, before /init): one
# stream, build/logs/<NAME>.kunit.tap, with each suite's cases behind "# ".
kunit=$LOGS/$name.kunit.tap
rm -f "$kunit"
# awk reads to the end rather than exit after the last result: under
# pipefail, an early exit can fail the pipeline (and the run) with SIGPIPE.
tr -d '\r' <"$console" | sed -E 's/^\[ *[0-9.]+\] //' | awk '
	fin { next }
	!on && $0 == "KTAP version 1" { on = 1; print "TAP version 13"; next }
	!on { next }
	/^1\.\.[0-9]+$/ && !plan { plan = substr($0, 4) + 0; print; if (!plan) fin = 1; next }
	/^    / { sub(/^    /, "# "); print; next }
	/^(not )?ok [0-9]+ / { print; if (++done == plan) fin = 1; next }
' >"$kunit"
[ -s "$kunit" ] || rm -f "$kunit"

fail=0
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "run-vm: $name: hard timeout of ${timeout_s}s hit" >&2
	fail=1
fi
if ! grep -q '^# lab: plan .* done' "$tap" 2>/dev/null; then
	echo "run-vm: $name: the guest did not finish its plan" >&2
	fail=1
fi
# Kernel reports that fail a run whatever the tests said.
bad='BUG:|WARNING:|Oops|general protection fault|kernel BUG at|Kernel panic|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|INFO: task .* blocked|Call Trace:'
if grep -nE "$bad" "$console" >"$LOGS/$name.reports" 2>/dev/null; then
	echo "run-vm: $name: the kernel log has reports:" >&2
	head -n 20 "$LOGS/$name.reports" >&2
	fail=1
else
	rm -f "$LOGS/$name.reports"
fi
exit $fail
