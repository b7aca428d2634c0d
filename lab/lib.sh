# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: GPL-2.0
# Common settings and helpers for the lab scripts. Sourced, never run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PATCHES=$TOP/patches
CONFIGS=$TOP/config
GUEST=$TOP/guest

# The base: Debian's linux-source-6.12 package (6.12.y LTS).
SRC_PKG=linux-source-6.12
SRC_TARBALL=/usr/src/$SRC_PKG.tar.xz
CACHE=$BUILD/cache
PRISTINE=$CACHE/base.git        # bare repository holding the one base commit
TREE=$BUILD/linux               # working kernel tree: base + series

# Fixed identity and timestamps keep commits, patches and builds reproducible.
export GIT_AUTHOR_NAME=ksm-next GIT_AUTHOR_EMAIL=ksm-next@invalid
export GIT_COMMITTER_NAME=ksm-next GIT_COMMITTER_EMAIL=ksm-next@invalid
export KBUILD_BUILD_USER=ksm-next KBUILD_BUILD_HOST=lab
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The QEMU accelerator for the lab machine: kvm when /dev/kvm is there and
# QEMU can set up a -cpu max vCPU on it, else tcg. A nested /dev/kvm can be
# present and still refuse that vCPU ("failed to set MSR 0x10a"), which
# aborts QEMU before the guest starts.
qemu_accel() {
	if [ -w /dev/kvm ] && (echo quit | timeout 30 qemu-system-x86_64 \
		-accel kvm -cpu max -S -display none -nodefaults \
		-monitor stdio) >/dev/null 2>&1; then
		echo kvm
	else
		echo tcg
	fi
}

# Version of the unpacked base, e.g. "6.12.57".
base_version() {
	make -s -C "$1" kernelversion 2>/dev/null
}
