#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Export the commits above "base" in build/linux to patches/: numbered
# format-patch files, the quilt-style "series" file, and the cover letter
# (patches/cover-letter.txt; its subject and text come from the branch
# description, which lab/tree.sh fills from the same file). The cover
# letter's "Based on" line is generated from the record of the base
# build/linux was made from, like its base-commit.
#
# The output is stable: no commit hashes (--zero-commit), no git version
# signature, index lines of one length, and the cover letter is dated like
# the newest patch, so
# `make tree && make series` leaves patches/ byte-identical.

. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || die "no build/linux: run make tree"
git -C "$TREE" rev-parse -q --verify base >/dev/null || die "build/linux has no tag base"
if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
	die "build/linux has uncommitted changes: commit them first"
fi
n=$(git -C "$TREE" rev-list --count base..HEAD)
[ "$n" -gt 0 ] || die "no commits above base in build/linux"

# The base is the one build/linux holds: lab/base.conf may have moved on
# while commits wait to be written back, and make tree would refuse to
# move the tree before they are.
if [ -f "$TREE/.git/ksm-next-base" ]; then
	pinned=$(base_record)
	load_base "$TREE/.git/ksm-next-base"
	[ "$(base_record)" = "$pinned" ] ||
		log "build/linux is on $BASE_PACKAGE $BASE_VERSION, not the one ${BASE_CONF#"$TOP"/} pins: make tree moves it"
fi
ver=$(base_version "$TREE")
[ "$ver" = "$BASE_LINUX" ] ||
	log "warning: build/linux's base is Linux $ver, its record says $BASE_LINUX: run make tree"

# Keep the description's "Based on" line in step with the base.
branch=$(git -C "$TREE" symbolic-ref --short -q HEAD || echo ksm-next)
desc=$(git -C "$TREE" config "branch.$branch.description" | sync_based_on || true)
git -C "$TREE" config "branch.$branch.description" "$desc"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# core.abbrev: git sizes abbreviated hashes (the diffs' index lines) by
# the number of objects, which differs between a fresh and a worked-in tree.
git -C "$TREE" -c core.abbrev=9 -c "branch.ksm-next.description=$desc" format-patch -q \
	--zero-commit --no-signature --no-numbered --base=base \
	--cover-letter --cover-from-description=subject \
	-o "$tmp" base..HEAD

# Date the cover letter like the newest patch, not "now".
date=$(git -C "$TREE" log -1 --format=%aD HEAD)
sed -i "s/^Date: .*/Date: $date/" "$tmp/0000-cover-letter.patch"

mkdir -p "$PATCHES"
rm -f "$PATCHES"/[0-9][0-9][0-9][0-9]-*.patch
mv "$tmp/0000-cover-letter.patch" "$PATCHES/cover-letter.txt"
mv "$tmp"/*.patch "$PATCHES/"
(cd "$PATCHES" && ls [0-9][0-9][0-9][0-9]-*.patch) >"$PATCHES/series"
git -C "$TREE" rev-parse HEAD >"$TREE/.git/ksm-next-synced"
log "patches/: $n patches and the cover letter, on Linux $ver"
