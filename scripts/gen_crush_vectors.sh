#!/bin/sh
# Regenerate the CRUSH test vectors in tests/unit/data/crush/ with Debian's real
# crushtool (Ceph 16.2.x). Not run in CI: the tests only read the committed files.
set -eu
CRUSHTOOL=${CRUSHTOOL:-/usr/bin/crushtool}
DIR=$(cd "$(dirname "$0")/../tests/unit/data/crush" && pwd)
cd "$DIR"

# case name | map | crushtool --test arguments
CASES='
one_r1|one|--rule 0 --num-rep 1
one_r3|one|--rule 0 --num-rep 3
three_r2|three|--rule 0 --num-rep 2
three_r3|three|--rule 0 --num-rep 3
three_out|three|--rule 0 --num-rep 3 --weight 1 0
ten_r3|ten|--rule 0 --num-rep 3
ten_r4|ten|--rule 0 --num-rep 4
ten_rew|ten|--rule 0 --num-rep 3 --weight 5 0 --weight 3 0.5 --weight 9 0.25
hundred_r3|hundred|--rule 0 --num-rep 3
hundred_r5|hundred|--rule 0 --num-rep 5
hundred_rew|hundred|--rule 0 --num-rep 3 --weight 7 0 --weight 50 0 --weight 51 0.3 --weight 99 0
mixed_rep3|mixed|--rule 0 --num-rep 3
mixed_ec4|mixed|--rule 1 --num-rep 4
mixed_ec6|mixed|--rule 1 --num-rep 6
mixed_ec6_out|mixed|--rule 1 --num-rep 6 --weight 4 0 --weight 13 0 --weight 20 0.5
mixed_rackhost|mixed|--rule 2 --num-rep 3
mixed_hostosd|mixed|--rule 3 --num-rep 6
mixed_hostosd_out|mixed|--rule 3 --num-rep 6 --weight 0 0 --weight 1 0
mixed_ecrack|mixed|--rule 4 --num-rep 6
mixed_ecrack_out|mixed|--rule 4 --num-rep 6 --weight 9 0 --weight 10 0 --weight 11 0
mixed_legacy|mixed|--rule 5 --num-rep 3 --weight 2 0
'

: > cases.tsv
for map in one three ten hundred mixed; do
    "$CRUSHTOOL" -c "$map.txt" -o "$map.bin"
    "$CRUSHTOOL" -d "$map.bin" > "$map.decompiled"
done
echo "$CASES" | while IFS='|' read -r name map args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    "$CRUSHTOOL" -i "$map.bin" --test --show-mappings --min-x 0 --max-x 1023 $args \
        | gzip -9n > "$name.mappings.gz"
    printf '%s\t%s\t%s\n' "$name" "$map" "$args" >> cases.tsv
done
# one full tool transcript, compared byte for byte
"$CRUSHTOOL" -i ten.bin --test --show-mappings --show-statistics --show-bad-mappings \
    --num-rep 4 --weight 5 0 | gzip -9n > ten_tool_output.txt.gz
