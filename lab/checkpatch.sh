#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh PATCH...: the tree's checkpatch.pl --strict on each patch.
#
# Only MISSING_SIGN_OFF is accepted (the submitter adds the Signed-off-by).
# UNKNOWN_COMMIT_ID cannot be decided here, because build/linux has no
# upstream history; instead every commit a patch cites ("Fixes: <id>",
# "commit <id>") must be listed in lab/upstream-commits.txt, with the same
# subject where the patch quotes one. Exits non-zero on any finding.

. "$(dirname "$0")/lib.sh"

known=$TOP/lab/upstream-commits.txt
rc=0
for p in "$@"; do
	p=$(cd "$(dirname "$p")" && pwd)/$(basename "$p")
	# The system python3, which has python3-ply (lab/deps.sh), for
	# scripts/spdxcheck.py, not one a pyenv or venv puts first on PATH.
	(cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict -q --no-summary \
		--ignore MISSING_SIGN_OFF,UNKNOWN_COMMIT_ID "$p") || rc=1
	# The commit message: up to the first "---" line.
	# The commit message (up to the first "---"), joined into one line so
	# that a reference wrapped over two lines is found.
	sed -n '/^$/,/^---$/p' "$p" | tr '\n' ' ' | tr -s ' ' |
		{ grep -ioE '(fixes:|commit) [0-9a-f]{6,40}( \("[^"]*"\))?' || true; } |
		while read -r ref; do
			id=$(echo "$ref" | grep -oE '[0-9a-f]{6,40}' | head -n 1)
			subj=$(echo "$ref" | sed -n 's/.*("\(.*\)")$/\1/p')
			line=$(grep -E "^${id:0:12}" "$known" || true)
			if [ -z "$line" ]; then
				echo "$(basename "$p"): cites commit $id, which lab/upstream-commits.txt does not list"
				exit 1
			fi
			if [ -n "$subj" ] && [ "$(echo "$line" | cut -d' ' -f2- | cut -f1)" != "$subj" ]; then
				echo "$(basename "$p"): commit $id is quoted as \"$subj\", upstream: $(echo "$line" | cut -d' ' -f2- | cut -f1)"
				exit 1
			fi
		done || rc=1
done
exit $rc
