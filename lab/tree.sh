#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel tree: the Debian linux-source package lab/base.conf pins
# (fetched by lab/fetch-base.sh) as one commit tagged "base", with patches/
# applied on top by git am, one commit per patch.
#
#   tree.sh                 (re)create build/linux
#   tree.sh KERNEL_SRC      apply the series to your own kernel git tree, on a
#                           new branch, in a temporary worktree (your checked-out
#                           branch and working tree are not touched)

. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: $0 [KERNEL_SRC]" >&2
	exit 2
}

series_patches() {
	local p
	[ -f "$PATCHES/series" ] || return 0
	while read -r p; do
		case "$p" in '' | '#'*) continue ;; esac
		[ -f "$PATCHES/$p" ] || die "patches/series names $p, which does not exist"
		echo "$PATCHES/$p"
	done <"$PATCHES/series"
}

# The cover letter's subject and blurb become the branch description, so
# that lab/series.sh can write them back unchanged; its "Based on" line is
# the one for lab/base.conf.
cover_description() {
	local cover=$PATCHES/cover-letter.txt

	if [ ! -f "$cover" ]; then
		printf 'KSM: next-generation merge engine\n\n(cover letter to be written)\n' |
			sync_based_on
		return
	fi
	awk '
	/^Subject: / && !subj { s = $0; sub(/^Subject: (\[[^]]*\] )?/, "", s); subj = 1; insubj = 1; next }
	insubj && /^[ \t]/ { t = $0; sub(/^[ \t]+/, " ", t); s = s t; next }
	insubj { insubj = 0; print s; print ""; inbody = 1; next }
	inbody && /^[^ ].* \([0-9]+\):$/ { exit }
	inbody { lines[++n] = $0 }
	END {
		while (n > 0 && lines[n] == "") n--
		for (i = 1; i <= n; i++) print lines[i]
	}' "$cover" | sync_based_on
}

