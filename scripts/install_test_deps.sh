#!/usr/bin/env bash
# Install the Debian packages the test suite needs (scripts/test-debs.txt), once per machine.
# The README's test command runs this; it is a no-op when every package is present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mapfile -t want < <(grep -v '^\s*#' "$here/test-debs.txt" | awk 'NF {print $1}')
[ "${#want[@]}" -eq 0 ] && exit 0
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
