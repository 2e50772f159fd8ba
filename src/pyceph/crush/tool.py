"""``crushtool``: compile, decompile, build, reweight and test CRUSH maps, with the
same arguments, output text and exit codes as Ceph Pacific's tool."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .map import ALG_IDS, Bucket, CrushError, CrushMap, Rule, f32
from .mapper import CRUSH_ITEM_NONE, OP_CHOOSELEAF_FIRSTN, OP_EMIT, OP_TAKE
from .text import CompileError, compile_text, decompile

USAGE = """\
usage: crushtool ...

Display, modify and test a crush map

There are five stages, running one after the other:

 - input/build
 - tunables adjustments
 - modifications
 - display/test
 - output

Options that are not specific to a stage.

   [--infn|-i infile]
                         read the crush map from infile

Options for the input/build stage

   --decompile|-d map    decompile a crush map to source
   [--outfn|-o outfile]
                         specify output for for (de)compilation
   --compile|-c map.txt  compile a map from source
   --enable-unsafe-tunables
                         compile with unsafe tunables
   --build --num_osds N layer1 ...
                         build a new map, where each 'layer' is
                           'name (uniform|straw2|straw|list|tree) size'

Options for the modifications stage

   --reweight-item name weight
                         reweight a given item (and adjust ancestor
                         weights as needed)

Options for the display/test stage

   --test                test a range of inputs on the map
      [--min-x x] [--max-x x] [--x x]
      [--min-rule r] [--max-rule r] [--rule r]
      [--num-rep n]
      [--weight|-w devno weight]
                         where weight is 0 to 1.0
   --show-statistics     show chi squared statistics
   --show-mappings       show mappings
   --show-bad-mappings   show bad mappings
"""


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _norm(opt: str) -> str:
    if opt.startswith("--"):
        return "--" + opt[2:].replace("_", "-")
    return opt


class _Args:
    """ceph_argparse-like matching: '-' and '_' are equivalent, '--opt=value' works."""

    def __init__(self, argv: Sequence[str], err: TextIO) -> None:
        self.args = list(argv)
        self.err = err
        self.i = 0

    def flag(self, *names: str) -> bool:
        if _norm(self.args[self.i]) in names:
            del self.args[self.i]
            return True
        return False

    def witharg(self, *names: str) -> str | None:
        a = self.args[self.i]
        if a.startswith("--") and "=" in a:
            key, val = a.split("=", 1)
            if _norm(key) in names:
                del self.args[self.i]
                return val
            return None
        if _norm(a) in names:
            if self.i + 1 >= len(self.args):
                self.err.write(f"Option {a} requires an argument.\n")
                raise _Exit(1)
            val = self.args[self.i + 1]
            del self.args[self.i : self.i + 2]
            return val
        return None

    def withint(self, *names: str) -> int | None:
        val = self.witharg(*names)
        if val is None:
            return None
        try:
            return int(val, 10)
        except ValueError:
            self.err.write(f"The option value '{val}' is invalid\n")
            raise _Exit(1)

    def next_value(self, what: str) -> str:
        if self.i >= len(self.args):
            self.err.write(f"expecting additional argument to {what}\n")
            raise _Exit(1)
        return self.args.pop(self.i)


def _atof(s: str) -> float:
    """C atof: longest numeric prefix, 0.0 when there is none."""
    best = 0.0
    for end in range(len(s), 0, -1):
        try:
            best = float(s[:end])
            break
        except ValueError:
            continue
    return best


def _cfloat(v: float) -> str:
    """Format a float like C++ ostream's default (%g, 6 significant digits)."""
    return f"{f32(v):g}"


