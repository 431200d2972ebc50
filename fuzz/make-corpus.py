#!/usr/bin/python3
"""Writes the hand-made seeds of fuzz/corpus/rpc/: malformed and hostile
client streams, built from libvirt-rpc.md's packet layout.  The virsh-* and
python-* seeds next to them are real client sessions recorded with
capture-session.py.

    fuzz/make-corpus.py fuzz/corpus/rpc
"""
import os
import random
import struct
import sys

REMOTE = 0x20008086
KEEPALIVE = 0x6b656570
CALL, REPLY, MESSAGE, STREAM, CALL_WITH_FDS = 0, 1, 2, 3, 4

AUTH_LIST, SUPPORTS_FEATURE, OPEN, CLOSE = 66, 60, 1, 2
NUM_OF_DEVICES, LIST_DEVICES, LOOKUP, XML_DESC, PARENT = 111, 112, 113, 114, 115
NUM_OF_CAPS, LIST_CAPS, DETTACH, LIST_ALL, DETACH_FLAGS = 116, 117, 118, 285, 301
REGISTER, DEREGISTER, SET_IDENTITY = 374, 375, 419
AUTOSTART, PERSISTENT, ACTIVE = 433, 435, 436


def u32(v):
    return struct.pack('>I', v & 0xffffffff)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return u32(len(b)) + b + b'\0' * (-len(b) % 4)


def opt(s):
    return u32(0) if s is None else u32(1) + string(s)


def packet(proc, payload=b'', serial=0, prog=REMOTE, vers=1, typ=CALL, status=0, length=None):
    body = struct.pack('>IIiIII', prog, vers, proc, typ, serial & 0xffffffff, status) + payload
    return u32(len(body) + 4 if length is None else length) + body


def handshake():
    return (packet(AUTH_LIST, serial=0) + packet(SUPPORTS_FEATURE, u32(10), 1) +
            packet(OPEN, opt('nodedev:///system') + u32(0), 2))


def ping():
    return packet(1, prog=KEEPALIVE, typ=MESSAGE)


def typed_param(field, kind, value):
    if kind in (1, 2, 6):
        arm = u32(value)
    elif kind in (3, 4, 5):
        arm = struct.pack('>Q', value & 0xffffffffffffffff)
    elif kind == 7:
        arm = string(value)
    else:
        arm = u32(value)
    return string(field) + u32(kind) + arm


