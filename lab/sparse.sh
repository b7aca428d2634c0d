#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make sparse: sparse and W=1 warnings in the kernel C files the series
# touches, on the base and on the patched tree. Fails, listing them, when
# the series adds any. The count is per file, without line numbers, so
# that moved code does not count as new.
#
#   make sparse [FILES="mm/ksm.c ..."]
#
# FILES defaults to every .c file outside tools/ that the series changes
# and the lab's kernel config builds. Debian 12's sparse (0.6.4) is too old
# for 7.3's headers (scripts/checker-valid.sh refuses it), and the newer
# one of later Debian releases needs their glibc: so this builds sparse
# 0.6.5~rc1 from Debian's source package, pinned by checksum, into
# build/tools, once. The source comes from the unstable suite of the
# machine's own archive through a private apt configuration (lib.sh's
# private_apt, in build/apt-sparse); nothing is
# installed on the machine. Objects go to build/obj/base and
# build/obj/patched, as make kernel's; a normal build afterwards rebuilds
# the files checked here without W=1.

. "$(dirname "$0")/lib.sh"

SPARSE_VERSION=0.6.5~rc1
SPARSE_SHA256=3ac8855ec7f3ab92f325be0f64347ccc2b10f8b4d7c2906783ee8e2bdab3f0de
TOOLS=$BUILD/tools
SPARSE=$TOOLS/sparse-$SPARSE_VERSION/sparse
apt_dir=$BUILD/apt-sparse
tarball=sparse_${SPARSE_VERSION}.orig.tar.gz

bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"

fetch_sparse() {
	local uri

	uri=$(main_archive_uri)
	[ -n "$uri" ] || die "no entry for the machine's main suite in its apt sources"
	# unstable's Release file may be past its Valid-Until on a frozen mirror
	private_apt "$apt_dir" "lab/sparse.sh, for sparse's source only" \
		"deb-src [signed-by=$KEYRING] $uri sid main" \
		'Acquire::Check-Valid-Until "false";'
	export APT_CONFIG=$apt_dir/apt.conf
	log "fetching sparse $SPARSE_VERSION's source from Debian unstable"
	apt-get -qq update >/dev/null || die "apt-get update of $apt_dir failed"
	(cd "$apt_dir/download" && apt-get -qq source --download-only "sparse=$SPARSE_VERSION-2" >/dev/null) ||
		die "cannot download sparse $SPARSE_VERSION's source"
	echo "$SPARSE_SHA256  $apt_dir/download/$tarball" | sha256sum -c --quiet ||
		die "$tarball does not have the pinned SHA256"
	mkdir -p "$TOOLS"
	tar xzf "$apt_dir/download/$tarball" -C "$TOOLS"
	log "building sparse in ${TOOLS#"$TOP"/}"
	make -s -C "$TOOLS/sparse-${SPARSE_VERSION/\~/-}" -j"$(nproc)" sparse \
		HAVE_LLVM=no HAVE_GTK=no HAVE_LIBXML=no >/dev/null ||
		die "building sparse failed"
	ln -sfn "sparse-${SPARSE_VERSION/\~/-}" "$TOOLS/sparse-$SPARSE_VERSION"
}

[ -x "$SPARSE" ] || fetch_sparse
[ "$(bash "$TREE/scripts/checker-valid.sh" "$SPARSE" -m64)" = 1 ] ||
	die "$SPARSE does not pass the kernel's scripts/checker-valid.sh"

# Both trees configured and built, so that single objects can be made.
bash "$TOP/lab/build-kernel.sh" base >/dev/null
bash "$TOP/lab/build-kernel.sh" patched >/dev/null

if [ -z "${FILES:-}" ]; then
	FILES=$(git -C "$TREE" diff --name-only base HEAD -- '*.c' ':!tools' | tr '\n' ' ')
fi

# warnings FLAVOR OBJ...: the sorted warnings of those objects, one per
# line, as "file: message", for the tree checked out now.
warnings() {
	local obj=$BUILD/obj/$1
	shift
	make -s -C "$TREE" O="$obj" ARCH=x86_64 CC="ccache gcc" \
		CHECK="$SPARSE" C=2 W=1 -k "$@" 2>&1 |
		grep -E ': (warning|error):' |
		sed -E -e "s|^$TREE/||" -e 's/^([^:]+):[0-9]+:[0-9]+:/\1:/' | sort
}

# The files the patched config builds: those with an object in build/obj.
objs=()
for f in $FILES; do
	[ -f "$BUILD/obj/patched/${f%.c}.o" ] && objs+=("${f%.c}.o")
done
[ ${#objs[@]} -gt 0 ] || die "none of the files is built by the lab's config: $FILES"
log "sparse and W=1 on ${#objs[@]} files: ${objs[*]}"

warnings patched "${objs[@]}" >"$BUILD/sparse-patched.txt"

head=$(git -C "$TREE" symbolic-ref -q --short HEAD || git -C "$TREE" rev-parse HEAD)
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them first"
trap 'git -C "$TREE" checkout -q "$head"' EXIT
git -C "$TREE" checkout -q --detach base
base_objs=()
for o in "${objs[@]}"; do
	[ -f "$TREE/${o%.o}.c" ] && base_objs+=("$o")
done
: >"$BUILD/sparse-base.txt"
[ ${#base_objs[@]} -eq 0 ] || warnings base "${base_objs[@]}" >"$BUILD/sparse-base.txt"
git -C "$TREE" checkout -q "$head"
trap - EXIT

echo "sparse and W=1: base $(wc -l <"$BUILD/sparse-base.txt") warnings, patched $(wc -l <"$BUILD/sparse-patched.txt") (build/sparse-*.txt)"
new=$(comm -13 "$BUILD/sparse-base.txt" "$BUILD/sparse-patched.txt")
if [ -n "$new" ]; then
	echo "$new"
	die "the series adds the sparse or W=1 warnings above"
fi
log "the series adds no sparse or W=1 warning in ${#objs[@]} files"
