# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: GPL-2.0
# Common settings and helpers for the lab scripts. Sourced, never run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PATCHES=$TOP/patches
CONFIGS=$TOP/config
GUEST=$TOP/guest

CACHE=$BUILD/cache
PRISTINE=$CACHE/base.git        # bare repository holding the one base commit
TREE=$BUILD/linux               # working kernel tree: base + series
APTDIR=$BUILD/apt               # private apt configuration that fetches the base

# The base: the Debian package lab/base.conf pins. BASE_CONF=FILE reads
# another record instead (to try a new base without editing the pinned one).
BASE_CONF=${BASE_CONF:-$TOP/lab/base.conf}

# load_base FILE: set BASE_PACKAGE, BASE_VERSION, BASE_SUITE, BASE_SHA256
# and BASE_LINUX from a record. It is parsed, not sourced: the same file
# is included by the Makefile, and a record copied into build/ must not run
# anything.
load_base() {
	local k v
	BASE_PACKAGE='' BASE_VERSION='' BASE_SUITE='' BASE_SHA256=''
	[ -f "$1" ] || die "$1 is missing"
	while IFS='=' read -r k v; do
		case $k in
		BASE_PACKAGE | BASE_VERSION | BASE_SUITE | BASE_SHA256) printf -v "$k" '%s' "$v" ;;
		esac
	done < <(grep -E '^[A-Z][A-Z0-9_]*=' "$1")
	if [ -z "$BASE_PACKAGE" ] || [ -z "$BASE_VERSION" ] || [ -z "$BASE_SUITE" ]; then
		die "$1 must set BASE_PACKAGE, BASE_VERSION and BASE_SUITE"
	fi
	# Debian's version of a kernel package is the upstream one, "-", and
	# Debian's revision: 6.12.117-1~deb12u1 holds Linux 6.12.117.
	BASE_LINUX=${BASE_VERSION%%-*}
	BASE_LINUX=${BASE_LINUX#*:}
}

# The record as stored next to what was made from it (build/cache/base.git,
# build/linux/.git): when it differs from lab/base.conf, they are made anew.
base_record() {
	printf 'BASE_PACKAGE=%s\nBASE_VERSION=%s\nBASE_SUITE=%s\nBASE_SHA256=%s\n' \
		"$BASE_PACKAGE" "$BASE_VERSION" "$BASE_SUITE" "$BASE_SHA256"
}

# The cover letter's "Based on" line: generated from the record, never
# written by hand.
based_on_line() {
	echo "Based on Linux $BASE_LINUX (Debian $BASE_PACKAGE $BASE_VERSION)."
}

# sync_based_on: the cover text on stdin with its "Based on Linux" line
# replaced by the one for the loaded record, or the line added as a last
# paragraph when the text has none.
sync_based_on() {
	awk -v line="$(based_on_line)" '
	/^Based on Linux / { print line; done = 1; next }
	{ print }
	END { if (!done) { print ""; print line } }'
}

# Fixed identity and timestamps keep commits, patches and builds reproducible.
# They are for what the lab makes inside build/ only: lab/tree.sh goes back to
# yours (user_identity) before it commits into a tree of your own (KERNEL_SRC).
# The caller's own identity variables, if any, are kept for user_identity.
for v in GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL; do
	if [ -n "${!v+set}" ]; then
		declare "USER_$v=${!v}"
	fi
done
export GIT_AUTHOR_NAME=ksm-next GIT_AUTHOR_EMAIL=ksm-next@invalid
export GIT_COMMITTER_NAME=ksm-next GIT_COMMITTER_EMAIL=ksm-next@invalid

# Back to the caller's git identity: the one their environment set, or else
# the one their git config gives.
user_identity() {
	local v u
	for v in GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL; do
		u=USER_$v
		if [ -n "${!u+set}" ]; then
			export "$v=${!u}"
		else
			unset "$v"
		fi
	done
}
export KBUILD_BUILD_USER=ksm-next KBUILD_BUILD_HOST=lab
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The lab machine's vCPU: QEMU's -cpu max without LA57, so guests run
# 4-level paging. On Linux 7.3.4, identify_cpu() clears boot_cpu_data's
# capabilities for a moment while interrupts are on and before alternatives
# are patched. An interrupt in that window sees pgtable_l5_enabled() false,
# and KASAN then takes the 5-level direct map for a wild address ("BUG:
# KASAN: wild-memory-access in do_raw_spin_lock" from handle_edge_irq, RIP
# in identify_cpu). A base-kernel race, not KSM's: seen twice on debug
# kernels, once of them in CI.
QEMU_CPU=max,la57=off

# The QEMU accelerator for the lab machine: kvm when /dev/kvm is there and
# QEMU can set up the lab's vCPU (QEMU_CPU) on it, else tcg. A nested
# /dev/kvm can be present and still refuse that vCPU ("failed to set MSR
# 0x10a"), which aborts QEMU before the guest starts.
qemu_accel() {
	if [ -w /dev/kvm ] && (echo quit | timeout 30 qemu-system-x86_64 \
		-accel kvm -cpu "$QEMU_CPU" -S -display none -nodefaults \
		-monitor stdio) >/dev/null 2>&1; then
		echo kvm
	else
		echo tcg
	fi
}

