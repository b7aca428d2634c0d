#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the lab needs from Debian's archive (Debian 12): as root with
# apt-get, otherwise print the one command that would.

. "$(dirname "$0")/lib.sh"

# The base tree is not among them: lab/fetch-base.sh fetches the version
# lab/base.conf pins, privately, into build/cache.
PKGS=(
	debian-archive-keyring	# checks the base's download
	build-essential flex bison bc libelf-dev libssl-dev kmod cpio xz-utils
	ccache git perl python3 file
	rsync			# make headers_install, for the kselftests
	python3-ply python3-git	# checkpatch runs scripts/spdxcheck.py on new files
	qemu-system-x86		# the VM runner
	busybox-static bash-static	# the guest userland (run_vmtests.sh is bash)
	libhugetlbfs-bin libhugetlbfs0	# plan hugetlbfs: the guest's hugetlbfs client
	libnuma-dev libcap-dev	# static libraries the mm kselftests link
	b4			# mailing the series
	libipsec-mb-dev libxxhash-dev gnuplot-nox	# make bench-hash's peers and chart
)

missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	die "missing packages: ${missing[*]}
as root run: apt-get install -y ${missing[*]}"
fi
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || die "apt-get update failed"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	die "apt-get install of ${missing[*]} failed"
