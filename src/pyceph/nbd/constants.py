"""Numbers of the NBD protocol, and the bounds pyceph's NBD server enforces.

Every value here is from the protocol description kept by the NBD project
(`doc/proto.md` of github.com/NetworkBlockDevice/nbd: "Values", "Handshake phase",
"Transmission phase", "Error values", "Size constraints"). Only the parts pyceph's
server speaks are listed: fixed-newstyle negotiation without TLS, simple and
structured replies, the `base:allocation` metadata context.
The bounds at the end are pyceph's own choices, named so tests and callers can use them.
"""

from __future__ import annotations

import errno as _errno

# --- magics -------------------------------------------------------------------------------
#: "NBDMAGIC": the first 8 bytes the server sends.
NBDMAGIC = 0x4E42444D41474943
#: "IHAVEOPT": the newstyle magic, sent by the server after NBDMAGIC and by the client
#: before every option.
IHAVEOPT = 0x49484156454F5054
#: Magic of every option reply (fixed newstyle).
OPTION_REPLY_MAGIC = 0x3E889045565A9
#: Magic of a transmission-phase request.
REQUEST_MAGIC = 0x25609513
#: Magic of a simple reply.
SIMPLE_REPLY_MAGIC = 0x67446698
#: Magic of a structured reply chunk.
STRUCTURED_REPLY_MAGIC = 0x668E33EF

# --- handshake flags (server, 16 bits) and client flags (32 bits) ----------------------------
FLAG_FIXED_NEWSTYLE = 1 << 0
FLAG_NO_ZEROES = 1 << 1
FLAG_C_FIXED_NEWSTYLE = 1 << 0
FLAG_C_NO_ZEROES = 1 << 1
#: Every client flag this server understands; any other bit ends the session.
KNOWN_CLIENT_FLAGS = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES

# --- transmission flags (16 bits) -------------------------------------------------------------
FLAG_HAS_FLAGS = 1 << 0
FLAG_READ_ONLY = 1 << 1
FLAG_SEND_FLUSH = 1 << 2
FLAG_SEND_FUA = 1 << 3
FLAG_ROTATIONAL = 1 << 4
FLAG_SEND_TRIM = 1 << 5
FLAG_SEND_WRITE_ZEROES = 1 << 6
FLAG_SEND_DF = 1 << 7
FLAG_CAN_MULTI_CONN = 1 << 8
FLAG_SEND_CACHE = 1 << 10
FLAG_SEND_FAST_ZERO = 1 << 11

# --- options ----------------------------------------------------------------------------------
OPT_EXPORT_NAME = 1
OPT_ABORT = 2
OPT_LIST = 3
OPT_STARTTLS = 5
OPT_INFO = 6
OPT_GO = 7
OPT_STRUCTURED_REPLY = 8
OPT_LIST_META_CONTEXT = 9
OPT_SET_META_CONTEXT = 10

# --- option reply types -----------------------------------------------------------------------
REP_ACK = 1
REP_SERVER = 2
REP_INFO = 3
REP_META_CONTEXT = 4
_REP_ERR = 1 << 31
REP_ERR_UNSUP = _REP_ERR | 1
REP_ERR_POLICY = _REP_ERR | 2
REP_ERR_INVALID = _REP_ERR | 3
REP_ERR_PLATFORM = _REP_ERR | 4
REP_ERR_TLS_REQD = _REP_ERR | 5
REP_ERR_UNKNOWN = _REP_ERR | 6
REP_ERR_SHUTDOWN = _REP_ERR | 7
REP_ERR_BLOCK_SIZE_REQD = _REP_ERR | 8
REP_ERR_TOO_BIG = _REP_ERR | 9

# --- NBD_REP_INFO types -----------------------------------------------------------------------
INFO_EXPORT = 0
INFO_NAME = 1
INFO_DESCRIPTION = 2
INFO_BLOCK_SIZE = 3

# --- commands and command flags ---------------------------------------------------------------
CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
CMD_FLUSH = 3
CMD_TRIM = 4
CMD_CACHE = 5
CMD_WRITE_ZEROES = 6
CMD_BLOCK_STATUS = 7
CMD_NAMES = {
    CMD_READ: "read",
    CMD_WRITE: "write",
    CMD_DISC: "disc",
    CMD_FLUSH: "flush",
    CMD_TRIM: "trim",
    CMD_CACHE: "cache",
    CMD_WRITE_ZEROES: "write_zeroes",
    CMD_BLOCK_STATUS: "block_status",
}

