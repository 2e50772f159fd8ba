#!/usr/bin/env bash
# Install the reference Ceph 16.2.15 (Debian packages) used as the behaviour oracle by
# developer tools (tests/compat/record.py, scripts/record_rbd_samples.sh); see
# ../shared/tools/refceph/README.md. Not needed by the test suite. No-op when installed.
set -euo pipefail
pkgs=(ceph-mon ceph-osd ceph-mgr ceph-common python3-rados python3-rbd sysstat)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
