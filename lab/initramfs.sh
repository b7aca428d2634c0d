#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs for one kernel flavour:
#
#   initramfs.sh patched|base   -> build/guest/<flavour>.cpio.gz
#
# Contents: Debian's static busybox, the tree's KSM kselftests (linked
# statically against the tree's uapi headers and Debian's libnuma.a), the
# project's guest programs (guest/*.c, guest/*.sh) and the test plans
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
# their fixes); the uapi headers from the flavour's kernel build.
src=$TREE
obj=$BUILD/obj/$flavor
hdr=$obj/usr/include
[ -d "$hdr/linux" ] || die "no uapi headers in $hdr: run lab/build-kernel.sh $flavor first"

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

# The tree's own KSM kselftests, built by their own Makefile
# (tools/testing/selftests/mm), static, against the flavour's uapi headers.
sel=$src/tools/testing/selftests/mm
kst=$out/kselftests
rm -rf "$kst"
mkdir -p "$kst"
# Upstream's own compiler and linker warnings go to the log, not the terminal.
if ! make -s -C "$sel" OUTPUT="$kst" CC="$CC" \
	KHDR_INCLUDES="-isystem $hdr" EXTRA_CFLAGS="-static -no-pie" \
	"$kst/ksm_tests" "$kst/ksm_functional_tests" >"$out/kselftests.build.log" 2>&1; then
	cat "$out/kselftests.build.log" >&2
	die "building the KSM kselftests failed"
fi
cp "$kst/ksm_tests" "$kst/ksm_functional_tests" "$root/kselftests/"

# The project's guest programs: one static binary per guest/*.c, scripts as is.
for c in "$GUEST"/*.c; do
	[ -f "$c" ] || continue
	n=$(basename "$c" .c)
	$CC "${cflags[@]}" -isystem "$hdr" -I "$src/tools/testing/selftests" \
		"$c" -lnuma -lpthread -o "$root/bin/$n" || die "building guest/$n.c failed"
done
for s in "$GUEST"/*.sh; do
	[ -f "$s" ] || continue
	install -m 0755 "$s" "$root/bin/$(basename "$s" .sh)"
done
install -m 0755 "$GUEST/init" "$root/init"
cp "$GUEST"/plans/* "$root/plans/"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 >"$out.cpio.gz"
echo "$out.cpio.gz"