class Tester:
    """CrushTester: runs rules over a range of x and prints mappings and statistics."""

    def __init__(self, crush: CrushMap, out: TextIO) -> None:
        self.crush = crush
        self.out = out
        self.min_x = -1
        self.max_x = -1
        self.min_rule = -1
        self.max_rule = -1
        self.min_rep = -1
        self.max_rep = -1
        self.device_weight: dict[int, int] = {}
        self.show_mappings = False
        self.show_bad_mappings = False
        self.show_statistics = False

    def set_device_weight(self, dev: int, f: float) -> None:
        w = int(f32(f32(f) * 65536.0))
        self.device_weight[dev] = min(max(w, 0), 0x10000)

    def test(self) -> int:
        crush = self.crush
        out = self.out
        if self.min_rule < 0 or self.max_rule < 0:
            self.min_rule = 0
            self.max_rule = crush.max_rules - 1
        if self.min_x < 0 or self.max_x < 0:
            self.min_x = 0
            self.max_x = 1023
        present = {i for b in crush.buckets.values() for i in b.items if i >= 0}
        weight = []
        for o in range(crush.max_devices):
            if o in self.device_weight:
                weight.append(self.device_weight[o])
            else:
                weight.append(0x10000 if o in present else 0)
        compiled = crush.compiled()
        from .mapper import do_rule

        for r in range(self.min_rule, min(crush.max_rules - 1, self.max_rule) + 1):
            rule = crush.rules.get(r)
            if rule is None:
                if self.show_statistics:
                    out.write(f"rule {r} dne\n")
                continue
            minr, maxr = self.min_rep, self.max_rep
            if minr < 0 or maxr < 0:
                minr, maxr = rule.min_size, rule.max_size
            if self.show_statistics:
                out.write(
                    f"rule {r} ({rule.name}), x = {self.min_x}..{self.max_x}, "
                    f"numrep = {minr}..{maxr}\n"
                )
            for nr in range(minr, maxr + 1):
                if sum(weight) == 0:
                    continue
                sizes: dict[int, int] = {}
                for x in range(self.min_x, self.max_x + 1):
                    res = do_rule(compiled, r, x, nr, weight)
                    text = "[" + ",".join(str(v) for v in res) + "]"
                    if self.show_mappings:
                        out.write(f"CRUSH rule {r} x {x} {text}\n")
                    sizes[len(res)] = sizes.get(len(res), 0) + 1
                    if self.show_bad_mappings and (len(res) != nr or CRUSH_ITEM_NONE in res):
                        out.write(f"bad mapping rule {r} x {x} num_rep {nr} result {text}\n")
                if self.show_statistics:
                    total = self.max_x - self.min_x + 1
                    for size in sorted(sizes):
                        out.write(
                            f"rule {r} ({rule.name}) num_rep {nr} result size == {size}:\t"
                            f"{sizes[size]}/{total}\n"
                        )
        return 0


def build_map(num_osds: int, layers: list[tuple[str, str, int]]) -> CrushMap:
    """``crushtool --build``: one layer of buckets per (name, alg, size) triple."""
    m = CrushMap()
    m.types[0] = "osd"
    m.max_devices = num_osds
    lower = [(i, 0x10000) for i in range(num_osds)]
    for i in range(num_osds):
        m.devices[i] = f"osd.{i}"
    for type_id, (lname, alg_name, size) in enumerate(layers, start=1):
        m.types[type_id] = lname
        alg = ALG_IDS[alg_name]
        cur: list[tuple[int, int]] = []
        pos = 0
        n = 0
        while pos < len(lower):
            chunk = lower[pos : pos + size] if size else lower[pos:]
            pos += len(chunk)
            bid = m._new_bucket_id()
            name = f"{lname}{n}" if size else lname
            m.insert_bucket(
                Bucket(bid, name, type_id, alg, 0, [c[0] for c in chunk], [c[1] for c in chunk])
            )
            cur.append((bid, sum(c[1] for c in chunk)))
            n += 1
        lower = cur
    root_name = layers[-1][0] if layers[-1][2] == 0 else layers[-1][0] + "0"
    root = m.get_item_id(root_name)
    m.add_rule(
        Rule(
            0,
            "replicated_rule",
            1,
            1,
            10,
            [(OP_TAKE, root, 0), (OP_CHOOSELEAF_FIRSTN, 0, 1), (OP_EMIT, 0, 0)],
        )
    )
    return m


