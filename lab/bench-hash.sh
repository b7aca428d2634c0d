#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-hash: KSM's page hashes against their peers, natively.
#
# Builds bench/hash/bench-hash.c, which compiles the series' hash source
# straight from build/linux (lib/xxhash.c, arch/x86/lib/ksm_page_hash.c)
# through a small shim, and runs it on one pinned core: hot and cold ns
# per page, GB/s, and ratios, for the kernel's xxh64, the series' crc32c,
# XXH3, intel-ipsec-mb's CRC32 and the load-only limit. Writes
# build/bench-hash.csv and build/bench-hash.png (gnuplot). Needs x86-64
# with SSE4.2 and AVX2. Do not run it beside a kernel build or a VM: the
# figures are of an idle core.

. "$(dirname "$0")/lib.sh"

bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"
grep -qw avx2 /proc/cpuinfo || die "make bench-hash needs a CPU with AVX2 (the load-only limit uses it)"
[ -f "$TREE/arch/x86/lib/ksm_page_hash.c" ] ||
	die "build/linux has no arch/x86/lib/ksm_page_hash.c: is the series applied?"

bin=$BUILD/bench-hash
csv=$BUILD/bench-hash.csv
png=$BUILD/bench-hash.png
# -Ulinux: GNU C predefines "linux" as 1, which would break the tree path.
gcc -O2 -Wall -Ulinux -DTREE="$TREE" -I"$TOP/bench/hash/shim" \
	-o "$bin" "$TOP/bench/hash/bench-hash.c" -lIPSec_MB -lxxhash ||
	die "building bench/hash/bench-hash.c failed"
log "running $bin (a few seconds: it fills a 1 GiB set first)"
"$bin" "$csv"

gnuplot <<GP || die "gnuplot failed"
set terminal pngcairo size 900,500
set output "$png"
set datafile separator ","
set title "KSM page hashes, ns per 4 KiB page (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "ns per page"
set key top right
set xtics rotate by -20
plot "$csv" every ::1 using 2:xtic(1) title "hot (one page in L1)", '' every ::1 using 5 title "cold (random pages of 1 GiB)"
GP
log "table above; CSV: ${csv#"$TOP"/}; chart: ${png#"$TOP"/}"
