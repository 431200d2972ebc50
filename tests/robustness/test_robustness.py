#!/usr/bin/python3
"""Hostile and broken clients against hostdevd's libvirt RPC door.

Every test starts its own hostdevd on private sockets (on this machine's
real PCI devices, read-only) with --handshake-timeout 2, attacks it with
hand-built packets over plain sockets, and then checks that the daemon is
still alive and that a real python3-libvirt client is still served.  Run
with Debian's /usr/bin/python3 (it has python3-libvirt):

    HOSTDEVD=build/daemon/hostdevd /usr/bin/python3 tests/robustness/test_robustness.py [-v] [Test.test_name]
"""
import errno
import os
import random
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import libvirt

HOSTDEVD = os.environ.get('HOSTDEVD', 'build/daemon/hostdevd')
HANDSHAKE_TIMEOUT = 2

REMOTE = 0x20008086
KEEPALIVE = 0x6b656570
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1
AUTH_LIST, SUPPORTS_FEATURE, OPEN, CLOSE = 66, 60, 1, 2
LOOKUP, XML_DESC, LIST_ALL = 113, 114, 285
CALL_MAX = 256 * 1024          # HD_RPC_CALL_MAX
STRING_MAX = 4194304           # REMOTE_STRING_MAX
VIR_ERR_INTERNAL_ERROR, VIR_ERR_RPC, VIR_FROM_RPC = 1, 39, 7

# python3-libvirt prints every error on stderr unless told otherwise
libvirt.registerErrorHandler(lambda ctx, err: None, None)


def u32(v):
    return struct.pack('>I', v & 0xffffffff)


def xdr_string(s):
    b = s.encode() if isinstance(s, str) else s
    return u32(len(b)) + b + b'\0' * (-len(b) % 4)


def packet(proc, payload=b'', serial=0, prog=REMOTE, vers=1, typ=CALL):
    body = struct.pack('>IIiIII', prog, vers, proc, typ, serial, OK) + payload
    return u32(len(body) + 4) + body


OPEN_PAYLOAD = u32(1) + xdr_string('nodedev:///system') + u32(0)
LIST_ALL_PAYLOAD = u32(1) + u32(0)


class Closed(Exception):
    pass


class RawClient:
    """A plain socket that speaks the wire protocol by hand."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b''

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('no complete packet from the daemon')
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b''
            if not data:
                raise Closed()
            self.buf += data

    def read_packet(self, timeout=5.0):
        """(prog, vers, proc, type, serial, status), payload"""
        deadline = time.monotonic() + timeout
        self._fill(4, deadline)
        length, = struct.unpack('>I', self.buf[:4])
        assert length >= 28, 'daemon sent a packet of length %d' % length
        self._fill(length, deadline)
        pkt, self.buf = self.buf[:length], self.buf[length:]
        return struct.unpack('>IIiIII', pkt[4:28]), pkt[28:]

    def call(self, proc, payload=b'', serial=0, timeout=5.0):
        self.send(packet(proc, payload, serial))
        return self.read_packet(timeout)

    def handshake(self):
        h, _ = self.call(AUTH_LIST, serial=0)
        assert h[5] == OK, h
        h, _ = self.call(OPEN, OPEN_PAYLOAD, serial=1)
        assert h[5] == OK, h

    def closed_within(self, timeout):
        """True once the daemon has closed the connection (replies it sent
        before closing are skipped); False if it is still open after
        @timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not data:
                return True


def decode_error(payload):
    code, domain, present = struct.unpack('>iiI', payload[:12])
    message = None
    if present:
        n, = struct.unpack('>I', payload[12:16])
        message = payload[16:16 + n].decode()
    return code, domain, message


def decode_names(payload):
    n, = struct.unpack('>I', payload[:4])
    pos, names = 4, []
    for _ in range(n):
        ln, = struct.unpack('>I', payload[pos:pos + 4])
        names.append(payload[pos + 4:pos + 4 + ln].decode())
        pos += 4 + ln + (-ln % 4)
    return names


