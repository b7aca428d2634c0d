#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-hugetlb-run: ksm-hugetlb the way a libhugetlbfs user runs a program.
#
#   ksm-hugetlb-run [PAGES] [ksm-hugetlb options...]
#
# Makes a pool of PAGES (default 40) 2 MiB huge pages and a hugetlbfs mount
# with libhugetlbfs's hugeadm, runs ksm-hugetlb with libhugetlbfs preloaded
# (hugectl), and gives the pool back. hugeadm warns that there is no swap;
# its output is passed on with WARNING in lower case, which the lab would
# take for a kernel report. Exits with ksm-hugetlb's
# status; 4 (skip) when hugeadm cannot make the pool.

. /lib/lab.sh

pages=40
case ${1:-} in
[0-9]*) pages=$1; shift ;;
esac

# hugeadm ARGS...: hugeadm, its output as "# hugeadm: ..." lines
hugeadm_() {
	out=$(hugeadm "$@" 2>&1)
	rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/WARNING/warning/; s/^/# /'
	return $rc
}

if ! hugeadm_ --pool-pages-min "2MB:$pages" || ! hugeadm_ --create-global-mounts; then
	echo "TAP version 13"
	echo "1..0 # SKIP hugeadm cannot make a pool of $pages 2 MiB pages and mount it"
	exit 4
fi
echo "# pool: $(grep -E 'HugePages_(Total|Free)' /proc/meminfo | tr -s ' \n' ' ')"
hugectl --force-preload ksm-hugetlb "$@"
rc=$?
hugeadm_ --pool-pages-min 2MB:0
ksm_set run 0
exit $rc
