"""pyceph: the Ceph storage system written in Python."""

__version__ = "0.1.0"
CEPH_RELEASE = "pacific"
CEPH_VERSION = "16.2.15"
VERSION_STRING = f"ceph version {CEPH_VERSION} (pyceph {__version__}) {CEPH_RELEASE} (stable)"
