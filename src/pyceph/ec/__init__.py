"""Erasure coding for EC pools: profiles, the stripe codec, and stripe arithmetic.

Pure and independent of the OSD: :mod:`.profile` validates ``erasure-code-profile``
maps exactly as upstream's plugins do and picks the pyeclib backend, :mod:`.codec`
turns stripes into k+m shards and back, :mod:`.stripe` is ``ECUtil::stripe_info_t``
plus upstream's append-only and read-modify-write planning.
"""

from pyceph.ec.codec import Codec
from pyceph.ec.profile import (
    DEFAULT_PROFILE,
    DEFAULT_STRIPE_UNIT,
    ErasureCodeError,
    Profile,
    available_backends,
    backend_table,
    normalize_profile,
    parse_profile,
    parse_profile_args,
    stripe_width_for,
)
from pyceph.ec.stripe import StripeInfo, WritePlan, check_append_only_write, merge_write, plan_write

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_STRIPE_UNIT",
    "Codec",
    "ErasureCodeError",
    "Profile",
    "StripeInfo",
    "WritePlan",
    "available_backends",
    "backend_table",
    "check_append_only_write",
    "merge_write",
    "normalize_profile",
    "parse_profile",
    "parse_profile_args",
    "plan_write",
    "stripe_width_for",
]