CMD_FLAG_FUA = 1 << 0
CMD_FLAG_NO_HOLE = 1 << 1
CMD_FLAG_DF = 1 << 2
CMD_FLAG_REQ_ONE = 1 << 3
CMD_FLAG_FAST_ZERO = 1 << 4

# --- structured replies and metadata contexts ---------------------------------------------------
REPLY_FLAG_DONE = 1 << 0
REPLY_TYPE_NONE = 0
REPLY_TYPE_OFFSET_DATA = 1
REPLY_TYPE_OFFSET_HOLE = 2
REPLY_TYPE_BLOCK_STATUS = 5
REPLY_TYPE_ERROR = (1 << 15) + 1
#: The one metadata context the server offers, and the id it is given when selected.
META_BASE_ALLOCATION = "base:allocation"
META_BASE_ALLOCATION_ID = 1
#: base:allocation flags of a block status descriptor.
STATE_HOLE = 1 << 0
STATE_ZERO = 1 << 1

# --- error values of a reply ------------------------------------------------------------------
NBD_EPERM = 1
NBD_EIO = 5
NBD_ENOMEM = 12
NBD_EINVAL = 22
NBD_ENOSPC = 28
NBD_EOVERFLOW = 75
NBD_ENOTSUP = 95
NBD_ESHUTDOWN = 108

#: A local errno -> the NBD error a reply carries ("Error values": EDQUOT and EFBIG
#: are reported as ENOSPC; anything not listed is EIO).
_ERRNO_TO_NBD = {
    _errno.EPERM: NBD_EPERM,
    _errno.EROFS: NBD_EPERM,
    _errno.EACCES: NBD_EPERM,
    _errno.EIO: NBD_EIO,
    _errno.ENOMEM: NBD_ENOMEM,
    _errno.EINVAL: NBD_EINVAL,
    _errno.ENOSPC: NBD_ENOSPC,
    _errno.EDQUOT: NBD_ENOSPC,
    _errno.EFBIG: NBD_ENOSPC,
    _errno.EOVERFLOW: NBD_EOVERFLOW,
    _errno.ENOTSUP: NBD_ENOTSUP,
    _errno.ESHUTDOWN: NBD_ESHUTDOWN,
}


def nbd_error(err: int) -> int:
    """The NBD error value for a local (positive or negative) errno."""
    return _ERRNO_TO_NBD.get(abs(err), NBD_EIO)


# --- sizes of fixed parts ---------------------------------------------------------------------
#: Bytes of a request header (magic, flags, type, cookie, offset, length).
REQUEST_HEADER_SIZE = 28
#: Bytes of an option header (IHAVEOPT, option, length).
OPTION_HEADER_SIZE = 16
#: Zero padding after the NBD_OPT_EXPORT_NAME reply unless NO_ZEROES was agreed.
EXPORT_NAME_PADDING = 124
#: The protocol's longest string (export names, descriptions, messages).
MAX_STRING = 4096

# --- pyceph's bounds --------------------------------------------------------------------------
#: Largest READ/WRITE payload accepted (and advertised as the maximum payload size):
#: the protocol's portable 2^25; a WRITE announcing more ends the session (its payload
#: cannot be skipped safely), a larger READ is refused with EINVAL.
MAX_REQUEST_SIZE = 32 << 20
#: Requests of one connection being executed at once; the server stops reading the
#: socket while this many are outstanding.
MAX_IN_FLIGHT = 128
#: Payload bytes (write data in, read data out) of one connection's outstanding
#: requests; reading pauses above it (a single request is always admitted).
MAX_IN_FLIGHT_BYTES = 128 << 20
#: Largest option payload accepted during negotiation; a longer one ends the session.
MAX_OPTION_SIZE = 64 << 10
#: Options one client may send before entering transmission (a denial-of-service bound).
MAX_OPTIONS = 1024
#: Bytes of the export one NBD_CMD_BLOCK_STATUS describes at most (the protocol lets the
#: server answer for less than asked; the client asks again from where the answer ends).
MAX_BLOCK_STATUS_LENGTH = 1 << 30
#: Metadata context queries accepted in one option.
MAX_META_QUERIES = 64
#: Clients one server serves at once; more are disconnected on arrival.
MAX_CONNECTIONS = 64
#: Seconds a client may take to finish negotiation before it is disconnected.
NEGOTIATION_TIMEOUT = 30.0
#: Block sizes advertised by default: byte-granular access, 4 KiB preferred.
DEFAULT_MIN_BLOCK = 1
DEFAULT_PREFERRED_BLOCK = 4096
