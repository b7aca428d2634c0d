#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-hash: KSM's page hashes against their peers, natively.
#
# Builds bench/hash/tree-hashes.c, which compiles the series' hash source
# straight from build/linux (lib/xxhash.c, arch/x86/lib/ksm_page_hash.c)
# through a small shim, with the kernel's code-generation limits, and
# bench/hash/bench-hash.c, which runs it on one pinned core: hot, cold and
# streamed ns per page, GB/s and ratios, for the kernel's xxh64, every x86
# page hash of the series this CPU can run, the kernel's crc32c() code that
# the series' crc32c hash runs (lib/crc/x86, through
# bench/hash/tree-crc32c.S), XXH3, intel-ipsec-mb's CRC32 and the
# load-only limit. It first checks that the avx2 and avx512 hashes
# and their scalar fallback agree. Writes build/bench-hash.csv,
# build/bench-hash.png (gnuplot) and the table into docs/benchmarks.md. Needs x86-64 with SSE4.2 and AVX2. Do not
# run it beside a kernel build or a VM: the figures are of an idle core.

. "$(dirname "$0")/lib.sh"

bash "$TOP/lab/deps.sh"
[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"
grep -qw avx2 /proc/cpuinfo || die "make bench-hash needs a CPU with AVX2 (the load-only limit uses it)"
[ -f "$TREE/arch/x86/lib/ksm_page_hash.c" ] ||
	die "build/linux has no arch/x86/lib/ksm_page_hash.c: is the series applied?"

bin=$BUILD/bench-hash
csv=$BUILD/bench-hash.csv
png=$BUILD/bench-hash.png
# The tree's hashes build as the kernel builds them: no vector registers
# for the compiler (-mgeneral-regs-only, as the kernel's -mno-sse -mno-avx).
# -Ulinux: GNU C predefines "linux" as 1, which would break the tree path.
gcc -O2 -Wall -mgeneral-regs-only -Ulinux -DTREE="$TREE" -I"$TOP/bench/hash/shim" \
	-c -o "$bin-tree.o" "$TOP/bench/hash/tree-hashes.c" ||
	die "building bench/hash/tree-hashes.c from build/linux failed"
gcc -Ulinux -DTREE="$TREE" -I"$TOP/bench/hash/shim" -c -o "$bin-crc32c.o" \
	"$TOP/bench/hash/tree-crc32c.S" ||
	die "assembling bench/hash/tree-crc32c.S (lib/crc/x86) from build/linux failed"
gcc -O2 -Wall -I"$TOP/bench/hash/shim" -o "$bin" "$TOP/bench/hash/bench-hash.c" \
	"$bin-tree.o" "$bin-crc32c.o" -lIPSec_MB -lxxhash ||
	die "building bench/hash/bench-hash.c failed"
log "running $bin (a few seconds: it fills a 1 GiB set first)"
"$bin" "$csv" | tee "$BUILD/bench-hash.txt"

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
plot "$csv" every ::1 using 2:xtic(1) title "hot (one page in L1)", '' every ::1 using 5 title "cold (random pages of 1 GiB)", '' every ::1 using 8 title "streamed (batches of 16 where the hash takes them)"
GP
log "table above; CSV: ${csv#"$TOP"/}; chart: ${png#"$TOP"/}"
bash "$TOP/lab/bench-doc.sh" bench-hash "make bench-hash" "$BUILD/bench-hash.txt"
