#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Export the commits above "base" in build/linux to patches/: numbered
# format-patch files, the quilt-style "series" file, and the cover letter
# (patches/cover-letter.txt; its subject and text come from the branch
# description, which lab/tree.sh fills from the same file).
#
# The output is stable: no commit hashes (--zero-commit), no git version
# signature, and the cover letter is dated like the newest patch, so
# `make tree && make series` leaves patches/ byte-identical.

. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || die "no build/linux: run make tree"
git -C "$TREE" rev-parse -q --verify base >/dev/null || die "build/linux has no tag base"
if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
	die "build/linux has uncommitted changes: commit them first"
fi
n=$(git -C "$TREE" rev-list --count base..HEAD)
[ "$n" -gt 0 ] || die "no commits above base in build/linux"

branch=$(git -C "$TREE" symbolic-ref --short -q HEAD || echo ksm-next)
desc=$(git -C "$TREE" config "branch.$branch.description" || true)
ver=$(base_version "$TREE")
case $desc in
*"$ver"*) ;;
*) die "the cover letter (branch description of $branch) must name the base, Linux $ver" ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$TREE" -c "branch.ksm-next.description=$desc" format-patch -q \
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
