#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-page-hash: the KSM page hash in use, and switching it at run time.
#
# /sys/kernel/mm/ksm/page_hash lists the page hashes this CPU can run, the
# one in use in brackets. Checks, as TAP:
#   1. exactly one is in use; it is the one the boot log names, and the
#      one ksm.hash= asked for when the kernel command line has it (an
#      unusable ksm.hash= must be logged as ignored; with --require, it
#      fails the test: the plans that force a hash use it, so that a CPU
#      model without that hash cannot pass them unnoticed);
#   2. writing each listed name makes it the one in use;
#   3. an unknown name is refused (EINVAL) and changes nothing;
#   4. the original one is restored.
# Merging with each hash is checked by the boots that force it (plans
# hash-*), runtime switches under load by ksm-stress's knob flips.
# Exit status: 0 when all pass, 1 otherwise, 4 (skip) without the file.

f=/sys/kernel/mm/ksm/page_hash
require=0
[ "$1" = --require ] && require=1
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

current() {
	sed -n 's/.*\[\([^]]*\)\].*/\1/p' $f
}

if [ ! -f $f ]; then
	echo "1..0 # SKIP no $f"
	exit 4
fi
echo "1..4"
list=$(cat $f)
echo "# page_hash: $list"
orig=$(current)
brackets=$(tr -cd '[' <$f | wc -c)
want=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^ksm\.hash=//p' | tail -n 1)
logged=$(dmesg | sed -n 's/.*ksm: using \([^ ]*\) page hash.*/\1/p' | tail -n 1)
rc=0
[ "$brackets" = 1 ] && [ -n "$orig" ] && [ "$orig" = "$logged" ] || rc=1
if [ -n "$want" ] && echo " $(tr -d '[]' <$f) " | grep -q " $want "; then
	[ "$orig" = "$want" ] || rc=1
elif [ -n "$want" ] && [ $require = 1 ]; then
	echo "# ksm.hash=$want is not usable on this CPU, and the plan requires it"
	rc=1
elif [ -n "$want" ]; then
	# Not a usable hash: the kernel must say so and choose by speed.
	dmesg | grep -q "ksm: ignoring ksm.hash=$want: no such page hash" || rc=1
fi
ok $rc "one page hash in use: $orig (boot log: $logged, ksm.hash=${want:-none})"

rc=0
for h in $(tr -d '[]' <$f); do
	echo "$h" >$f || rc=1
	[ "$(current)" = "$h" ] || { echo "# wrote $h, in use: $(current)"; rc=1; }
done
ok $rc "switching to each of: $(tr -d '[]' <$f)"

rc=0
before=$(cat $f)
if echo nosuch >$f 2>/dev/null; then
	echo "# 'nosuch' was accepted"
	rc=1
fi
[ "$(cat $f)" = "$before" ] || rc=1
ok $rc "an unknown page hash is refused and changes nothing"

echo "$orig" >$f
[ "$(current)" = "$orig" ]
ok $? "restored $orig"
[ $failed = 0 ]
