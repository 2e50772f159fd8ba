"""Erasure-code profiles: upstream's parsing, defaults, validation and backend choice.

What: turns the ``key=value`` map that ``ceph osd erasure-code-profile set`` stores
into a validated :class:`Profile` (k, m, plugin, technique, chunk alignment, chunk
mapping, crush keys) and decides which pyeclib backend computes its parity.

Why: the monitor must accept and reject exactly what upstream's plugins accept and
reject (``ErasureCode::parse``/``sanity_check_k_m``, ``ErasureCodeJerasure*::parse``,
``ErasureCodeIsaDefault::parse``, ``OSDMonitor::parse_erasure_code_profile`` and
``normalize_profile``), with the same messages and errnos, and fill in the same
defaults; the OSD then needs the same chunk size / stripe width upstream computes
(``get_chunk_size`` with each technique's alignment).

Backends: upstream loads C plugins (``libec_jerasure.so``, ``libec_isa.so``); pyceph
uses pyeclib, whose PyPI wheel bundles liberasurecode and ISA-L. Each upstream
(plugin, technique) maps onto an ordered list of pyeclib backends and the first one
available at run time serves it:

* ``isa``/``reed_sol_van`` -> ``isa_l_rs_vand``: ISA-L's ``gf_gen_rs_matrix``, the
  very matrix upstream's isa plugin uses, so parity is byte-identical to Ceph's.
* ``isa``/``cauchy`` -> ``isa_l_rs_cauchy``: ISA-L's ``gf_gen_cauchy1_matrix``, as
  upstream (byte-identical too).
* ``jerasure``/* -> ``isa_l_rs_cauchy`` (MDS for every k, m the backend takes).
  Upstream's jerasure matrices are not reproduced: the parity is a different (but
  equally MDS) code with the same k, m, chunk size and shard layout. Only pyceph
  reads pyceph's shards, so this is invisible from outside.
* ``m=1`` -> ``isa_l_rs_vand`` first, whose single parity row is all ones: plain XOR,
  exactly what upstream's isa plugin does for m=1 (``region_xor``).

The resolved backend is deterministic for a given profile and pyeclib build. A
profile may pin it with the pyceph-only key ``pyceph-backend``; a pinned backend that
is missing is an error rather than a silent switch (shards written by one backend
can only be decoded by the same one).
"""

from __future__ import annotations

import errno
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyceph.common.errors import CephError

DEFAULT_PROFILE = "plugin=jerasure technique=reed_sol_van k=2 m=2"
"""``osd_pool_default_erasure_code_profile`` (upstream's default since Pacific)."""

DEFAULT_STRIPE_UNIT = 4096
"""``osd_pool_erasure_code_stripe_unit``."""

DEFAULT_RULE_ROOT = "default"
DEFAULT_RULE_FAILURE_DOMAIN = "host"
EC_DIR = "/usr/lib/ceph/erasure-code"

LARGEST_VECTOR_WORDSIZE = 16  # jerasure plugin
EC_ISA_ADDRESS_ALIGNMENT = 32  # isa plugin
SIZEOF_INT = 4

JERASURE_TECHNIQUES = (
    "reed_sol_van",
    "reed_sol_r6_op",
    "cauchy_orig",
    "cauchy_good",
    "liberation",
    "blaum_roth",
    "liber8tion",
)
ISA_TECHNIQUES = ("reed_sol_van", "cauchy")
UPSTREAM_PLUGINS = ("jerasure", "isa", "lrc", "shec", "clay")

_RS = ("isa_l_rs_cauchy", "liberasurecode_rs_vand", "jerasure_rs_vand")
_CAUCHY = ("isa_l_rs_cauchy", "jerasure_rs_cauchy", "liberasurecode_rs_vand")
BACKEND_PREFERENCE: dict[tuple[str, str], tuple[str, ...]] = {
    ("isa", "reed_sol_van"): ("isa_l_rs_vand", "liberasurecode_rs_vand", "jerasure_rs_vand"),
    ("isa", "cauchy"): ("isa_l_rs_cauchy", "jerasure_rs_cauchy", "liberasurecode_rs_vand"),
    ("jerasure", "reed_sol_van"): _RS,
    ("jerasure", "reed_sol_r6_op"): _RS,
    ("jerasure", "cauchy_orig"): _CAUCHY,
    ("jerasure", "cauchy_good"): _CAUCHY,
    # liberation, blaum_roth, liber8tion: bit-matrix codes with no pyeclib backend.
}
"""Upstream (plugin, technique) -> pyeclib backends, most preferred first."""

