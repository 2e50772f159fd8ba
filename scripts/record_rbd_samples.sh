#!/usr/bin/env bash
# Record outputs of Debian's `rbd` (Ceph 16.2.15) against the reference cluster, as test
# data for pyceph's rbd command line: tests/data/refceph-rbd/ (text and JSON outputs,
# one file per command, plus `commands.txt` saying which command made which file) and
# tests/compat/expected/rbd_export_v2.bin (`rbd export --export-format 2` of a small
# image with a snapshot; its sha256 in rbd_export_v2.bin.sha256).
#
#   bash scripts/refceph_install.sh
#   PATH=/usr/bin:$PATH ../shared/tools/refceph/start.sh /tmp/refceph 3
#   bash scripts/record_rbd_samples.sh [/tmp/refceph/ceph.conf]
#
# Not run in CI. Ids, timestamps, addresses and the pool id vary between runs; the
# tests that read these files compare structure, keys and the stable values.
set -euo pipefail
conf="${1:-/tmp/refceph/ceph.conf}"
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/tests/data/refceph-rbd"
fixture="$here/tests/compat/expected/rbd_export_v2.bin"
# Debian's tools, not pyceph's `ceph`/`rbd` entry points that may come first on PATH.
RBD=/usr/bin/rbd
CEPH=/usr/bin/ceph
pool="rbd-samples"
mkdir -p "$out"
: > "$out/commands.txt"

run() {  # run FILE ARGS...: record stdout of `rbd ARGS` (stderr and exit code beside it)
    local file="$1"
    shift
    local rc=0
    "$RBD" -c "$conf" "$@" > "$out/$file" 2> "$out/$file.stderr" || rc=$?
    [ -s "$out/$file.stderr" ] || rm -f "$out/$file.stderr"
    echo "$file: rbd $* (exit $rc)" >> "$out/commands.txt"
}

"$CEPH" -c "$conf" osd pool rm "$pool" "$pool" --yes-i-really-really-mean-it >/dev/null 2>&1 || true
"$CEPH" -c "$conf" osd pool create "$pool" 8 >/dev/null 2>&1
"$RBD" -c "$conf" pool init "$pool"

"$RBD" -c "$conf" create "$pool/parent" --size 16M
write() {  # write IMAGE OFFSET TEXT: write TEXT at OFFSET through Debian's python3-rbd
    /usr/bin/python3 - "$conf" "$pool" "$@" <<'PY'
import sys, rados, rbd
conf, pool, image, offset, text = sys.argv[1:]
with rados.Rados(conffile=conf) as r, r.open_ioctx(pool) as io, rbd.Image(io, image) as img:
    img.write(text.encode() * (4096 // len(text)), int(offset))
PY
}
write parent 0 parent-data-
write parent 5242880 more-parent-data
"$RBD" -c "$conf" snap create "$pool/parent@snap1"
"$RBD" -c "$conf" snap protect "$pool/parent@snap1"
"$RBD" -c "$conf" clone "$pool/parent@snap1" "$pool/child"
"$RBD" -c "$conf" create "$pool/trashed" --size 4M
"$RBD" -c "$conf" trash mv "$pool/trashed" --expires-at "2099-01-01T00:00:00"

run rbd-info-clone.json info "$pool/child" --format json --pretty-format
run rbd-info-clone.txt info "$pool/child"
run rbd-du.json du -p "$pool" --format json --pretty-format
run rbd-du.txt du -p "$pool"
run rbd-du-image.json du "$pool/parent" --format json
run rbd-trash-ls.json trash ls "$pool" --format json --pretty-format
run rbd-trash-ls-l.json trash ls "$pool" --long --format json --pretty-format
run rbd-trash-ls-l.txt trash ls "$pool" --long
run rbd-status.json status "$pool/parent" --format json --pretty-format
run rbd-status.txt status "$pool/parent"
run rbd-children.txt children "$pool/parent@snap1"
run rbd-children.json children "$pool/parent@snap1" --format json --pretty-format
run rbd-children-all.json children --all "$pool/parent@snap1" --format json
run rbd-snap-ls-all.json snap ls --all "$pool/parent" --format json --pretty-format
run rbd-info-missing.txt info "$pool/nope"

# A small image with a snapshot, exported in format 2 (data that differs before and
# after the snapshot, and a hole).
"$RBD" -c "$conf" create "$pool/small" --size 8M --object-size 1M
write small 0 AAAA
write small 3145728 BBBB
"$RBD" -c "$conf" snap create "$pool/small@s1"
write small 0 CCCC
write small 6291456 DDDD
rm -f "$fixture"
"$RBD" -c "$conf" export --export-format 2 --no-progress "$pool/small" "$fixture"
echo "rbd_export_v2.bin: rbd export --export-format 2 $pool/small (snapshot s1)" >> "$out/commands.txt"
(cd "$(dirname "$fixture")" && sha256sum "$(basename "$fixture")" > "$(basename "$fixture").sha256")
run rbd-small-snap-ls.json snap ls "$pool/small" --format json

"$CEPH" -c "$conf" osd pool rm "$pool" "$pool" --yes-i-really-really-mean-it >/dev/null
echo "recorded into $out and $fixture"
