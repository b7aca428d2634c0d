#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-numa-topology NODES: check that the guest has the NUMA machine
# lab/run-vm.sh -n NODES boots. For 2 nodes: SLIT distance 20. For 4: two
# groups, nodes 0 and 2, and 1 and 3, at distance 12 within a group and 32
# across. Both: 10 within a node, memory on every node, a CPU on nodes 0
# and 1. Prints what it found; exits 1 when it differs from what NODES
# asks for. For the NUMA tests' plans.

want_nodes=${1:?usage: ksm-numa-topology NODES}
rc=0

case $want_nodes in
2) want="10 20|20 10" cpus="0 1" ;;
4) want="10 32 12 32|32 10 32 12|12 32 10 32|32 12 32 10" cpus="0 1" ;;
*)
	echo "# ksm-numa-topology: NODES must be 2 or 4"
	exit 1
	;;
esac

nodes=0
for d in /sys/devices/system/node/node[0-9]*; do
	[ -d "$d" ] && nodes=$((nodes + 1))
done
echo "# NUMA nodes: $nodes (want $want_nodes)"
[ "$nodes" -eq "$want_nodes" ] || rc=1

got=
for n in $(seq 0 $((want_nodes - 1))); do
	d=/sys/devices/system/node/node$n
	[ -d "$d" ] || continue
	dist=$(cat "$d/distance")
	mem=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' "$d/meminfo")
	cpu=$(cat "$d/cpulist")
	echo "# node $n: distance $dist, MemTotal ${mem:-0} kB, cpus ${cpu:-none}"
	got="$got${got:+|}$dist"
	[ "${mem:-0}" -gt 0 ] || rc=1
	case " $cpus " in
	*" $n "*) [ -n "$cpu" ] || rc=1 ;;
	esac
done
[ "$got" = "$want" ] || {
	echo "# distances: got '$got', want '$want'"
	rc=1
}
exit $rc