_XOR_FIRST = ("isa_l_rs_vand",)  # all-ones first parity row: m=1 is plain XOR

BACKEND_MAX_FRAGMENTS = 32
"""liberasurecode's limit on k + m."""


class ErasureCodeError(CephError):
    """A profile or codec failure with upstream's errno and message."""


# ----------------------------------------------------------------- backends
@functools.cache
def backend_available(name: str) -> bool:
    """Whether pyeclib can instantiate backend ``name`` here (probed once, cached)."""
    try:
        import warnings

        from pyeclib.ec_iface import ECDriver, check_backend_available

        if not check_backend_available(name):
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jerasure's FutureWarning
            drv = ECDriver(ec_type=name, k=2, m=1 if name == "isa_l_rs_vand" else 2)
        drv.encode(b"\0" * 64)
        return True
    except Exception:
        return False


def available_backends() -> list[str]:
    """The pyeclib backends that work here, among those any mapping may pick."""
    names: list[str] = []
    for prefs in BACKEND_PREFERENCE.values():
        for n in prefs:
            if n not in names:
                names.append(n)
    return [n for n in names if backend_available(n)]


def backend_table(m: int = 2) -> dict[str, str | None]:
    """``"plugin/technique"`` -> the backend serving it here (None: unsupported)."""
    out: dict[str, str | None] = {}
    for plugin, techs in (("jerasure", JERASURE_TECHNIQUES), ("isa", ISA_TECHNIQUES)):
        for t in techs:
            out[f"{plugin}/{t}"] = _pick_backend(plugin, t, m)
    return out


def _pick_backend(plugin: str, technique: str, m: int) -> str | None:
    prefs = BACKEND_PREFERENCE.get((plugin, technique))
    if prefs is None:
        return None
    if m == 1:
        prefs = _XOR_FIRST + prefs
    for name in prefs:
        if backend_available(name):
            return name
    return None


# ------------------------------------------------------------------ parsing
def _strict_strtol(s: str) -> tuple[int, str]:
    """common/strtol.cc's ``strict_strtol(s, 10, &err)``: (value, error text or '')."""
    m = re.match(r"\s*[+-]?\d+", s)
    if m is None:
        return 0, f"Expected option value to be integer, got '{s}'"
    if m.end() != len(s):
        return 0, f"The option value '{s}' seems to be invalid"
    v = int(m.group(0))
    if not -(2**31) <= v < 2**31:
        return 0, f"The option value '{s}' seems to be invalid"
    return v, ""


_IEC = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}


def strict_iecstrtoll(s: str) -> tuple[int, str]:
    """common/strtol.cc's strict_iecstrtoll: '4K', '64KiB', '1M' -> bytes."""
    m = re.fullmatch(r"(\d+)([KMGTPE]?)(i?B?)", s.strip()) if s else None
    if m is None or (m.group(3) and not m.group(2) and m.group(3) != "B"):
        return 0, f"strict_iecstrtoll: unit prefix not recognized in '{s}'"
    return int(m.group(1)) << _IEC[m.group(2)], ""


class _Parser:
    """Upstream's ``to_int``/``to_bool``/``to_string`` over a mutable profile map."""

    def __init__(self, profile: dict[str, str]) -> None:
        self.profile = profile
        self.msgs: list[str] = []
        self.err = 0

    def fail(self, msg: str, err: int = errno.EINVAL) -> None:
        self.msgs.append(msg)
        self.err = self.err or err

    def to_int(self, name: str, default: str) -> int:
        if not self.profile.get(name):
            self.profile[name] = default
        v, e = _strict_strtol(self.profile[name])
        if e:
            self.fail(
                f"could not convert {name}={self.profile[name]} to int because {e}, "
                f"set to default {default}"
            )
            return int(default)
        return v

    def to_bool(self, name: str, default: str) -> bool:
        if not self.profile.get(name):
            self.profile[name] = default
        return self.profile[name] in ("yes", "true")

    def to_string(self, name: str, default: str) -> str:
        if not self.profile.get(name):
            self.profile[name] = default
        return self.profile[name]


