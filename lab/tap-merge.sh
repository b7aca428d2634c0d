#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Merge TAP files into one TAP stream and count the leaf results.
#
#   tap-merge.sh SUITE:FILE...
#
# Each FILE is one TAP stream (a guest boot, the checkpatch run, ...). Each
# of its top-level results becomes one result of the merged stream, named
# "SUITE: <name>", and its output stays behind "# ". The counts are of leaf
# results: the kselftest results a program printed itself when it printed
# any, else the top-level one. A program that failed without printing a
# failure counts one failure; a stream that ended before its plan counts one
# failure per missing result. A leaf "not ok ... # TODO" result is a known
# failure (a base-kernel bug the series fixes) and counts as todo, not as a
# failure. Prints the merged TAP and, last, the line
# "N passed, N failed, N skipped" (", N todo" when there are any); exits 1
# when anything failed.

set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 SUITE:FILE..." >&2; exit 2; }

for a in "$@"; do
	echo "@@suite ${a%%:*}"
	cat "${a#*:}" 2>/dev/null || true
done | awk '
function flush_top(line, suite,    st) {
	st = line ~ /^not ok/ ? "fail" : (line ~ /# SKIP/ ? "skip" : "pass")
	if (np + nf + ns == 0) {
		if (st == "fail") nf = 1; else if (st == "skip") ns = 1; else np = 1
	} else if (st == "fail" && nf == 0) {
		nf = 1
	}
	P += np; F += nf; S += ns
	sub(/^(not )?ok [0-9]+ /, "", line)
	out[++N] = sprintf("%s %d %s: %s", st == "fail" ? "not ok" : "ok", N, suite, line)
	np = nf = ns = 0
}
/^@@suite / {
	if (suite != "") finish()
	suite = $2; plan = -1; seen = 0; np = nf = ns = 0
	next
}
/^1\.\.[0-9]+/ && plan < 0 { plan = substr($1, 4) + 0; next }
/^(not )?ok [0-9]+/ { seen++; flush_top($0, suite); next }
/^# +(not )?ok [0-9]+/ {
	if ($0 ~ /^# +not ok.*# TODO/) TD++
	else if ($0 ~ /^# +not ok/) nf++
	else if ($0 ~ /# SKIP/) ns++
	else np++
}
/^#/ { out[++N] = $0; next }
function finish() {
	if (plan < 0) {
		F++
		out[++N] = sprintf("not ok %d %s: no TAP plan (the run did not start)", N, suite)
		return
	}
	for (; seen < plan; seen++) {
		F++
		out[++N] = sprintf("not ok %d %s: result %d missing (the run ended early)", N, suite, seen + 1)
	}
}
END {
	if (suite != "") finish()
	print "TAP version 13"
	T = 0
	for (i = 1; i <= N; i++) if (out[i] ~ /^(not )?ok /) T++
	print "1.." T
	k = 0
	for (i = 1; i <= N; i++) {
		l = out[i]
		if (l ~ /^(not )?ok /) { k++; sub(/ok [0-9]+ /, "ok " k " ", l) }
		print l
	}
	printf "%d passed, %d failed, %d skipped%s\n", P, F, S, TD ? ", " TD " todo" : ""
	exit F > 0
}
'
