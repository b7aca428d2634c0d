#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-boot-params: check what the ksm.* kernel parameters of this boot did.
#
#   ksm-boot-params [KNOB=VALUE...] [-w KNOB...]
#
# KNOB=VALUE: /sys/kernel/mm/ksm/KNOB must show VALUE (advisor_mode: the
# bracketed mode). Every other of the eleven boot knobs must show its default.
# -w KNOB: the kernel log must carry the warning for ksm.KNOB (the value
# given on the command line was refused); no other ksm.* warning may appear.
#
# Prints kselftest TAP: one result per knob, one for the kernel log.

. /lib/lab.sh

KNOBS="run pages_to_scan sleep_millisecs merge_across_nodes merge_nodes_distance cold_scans use_zero_pages max_page_sharing smart_scan thp_split_threshold advisor_mode"

default() {
	case $1 in
	run) echo 0 ;;
	pages_to_scan) echo 100 ;;
	sleep_millisecs) echo 20 ;;
	merge_across_nodes) echo 1 ;;
	merge_nodes_distance) echo 255 ;;
	cold_scans) echo 0 ;;
	use_zero_pages) echo 0 ;;
	max_page_sharing) echo 256 ;;
	smart_scan) echo 1 ;;
	thp_split_threshold) echo 1 ;;
	advisor_mode) echo none ;;
	esac
}

expect=""
warned=""
while [ $# -gt 0 ]; do
	case $1 in
	-w) warned="$warned $2"; shift 2 ;;
	*=*) expect="$expect $1"; shift ;;
	*) echo "usage: ksm-boot-params [KNOB=VALUE...] [-w KNOB...]" >&2; exit 2 ;;
	esac
done

echo "TAP version 13"
if [ ! -d "$KSM" ]; then
	echo "1..0 # SKIP no $KSM (CONFIG_KSM=n)"
	exit 4
fi
echo "1..12"
echo "# cmdline: $(cat /proc/cmdline)"

fails=0
n=0
for k in $KNOBS; do
	n=$((n + 1))
	want=$(default "$k")
	why=default
	for e in $expect; do
		[ "${e%%=*}" = "$k" ] && want=${e#*=} && why="set"
	done
	if [ ! -e "$KSM/$k" ]; then
		echo "ok $n $k # SKIP no $KSM/$k in this kernel"
		continue
	fi
	got=$(ksm_get "$k")
	if [ "$got" = "$want" ]; then
		echo "ok $n $k shows $got ($why)"
	else
		echo "not ok $n $k shows '$got', expected '$want' ($why)"
		fails=$((fails + 1))
	fi
done

n=$((n + 1))
log=/tmp/ksm-boot-params.dmesg
dmesg | grep 'ksm: ignoring ksm\.' >"$log"
sed 's/^/# dmesg: /' "$log"
bad=""
for k in $warned; do
	grep -q "ignoring ksm\.$k=" "$log" || bad="$bad missing:$k"
done
while IFS= read -r l; do
	k=$(echo "$l" | sed -n 's/.*ignoring ksm\.\([a-z_]*\)=.*/\1/p')
	case " $warned " in
	*" $k "*) ;;
	*) bad="$bad unexpected:$k" ;;
	esac
done <"$log"
if [ -z "$bad" ]; then
	echo "ok $n kernel log warns exactly for:${warned:- nothing}"
else
	echo "not ok $n kernel log warnings wrong:$bad"
	fails=$((fails + 1))
fi

[ $fails -eq 0 ] || exit 1
exit 0