class DaemonTestCase(unittest.TestCase):
    """A private hostdevd per test."""

    # RLIMIT_NOFILE (soft and hard) for the daemon; None: inherited
    daemon_nofile = None

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix='hostdevd-robustness-')
        self.rw = os.path.join(self.tmpdir, 'sock')
        self.ro = os.path.join(self.tmpdir, 'sock-ro')
        self.log = open(os.path.join(self.tmpdir, 'log'), 'w+')
        self.daemon = subprocess.Popen(
            [HOSTDEVD, '--socket', self.rw, '--ro-socket', self.ro,
             '--state-dir', os.path.join(self.tmpdir, 'state'),
             '--handshake-timeout', str(HANDSHAKE_TIMEOUT),
             # the libvirt door alone: no system bus, no libvirt domains of this machine
             '--no-dbus', '--no-libvirt'],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=self._daemon_limits)
        self.uri = 'nodedev:///system?socket=' + self.rw
        deadline = time.monotonic() + 20
        while True:
            self.assertIsNone(self.daemon.poll(), 'hostdevd exited at start:\n' + self.daemon_log())
            if os.path.exists(self.ro):
                try:
                    RawClient(self.rw).close()
                    break
                except OSError:
                    pass
            self.assertLess(time.monotonic(), deadline, 'hostdevd did not start listening')
            time.sleep(0.02)
        self.baseline_rss = self.rss_kib()

    def _daemon_limits(self):
        if self.daemon_nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.daemon_nofile, self.daemon_nofile))

    def cpu_seconds(self):
        with open('/proc/%d/stat' % self.daemon.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def log_size(self):
        self.log.flush()
        return os.path.getsize(self.log.name)

    def tearDown(self):
        status = self.daemon.poll()
        problem = None
        if status is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
                problem = 'hostdevd did not stop within 10 s of SIGTERM'
            # a sanitizer build exits non-zero on leaks at exit
            if problem is None and self.daemon.returncode != 0:
                problem = 'hostdevd stopped with %s' % describe_status(self.daemon.returncode)
        else:
            # a crash is a failure of the test that caused it, whatever else it checked
            problem = 'hostdevd died during the test (%s)' % describe_status(status)
        log = self.daemon_log()
        if problem is None and ('runtime error:' in log or 'Sanitizer' in log):
            problem = 'sanitizer report in the daemon log'
        self.log.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        if problem is not None:
            self.fail('%s; log:\n%s' % (problem, log))

    def daemon_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-4000:]

    def assert_alive(self):
        status = self.daemon.poll()
        self.assertIsNone(status, 'hostdevd died (%s); log:\n%s' % (describe_status(status), self.daemon_log()))

    def rss_kib(self):
        with open('/proc/%d/status' % self.daemon.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        raise AssertionError('no VmRSS')

    def n_fds(self):
        return len(os.listdir('/proc/%d/fd' % self.daemon.pid))

    def libvirt_call(self, fn, timeout=5.0):
        """Runs @fn in a thread: a daemon that blocks must fail the test, not
        hang it.  Returns fn's result and the seconds it took."""
        result = {}

        def run():
            start = time.monotonic()
            try:
                result['value'] = fn()
            except Exception as e:   # reported below
                result['error'] = e
            result['seconds'] = time.monotonic() - start

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(timeout)
        self.assertFalse(t.is_alive(), 'a libvirt client was not served within %.0f s' % timeout)
        if 'error' in result:
            raise result['error']
        return result['value'], result['seconds']

    def assert_served(self, timeout=5.0):
        """A new python3-libvirt client opens, lists every device and closes."""
        def session():
            conn = libvirt.open(self.uri)
            try:
                return [d.name() for d in conn.listAllDevices(0)]
            finally:
                conn.close()

        self.assert_alive()
        names, seconds = self.libvirt_call(session, timeout)
        self.assertIn('computer', names)
        return seconds

    def open_libvirt(self):
        conn, _ = self.libvirt_call(lambda: libvirt.open(self.uri))
        self.addCleanup(conn.close)
        return conn

    def assert_conn_works(self, conn):
        names, _ = self.libvirt_call(lambda: [d.name() for d in conn.listAllDevices(0)])
        self.assertIn('computer', names)


def describe_status(status):
    if status is None:
        return 'running'
    if status < 0:
        return 'killed by %s' % signal.Signals(-status).name
    return 'exit status %d' % status


class FramingTest(DaemonTestCase):
    """Bad length words: the stream cannot be resynchronised, so the client
    is disconnected at once; nobody else notices."""

    def check_disconnected_at_once(self, data, what):
        c = RawClient(self.rw)
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass   # already dropped while we were still writing
        # well before the handshake deadline: the length word alone decides
        self.assertTrue(c.closed_within(1.0), '%s: the client was not disconnected' % what)
        c.close()

    def test_oversized_length_word(self):
        existing = self.open_libvirt()
        header = packet(AUTH_LIST)[4:]
        for length in (0xffffffff, 0x80000000, 64 << 20, (32 << 20) + 4, CALL_MAX + 1):
            self.check_disconnected_at_once(u32(length) + header, 'length word 0x%x' % length)
            self.assert_alive()
        # the same after a good handshake
        c = RawClient(self.rw)
        c.handshake()
        c.send(u32(0xffffffff) + header)
        self.assertTrue(c.closed_within(1.0), 'an open connection with a bad length word stayed')
        c.close()
        # RSS did not take the announced sizes
        self.assertLess(self.rss_kib() - self.baseline_rss, 16 * 1024)
        self.assert_conn_works(existing)
        self.assert_served()

    def test_length_below_header(self):
        for length in (0, 1, 4, 24, 27):
            self.check_disconnected_at_once(u32(length) + b'\0' * 32, 'length word %d' % length)
        self.assert_served()

    def test_truncated_packet_then_close(self):
        whole = packet(OPEN, OPEN_PAYLOAD, 1)
        for cut in (1, 3, 4, 5, 27, 28, len(whole) - 1):
            for _ in range(20):
                c = RawClient(self.rw)
                c.send(packet(AUTH_LIST) + whole[:cut])
                c.close()
        self.assert_alive()
        self.assert_served()
        # a client that keeps its half packet pending blocks nobody, and is
        # dropped at the handshake deadline
        c = RawClient(self.rw)
        c.send(whole[:len(whole) // 2])
        seconds = self.assert_served()
        self.assertLess(seconds, 1.0)
        self.assertTrue(c.closed_within(HANDSHAKE_TIMEOUT + 3),
                        'a client with a pending partial packet was never dropped')
        c.close()

    def test_garbage(self):
        rng = random.Random(20240611)
        samples = [
            b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
            bytes.fromhex('16030100a5010000a10303') + bytes(160),          # a TLS ClientHello
            b'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n',
        ]
        for _ in range(30):
            n = rng.randrange(4, 4096)
            # the first byte non-zero makes the length word at least 16 MiB
            samples.append(bytes([rng.randrange(1, 256)]) + bytes(rng.randrange(256) for _ in range(n)))
        for data in samples:
            self.check_disconnected_at_once(data, 'garbage %r' % data[:8])
        self.assert_alive()
        # garbage after a good handshake
        c = RawClient(self.rw)
        c.handshake()
        c.send(b'\xfe' + bytes(rng.randrange(256) for _ in range(999)))
        self.assertTrue(c.closed_within(1.0))
        c.close()
        self.assert_served()

    def test_string_over_limit(self):
        c = RawClient(self.rw)
        c.handshake()
        # a length word over REMOTE_STRING_MAX inside a small packet: the
        # call fails to decode, the connection stays
        for serial, length in ((3, STRING_MAX + 1), (4, 0xffffffff), (5, 0x7ffffffc)):
            h, payload = c.call(LOOKUP, u32(length) + b'x' * 64, serial)
            self.assertEqual(h[4], serial)
            self.assertEqual(h[5], ERROR)
            self.assertEqual(decode_error(payload), (VIR_ERR_RPC, VIR_FROM_RPC, 'Unable to decode message payload'))
        h, payload = c.call(LIST_ALL, LIST_ALL_PAYLOAD, 6)
        self.assertEqual(h[5], OK)
        self.assertIn('computer', decode_names(payload))
        c.close()
        # a string really over the limit cannot fit in a call: disconnected
        c = RawClient(self.rw)
        c.handshake()
        big = packet(LOOKUP, xdr_string(b'x' * (STRING_MAX + 1)), 3)
        t = threading.Thread(target=lambda: self._send_quietly(c, big), daemon=True)
        t.start()
        self.assertTrue(c.closed_within(2.0), 'a 4 MiB call was accepted')
        t.join(5)
        c.close()
        self.assertLess(self.rss_kib() - self.baseline_rss, 16 * 1024)
        self.assert_served()

    @staticmethod
    def _send_quietly(c, data):
        try:
            c.sock.settimeout(5)
            c.sock.sendall(data)
        except OSError:
            pass


class ProtocolTest(DaemonTestCase):
    """Well-framed but wrong calls get libvirt's errors; the connection stays."""

    def test_calls_before_open(self):
        c = RawClient(self.rw)
        for serial, proc, payload in ((7, LIST_ALL, LIST_ALL_PAYLOAD), (8, LOOKUP, xdr_string('computer')),
                                      (9, XML_DESC, xdr_string('computer') + u32(0))):
            h, payload = c.call(proc, payload, serial)
            self.assertEqual(h, (REMOTE, 1, proc, REPLY, serial, ERROR))
            self.assertEqual(decode_error(payload),
                             (VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, 'internal error: connection not open'))
        # still connected: the handshake and a real call work on the same socket
        c.handshake()
        h, payload = c.call(LIST_ALL, LIST_ALL_PAYLOAD, 10)
        self.assertEqual(h[5], OK)
        self.assertIn('computer', decode_names(payload))
        c.close()
        self.assert_served()

    def test_unknown_procedure(self):
        c = RawClient(self.rw)
        for opened in (False, True):
            for serial, proc in enumerate((9999, 0, -1, 376), start=20):
                h, payload = c.call(proc, b'', serial)
                self.assertEqual(h, (REMOTE, 1, proc, REPLY, serial, ERROR))
                self.assertEqual(decode_error(payload), (VIR_ERR_RPC, VIR_FROM_RPC, 'unknown procedure: %d' % proc))
            if not opened:
                c.handshake()
        h, _ = c.call(LIST_ALL, LIST_ALL_PAYLOAD, 30)
        self.assertEqual(h[5], OK)
        c.close()
        self.assert_served()

    def test_keepalive(self):
        c = RawClient(self.rw)
        c.send(packet(1, prog=KEEPALIVE, typ=MESSAGE))
        h, payload = c.read_packet()
        self.assertEqual(h, (KEEPALIVE, 1, 2, MESSAGE, 0, OK))
        self.assertEqual(payload, b'')
        # a PONG needs no answer; the connection carries on
        c.send(packet(2, prog=KEEPALIVE, typ=MESSAGE))
        c.handshake()
        c.close()
        self.assert_served()

    def test_passed_descriptors_dropped(self):
        """Descriptors sent with SCM_RIGHTS are never taken in: the daemon
        reads with recv(), and the kernel closes what it did not ask for."""
        c = RawClient(self.rw)
        c.handshake()
        fds_before = self.n_fds()
        files = [os.open('/dev/null', os.O_RDONLY) for _ in range(100)]
        try:
            for serial in range(2, 12):
                socket.send_fds(c.sock, [packet(AUTH_LIST, serial=serial)], files)
                h, _ = c.read_packet()
                self.assertEqual(h, (REMOTE, 1, AUTH_LIST, REPLY, serial, OK))
            # a CALL_WITH_FDS is refused, and the connection stays
            socket.send_fds(c.sock, [packet(LIST_ALL, LIST_ALL_PAYLOAD, 20, typ=4)], files[:1])
            h, payload = c.read_packet()
            self.assertEqual(h, (REMOTE, 1, LIST_ALL, REPLY, 20, ERROR))
            self.assertEqual(decode_error(payload), (VIR_ERR_RPC, VIR_FROM_RPC, 'Unexpected message type 4'))
        finally:
            for fd in files:
                os.close(fd)
        self.assertLessEqual(self.n_fds(), fds_before, 'the daemon holds descriptors a client sent')
        h, _ = c.call(LIST_ALL, LIST_ALL_PAYLOAD, 21)
        self.assertEqual(h[5], OK)
        c.close()
        self.assert_served()


class LoadTest(DaemonTestCase):

    def test_thousand_idle_connections(self):
        want = 1000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < want + 200:
            if hard < want + 200:
                self.skipTest('RLIMIT_NOFILE hard limit %d is too low for %d connections' % (hard, want))
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))

        fds_before = self.n_fds()
        idle = []
        for _ in range(want):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.rw)
            idle.append(s)
        opened_at = time.monotonic()
        try:
            # a new client is served at once while they are all connected
            seconds = self.assert_served(timeout=5.0)
            self.assertLess(seconds, 1.0, 'a new client waited %.2f s behind idle connections' % seconds)
            conn = self.open_libvirt()
            # the daemon really holds them (not refused, not queued unaccepted)
            deadline = time.monotonic() + 5
            while self.n_fds() < fds_before + want and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertGreaterEqual(self.n_fds(), fds_before + want)

            # all idle ones are dropped after the handshake deadline
            pending = {s.fileno(): s for s in idle}
            poller = select.poll()
            for fd in pending:
                poller.register(fd, select.POLLIN)
            deadline = opened_at + HANDSHAKE_TIMEOUT + 4
            while pending and time.monotonic() < deadline:
                for fd, _ in poller.poll(200):
                    try:
                        data = pending[fd].recv(16)
                    except ConnectionResetError:
                        data = b''
                    if not data:
                        poller.unregister(fd)
                        del pending[fd]
            self.assertEqual(len(pending), 0, '%d idle connections were still open %.0f s after the deadline'
                             % (len(pending), HANDSHAKE_TIMEOUT + 4))
            self.assertGreaterEqual(time.monotonic() - opened_at, HANDSHAKE_TIMEOUT - 0.5,
                                    'idle connections were dropped before the deadline')
            # the opened client is not subject to the deadline
            self.assert_conn_works(conn)
            deadline = time.monotonic() + 5
            while self.n_fds() > fds_before + 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertLessEqual(self.n_fds(), fds_before + 5, 'the daemon kept descriptors of dropped clients')
        finally:
            for s in idle:
                s.close()
        self.assert_served()

    def test_client_never_reads(self):
        existing = self.open_libvirt()
        c = RawClient(self.rw)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.handshake()
        call = packet(LIST_ALL, LIST_ALL_PAYLOAD, 7)
        batch = call * 1000
        total = 400   # batches: 400,000 calls, 14 MB; unthrottled replies would be far over 64 MiB
        sent = 0
        dropped = False
        c.sock.setblocking(False)
        stalled_since = None
        deadline = time.monotonic() + 20
        while sent < total * len(batch) and time.monotonic() < deadline:
            try:
                n = c.sock.send(batch[sent % len(batch):])
                sent += n
                stalled_since = None
            except BlockingIOError:
                if stalled_since is None:
                    stalled_since = time.monotonic()
                elif time.monotonic() - stalled_since > 1.0:
                    break   # the daemon stopped reading from us
                select.select([], [c.sock], [], 0.1)
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
        calls = sent // len(call)
        growth = self.rss_kib() - self.baseline_rss
        sys.stderr.write('never-reading client: %d calls written, daemon RSS +%d KiB, %s\n'
                         % (calls, growth, 'dropped' if dropped else 'throttled' if sent < total * len(batch) else 'all taken'))
        self.assertTrue(dropped or sent < total * len(batch),
                        'the daemon took %d calls from a client that reads nothing' % calls)
        self.assertLess(growth, 64 * 1024, 'daemon RSS grew by %d KiB' % growth)
        # while that client sits there, everybody else is served at once
        for _ in range(3):
            self.assertLess(self.assert_served(), 1.0)
        self.assert_conn_works(existing)
        self.assertLess(self.rss_kib() - self.baseline_rss, 64 * 1024)
        c.close()
        self.assert_served()

    def test_pipelined_calls_in_order(self):
        c = RawClient(self.rw, timeout=10)
        c.handshake()
        h, payload = c.call(LIST_ALL, LIST_ALL_PAYLOAD, 2)
        names = decode_names(payload)
        # the device with the largest XML makes the largest replies
        sizes = {}
        for i, name in enumerate(names):
            h, payload = c.call(XML_DESC, xdr_string(name) + u32(0), 3 + i)
            self.assertEqual(h[5], OK)
            sizes[name] = len(payload)
        target = max(names, key=lambda n: sizes[n])
        # mostly XML, every 16th a list: together well over the daemon's
        # output high-water mark, so it has to pause this client with calls
        # still buffered, and resume it when we read
        calls = []
        for i in range(1000):
            serial = 1000 + i
            if i % 16:
                calls.append((serial, XML_DESC, packet(XML_DESC, xdr_string(target) + u32(0), serial)))
            else:
                calls.append((serial, LIST_ALL, packet(LIST_ALL, LIST_ALL_PAYLOAD, serial)))
        data = b''.join(p for _, _, p in calls)
        sender = threading.Thread(target=lambda: c.sock.sendall(data), daemon=True)
        sender.start()
        sender.join(5)   # all calls go out before we read anything (the daemon buffers or pauses)
        time.sleep(0.5)  # and the daemon gets to do all it can before we read
        got = 0
        for serial, proc, _ in calls:
            try:
                h, payload = c.read_packet(timeout=10)
            except TimeoutError:
                self.fail('the daemon stalled after %d of 1000 replies' % got)
            self.assertEqual(h, (REMOTE, 1, proc, REPLY, serial, OK), 'reply %d of 1000' % got)
            if proc == LIST_ALL:
                self.assertEqual(decode_names(payload), names)
            got += 1
        sender.join(5)
        self.assertFalse(sender.is_alive())
        self.assertEqual(got, 1000)
        c.close()
        self.assert_served()


