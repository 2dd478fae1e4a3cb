#!/usr/bin/env bash
# Copies the page's front-end libraries from npm into the embedded static files.
#
# The versions are pinned here, and only here. The script fetches each package's tarball
# with `npm pack` (the registry's own integrity check applies), copies the one built file
# the page loads plus the package's licence into internal/web/static/vendor/, and writes
# SHA256SUMS there. The binary embeds those files, so `go run` and the tests need no
# network; commit them together with this script.
#
# Usage:
#   scripts/vendor-assets.sh           fetch the pinned versions and rewrite vendor/
#   scripts/vendor-assets.sh --verify  check vendor/ against SHA256SUMS (no network)
#
# To upgrade: change a version below, run the script, look at the page (and the browser
# tests' screenshots), commit vendor/ and this script together.
set -euo pipefail
cd "$(dirname "$0")/.."

BOOTSTRAP_VERSION=5.3.9
CHARTJS_VERSION=4.6.1

VENDOR=internal/web/static/vendor

die() { printf 'vendor-assets.sh: %s\n' "$*" >&2; exit 1; }

verify() {
	[ -f "$VENDOR/SHA256SUMS" ] || die "$VENDOR/SHA256SUMS is missing: run scripts/vendor-assets.sh"
	(cd "$VENDOR" && sha256sum --check --strict --quiet SHA256SUMS) ||
		die "$VENDOR does not match its SHA256SUMS: run scripts/vendor-assets.sh and review the diff"
	# Every file in vendor/ must be listed: an unlisted file would be served unchecked.
	local listed actual
	listed=$(awk '{print $2}' "$VENDOR/SHA256SUMS" | sed 's/^\*//' | sort)
	actual=$(cd "$VENDOR" && ls -1 | grep -vx SHA256SUMS | sort)
	[ "$listed" = "$actual" ] || die "$VENDOR holds files that SHA256SUMS does not list (or the reverse)"
	echo "vendor-assets.sh: $VENDOR matches SHA256SUMS"
}

if [ "${1:-}" = "--verify" ]; then
	verify
	exit 0
fi
[ $# -eq 0 ] || die "usage: scripts/vendor-assets.sh [--verify]"
command -v npm >/dev/null || die "npm is not installed (Debian: apt-get install npm)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME VERSION: unpack the package's tarball into $work/NAME.
fetch() {
	local name=$1 version=$2
	mkdir -p "$work/$name"
	(cd "$work" && npm pack --silent "$name@$version" >"$name.tgz.name") ||
		die "npm pack $name@$version failed"
	tar -xzf "$work/$(cat "$work/$name.tgz.name")" -C "$work/$name" --strip-components=1
	local got
	got=$(node -p "require('$work/$name/package.json').version")
	[ "$got" = "$version" ] || die "$name: npm gave version $got, want $version"
}

fetch bootstrap "$BOOTSTRAP_VERSION"
fetch chart.js "$CHARTJS_VERSION"

rm -rf "$VENDOR"
mkdir -p "$VENDOR"
# strip_map: the built file without its sourceMappingURL comment. The maps are not
# vendored, and a dangling reference makes the browser's developer tools report a 404.
strip_map() { sed -e 's#/[*/][#@] sourceMappingURL=[^ ]*\( \*/\)\{0,1\}$##' "$1"; }

# Only the stylesheet: the page needs none of Bootstrap's JavaScript (full error messages
# open in a <details> element).
strip_map "$work/bootstrap/dist/css/bootstrap.min.css" >"$VENDOR/bootstrap.min.css"
cp "$work/bootstrap/LICENSE" "$VENDOR/bootstrap.LICENSE.txt"
# The UMD build defines window.Chart, which the browser tests read back
# (Chart.getChart(canvas)) to compare the charts with the API.
strip_map "$work/chart.js/dist/chart.umd.min.js" >"$VENDOR/chart.umd.min.js"
cp "$work/chart.js/LICENSE.md" "$VENDOR/chart.js.LICENSE.txt"

cat >"$VENDOR/VERSIONS" <<EOF
bootstrap $BOOTSTRAP_VERSION (npm), dist/css/bootstrap.min.css, MIT licence: bootstrap.LICENSE.txt
chart.js $CHARTJS_VERSION (npm), dist/chart.umd.min.js, MIT licence: chart.js.LICENSE.txt
Written by scripts/vendor-assets.sh; do not edit by hand.
EOF

(cd "$VENDOR" && sha256sum $(ls -1 | grep -vx SHA256SUMS | sort) >SHA256SUMS)
verify