apply_series() {
	local tree=$1 p list
	# An assignment, so that a die in series_patches stops us here.
	list=$(series_patches)
	for p in $list; do
		# No hooks of the tree's own: they could edit or refuse a patch.
		if ! out=$(git -C "$tree" -c core.hooksPath=/dev/null am --keep-cr "$p" 2>&1); then
			git -C "$tree" am --abort >/dev/null 2>&1 || true
			# The patches applied so far are patches/' own: the next
			# make tree may reset them without FORCE.
			if [ "$tree" = "$TREE" ]; then
				git -C "$tree" rev-parse HEAD >"$tree/.git/ksm-next-synced"
			fi
			# git am's own output, indented: its "error: " lines
			# are not ours (check.sh names a failure by our last).
			die "patch $(basename "$p") does not apply:
  ${out//$'\n'/$'\n'  }"
		fi
	done
}

# build/cache/base.git: the base .deb's tarball as one commit, tagged base.
# Its message, identity and dates come from the record only, so the commit,
# and the cover letter's base-commit, is the same on every machine. The
# record it was made from is kept in it (ksm-next-base); another record
# makes it anew.
make_pristine() {
	local deb unpack tmp ver

	if [ "$(cat "$PRISTINE/ksm-next-base" 2>/dev/null)" = "$(base_record)" ]; then
		return 0
	fi
	deb=$(bash "$TOP/lab/fetch-base.sh")
	log "unpacking $BASE_PACKAGE $BASE_VERSION (once; cached in ${PRISTINE#"$TOP"/})"
	mkdir -p "$CACHE"
	unpack=$(mktemp -d "$CACHE/unpack.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $unpack is local
	trap "rm -rf '$unpack'" EXIT
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$BASE_PACKAGE.tar.xz" |
		tar -C "$unpack" -xJ
	tmp=$unpack/$BASE_PACKAGE
	[ -f "$tmp/Makefile" ] || die "$deb holds no $BASE_PACKAGE/ tree in usr/src/$BASE_PACKAGE.tar.xz"
	ver=$(base_version "$tmp")
	[ "$ver" = "$BASE_LINUX" ] ||
		die "$BASE_PACKAGE $BASE_VERSION holds Linux $ver, not $BASE_LINUX as its version says"
	git -C "$tmp" init -q -b upstream
	git -C "$tmp" config core.autocrlf false
	# Debian's tarball may ship a .gitignore-hidden file or two: add with -f.
	git -C "$tmp" add -A -f .
	GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
		git -C "$tmp" commit -q -m "Linux $BASE_LINUX" \
		-m "Unpacked from Debian's $BASE_PACKAGE $BASE_VERSION."
	git -C "$tmp" tag base
	rm -rf "$PRISTINE"
	git clone -q --bare "$tmp" "$PRISTINE"
	base_record >"$PRISTINE/ksm-next-base"
	rm -rf "$unpack"
	trap - EXIT
}

tree_build_linux() {
	local head synced

	make_pristine
	if [ -d "$TREE/.git" ]; then
		if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
			die "build/linux has uncommitted changes; commit or stash them first"
		fi
		# Commits made since the last make tree or make series are not in
		# patches/ yet: refuse, rather than reset them away.
		head=$(git -C "$TREE" rev-parse HEAD)
		synced=$(cat "$TREE/.git/ksm-next-synced" 2>/dev/null || true)
		if [ "$head" != "$synced" ] && [ "$head" != "$(git -C "$TREE" rev-parse base)" ] &&
			[ -z "${FORCE:-}" ]; then
			die "build/linux has commits that are not in patches/: run make series first
(or FORCE=1 make tree to drop them; they are kept under refs/backup/)"
		fi
		# Never lose commits: keep the old HEAD under refs/backup/.
		if [ "$head" != "$(git -C "$TREE" rev-parse base)" ]; then
			git -C "$TREE" update-ref "refs/backup/$(date +%Y%m%d-%H%M%S)" HEAD
		fi
		# The base may have moved (lab/base.conf): take the tag from
		# base.git; the old commits stay reachable from refs/backup/.
		git -C "$TREE" fetch -q --no-tags "$PRISTINE" "+refs/tags/base:refs/tags/base"
		git -C "$TREE" checkout -q -B ksm-next base
		git -C "$TREE" clean -q -fdx -e .b4-config
	else
		log "creating $TREE"
		rm -rf "$TREE"
		git clone -q --no-checkout "$PRISTINE" "$TREE"
		git -C "$TREE" checkout -q -b ksm-next base
	fi
	git -C "$TREE" config core.autocrlf false
	cp "$TOP/b4-config" "$TREE/.b4-config"
	grep -qx '.b4-config' "$TREE/.git/info/exclude" 2>/dev/null ||
		echo '.b4-config' >>"$TREE/.git/info/exclude"
	git -C "$TREE" config branch.ksm-next.description "$(cover_description)"
	base_record >"$TREE/.git/ksm-next-base"
	apply_series "$TREE"
	git -C "$TREE" rev-parse HEAD >"$TREE/.git/ksm-next-synced"
	log "build/linux: $(git -C "$TREE" rev-list --count base..HEAD) patches on Linux $(base_version "$TREE")"
}

tree_user() {
	local src=$1 branch wt start out

	git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || die "$src is not a git tree"
	[ "$src" != "$TOP" ] || die "KERNEL_SRC is this repository; give your kernel tree"
	# Your tree, your commits: the lab's fixed identity (ksm-next@invalid,
	# the patches' From:) stays in build/. Each commit is made under your
	# own git identity, author and committer, ready for your Signed-off-by.
	user_identity
	git -C "$src" var GIT_AUTHOR_IDENT >/dev/null 2>&1 ||
		die "$src has no git identity: set user.name and user.email there"
	branch=ksm-next
	while git -C "$src" rev-parse -q --verify "refs/heads/$branch" >/dev/null; do
		branch=ksm-next-$(date +%Y%m%d-%H%M%S)
		sleep 1
	done
	wt=$BUILD/kernel-src-worktree
	rm -rf "$wt"
	mkdir -p "$BUILD"
	git -C "$src" worktree prune
	git -C "$src" worktree add -q -b "$branch" "$wt" HEAD
	# Remove the worktree on any exit; the branch too, unless the series
	# is all on it under your identity.
	done_ok=
	# shellcheck disable=SC2064 # expand now: $src, $wt, $branch are local
	trap "git -C '$src' worktree remove --force '$wt' 2>/dev/null || true
		[ -n \"\$done_ok\" ] || git -C '$src' branch -q -D '$branch' 2>/dev/null || true" EXIT
	start=$(git -C "$wt" rev-parse HEAD)
	apply_series "$wt"
	if ! out=$(git -C "$wt" -c core.hooksPath=/dev/null rebase -q --exec \
		'git -c core.hooksPath=/dev/null commit -q --amend --no-edit --cleanup=verbatim --reset-author' \
		"$start" 2>&1); then
		git -C "$wt" rebase --abort >/dev/null 2>&1 || true
		die "could not take the series' commits under your identity in $src:
$out"
	fi
	done_ok=1
	log "$src: branch $branch = $(git -C "$src" rev-parse --abbrev-ref HEAD 2>/dev/null || echo HEAD) + $(series_patches | wc -l) patches (your checked-out branch is unchanged)"
}

case $# in
0) tree_build_linux ;;
1)
	src=$(cd "$1" 2>/dev/null && pwd) || die "KERNEL_SRC=$1: no such directory"
	tree_user "$src"
	;;
*) usage ;;
esac
