#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Put a benchmark's last table into docs/benchmarks.md, the one place for
# the project's figures:
#
#   bench-doc.sh NAME "COMMAND" TABLE_FILE
#
# Replaces the section of NAME (between "<!-- bench NAME -->" and
# "<!-- /bench NAME -->"; appended when missing) with the command that
# produced it, the date, the CPU, the series it measured and the table as
# the bench printed it (its own header says how many runs, and the
# spread). The bench targets call it at the end of a run; nobody edits
# these sections by hand.

. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: bench-doc.sh NAME COMMAND TABLE_FILE"
name=$1 cmd=$2 table=$3
[ -s "$table" ] || die "no table in $table"
doc=$TOP/docs/benchmarks.md
mkdir -p "$TOP/docs"
[ -f "$doc" ] || cat >"$doc" <<'HEAD'
# Benchmarks

Each section is the last run of one bench target, written by the target
itself (lab/bench-doc.sh): the command, the date, the CPU it ran on and
the table it printed. The bench's own header line says how many runs each
figure is and how far they spread. Run the command again to replace a
section; the CPU matters (AVX-512 is there on some machines and not on
others).
HEAD

section=$(mktemp)
{
	echo "<!-- bench $name -->"
	echo "## $name"
	echo
	echo "Command: \`$cmd\`, run $(date -u +%F)."
	echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) ($(nproc) CPUs)."
	dirty=$(git -C "$TOP" status --porcelain -- Makefile lab guest bench config patches)
	echo "Series: $(wc -l <"$PATCHES/series") patches on Linux $(base_version "$TREE") (project commit $(git -C "$TOP" rev-parse --short HEAD)${dirty:+, with uncommitted changes}; build/linux at $(git -C "$TREE" rev-parse --short HEAD))."
	echo
	echo '```'
	cat "$table"
	echo '```'
	echo "<!-- /bench $name -->"
} >"$section"

awk -v name="$name" -v section="$section" '
	$0 == "<!-- bench " name " -->" { skip = 1; while ((getline l < section) > 0) print l; done = 1; next }
	skip && $0 == "<!-- /bench " name " -->" { skip = 0; next }
	skip { next }
	{ print }
	END {
		if (!done) {
			print ""
			while ((getline l < section) > 0) print l
		}
	}
' "$doc" >"$doc.new"
mv "$doc.new" "$doc"
rm -f "$section"
log "docs/benchmarks.md: section $name updated"
