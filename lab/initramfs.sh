#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs for one kernel flavour:
#
#   initramfs.sh patched|base   -> build/guest/<flavour>.cpio.gz
#
# Contents: Debian's static busybox and bash, the tree's KSM kselftests
# (installed by the kselftest build, linked statically against the tree's
# uapi headers), the project's guest programs (guest/*.c, guest/*.sh), their
# shell library (guest/lib.sh, as /lib/lab.sh) and the test plans
# (guest/plans/). Prints the path of the archive.

. "$(dirname "$0")/lib.sh"

flavor=${1:-}
case $flavor in
patched | base) ;;
*)
	echo "usage: $0 patched|base" >&2
	exit 2
	;;
esac
# The programs come from build/linux as it is (the series' kselftests, with
# their fixes); the uapi headers from the flavour's x86 kernel build. Where
# there is none (make demo and the UML benches build only UML kernels),
# from build/linux's own headers_install, into build/obj/uapi: the series
# changes no uapi header.
src=$TREE
hdr=$BUILD/obj/$flavor/usr/include
if [ ! -d "$hdr/linux" ]; then
	hdr=$BUILD/obj/uapi/usr/include
	make -s -C "$src" O="$BUILD/obj/uapi" ARCH=x86_64 headers_install >/dev/null ||
		die "installing build/linux's uapi headers into build/obj/uapi failed"
fi

out=$BUILD/guest/$flavor
root=$out/root
rm -rf "$root"
mkdir -p "$out" "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,kselftests,plans}

busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
	die "need a static busybox (apt-get install busybox-static)"
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done

CC=${CC:-gcc}
cflags=(-O2 -Wall -static -no-pie -U_FORTIFY_SOURCE)

# The tree's KSM kselftests, built and installed the kernel's way (the
# kselftest Makefile, TARGETS=mm), statically, against the flavour's uapi
# headers. The guest keeps the mm install's KSM part: run_vmtests.sh, its
# ksft_ksm*.sh wrappers and the ksm_* programs, plus the kselftest runner
# (run_kselftest.sh), whose list is cut to the ksm wrappers.
# run_vmtests.sh needs bash: Debian's bash-static.
kst_obj=$out/kselftests-build
kst=$out/kselftests
rm -rf "$kst"
# Upstream's own compiler and linker warnings go to the log, not the terminal.
if ! make -s -C "$src/tools/testing/selftests" TARGETS=mm O="$kst_obj" CC="$CC" \
	KHDR_INCLUDES="-isystem $hdr" EXTRA_CFLAGS="-static" \
	INSTALL_PATH="$kst" -j"$(nproc)" install >"$out/kselftests.build.log" 2>&1; then
	tail -n 40 "$out/kselftests.build.log" >&2
	die "building the mm kselftests failed (build/guest/$flavor/kselftests.build.log)"
fi
mkdir -p "$root/kselftests/mm"
cp -a "$kst/run_kselftest.sh" "$kst/kselftest" "$root/kselftests/"
grep '^mm:ksft_ksm' "$kst/kselftest-list.txt" >"$root/kselftests/kselftest-list.txt"
cp -a "$kst/mm/run_vmtests.sh" "$kst/mm/settings" "$kst"/mm/ksft_ksm*.sh "$kst"/mm/ksm_* \
	"$root/kselftests/mm/"
bash_static=$(command -v bash-static || true)
[ -n "$bash_static" ] || die "need a static bash for run_vmtests.sh (apt-get install bash-static)"
cp "$bash_static" "$root/bin/bash"

# The project's guest programs: one static binary per guest/*.c, scripts as
# is; but ksm-hugetlb is dynamic, for libhugetlbfs to be preloaded into it.
for c in "$GUEST"/*.c; do
	[ -f "$c" ] || continue
	n=$(basename "$c" .c)
	[ "$n" != ksm-hugetlb ] || continue
	$CC "${cflags[@]}" -isystem "$hdr" -I "$src/tools/testing/selftests" \
		"$c" -lnuma -lpthread -o "$root/bin/$n" || die "building guest/$n.c failed"
done
$CC -O2 -Wall -isystem "$hdr" "$GUEST/ksm-hugetlb.c" -o "$root/bin/ksm-hugetlb" ||
	die "building guest/ksm-hugetlb.c failed"

# libhugetlbfs for plan hugetlbfs: Debian's hugeadm, hugectl and the
# library hugectl preloads (libhugetlbfs-bin, libhugetlbfs0), with the
# host's dynamic loader and C library, all they need (ldd).
lib=/usr/lib/x86_64-linux-gnu
[ -x /usr/bin/hugeadm ] && [ -e $lib/libhugetlbfs.so.0 ] ||
	die "need libhugetlbfs (apt-get install libhugetlbfs-bin libhugetlbfs0)"
mkdir -p "$root$lib" "$root/lib64" "$root/var/lib"
cp /usr/bin/hugeadm /usr/bin/hugectl "$root/bin/"
cp -L $lib/libhugetlbfs.so.0 "$root$lib/libhugetlbfs.so.0"
ln -sf libhugetlbfs.so.0 "$root$lib/libhugetlbfs.so"
for l in $(ldd /usr/bin/hugeadm /usr/bin/hugectl $lib/libhugetlbfs.so.0 "$root/bin/ksm-hugetlb" |
	sed -n 's|.*[[:space:]]\(/[^ ]*\) (0x.*|\1|p' | sort -u); do
	mkdir -p "$root$(dirname "$l")"
	cp -L "$l" "$root$l"
done
mkdir -p "$root/lib"
install -m 0644 "$GUEST/lib.sh" "$root/lib/lab.sh"
for s in "$GUEST"/*.sh; do
	[ "$s" != "$GUEST/lib.sh" ] || continue
	install -m 0755 "$s" "$root/bin/$(basename "$s" .sh)"
done
install -m 0755 "$GUEST/init" "$root/init"
cp "$GUEST"/plans/* "$root/plans/"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 >"$out.cpio.gz"
echo "$out.cpio.gz"
