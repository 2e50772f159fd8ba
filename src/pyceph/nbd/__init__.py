"""NBD export of block devices (RBD images): `rbd device map` / `rbd-nbd`.

Layers, bottom up:

- `constants`: the protocol's numbers and pyceph's bounds;
- `protocol`: the server side of the NBD protocol as a sans-I/O state machine;
- `device`: the `BlockDevice` interface an export serves; `memdevice` (in memory) and
  `rbd_device` (an rbd engine image) implement it;
- `server`: the asyncio server (TCP on loopback, Unix sockets);
- `mapper`: background server processes and their state files — what
  `rbd device map|unmap|list -t nbd` calls (`map_image`, `unmap`, `list_mapped`);
- `rbd_nbd`: the `rbd-nbd` command line and the server process it runs.

The kernel's `nbd` module is not needed: clients such as `qemu-img`, `qemu-io` and
`nbdinfo` connect to `nbd://127.0.0.1:PORT/NAME` or `nbd+unix:///NAME?socket=PATH`.
"""