@dataclass(frozen=True)
class Profile:
    """A validated erasure-code profile and the layout facts derived from it."""

    k: int
    m: int
    plugin: str
    technique: str
    backend: str
    """The pyeclib backend computing parity."""
    alignment: int
    """Upstream's ``get_alignment()`` for this technique."""
    per_chunk_alignment: bool
    """True if ``alignment`` applies to each chunk, False if to the whole object."""
    chunk_mapping: tuple[int, ...] = ()
    """``mapping=DD_`` -> shard of each logical chunk (data first, then coding)."""
    crush_root: str = DEFAULT_RULE_ROOT
    crush_failure_domain: str = DEFAULT_RULE_FAILURE_DOMAIN
    crush_device_class: str = ""
    stripe_unit: int | None = None
    """The profile's ``stripe_unit`` if it set one."""
    raw: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The normalized profile map (what ``erasure-code-profile get`` shows)."""

    @property
    def chunk_count(self) -> int:
        return self.k + self.m

    def chunk_index(self, i: int) -> int:
        """Upstream's ``chunk_index``: the shard holding logical chunk ``i``."""
        return self.chunk_mapping[i] if i < len(self.chunk_mapping) else i

    def get_chunk_size(self, object_size: int) -> int:
        """Upstream's ``get_chunk_size(object_size)`` for this plugin/technique."""
        if self.per_chunk_alignment:
            cs = (object_size + self.k - 1) // self.k
            mod = cs % self.alignment
            return cs + (self.alignment - mod if mod else 0)
        tail = object_size % self.alignment
        padded = object_size + (self.alignment - tail if tail else 0)
        assert padded % self.k == 0
        return padded // self.k

    def stripe_width(self, stripe_unit: int | None = None) -> int:
        """``OSDMonitor::prepare_pool_stripe_width``: k * chunk(stripe_unit * k)."""
        su = stripe_unit if stripe_unit is not None else (self.stripe_unit or DEFAULT_STRIPE_UNIT)
        return self.k * self.get_chunk_size(su * self.k)


def _parse_mapping(p: _Parser) -> tuple[int, ...]:
    mapping = p.profile.get("mapping")
    if mapping is None:
        return ()
    data = [i for i, c in enumerate(mapping) if c == "D"]
    coding = [i for i, c in enumerate(mapping) if c != "D"]
    return tuple(data + coding)


def _sanity_check_k_m(p: _Parser, k: int, m: int) -> None:
    if k < 2:
        p.fail(f"k={k} must be >= 2")
    elif m < 1:
        p.fail(f"m={m} must be >= 1")


def _check_mapping(p: _Parser, mapping: tuple[int, ...], k: int, m: int) -> tuple[int, ...]:
    if mapping and len(mapping) != k + m:
        p.fail(
            f"mapping {p.profile['mapping']} maps {len(mapping)} chunks instead of the "
            f"expected {k + m} and will be ignored"
        )
        return ()
    return mapping


