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

conf=${BASE_CONF#"$TOP"/}
deb=$CACHE/${BASE_PACKAGE}_${BASE_VERSION//:/%3a}_all.deb
export APT_CONFIG=$APTDIR/apt.conf

archive_uri() {
	case $BASE_SUITE in
	*-security)
		machine_sources | awk '$2 ~ /-security$/ { print $1; exit }'
		;;
	*) main_archive_uri ;;
	esac
}

download() {
	local uri offered

	uri=$(archive_uri)
	[ -n "$uri" ] || die "no archive for $BASE_SUITE in the machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): $(
		case $BASE_SUITE in
		*-security) echo "no entry for a -security suite" ;;
		*) echo "no entry for the machine's main suite" ;;
		esac)"
	private_apt "$APTDIR" "lab/fetch-base.sh, for the base only" \
		"deb [signed-by=$KEYRING] $uri $BASE_SUITE main"
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
