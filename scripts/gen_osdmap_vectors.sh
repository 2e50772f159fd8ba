#!/bin/sh
# Generate PG/object placement vectors with Debian's osdmaptool (Ceph 16.2.15),
# the oracle for pyceph.mon.osdmap placement. Output: tests/unit/data/osdmap/.
# Map: 6 OSDs in 3 hosts (uneven CRUSH weights), pool 1 'rbd' size 3,
# pg_num 96 / pgp_num 48 (non power of two, pgp < pg).
set -eu
OUT=${1:-$(dirname "$0")/../tests/unit/data/osdmap}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"
cat > "$OUT/crush.txt" <<'CRUSH'
tunable choose_local_tries 0
tunable choose_local_fallback_tries 0
tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
tunable allowed_bucket_algs 54
device 0 osd.0
device 1 osd.1
device 2 osd.2
device 3 osd.3
device 4 osd.4
device 5 osd.5
type 0 osd
type 1 host
type 2 chassis
type 3 rack
type 4 row
type 5 pdu
type 6 pod
type 7 room
type 8 datacenter
type 9 zone
type 10 region
type 11 root
host h0 {
	id -2
	alg straw2
	hash 0
	item osd.0 weight 1.000
	item osd.1 weight 0.500
}
host h1 {
	id -3
	alg straw2
	hash 0
	item osd.2 weight 1.000
	item osd.3 weight 2.000
}
host h2 {
	id -4
	alg straw2
	hash 0
	item osd.4 weight 1.000
	item osd.5 weight 1.000
}
root default {
	id -1
	alg straw2
	hash 0
	item h0 weight 1.500
	item h1 weight 3.000
	item h2 weight 2.000
}
rule replicated_rule {
	id 0
	type replicated
	min_size 1
	max_size 10
	step take default
	step chooseleaf firstn 0 type host
	step emit
}
CRUSH
/usr/bin/crushtool -c "$OUT/crush.txt" -o "$T/crush.bin"
osdmaptool --createsimple 6 --pg-bits 4 --pgp-bits 3 --with-default-pool "$T/om" >/dev/null 2>&1
osdmaptool "$T/om" --import-crush "$T/crush.bin" >/dev/null 2>&1
osdmaptool "$T/om" --print 2>/dev/null | grep '^pool ' > "$OUT/pools.txt"
osdmaptool "$T/om" --mark-up-in --test-map-pgs-dump --pool 1 2>/dev/null \
    | grep -E '^1\.' > "$OUT/pgs_all_in.txt"
osdmaptool "$T/om" --mark-up-in --mark-out 3 --test-map-pgs-dump --pool 1 2>/dev/null \
    | grep -E '^1\.' > "$OUT/pgs_osd3_out.txt"
: > "$OUT/objects.txt"
for o in foo bar rbd_directory rbd_header.1234 obj-0 obj-1 obj-2 obj-17 benchmark_data_x_1 "a b" \
         rbd_data.abcdef.0000000000000000 rbd_data.abcdef.0000000000000001 x y z; do
    osdmaptool "$T/om" --mark-up-in --test-map-object "$o" --pool 1 2>/dev/null \
        | grep "object '" >> "$OUT/objects.txt"
done
echo "vectors written to $OUT"
