#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Merge TAP files into one TAP stream and count the leaf results.
#
#   [EXPECTED_SKIPS=FILE] tap-merge.sh SUITE:FILE...
#
# Each FILE is one TAP stream (a guest boot, the checkpatch run, ...). Each
# of its top-level results becomes one result of the merged stream, named
# "SUITE: <name>", and its output stays behind "# ". Results nest: a test
# runner (run_vmtests.sh) prints each program's output behind "# ", the
# program its own results, and the guest puts one more "# " in front of
# all of it. The counts are of leaf results: the results a test printed
# itself when it printed any, else its own one, at any depth. A test that
# failed without printing a failure counts one failure; a stream that ended
# before its plan counts one failure per missing result. A leaf
# "not ok ... # TODO" result is a known failure and counts as todo, not as
# a failure.
#
# With EXPECTED_SKIPS, every leaf skip, written as
# "SUITE: TEST > ... > CASE # SKIP reason", must match one of the file's
# extended regular expressions (one per line; blank lines and lines that
# start with # are comments, which give each entry's reason). A skip that
# matches none is a failure, listed at the end as "unexpected skip".
#
# Prints the merged TAP and, last, the line "N passed, N failed, N skipped"
# (", N todo" when there are any); exits 1 when anything failed.

set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 SUITE:FILE..." >&2; exit 2; }

{
	if [ -n "${EXPECTED_SKIPS:-}" ]; then
		grep -Ev '^[[:space:]]*(#|$)' "$EXPECTED_SKIPS" | sed 's/^/@@skip /' || true
	fi
	for a in "$@"; do
		echo "@@suite ${a%%:*}"
		cat "${a#*:}" 2>/dev/null || true
	done
} | awk -v check_skips="${EXPECTED_SKIPS:+1}" '
# The depth of a line: how many "# " stand in front of it.
function depth(l,    d) {
	d = 0
	while (substr(l, 1, 2) == "# ") { l = substr(l, 3); d++ }
	return d
}
function strip(l, d) { return substr(l, 2 * d + 1) }
function clear_below(d,    i) {
	for (i = d + 1; i <= maxd; i++) { cp[i] = cf[i] = cs[i] = ct[i] = 0; sk[i] = "" }
}
# A result at depth d: what its children counted, or itself.
function result(l, d,    st, name, n, i, list) {
	st = l ~ /^not ok/ ? (l ~ /# TODO/ ? "todo" : "fail") : (l ~ /# SKIP/ ? "skip" : "pass")
	name = l
	sub(/^(not )?ok [0-9]+ *(- )?/, "", name)
	if (d + 1 > maxd) maxd = d + 1
	if (cp[d + 1] + cf[d + 1] + cs[d + 1] + ct[d + 1] > 0) {
		rp = cp[d + 1]; rf = cf[d + 1]; rs = cs[d + 1]; rt = ct[d + 1]
		if (st == "fail" && rf == 0) rf = 1
		n = split(sk[d + 1], list, "\n")
		for (i = 1; i <= n; i++)
			if (list[i] != "") sk[d] = sk[d] "\n" name " > " list[i]
	} else {
		rp = st == "pass"; rf = st == "fail"; rs = st == "skip"; rt = st == "todo"
		if (st == "skip") sk[d] = sk[d] "\n" name
	}
	clear_below(d)
	return st
}
# Lines from the serial port of the guest end in CR LF.
{ sub(/\r$/, "") }
/^@@skip / { expect[++NE] = substr($0, 8); next }
/^@@suite / {
	if (suite != "") finish()
	suite = substr($0, 9); plan = -1; seen = 0; clear_below(-1)
	next
}
/^1\.\.[0-9]+/ && plan < 0 { plan = substr($1, 4) + 0; next }
/^(not )?ok [0-9]+/ {
	seen++
	st = result($0, 0)
	P += rp; F += rf; S += rs; TD += rt
	n = split(sk[0], list, "\n")
	for (i = 1; i <= n; i++) if (list[i] != "") skips[++NS] = suite ": " list[i]
	sk[0] = ""
	l = $0
	sub(/^(not )?ok [0-9]+ /, "", l)
	out[++N] = sprintf("%s %d %s: %s", st == "fail" ? "not ok" : "ok", N, suite, l)
	next
}
/^# / {
	d = depth($0)
	if (strip($0, d) ~ /^(not )?ok [0-9]+/) {
		result(strip($0, d), d)
		cp[d] += rp; cf[d] += rf; cs[d] += rs; ct[d] += rt
	}
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
	if (check_skips) {
		for (i = 1; i <= NS; i++) {
			ok = 0
			for (j = 1; j <= NE && !ok; j++) if (skips[i] ~ expect[j]) ok = 1
			if (!ok) {
				F++; S--
				out[++N] = sprintf("not ok %d unexpected skip (not in the expected skips): %s", N, skips[i])
			}
		}
	}
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
	if (check_skips) {
		print "# skips:"
		for (i = 1; i <= NS; i++) print "#   " skips[i]
	}
	printf "%d passed, %d failed, %d skipped%s\n", P, F, S, TD ? ", " TD " todo" : ""
	exit F > 0
}
'
