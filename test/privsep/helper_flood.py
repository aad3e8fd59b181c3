#!/usr/bin/env python3
# helper_flood.py - a hostile local user against nicbox-helper, and a timed
# honest client (used by test/vm/checks/24-helper-flood.sh).
#
#   helper_flood.py flood SOCKET N SECONDS
#       keep N connections open (reconnecting those the helper closes) and
#       send garbage on them round-robin until SECONDS have passed; prints
#       "flood: connects=... refused=... garbage=..." at the end
#   helper_flood.py claim SOCKET DEVICE
#       connect, HELLO, CLAIM DEVICE, RELEASE; prints
#       "claim: hello_ms=... claim_ms=... result=..." (exit 1 unless CLAIM_OK)
import os
import re
import resource
import signal
import socket
import struct
import sys
import time

MAGIC = 0x3150424E
# The protocol version of this tree (proto/proto.h), not a copy of it.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../proto/proto.h")) as h:
    VERSION = int(re.search(r"#define NBP_VERSION (\d+)", h.read()).group(1))
HELLO, CLAIM, RELEASE = 1, 2, 5
HELLO_OK, CLAIM_OK, ERROR = 0x81, 0x82, 0xFF


def msg(mtype, body=b""):
    return struct.pack("<IIHHI", MAGIC, 16 + len(body), VERSION, mtype, 0) + body


def reply(sock):
    data = sock.recv(512)
    if len(data) < 16:
        return None, "hung up"
    mtype = struct.unpack_from("<H", data, 10)[0]
    if mtype == ERROR:
        err = struct.unpack_from("<i", data, 16)[0]
        return mtype, "ERROR %d %s" % (err, data[24:].split(b"\0")[0].decode())
    return mtype, "ok"


def flood(path, n, secs):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks, connects, refused, garbage, turn = [], 0, 0, 0, 0
    end = time.monotonic() + secs
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while time.monotonic() < end and not stop:
        while len(socks) < n:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.setblocking(False)
            try:
                s.connect(path)
            except (BlockingIOError, ConnectionRefusedError, OSError):
                s.close()
                break
            socks.append(s)
            connects += 1
        kept = []
        for s in socks:
            try:
                data = s.recv(512)
                refused += 1  # an ERROR (or EOF): the helper sent us away
                s.close()
                continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            kept.append(s)
        socks = kept
        for s in socks[turn % 50::50]:  # garbage on a fiftieth of them per round
            try:
                s.send(b"garbage, not a message" * 3)
                garbage += 1
            except OSError:
                pass
        turn += 1
        time.sleep(0.001)
    print("flood: connects=%d refused=%d garbage=%d open=%d" % (connects, refused, garbage, len(socks)))
    for s in socks:
        s.close()


def claim(path, device):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # Blocking, as libnicbox: connect() waits for room in the backlog.
    for opt in (socket.SO_SNDTIMEO, socket.SO_RCVTIMEO):
        s.setsockopt(socket.SOL_SOCKET, opt, struct.pack("ll", 30, 0))
    s.connect(path)
    s.send(msg(HELLO, b"\0" * 8))
    mtype, text = reply(s)
    t1 = time.monotonic()
    if mtype == HELLO_OK:
        s.send(msg(CLAIM, device.encode().ljust(64, b"\0")))
        mtype, text = reply(s)
    t2 = time.monotonic()
    print("claim: hello_ms=%.1f claim_ms=%.1f result=%s" % ((t1 - t0) * 1e3, (t2 - t0) * 1e3, text))
    if mtype == CLAIM_OK:
        s.send(msg(RELEASE))
        reply(s)
    s.close()
    return 0 if mtype == CLAIM_OK else 1


if __name__ == "__main__":
    if sys.argv[1] == "flood":
        flood(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(claim(sys.argv[2], sys.argv[3]))