def _read_file(path: str, me: str, err: TextIO) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        code = e.errno or errno.EIO
        err.write(
            f"{me}: error reading '{path}': can't open {path}: ({code}) {os.strerror(code)}\n"
        )
        raise _Exit(1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run crushtool with argv (defaults to sys.argv[1:]); returns the exit status."""
    if argv is None:
        me = sys.argv[0]
        argv = sys.argv[1:]
    else:
        me = "crushtool"
    return _run(me, list(argv), sys.stdout, sys.stderr)


def _run(me: str, argv: list[str], out: TextIO, err: TextIO) -> int:
    """crushtool with explicit program name and streams; returns the exit status."""
    try:
        return _run_steps(me, argv, out, err)
    except _Exit as e:
        return e.code


def _run_steps(me: str, argv: list[str], out: TextIO, err: TextIO) -> int:
    if not argv:
        err.write(f"{me}: -h or --help for usage\n")
        return 1
    infn = srcfn = outfn = reweight_name = ""
    compile_ = decompile_ = test = display = build = False
    reweight_weight = 0.0
    num_osds = 0
    crush = CrushMap()
    tester = Tester(crush, out)
    a = _Args(argv, err)
    while a.i < len(a.args):
        arg = a.args[a.i]
        if arg == "--":
            del a.args[a.i]
            break
        if a.flag("-h", "--help"):
            out.write(USAGE)
            return 0
        if (v := a.witharg("-d", "--decompile")) is not None:
            infn, decompile_ = v, True
        elif (v := a.witharg("-i", "--infn")) is not None:
            infn = v
        elif (v := a.witharg("-o", "--outfn")) is not None:
            outfn = v
        elif (v := a.witharg("-c", "--compile")) is not None:
            srcfn, compile_ = v, True
        elif a.flag("-t", "--test"):
            test = True
        elif a.flag("--show-statistics"):
            display = tester.show_statistics = True
        elif a.flag("--show-mappings"):
            display = tester.show_mappings = True
        elif a.flag("--show-bad-mappings"):
            display = tester.show_bad_mappings = True
        elif a.flag("--build"):
            build = True
        elif (n := a.withint("--num-osds")) is not None:
            num_osds = n
        elif (n := a.withint("--num-rep")) is not None:
            tester.min_rep = tester.max_rep = n
        elif (n := a.withint("--max-x")) is not None:
            tester.max_x = n
        elif (n := a.withint("--min-x")) is not None:
            tester.min_x = n
        elif (n := a.withint("--x")) is not None:
            tester.min_x = tester.max_x = n
        elif (n := a.withint("--max-rule")) is not None:
            tester.max_rule = n
        elif (n := a.withint("--min-rule")) is not None:
            tester.min_rule = n
        elif (n := a.withint("--rule")) is not None:
            tester.min_rule = tester.max_rule = n
        elif (n := a.withint("--weight", "-w")) is not None:
            tester.set_device_weight(n, _atof(a.next_value("--weight")))
        elif (v := a.witharg("--reweight-item")) is not None:
            reweight_name = v
            reweight_weight = _atof(a.next_value("--reweight-item"))
        else:
            a.i += 1
    rest = a.args

    if test and not display:
        err.write("WARNING: no output selected; use --output-csv or --show-X\n")
    if compile_ + decompile_ + build > 1:
        err.write("cannot specify more than one of compile, decompile, and build\n")
        return 1
    if not (compile_ or decompile_ or build or test or reweight_name):
        err.write("no action specified; -h for help\n")
        return 1
    layers: list[tuple[str, str, int]] = []
    if not build and rest:
        err.write("unrecognized arguments: [" + ",".join(rest) + "]\n")
        return 1
    if len(rest) % 3:
        err.write("remaining args: [" + ",".join(rest) + "]\n")
        err.write("layers must be specified with 3-tuples of (name, buckettype, size)\n")
        return 1
    for j in range(0, len(rest), 3):
        layers.append((rest[j], rest[j + 1], int(_atof(rest[j + 2]))))

    modified = False
    if infn:
        data = _read_file(infn, me, err)
        try:
            crush = CrushMap.decode(data)
        except CrushError:
            err.write(f"{me}: unable to decode {infn}\n")
            return 1
        tester.crush = crush
    if decompile_:
        text = decompile(crush)
        if outfn:
            try:
                with open(outfn, "w") as f:
                    f.write(text)
            except OSError:
                err.write(f"{me}: error writing '{outfn}'\n")
                return 1
        else:
            out.write(text)
    if compile_:
        try:
            with open(srcfn) as f:
                source = f.read()
        except OSError:
            err.write(f"input file {srcfn} not found\n")
            return 256 - errno.ENOENT
        try:
            crush = compile_text(source, srcfn)
        except CompileError as e:
            err.write(f"{e}\n")
            return 1
        tester.crush = crush
        modified = True
    if build:
        if not layers:
            err.write(f"{me}: must specify at least one layer\n")
            return 1
        for _lname, alg, _size in layers:
            if alg not in ALG_IDS:
                err.write(f"unknown bucket type '{alg}'\n\n")
                return 1
        crush = build_map(num_osds, layers)
        tester.crush = crush
        modified = True
    if reweight_name:
        out.write(f"{me} reweighting item {reweight_name} to {_cfloat(reweight_weight)}\n")
        if not crush.name_exists(reweight_name):
            err.write(f" name {reweight_name} dne\n")
            err.write(f"{me} (2) No such file or directory\n")
            return 256 - errno.ENOENT
        crush.reweight_item(reweight_name, reweight_weight)
        modified = True
    if modified:
        if not outfn:
            out.write(
                f"{me} successfully built or modified map.  Use '-o <file>' to write it out.\n"
            )
        else:
            try:
                with open(outfn, "wb") as f:
                    f.write(crush.encode())
            except OSError as e:
                err.write(f"{me}: error writing '{outfn}': ({e.errno}) {e.strerror}\n")
                return 1
    if test:
        return tester.test()
    return 0


if __name__ == "__main__":
    sys.exit(main())