class ExhaustionTest(DaemonTestCase):
    """The daemon runs out of descriptors: more clients than its
    RLIMIT_NOFILE allows.  It may not accept them until others go, but it
    must not spin or flood its log meanwhile, must keep serving the clients
    it has, and must recover once the idle ones are dropped.

    Regression: on EMFILE, on_listener_ready() in remote/rpc-server.c used
    to log "Cannot accept a client" and return with the listening socket
    still readable, so the main loop called it again at once: 100% CPU and
    ~125,000 warning lines (16 MB) a second until descriptors freed up,
    which any local user could trigger on the 0666 read-only socket (fixed
    in e04e915)."""

    daemon_nofile = 64

    def test_descriptor_exhaustion(self):
        existing = self.open_libvirt()
        idle = []
        try:
            for _ in range(100):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.rw)        # queued in the backlog once the daemon is out of fds
                idle.append(s)
            time.sleep(0.2)
            cpu, log = self.cpu_seconds(), self.log_size()
            time.sleep(1.5)
            cpu, log = self.cpu_seconds() - cpu, self.log_size() - log
            sys.stderr.write('out of descriptors: daemon CPU %.2f s in 1.5 s, log +%d bytes\n' % (cpu, log))
            self.assert_alive()
            # the clients it has are still served
            self.assert_conn_works(existing)
            self.assertLess(cpu, 0.5, 'the daemon spun: %.2f s of CPU in 1.5 s while out of descriptors' % cpu)
            self.assertLess(log, 64 * 1024, 'the daemon wrote %d bytes of log in 1.5 s while out of descriptors' % log)
        finally:
            for s in idle:
                s.close()
        # and once the idle ones are gone, new clients are served again
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT + 5
        while True:
            try:
                self.assert_served(timeout=2)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


if __name__ == '__main__':
    unittest.main()
