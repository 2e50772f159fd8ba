"""`ceph_module`: the base classes upstream's ceph-mgr provides to its modules.

Upstream builds this module into the ceph-mgr binary (src/mgr/PyModule.cc) and
`mgr_module.py` subclasses its classes; modules themselves never import it. pyceph
keeps the name so that both our `mgr_module` and upstream's own `mgr_module.py`
(as shipped in /usr/share/ceph/mgr) run over the same hooks, which live in
`pyceph.mgr.modules.hooks`.
"""

from pyceph.mgr.modules.hooks import (
    BaseMgrModule,
    BaseMgrStandbyModule,
    BasePyCRUSH,
    BasePyOSDMap,
    BasePyOSDMapIncremental,
)

__all__ = [
    "BaseMgrModule",
    "BaseMgrStandbyModule",
    "BasePyCRUSH",
    "BasePyOSDMap",
    "BasePyOSDMapIncremental",
]
