"""Check the transcribed command table against ../shared/spec/api/mon_commands.md.

Run by hand when the table changes (tests never read ../shared):
    python scripts/check_command_table.py
"""

import re
import sys
from pathlib import Path

from pyceph.common import cmdargs
from pyceph.common.cmdargs import parse_signature

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "api" / "mon_commands.md"


def main() -> int:
    n = 0
    for line in SPEC.read_text().splitlines():
        m = re.match(r"\| `([^`]+)` \| (.*?) \| (mon|mgr) \|", line)
        if not m:
            continue
        prefix, argstr, daemon = m.groups()
        c = cmdargs.find_command(prefix)
        assert c is not None, prefix
        assert c.daemon == daemon, prefix
        n += 1
        if argstr.startswith("*("):
            assert not c.args, prefix
            continue
        theirs = parse_signature(argstr.strip("`").replace("\\|", "|"))
        assert [a.to_json() for a in c.args] == [a.to_json() for a in theirs], prefix
    print(f"{n} descriptors match")
    return 0 if n == 254 else 1


if __name__ == "__main__":
    sys.exit(main())