def _parse_jerasure(p: _Parser, technique: str) -> tuple[int, int, int, bool]:
    """ErasureCodeJerasure*::parse -> (k, m, alignment, per_chunk_alignment)."""
    if technique not in JERASURE_TECHNIQUES:
        raise ErasureCodeError(
            errno.ENOENT,
            f"technique={technique} is not a valid coding technique.  Choose one of the "
            "following: reed_sol_van, reed_sol_r6_op, cauchy_orig, cauchy_good, "
            "liberation, blaum_roth, liber8tion",
        )
    p.profile["technique"] = technique
    dk, dm, dw = "7", "3", "8"
    if technique == "reed_sol_r6_op":
        dm = "2"
    k = p.to_int("k", dk)
    m = p.to_int("m", dm)
    w = p.to_int("w", dw)
    _sanity_check_k_m(p, k, m)
    per_chunk = False
    if technique in ("reed_sol_van", "reed_sol_r6_op"):
        if technique == "reed_sol_r6_op" and m != 2:
            p.fail(f"ReedSolomonRAID6: m={m} must be 2 for RAID6: revert to 2")
        if w not in (8, 16, 32):
            name = "ReedSolomonVandermonde" if technique == "reed_sol_van" else "ReedSolomonRAID6"
            p.fail(f"{name}: w={w} must be one of {{8, 16, 32}} : revert to {dw}")
            w = int(dw)
        if technique == "reed_sol_van":
            per_chunk = p.to_bool("jerasure-per-chunk-alignment", "false")
        if per_chunk:
            return k, m, w * LARGEST_VECTOR_WORDSIZE, True
        align = k * w * SIZEOF_INT
        if (w * SIZEOF_INT) % LARGEST_VECTOR_WORDSIZE:
            align = k * w * LARGEST_VECTOR_WORDSIZE
        return k, m, max(align, 1), False
    if technique in ("cauchy_orig", "cauchy_good"):
        packetsize = p.to_int("packetsize", "2048")
        per_chunk = p.to_bool("jerasure-per-chunk-alignment", "false")
        if packetsize <= 0:
            p.fail(f"packetsize={packetsize} must be set")
            packetsize = 2048
        if w <= 0:
            w = int(dw)
        if per_chunk:
            align = w * packetsize
            mod = align % LARGEST_VECTOR_WORDSIZE
            return k, m, align + (LARGEST_VECTOR_WORDSIZE - mod if mod else 0), True
        align = k * w * packetsize * SIZEOF_INT
        if (w * packetsize * SIZEOF_INT) % LARGEST_VECTOR_WORDSIZE:
            align = k * w * packetsize * LARGEST_VECTOR_WORDSIZE
        return k, m, align, False
    # liberation, blaum_roth, liber8tion
    raise ErasureCodeError(
        errno.ENOENT,
        f"technique={technique} of plugin jerasure is not supported by pyceph: no pyeclib "
        "backend implements it. Choose one of the following: reed_sol_van, reed_sol_r6_op, "
        "cauchy_orig, cauchy_good",
    )


def _parse_isa(p: _Parser, technique: str) -> tuple[int, int, int, bool]:
    """ErasureCodePluginIsa::factory + ErasureCodeIsaDefault::parse."""
    if technique not in ISA_TECHNIQUES:
        raise ErasureCodeError(
            errno.ENOENT,
            f"technique={technique} is not a valid coding technique.  Choose one of the "
            "following: reed_sol_van,cauchy",
        )
    p.profile["technique"] = technique
    k = p.to_int("k", "7")
    m = p.to_int("m", "3")
    _sanity_check_k_m(p, k, m)
    if technique == "reed_sol_van":
        # upstream's verified-MDS limits for its Vandermonde matrix
        if k > 32:
            p.fail(f"Vandermonde: m={m} should be less/equal than 32 : revert to k=32")
            k = 32
        if m > 4:
            p.fail(
                f"Vandermonde: m={m} should be less than 5 to guarantee an MDS codec: revert to m=4"
            )
            m = 4
        if m == 4 and k > 21:
            p.fail(
                f"Vandermonde: k={k} should be less than 22 to guarantee an MDS codec "
                "with m=4: revert to k=21"
            )
    return k, m, EC_ISA_ADDRESS_ALIGNMENT, True


