#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bisect: build and boot every patch of the series on its own.
#
# For each commit of build/linux from base to HEAD (the last N with LAST=N),
# in order: check it out, detached, in build/linux itself (ccache then serves
# what it shares with its neighbours), build the lab kernel into
# build/obj/bisect, and boot it under QEMU with plan smoke
# (run_vmtests.sh -t ksm) and an initramfs of that commit's kselftests and
# guest programs: a kselftest is tested against the kernel of its own tree.
# A patch fails on a build
# error, a failed test, a kernel report on the console, or a failed KUnit
# case. The branch is restored on any exit. Prints TAP, one line per patch;
# logs in build/logs/bisect-NN.*. Each patch takes 0.3-3 minutes with a warm
# ccache, so this is not part of make check: run it after rebasing.

. "$(dirname "$0")/lib.sh"

bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || die "no build/linux: run make tree"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them first"
head=$(git -C "$TREE" symbolic-ref -q --short HEAD || git -C "$TREE" rev-parse HEAD)
mapfile -t commits < <(git -C "$TREE" rev-list --reverse base..HEAD)
[ "${#commits[@]}" -gt 0 ] || die "build/linux has no patches on base"
first=0
[ -n "${LAST:-}" ] && [ "$LAST" -lt "${#commits[@]}" ] && first=$((${#commits[@]} - LAST))

trap 'git -C "$TREE" checkout -q "$head"' EXIT
mkdir -p "$BUILD/logs"

echo "TAP version 13"
echo "1..$((${#commits[@]} - first))"
n=0 failed=0
for ((i = first; i < ${#commits[@]}; i++)); do
	c=${commits[$i]}
	n=$((n + 1))
	name=$(printf 'bisect-%02d' $((i + 1)))
	subject=$(git -C "$TREE" log -1 --format=%s "$c")
	git -C "$TREE" checkout -q --detach "$c"
	why=
	if ! bz=$(bash "$TOP/lab/build-kernel.sh" bisect 2>"$BUILD/logs/$name.build.log"); then
		why="build failed: build/logs/$name.build.log"
	elif ! initrd=$(bash "$TOP/lab/initramfs.sh" patched 2>"$BUILD/logs/$name.initramfs.log"); then
		why="initramfs failed: build/logs/$name.initramfs.log"
	elif ! bash "$TOP/lab/run-vm.sh" "$name" "$bz" "$initrd" smoke >/dev/null 2>&1; then
		why="boot failed or a kernel report: build/logs/$name.console.log"
	elif ! grep -q '^ok ' "$BUILD/logs/$name.tap" || grep -q '^not ok ' "$BUILD/logs/$name.tap"; then
		why="smoke test failed: build/logs/$name.tap"
	elif [ -f "$BUILD/logs/$name.kunit.tap" ] && grep -q '^# *not ok ' "$BUILD/logs/$name.kunit.tap"; then
		why="a KUnit case failed: build/logs/$name.kunit.tap"
	fi
	if [ -n "$why" ]; then
		echo "not ok $n $(printf '%04d' $((i + 1))) $subject # $why"
		failed=$((failed + 1))
	else
		echo "ok $n $(printf '%04d' $((i + 1))) $subject"
	fi
done
[ "$failed" = 0 ]
