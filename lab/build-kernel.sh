#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a lab kernel out of tree, with ccache.
#
#   build-kernel.sh patched     build/linux (base + series)   -> build/obj/patched
#   build-kernel.sh base        tag base, unpatched           -> build/obj/base
#   build-kernel.sh bisect      build/linux as checked out    -> build/obj/bisect
#                               (make bisect checks out each patch in turn)
#
# All come from build/linux. The config is tinyconfig plus the fragments
# config/<name>.config named in FRAGMENTS (default "lab"). Prints the path of
# the bzImage.
#
# ARCH=um builds User-Mode Linux instead (make bench-engine): ARCH=um
# defconfig plus FRAGMENTS (default "uml"), into build/obj/<flavor>-um;
# prints the path of the linux binary. The patched one has the lab-only
# patches of bench/uml-patches/ on top.

. "$(dirname "$0")/lib.sh"

flavor=${1:-}
ARCH=${ARCH:-x86_64}
case $ARCH in
x86_64) FRAGMENTS=${FRAGMENTS:-lab} base_config=tinyconfig target=bzImage ;;
um) FRAGMENTS=${FRAGMENTS:-uml} base_config=defconfig target=linux ;;
*) die "ARCH=$ARCH: the lab builds x86_64 or um" ;;
esac

case $flavor in
patched | base | bisect) src=$TREE ;;
*)
	echo "usage: $0 patched|base|bisect" >&2
	exit 2
	;;
esac
[ -d "$TREE/.git" ] || die "no build/linux: run make tree"

# The base kernel is built from build/linux itself, checked out at tag base
# for the length of the build: the same source path lets ccache serve every
# file the series does not touch. The tree must be clean; its branch is
# restored on any exit.
if [ "$flavor" = base ]; then
	if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
		die "build/linux has uncommitted changes; commit them before building the base kernel"
	fi
	head=$(git -C "$TREE" symbolic-ref -q --short HEAD || git -C "$TREE" rev-parse HEAD)
	trap 'git -C "$TREE" checkout -q "$head"' EXIT
	git -C "$TREE" checkout -q --detach base
fi
# The patched UML kernel of the benchmarks also carries the lab-only patches
# in bench/uml-patches/ (the x86 page hashes in UML), which are never part of
# the series: they are applied in a worktree of their own, build/linux-um,
# reset to build/linux's HEAD for each build.
if [ "$ARCH" = um ] && [ "$flavor" = patched ] &&
	compgen -G "$TOP/bench/uml-patches/*.patch" >/dev/null; then
	# It is made from build/linux's HEAD commit: edits not committed there
	# would be missing from it.
	if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
		die "build/linux has uncommitted changes; commit them before building the UML kernel"
	fi
	src=$BUILD/linux-um
	# A worktree of an earlier build/linux, or none: make it anew.
	if [ "$(git -C "$src" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)" != "$(git -C "$TREE" rev-parse --path-format=absolute --git-common-dir)" ]; then
		rm -rf "$src"
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$src" HEAD
	fi
	git -C "$src" am --abort >/dev/null 2>&1 || true
	git -C "$src" reset -q --hard "$(git -C "$TREE" rev-parse HEAD)"
	git -C "$src" clean -q -fdx
	for p in "$TOP"/bench/uml-patches/*.patch; do
		git -C "$src" am -q --keep-cr "$p" ||
			die "lab-only patch bench/uml-patches/$(basename "$p") does not apply to build/linux"
	done
fi
[ -f "$src/Makefile" ] || die "no kernel tree at $src: run make tree"

suffix=$(echo "$FRAGMENTS" | tr ' ' '+')
case $suffix in
lab) suffix= ;;
uml) suffix=-um ;;
*) suffix=-$suffix ;;
esac
obj=$BUILD/obj/$flavor$suffix
mkdir -p "$obj"

export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# ccache keys on the compiler and preprocessed source, not on timestamps.
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
mk=(make -s -C "$src" O="$obj" ARCH="$ARCH" CC="ccache gcc" HOSTCC="ccache gcc"
	-j"$(nproc)")

# Regenerate .config only when the fragments or the tree's Kconfig changed.
frags=()
for f in $FRAGMENTS; do
	[ -f "$CONFIGS/$f.config" ] || die "no config fragment config/$f.config"
	frags+=("$CONFIGS/$f.config")
done
stamp=$(cat "${frags[@]}" | sha1sum | cut -d' ' -f1)-$(git -C "$src" rev-parse HEAD:arch/x86/Kconfig HEAD:arch/um/Kconfig HEAD:mm/Kconfig 2>/dev/null | tr '\n' -)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.config.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "configuring $flavor$suffix: $base_config + $FRAGMENTS"
	"${mk[@]}" "$base_config" >/dev/null
	(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null)
	"${mk[@]}" olddefconfig >/dev/null
	# Every symbol a fragment asks for must survive olddefconfig, unless
	# this tree does not define it (a test the base kernel lacks).
	missing=$(cat "${frags[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | while read -r want; do
		sym=${want%%=*}
		grep -qx "$want" "$obj/.config" && continue
		grep -rqsx --include='Kconfig*' "config ${sym#CONFIG_}" "$src" || continue
		echo "$want"
	done)
	[ -z "$missing" ] || die "config symbols not satisfied (missing dependency?):
$missing"
	echo "$stamp" >"$obj/.config.stamp"
fi

log "building $flavor$suffix kernel in ${obj#"$TOP"/}"
if ! "${mk[@]}" "$target" >"$obj/build.log" 2>&1; then
	tail -n 40 "$obj/build.log" >&2
	die "kernel build failed ($flavor$suffix); log: ${obj#"$TOP"/}/build.log"
fi
# Compiler warnings are shown, never buried.
grep -E 'warning:|error:' "$obj/build.log" >&2 || true
if [ "$ARCH" = um ]; then
	echo "$obj/linux"
	exit 0
fi
"${mk[@]}" headers_install >/dev/null
echo "$obj/arch/x86/boot/bzImage"
