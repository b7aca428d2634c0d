#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# profile-ksmd.sh: where ksmd's time goes, by function, natively.
#
#   bash lab/profile-ksmd.sh NAME [BENCH [ARGS]]
#
# Boots the patched UML kernel (as make bench-engine does, lab-only
# patches of bench/uml-patches/ included) with one guest/ksm-engine-bench
# run, BENCH (SCENARIO:MIB, default vm:8192) with ARGS (its options, ':'
# for spaces, default -n:2:-w:3:-k:10:-T:20: two processes with one 4 GiB
# image, about 940000 KSM pages). UML's kernel is a host process, so the
# host's perf samples it (cpu-clock) for up to 30 s once the bench logs
# "ksm-engine-bench: measuring", when the image is merged and ksmd only
# scans (sleep_millisecs=0; the bench's processes sleep). Prints the
# bench's result line and perf's report by symbol; the data stays in
# build/perf-NAME.data. Static functions the compiler inlined are counted
# in their caller: to see one apart, build with it noinline, on a
# commit of its own in build/linux, for the run. Needs perf (Debian:
# linux-perf), about 11 GiB of /dev/shm for the default, and an idle
# machine; a run takes about 5 minutes.

. "$(dirname "$0")/lib.sh"

name=${1:?usage: profile-ksmd.sh NAME [SCENARIO:MIB [ARGS]]}
bench=${2:-vm:8192}
args=${3:--n:2:-w:3:-k:10:-T:20}
command -v perf >/dev/null || die "no perf: apt-get install linux-perf"
mib=${bench#*:}
kernel=$(ARCH=um bash "$TOP/lab/build-kernel.sh" patched)
initrd=$(bash "$TOP/lab/initramfs.sh" patched)
log=$BUILD/logs/$name.console.log
data=$BUILD/perf-$name.data
rm -f "$log" "$data"
ARCH=um bash "$TOP/lab/run-vm.sh" -t 3600 -m $((mib + 3072))M "$name" "$kernel" "$initrd" \
	bench-engine lab.timeout=3000 lab.bench="$bench" lab.bench_args="$args" >/dev/null &
vm=$!
for _ in $(seq 3000); do
	grep -qs "ksm-engine-bench: measuring" "$log" && break
	kill -0 "$vm" 2>/dev/null || break
	sleep 1
done
grep -qs "ksm-engine-bench: measuring" "$log" || die "the bench never started measuring: see $log"
# The oldest "linux" process is UML's kernel; its processes are others.
pid=$(pgrep -xo linux) || die "no UML process"
log "profiling UML process $pid"
timeout -s INT 30 perf record -q -e cpu-clock -F 1999 -p "$pid" -o "$data" >/dev/null 2>&1 || true
wait "$vm" || die "the run failed: see $log"
sed -n 's/^[# ]*\(ksm-engine-bench: scenario=.*\)/\1/p' "$log"
perf report -i "$data" --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | sed -n '1,30p'
