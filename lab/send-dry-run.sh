#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make send-dry-run: write the series as mails into build/mail/, offline.
# To: and Cc: come from the tree's scripts/get_maintainer.pl, as b4 would
# take them (see b4-config); nothing is sent. To send for real, use b4 in
# build/linux (b4 prep / b4 send), which reads .b4-config there.

. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"
out=$BUILD/mail
rm -rf "$out"
mkdir -p "$out"

# --nofixes: build/linux has no upstream history, so get_maintainer.pl
# cannot look up the authors of the commits our Fixes: tags name; b4 send
# on a full upstream tree adds them.
gm() { # gm OPTIONS... -- addresses for all patches, one per line
	(cd "$TREE" && ./scripts/get_maintainer.pl --nogit --nogit-fallback \
		--nogit-chief-penguins --norolestats --nofixes "$@" "$PATCHES"/[0-9]*.patch) |
		sort -u
}
to=$(gm --nol)
cc=$( (gm --nom; echo linux-mm@kvack.org; echo linux-kernel@vger.kernel.org) | sort -u)

args=()
while read -r a; do [ -n "$a" ] && args+=(--to="$a"); done <<<"$to"
while read -r a; do [ -n "$a" ] && args+=(--cc="$a"); done <<<"$cc"

branch=$(git -C "$TREE" symbolic-ref --short -q HEAD || echo ksm-next)
git -C "$TREE" format-patch -q --thread=shallow --cover-letter \
	--cover-from-description=subject --base=base --no-signature \
	"${args[@]}" -o "$out" base.."$branch"
log "wrote $(ls "$out" | wc -l) mails to build/mail/"
echo "To: $(paste -sd, <<<"$to" | sed 's/,/, /g')"
echo "Cc: $(paste -sd, <<<"$cc" | sed 's/,/, /g')"