def parse_profile(profile: Mapping[str, str], *, force: bool = False) -> Profile:
    """Validate ``profile`` as upstream's plugin ``factory`` + ``init`` would.

    Raises :class:`ErasureCodeError` (EIO for an unknown plugin, ENOENT for an
    unknown or unsupported technique, EINVAL for bad values) whose message is
    upstream's. The returned :class:`Profile` carries the normalized map (defaults
    filled in) in ``raw``.
    """
    prof = {str(k): str(v) for k, v in profile.items()}
    plugin = prof.get("plugin", "")
    if not plugin:
        raise ErasureCodeError(errno.EINVAL, "profile must contain a plugin")
    p = _Parser(prof)
    if plugin == "jerasure":
        technique = prof.get("technique", "")
        k, m, align, per_chunk = _parse_jerasure(p, technique)
    elif plugin == "isa":
        technique = prof.setdefault("technique", "reed_sol_van")
        k, m, align, per_chunk = _parse_isa(p, technique)
    elif plugin in UPSTREAM_PLUGINS:
        raise ErasureCodeError(
            errno.EIO,
            f"load dlopen({EC_DIR}/libec_{plugin}.so): erasure-code plugin {plugin} is not "
            "available in pyceph (supported plugins: jerasure, isa)",
        )
    else:
        raise ErasureCodeError(
            errno.EIO,
            f"load dlopen({EC_DIR}/libec_{plugin}.so): {EC_DIR}/libec_{plugin}.so: cannot "
            "open shared object file: No such file or directory",
        )
    mapping = _check_mapping(p, _parse_mapping(p), k, m)
    if p.err:
        raise ErasureCodeError(p.err, "\n".join(p.msgs))
    # ErasureCode::init: crush keys
    root = p.to_string("crush-root", DEFAULT_RULE_ROOT)
    fdomain = p.to_string("crush-failure-domain", DEFAULT_RULE_FAILURE_DOMAIN)
    dclass = p.to_string("crush-device-class", "")

    if k + m > BACKEND_MAX_FRAGMENTS:
        raise ErasureCodeError(
            errno.EINVAL,
            f"k={k} + m={m} exceeds the {BACKEND_MAX_FRAGMENTS} chunks pyceph's "
            "erasure-code backends support",
        )
    pinned = prof.get("pyceph-backend")
    if pinned:
        if not backend_available(pinned):
            raise ErasureCodeError(
                errno.ENOENT, f"pyceph-backend={pinned} is not available in this pyeclib build"
            )
        backend: str | None = pinned
    else:
        backend = _pick_backend(plugin, technique, m)
    if backend is None:
        raise ErasureCodeError(
            errno.ENOENT,
            f"no erasure-code backend available for plugin={plugin} technique={technique} "
            f"(tried {', '.join(BACKEND_PREFERENCE.get((plugin, technique), ()))}); "
            "is pyeclib installed?",
        )

    stripe_unit = None
    if "stripe_unit" in prof:
        su, e = strict_iecstrtoll(prof["stripe_unit"])
        if e or su <= 0:
            raise ErasureCodeError(
                errno.EINVAL,
                f"could not parse stripe_unit '{prof['stripe_unit']}': {e or 'must be > 0'}",
            )
        stripe_unit = su
    out = Profile(
        k=k,
        m=m,
        plugin=plugin,
        technique=technique,
        backend=backend,
        alignment=align,
        per_chunk_alignment=per_chunk,
        chunk_mapping=mapping,
        crush_root=root,
        crush_failure_domain=fdomain,
        crush_device_class=dclass,
        stripe_unit=stripe_unit,
        raw=dict(sorted(prof.items())),
    )
    if stripe_unit is not None:
        chunk = out.get_chunk_size(stripe_unit * k)
        if chunk != stripe_unit:
            raise ErasureCodeError(
                errno.EINVAL,
                f"stripe_unit {stripe_unit} does not match ec profile alignment. "
                f"Would be padded to {chunk}",
            )
        if stripe_unit % 4096 and not force:
            raise ErasureCodeError(
                errno.EINVAL,
                "stripe_unit should be a multiple of 4096 bytes for best performance."
                "use --force to override this check",
            )
    return out


def normalize_profile(profile: Mapping[str, str], *, force: bool = False) -> dict[str, str]:
    """``OSDMonitor::normalize_profile``: validate, and return the map with defaults."""
    return dict(parse_profile(profile, force=force).raw)


def parse_profile_args(
    args: Iterable[str], default_profile: str = DEFAULT_PROFILE
) -> dict[str, str]:
    """``OSDMonitor::parse_erasure_code_profile``: ``["k=4", "m=2", ...]`` -> map.

    The user's keys are laid over ``osd_pool_default_erasure_code_profile`` unless
    they name a different plugin, in which case only the user's keys are kept.
    """
    result: dict[str, str] = {}
    for tok in default_profile.split():
        key, _, value = tok.partition("=")
        result[key] = value
    default_plugin = result.get("plugin", "jerasure")
    user: dict[str, str] = {}
    for item in args:
        key, sep, value = item.partition("=")
        if not sep:
            user[item] = ""
            result[item] = ""
            continue
        if key.startswith("ruleset-"):
            raise ErasureCodeError(
                errno.EINVAL,
                f"property '{key}' is no longer supported; try 'crush-{key[8:]}' instead",
            )
        user[key] = value
        result[key] = value
    if "plugin" in user and user["plugin"] != default_plugin:
        return user
    return result


def stripe_width_for(profile: Mapping[str, str] | Profile, stripe_unit: int | None = None) -> int:
    """The ``stripe_width`` a new EC pool with ``profile`` gets (k * 4096 by default)."""
    p = profile if isinstance(profile, Profile) else parse_profile(profile, force=True)
    return p.stripe_width(stripe_unit)
