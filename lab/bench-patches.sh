#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-patches: what each patch of the engine changes in ksmd's CPU
# time, for the figures of its commit message.
#
# Boots the UML kernel (as make bench-engine does, lab-only patches of
# bench/uml-patches/ included) of the base and of each patch from FROM to
# TO (patch numbers, default 14 and the last), one boot each, and runs
# guest/ksm-engine-bench's SCENARIOS (default "unique prefix vm") at MIB
# (default 2048) RUNS times in each boot (default 2), with ksm.hash=HASH
# when HASH is set (before "mm/ksm: time the page hashes over a tick of
# a coarse clock", UML's boot timing cannot tell the hashes apart and
# takes xxhash); BASE=0 leaves the base out. Each patch's
# kernel is build/linux checked out at that patch, detached; the branch
# is restored on any exit. Prints one table, ksmd CPU per scanned page
# and, for vm, the time it took to converge, and writes
# build/bench-patches.txt and .csv. REPORT_ONLY=1 prints the table again
# from the console logs. Needs an idle machine; each boot takes 6-10
# minutes.

. "$(dirname "$0")/lib.sh"

SCENARIOS=${SCENARIOS:-unique prefix vm}
MIB=${MIB:-2048}
RUNS=${RUNS:-2}
HASH=${HASH:-}
FROM=$((10#${FROM:-14}))
BASE=${BASE:-1}
LOGS=$BUILD/logs
out=$BUILD/bench-patches.txt
csv=$BUILD/bench-patches.csv

[ -d "$TREE/.git" ] || die "no build/linux: run make tree"
mapfile -t commits < <(git -C "$TREE" rev-list --reverse base..HEAD)
TO=$((10#${TO:-${#commits[@]}}))
[ "$FROM" -ge 1 ] && [ "$TO" -le "${#commits[@]}" ] && [ "$FROM" -le "$TO" ] ||
	die "FROM=$FROM TO=$TO: patch numbers from 1 to ${#commits[@]}"

bench=
for ((r = 0; r < RUNS; r++)); do
	for s in $SCENARIOS; do
		bench=$bench${bench:+,}$s:$MIB
	done
done
names=()
[ "$BASE" = 0 ] || names=(base)
for ((i = FROM; i <= TO; i++)); do
	names+=("$(printf '%04d' "$i")")
done

if [ -z "${REPORT_ONLY:-}" ]; then
	bash "$TOP/lab/deps.sh"
	[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
		die "build/linux has uncommitted changes; commit them first"
	initrd=$(bash "$TOP/lab/initramfs.sh" patched)
	head=$(git -C "$TREE" symbolic-ref -q --short HEAD || git -C "$TREE" rev-parse HEAD)
	trap 'git -C "$TREE" checkout -q "$head"' EXIT
	for n in "${names[@]}"; do
		if [ "$n" = base ]; then
			kernel=$(ARCH=um bash "$TOP/lab/build-kernel.sh" base)
		else
			git -C "$TREE" checkout -q --detach "${commits[$((10#$n - 1))]}"
			kernel=$(ARCH=um bash "$TOP/lab/build-kernel.sh" patched)
		fi
		ARCH=um bash "$TOP/lab/run-vm.sh" -t 14400 -m $((MIB + 1024))M \
			"bench-patches-$n" "$kernel" "$initrd" bench-engine \
			lab.timeout=7200 lab.bench="$bench" ${HASH:+ksm.hash=$HASH} >/dev/null ||
			die "the run of $n failed: see build/logs/bench-patches-$n.*"
	done
fi

field() { # field KEY: from the result lines on stdin, one value per line
	tr ' ' '\n' | sed -n "s/^$1=//p"
}

one_line() { # the values on stdin as "a b ..."
	tr '\n' ' ' | sed 's/ $//'
}

{
	echo "bench-patches: $(base_version "$TREE") base and patches $FROM-$TO, UML, $MIB MiB, $RUNS runs per boot, one boot each"
	echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "page hash: ${HASH:-chosen at boot}"
	echo "KSM: smart_scan=0 pages_to_scan=1000 sleep_millisecs=0; ksmd CPU per scanned page (us);"
	echo "vm: also the seconds until merged; the CSV has the streaming-read limit of each boot"
	echo
	printf '%-5s %-50s' patch subject
	for s in $SCENARIOS; do printf ' | %-24s' "$s"; done
	echo
	echo "patch,scenario,run,cpu_per_page_us,converge_s,stream_ns_per_page,pages_sharing" >"$csv"
	for n in "${names[@]}"; do
		log=$LOGS/bench-patches-$n.console.log
		[ -f "$log" ] || continue
		if [ "$n" = base ]; then
			subject="(the base, $(base_version "$TREE"))"
		else
			subject=$(git -C "$TREE" log -1 --format=%s "${commits[$((10#$n - 1))]}" | cut -c1-50)
		fi
		printf '%-5s %-50s' "$n" "$subject"
		for s in $SCENARIOS; do
			lines=$(sed -n "s/^[# ]*ksm-engine-bench: \(scenario=$s mib=$MIB .*\)/\1/p" "$log")
			v=$(echo "$lines" | field cpu_per_page_us | one_line)
			[ "$s" != vm ] || [ -z "$v" ] || v="$v, $(echo "$lines" | field converge_s | one_line) s"
			[ -n "$v" ] || v=-
			printf ' | %-24s' "$v"
			r=0
			while read -r l; do
				[ -n "$l" ] || continue
				r=$((r + 1))
				echo "$n,$s,$r,$(echo "$l" | field cpu_per_page_us),$(echo "$l" | field converge_s),$(echo "$l" | field stream_ns_per_page),$(echo "$l" | field pages_sharing)" >>"$csv"
			done <<<"$lines"
		done
		echo
	done
} | tee "$out"
log "table: ${out#"$TOP"/}; CSV: ${csv#"$TOP"/}"
[ -n "${REPORT_ONLY:-}" ] || bash "$TOP/lab/bench-doc.sh" bench-patches \
	"make bench-patches FROM=$FROM TO=$TO SCENARIOS=\"$SCENARIOS\" MIB=$MIB RUNS=$RUNS${HASH:+ HASH=$HASH} BASE=$BASE" "$out"
