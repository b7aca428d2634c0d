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

# Version of the unpacked base, e.g. "6.12.57".
base_version() {
	make -s -C "$1" kernelversion 2>/dev/null
}