def seeds():
    h = handshake()
    dev = 'pci_0000_00_01_0'
    rng = random.Random(3)
    yield 'length-ffffffff', u32(0xffffffff) + b'\0' * 24
    yield 'length-64mib', u32(64 << 20) + packet(AUTH_LIST)[4:]
    yield 'length-message-max', u32(32 << 20) + packet(AUTH_LIST)[4:]
    yield 'length-over-call-max', u32(256 * 1024 + 1) + packet(AUTH_LIST)[4:]
    yield 'length-27', u32(27) + b'\0' * 23
    yield 'length-0', u32(0) + packet(AUTH_LIST)
    yield 'length-after-good-packets', h + u32(3) + packet(LIST_ALL, u32(1) + u32(0), 3)
    yield 'length-short-by-one', packet(LIST_ALL, u32(1) + u32(0), 3, length=35) + packet(AUTH_LIST)
    yield 'truncated-header', u32(28) + struct.pack('>III', REMOTE, 1, AUTH_LIST)
    yield 'truncated-payload', h + packet(LOOKUP, string(dev), 3)[:-6]
    yield 'truncated-length-word', h + b'\0\0'
    yield 'garbage-random', bytes(rng.randrange(256) for _ in range(200))
    yield 'garbage-http', b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'
    yield 'garbage-after-handshake', h + bytes(rng.randrange(256) for _ in range(64))
    yield 'string-over-limit', h + packet(LOOKUP, u32(4194305) + b'x' * 64, 3)
    yield 'string-length-ffffffff', h + packet(XML_DESC, u32(0xffffffff) + u32(0), 3)
    yield 'string-past-end', packet(OPEN, u32(1) + u32(0x11) + b'nodedev:', 0) + h
    yield 'string-embedded-nul', h + packet(LOOKUP, string(b'pci\0_0000'), 3) + packet(LIST_ALL, u32(1) + u32(0), 4)
    yield 'string-nonzero-padding', h + packet(LOOKUP, u32(8) + b'computer', 3) + packet(LOOKUP, u32(1) + b'c\xff\xff\xff', 4)
    yield 'opt-flag-2', packet(OPEN, u32(2) + string('nodedev:///system') + u32(0), 0) + h
    yield 'opt-flag-ffffffff', h + packet(REGISTER, u32(0) + u32(0xffffffff), 3) + packet(NUM_OF_DEVICES, u32(7) + u32(0), 4)
    yield 'calls-before-open', (packet(LIST_ALL, u32(1) + u32(0), 0) + packet(LOOKUP, string(dev), 1) +
                                packet(DETTACH, string(dev), 2) + packet(SET_IDENTITY, u32(0) + u32(0), 3) + h +
                                packet(LIST_ALL, u32(1) + u32(0x80000000), 4))
    yield 'unknown-procedures', b''.join(packet(p, b'\0' * 8, i) for i, p in
                                          enumerate([0, 3, 9999, -1, -2147483648, 2147483647, 376, 377, 360, 70])) + h
    yield 'unknown-programs', (packet(1, prog=0x20008087, serial=1) + packet(1, prog=0x06900690, serial=2) +
                               packet(AUTH_LIST, vers=2, serial=3) + packet(AUTH_LIST, prog=0, vers=0, serial=4) + h)
    yield 'other-types', h + b''.join(packet(LIST_ALL, u32(1) + u32(0), 10 + t, typ=t) for t in (1, 2, 3, 4, 5, 6, 7, 0xffffffff))
    yield 'status-error-call', h + packet(LIST_ALL, u32(1) + u32(0), 3, status=1) + packet(LIST_ALL, u32(1) + u32(0), 4, status=0xffffffff)
    yield 'open-twice', h + packet(OPEN, opt('nodedev:///system') + u32(1), 3) + packet(LIST_ALL, u32(1) + u32(0), 4)
    yield 'open-uris', b''.join(packet(OPEN, opt(u) + u32(f), i) for i, (u, f) in enumerate([
        ('qemu:///system', 0), ('nodedev:///session', 0), ('nodedev://host/system?x=y', 0), ('%%%', 0),
        ('nodedev', 0), ('', 0xffffffff), (None, 1)]))
    yield 'open-readonly', packet(OPEN, opt('nodedev:///system') + u32(1), 0) + packet(DETACH_FLAGS, string(dev) + opt('vfio') + u32(0), 1)
    yield 'set-identity', h + packet(SET_IDENTITY, u32(8) + typed_param('user-name', 7, 'root') +
                                     typed_param('unix-user-id', 4, 0) + typed_param('group-name', 7, 'root') +
                                     typed_param('unix-group-id', 4, 0) + typed_param('process-id', 3, -1) +
                                     typed_param('process-time', 4, 12345) + typed_param('x-int', 1, -5) +
                                     typed_param('x-bool', 6, 1) + u32(0), 3)
    yield 'set-identity-bad', h + (packet(SET_IDENTITY, u32(21), 3) +
                                   packet(SET_IDENTITY, u32(1) + typed_param('x' * 81, 7, 'v') + u32(0), 4) +
                                   packet(SET_IDENTITY, u32(1) + typed_param('d', 5, 1) + u32(0), 5) +
                                   packet(SET_IDENTITY, u32(1) + typed_param('d', 99, 1) + u32(0), 6) +
                                   packet(SET_IDENTITY, u32(0) + u32(1), 7))
    yield 'list-limits', h + (packet(LIST_DEVICES, opt(None) + u32(-1) + u32(0), 3) +
                              packet(LIST_DEVICES, opt('pci') + u32(65537) + u32(0), 4) +
                              packet(LIST_DEVICES, opt('pci') + u32(2) + u32(1), 5) +
                              packet(LIST_DEVICES, opt('system') + u32(65536) + u32(0), 6) +
                              packet(NUM_OF_DEVICES, opt('nosuch') + u32(0), 7) +
                              packet(LIST_ALL, u32(0) + u32(0), 8) +
                              packet(LIST_ALL, u32(1) + u32(0x00400000), 9) +
                              packet(LIST_ALL, u32(1) + u32(0x40000002), 10))
    yield 'caps-limits', h + (packet(LIST_CAPS, string('computer') + u32(-1), 3) +
                              packet(LIST_CAPS, string(dev) + u32(65537), 4) +
                              packet(LIST_CAPS, string(dev) + u32(1), 5) +
                              packet(NUM_OF_CAPS, string('nosuch'), 6))
    yield 'device-procs', h + b''.join(packet(p, string(n) + u32(0), 3 + i) for i, (p, n) in enumerate(
        [(LOOKUP, 'computer'), (XML_DESC, dev), (PARENT, 'computer'), (PARENT, dev), (AUTOSTART, 'computer'),
         (PERSISTENT, dev), (ACTIVE, dev), (XML_DESC, 'nosuch'), (LOOKUP, ''), (LOOKUP, '../../etc/passwd')]))
    yield 'xml-desc-flags', h + packet(XML_DESC, string('computer') + u32(1), 3)
    yield 'events', h + (b''.join(packet(REGISTER, u32(i % 3) + opt(None if i % 2 else dev), 3 + i) for i in range(70)) +
                         packet(REGISTER, u32(0) + opt('nosuch'), 80) + packet(DEREGISTER, u32(1), 81) +
                         packet(DEREGISTER, u32(1), 82) + packet(DEREGISTER, u32(-1), 83))
    yield 'keepalive', (ping() + packet(2, prog=KEEPALIVE, typ=MESSAGE) + packet(1, prog=KEEPALIVE, vers=2, typ=MESSAGE) +
                        packet(1, prog=KEEPALIVE, typ=CALL, serial=9) + packet(3, prog=KEEPALIVE, typ=MESSAGE) + h + ping())
    yield 'pipelined', h + b''.join(packet(LIST_ALL, u32(1) + u32(0), 3 + i) for i in range(200))
    yield 'close-then-more', h + packet(CLOSE, serial=3) + packet(LIST_ALL, u32(1) + u32(0), 4) + u32(0xffffffff)
    yield 'trailing-bytes', h + packet(LIST_ALL, u32(1) + u32(0) + b'\xde\xad\xbe\xef', 3)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(outdir, 'malformed-%s.bin' % name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