# Version of the unpacked base, e.g. "6.12.57". --no-print-directory: under
# `make -C`, the inherited -w would print "Entering directory" into it.
base_version() {
	make -s --no-print-directory -C "$1" kernelversion 2>/dev/null
}

# "URI SUITE" for every deb entry of the machine's apt sources, one-line
# (sources.list, *.list) and deb822 (*.sources) format alike.
machine_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print $2, $3 }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
		function flush(    u, s, n, i) {
			if (types ~ /(^| )deb( |$)/ && enabled != "no") {
				split(uris, u, " ")
				n = split(suites, s, " ")
				for (i = 1; i <= n; i++) print u[1], s[i]
			}
			types = uris = suites = key = ""
			enabled = "yes"
		}
		BEGIN { enabled = "yes" }
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ {	# a continuation line: more values of the last field
			if (key == "uris") uris = uris " " $0
			else if (key == "suites") suites = suites " " $0
			next
		}
		{
			key = tolower($0); sub(/:.*/, "", key)
			v = $0; sub(/^[^:]*:[ \t]*/, "", v); gsub(/[ \t]+/, " ", v)
			if (key == "types") types = v
			else if (key == "uris") uris = v
			else if (key == "suites") suites = v
			else if (key == "enabled") enabled = tolower(v)
		}
		END { flush() }' "$f"
	done
}

# The machine's main Debian archive: the URI of its own release's suite.
main_archive_uri() {
	local codename

	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || return 0
	machine_sources | awk -v s="$codename" '$2 == s { print $1; exit }'
}

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# private_apt DIR WHAT SOURCE [CONF...]: a private apt configuration in DIR
# (DIR/apt.conf, for APT_CONFIG) whose one source is the sources.list line
# SOURCE, with CONF as extra apt.conf lines; DIR/download is empty, for
# downloads. It is read instead of the machine's apt.conf.d, whose hooks
# (APT::Update::Post-Invoke-Success: appstream, packagekit) would refresh
# the machine's caches after our update; only proxy settings are carried
# over. Its own lists and cache, no dpkg status: the machine's apt sources,
# lists, state and installed packages stay as they are. Downloads run as
# root (APT::Sandbox::User): apt's _apt user may not be able to enter the
# lab's directory, and apt would then warn and run them as root anyway.
# The signed index still checks every file.
private_apt() {
	local dir=$1 what=$2 source=$3 d
	shift 3

	rm -rf "$dir"
	for d in lists/partial cache/archives/partial state empty download; do
		mkdir -p "$dir/$d"
	done
	echo "$source" >"$dir/sources.list"
	{
		cat <<EOF
// Written by $what: a private apt.
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "$dir/empty";
Dir::Etc::Parts "$dir/empty";
Dir::Etc::Main "$dir/empty/none";
Dir::Etc::Preferences "$dir/empty/none";
Dir::Etc::PreferencesParts "$dir/empty";
Dir::State "$dir/state";
Dir::State::Lists "$dir/lists";
Dir::State::status "/dev/null";
Dir::Cache "$dir/cache";
Dir::Log "$dir/state";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
		[ $# -eq 0 ] || printf '%s\n' "$@"
		APT_CONFIG=/dev/null apt-config dump 2>/dev/null |
			grep -E '^Acquire::[a-z]+::Proxy(::[^ ]+)? "' || true
	} >"$dir/apt.conf"
}

# bench_boots PLAN "RUN-VM OPTIONS" [KERNEL ARG...]: boot the base and the
# patched lab kernel once each with plan PLAN, on the patched initramfs,
# as PLAN-base and PLAN-patched (their logs in build/logs/); dies when a
# run fails. The base kernel runs the same guest programs.
bench_boots() {
	local plan=$1 opts=$2 initrd kernel k
	shift 2
	bash "$TOP/lab/deps.sh"
	[ -d "$TREE/.git" ] || bash "$TOP/lab/tree.sh"
	initrd=$(bash "$TOP/lab/initramfs.sh" patched)
	for k in base patched; do
		kernel=$(bash "$TOP/lab/build-kernel.sh" "$k")
		# shellcheck disable=SC2086 # opts holds several options
		bash "$TOP/lab/run-vm.sh" $opts "$plan-$k" "$kernel" "$initrd" "$plan" "$@" ||
			die "the run of the $k kernel failed: see build/logs/$plan-$k.*"
	done
}

# The bench tables' statistics, over the numbers on stdin, one a line.
# The median:
stat_median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR) { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# The spread, (max - min) / median in percent; - with fewer than 2 numbers:
stat_spread() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR < 2) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		if (m > 0) printf "%.0f%%\n", 100 * (v[NR] - v[1]) / m; else print "-" }'
}

# The range, "N" when all are N, else "MIN-MAX":
stat_range() {
	sort -n | sed -n '1p;$p' | uniq | tr '\n' '-' | sed 's/-$//'
}

# ratio A B [DECIMALS]: "A/Bx", or - unless both are positive.
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" \
		'BEGIN { if (a > 0 && b > 0) printf("%." d "fx\n", a / b); else print "-" }'
}

load_base "$BASE_CONF"
