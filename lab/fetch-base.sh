#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the base that lab/base.conf pins, the .deb of BASE_PACKAGE at
# BASE_VERSION, into build/cache, check its SHA256, and print its path.
#
# A .deb already in build/cache is used as it is: no network access. Else a
# private apt configuration in build/apt/ (its own sources.list, lists and
# cache, no dpkg status) runs apt-get update and apt-get download; the
# machine's apt sources, lists, state and installed packages stay as they
# are. The archive's address is taken from the machine's own apt sources, so
# that the mirror this machine uses serves the base too: the security
# archive for a -security suite, else the one of the machine's main suite.

. "$(dirname "$0")/lib.sh"

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
conf=${BASE_CONF#"$TOP"/}
deb=$CACHE/${BASE_PACKAGE}_${BASE_VERSION//:/%3a}_all.deb
export APT_CONFIG=$APTDIR/apt.conf

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

archive_uri() {
	local codename

	case $BASE_SUITE in
	*-security)
		machine_sources | awk '$2 ~ /-security$/ { print $1; exit }'
		;;
	*)
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		[ -n "$codename" ] || return 0
		machine_sources | awk -v s="$codename" '$2 == s { print $1; exit }'
		;;
	esac
}

# The private configuration. It is read instead of the machine's apt.conf.d,
# whose hooks (APT::Update::Post-Invoke-Success: appstream, packagekit) would
# refresh the machine's caches after our update; only proxy settings are
# carried over. Downloads run as root (APT::Sandbox::User): apt's _apt user
# may not be able to enter the lab's directory, and apt would then warn and
# run them as root anyway. The signed index still checks every file.
setup_apt() {
	local uri=$1 d

	rm -rf "$APTDIR"
	for d in lists/partial cache/archives/partial state empty download; do
		mkdir -p "$APTDIR/$d"
	done
	printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$uri" "$BASE_SUITE" >"$APTDIR/sources.list"
	{
		cat <<EOF
// Written by lab/fetch-base.sh: a private apt for fetching the base only.
Dir::Etc::SourceList "$APTDIR/sources.list";
Dir::Etc::SourceParts "$APTDIR/empty";
Dir::Etc::Parts "$APTDIR/empty";
Dir::Etc::Main "$APTDIR/empty/none";
Dir::Etc::Preferences "$APTDIR/empty/none";
Dir::Etc::PreferencesParts "$APTDIR/empty";
Dir::State "$APTDIR/state";
Dir::State::Lists "$APTDIR/lists";
Dir::State::status "/dev/null";
Dir::Cache "$APTDIR/cache";
Dir::Log "$APTDIR/state";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
		APT_CONFIG=/dev/null apt-config dump 2>/dev/null |
			grep -E '^Acquire::[a-z]+::Proxy(::[^ ]+)? "' || true
	} >"$APTDIR/apt.conf"
}

download() {
	local uri offered

	uri=$(archive_uri)
	[ -n "$uri" ] || die "no archive for $BASE_SUITE in the machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): $(
		case $BASE_SUITE in
		*-security) echo "no entry for a -security suite" ;;
		*) echo "no entry for the machine's main suite" ;;
		esac)"
	setup_apt "$uri"
	log "fetching $BASE_PACKAGE $BASE_VERSION from $BASE_SUITE (private apt in ${APTDIR#"$TOP"/}/)"
	# --error-on=any: a failed download is an error, not a warning.
	apt-get update -qq --error-on=any >&2 ||
		die "apt-get update of $BASE_SUITE from $uri failed (no network?)"
	offered=$(apt-cache madison "$BASE_PACKAGE" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
	if ! grep -qxF -e "$BASE_VERSION" <<<"$offered"; then
		die "$BASE_SUITE does not offer $BASE_PACKAGE $BASE_VERSION, which $conf pins; it offers: $(
			if [ -n "$offered" ]; then paste -sd, <<<"$offered" | sed 's/,/, /g'; else echo none; fi)
To move the base: set BASE_VERSION in $conf to one of these and run make tree;
it downloads that .deb and stops with its SHA256, for BASE_SHA256."
	fi
	(cd "$APTDIR/download" && apt-get download -q=2 "$BASE_PACKAGE=$BASE_VERSION" >&2) ||
		die "apt-get download $BASE_PACKAGE=$BASE_VERSION failed"
	[ -f "$APTDIR/download/${deb##*/}" ] || die "apt-get download did not write ${deb##*/}"
	mkdir -p "$CACHE"
	mv "$APTDIR/download/${deb##*/}" "$deb"
}

[ -f "$deb" ] || download

# apt checked the download against the archive's signed index, so a
# mismatch here means the record and the archive disagree. The .deb stays
# in build/cache: when BASE_VERSION was just moved, its checksum is the one
# to pin.
actual=$(sha256sum "$deb" | cut -d' ' -f1)
if [ -z "$BASE_SHA256" ]; then
	die "$conf has no BASE_SHA256; ${deb##*/} has sha256 $actual
Check it, put BASE_SHA256=$actual in $conf and run make tree again."
fi
if [ "$actual" != "$BASE_SHA256" ]; then
	die "sha256 mismatch for ${deb##*/}: expected $BASE_SHA256 ($conf), actual $actual
If you moved BASE_VERSION, this is the new .deb's checksum: put
BASE_SHA256=$actual in $conf and run make tree again.
Otherwise remove ${deb#"$TOP"/} and run again."
fi
echo "$deb"
