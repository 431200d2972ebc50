#!/usr/bin/python3
"""libvirt's polkit authentication on hostdevd's read-write socket, as with
Debian's virtnodedevd (socket mode 0666, auth_unix_rw = polkit): the stock
clients run as user nobody against hostdevd on the vm-q35 testbed, with
python3-dbusmock's polkitd on a private system bus.

- polkit allows org.libvirt.unix.manage: virsh and python3-libvirt work,
  and polkit was asked about the client process (pid, start time, uid)
  with user interaction allowed;
- polkit denies: virsh fails with libvirt's "access denied by policy"
  (retrying five times, as it does against libvirtd), and the daemon
  serves everybody else; a challenge (no agent) and a dismissed dialog
  give libvirt's codes, and virsh reacts to them as to libvirtd's; no
  polkit on the bus is a clear libvirt error;
- root skips polkit; the read-only socket needs no authentication;
- a raw client that calls before authenticating gets libvirt's
  "authentication required" for everything but AUTH_LIST and AUTH_POLKIT;
- a check still pending when its client disconnects harms nothing, and a
  pending check blocks nobody else.

    umockdev-wrapper /usr/bin/python3 test-rpc-polkit.py [unittest args]
"""
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import dbustest
from dbustest import NOBODY, POLKIT_IFACE, POLKIT_NAME, POLKIT_PATH
import hdtest

F = None          # the fixture: testbed, fake kernel, bus, polkit, hostdevd
MONITOR = None    # busctl monitor on the bus

ACTION = "org.libvirt.unix.manage"
NAME = dbustest.NAME

# libvirt's numbers (virterror.h) and texts (virerror.c, virpolkit.c,
# virnetserverprogram.c).
VIR_ERR_INTERNAL_ERROR = 1
VIR_ERR_RPC = 39
VIR_ERR_AUTH_FAILED = 45
VIR_ERR_AUTH_CANCELLED = 79
VIR_ERR_AUTH_UNAVAILABLE = 94
VIR_FROM_RPC = 7
VIR_FROM_POLKIT = 60
DENIED = "authentication failed: access denied by policy"
NO_AGENT = "authentication unavailable: no polkit agent available to authenticate action '%s'" % ACTION
DISMISSED = "authentication cancelled: user cancelled authentication process"
AUTH_REQUIRED = "authentication required"

# Procedures (remote_protocol.x).
PROC_CONNECT_OPEN = 1
PROC_SUPPORTS_FEATURE = 60
PROC_AUTH_LIST = 66
PROC_AUTH_POLKIT = 70
PROC_LOOKUP_BY_NAME = 113
PROC_LIST_ALL = 285
OPEN_PAYLOAD = "00000001 00000011 6e6f64656465763a2f2f2f73797374656d 000000 00000000"
LIST_ALL_PAYLOAD = "00000001 00000000"

# A libvirt RPC client on a plain socket, run as another user: one JSON
# command per line on stdin, one JSON answer per line on stdout.
#   {"call": PROC, "payload": HEX}  send a call and wait for its reply
#   {"send": PROC}                  send a call, answer at once
#   {"recv": true}                  wait for the next reply
#   {"close": true}                 close the socket and exit
# A reply: {"proc", "serial", "status", "ret" (hex) | "code", "domain", "message"}.
RAW_CLIENT = r'''
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
serial = 0
def send(proc, payload):
    global serial
    body = struct.pack(">IIiIII", 0x20008086, 1, proc, 0, serial, 0) + bytes.fromhex(payload.replace(" ", ""))
    s.sendall(struct.pack(">I", len(body) + 4) + body)
    serial += 1
def readn(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b
def recv():
    head = readn(4)
    if head is None:
        return {"eof": True}
    body = readn(struct.unpack(">I", head)[0] - 4)
    prog, vers, proc, typ, ser, status = struct.unpack(">IIiIII", body[:24])
    out = {"proc": proc, "serial": ser, "type": typ, "status": status}
    p = body[24:]
    if status == 0:
        out["ret"] = p.hex()
    else:
        code, domain, present = struct.unpack(">iiI", p[:12])
        out["code"], out["domain"] = code, domain
        if present:
            (n,) = struct.unpack(">I", p[12:16])
            out["message"] = p[16:16 + n].decode()
    return out
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if "call" in cmd:
        send(cmd["call"], cmd.get("payload", ""))
        print(json.dumps(recv()), flush=True)
    elif "send" in cmd:
        send(cmd["send"], cmd.get("payload", ""))
        print(json.dumps({"sent": True}), flush=True)
    elif "recv" in cmd:
        print(json.dumps(recv()), flush=True)
    elif "close" in cmd:
        s.close()
        print(json.dumps({"closed": True}), flush=True)
        break
'''


class RawClient:
    def __init__(self, sock, user=NOBODY):
        self.proc = subprocess.Popen(dbustest.as_user([hdtest.DEBIAN_PYTHON, "-c", RAW_CLIENT, sock], user),
                                     env=hdtest.client_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        assert self._read() == {"ready": True}

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the raw client died: %s" % self.proc.stderr.read())
        return json.loads(line)

    def _cmd(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def call(self, proc, payload=""):
        return self._cmd(call=proc, payload=payload)

    def send(self, proc, payload=""):
        return self._cmd(send=proc, payload=payload)

    def recv(self):
        return self._cmd(recv=True)

    def close(self):
        if self.proc.poll() is None:
            self._cmd(close=True)
        self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


def error_of(reply):
    return (reply.get("code"), reply.get("domain"), reply.get("message"))


def setUpModule():
    global F, MONITOR
    F = dbustest.fixture()
    open_daemon_dir()
    MONITOR = dbustest.Monitor(F.bus)


def tearDownModule():
    MONITOR.stop()
    F.stop()


def open_daemon_dir():
    """The daemon's sockets sit in a 0700 directory of the test's: nobody
    must reach them, as /run/libvirt is reachable on a host."""
    os.chmod(F.daemon.dir, 0o755)


class Base(dbustest.TestCase):
    def setUp(self):
        super().setUp()
        if F.daemon.dir and stat.S_IMODE(os.stat(F.daemon.dir).st_mode) != 0o755:
            open_daemon_dir()      # a daemon restarted by tearDown
        self.mark = MONITOR.mark()

    def virsh(self, *args, user=NOBODY, ro_socket=False, timeout=60, env=None, wrap=None):
        uri = F.daemon.ro_uri if ro_socket else F.daemon.uri
        argv = ["virsh", "-c", uri] + list(args)
        if wrap is not None:
            argv = wrap(argv)
        return dbustest.run(argv, F.bus.address, user, env=env, timeout=timeout)

    def python_libvirt(self, code, user=NOBODY, ro_socket=False):
        """@code run by python3-libvirt as @user, with `conn` open on the
        socket: its stdout, or AssertionError with libvirt's error."""
        uri = F.daemon.ro_uri if ro_socket else F.daemon.uri
        prog = ("import libvirt, sys\n"
                "libvirt.registerErrorHandler(lambda *a: None, None)\n"
                "try:\n"
                "    conn = libvirt.open(%r)\n"
                "except libvirt.libvirtError as e:\n"
                "    print('%%d %%d %%s' %% (e.get_error_code(), e.get_error_domain(), e.get_error_message()))\n"
                "    sys.exit(3)\n" % uri) + code
        return dbustest.run([hdtest.DEBIAN_PYTHON, "-c", prog], F.bus.address, user)

    def checks(self):
        """polkit's CheckAuthorization calls since the test began."""
        return MONITOR.authorization_checks(self.mark)

    def root_list(self):
        r = self.virsh("nodedev-list", user=None)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def assert_daemon_serves(self):
        """The daemon is alive and answers root."""
        self.assertTrue(F.daemon.alive(), F.daemon.read_log())
        self.assertIn(NAME, self.root_list())

    def assert_virsh_refused(self, r, message):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stderr.rstrip("\n").split("\n")
        self.assertEqual(lines[-2:], ["error: failed to connect to the hypervisor", "error: " + message], r.stderr)


class SocketTest(Base):
    def test_modes(self):
        """hostdevd creates the read-write socket 0666, like Debian's
        virtnodedevd.socket: anyone may connect, polkit decides."""
        self.assertEqual(stat.S_IMODE(os.stat(F.daemon.sock).st_mode), 0o666)
        self.assertEqual(stat.S_IMODE(os.stat(F.daemon.ro_sock).st_mode), 0o666)


class AllowedTest(Base):
    def test_virsh_allowed(self):
        """(a) polkit allows org.libvirt.unix.manage: virsh lists as
        nobody what root lists, and polkit was asked about virsh's
        process, once, with user interaction allowed."""
        F.polkit.set_allowed([ACTION])
        r = self.virsh("nodedev-list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.root_list())
        self.assertIn(NAME, r.stdout.split())
        checks = self.checks()
        self.assertEqual(len(checks), 1, checks)
        kind, subject, action, details, flags, _sender = checks[0]
        self.assertEqual(kind, "unix-process")
        self.assertEqual(action, ACTION)
        self.assertEqual(details, {})
        self.assertEqual(flags, 1)          # AllowUserInteraction, as libvirt asks
        self.assertEqual(subject["uid"], pwd.getpwnam(NOBODY).pw_uid)
        self.assertGreater(subject["pid"], 1)
        self.assertGreater(subject["start-time"], 0)

    def test_subject_is_the_client(self):
        """The subject's pid and start time are the client process's
        (/proc/PID/stat field 22), as libvirt sends them."""
        F.polkit.set_allowed([ACTION])
        c = RawClient(F.daemon.sock)
        try:
            pid = c.proc.pid          # setpriv execs the client
            with open("/proc/%d/stat" % pid) as f:
                start = int(f.read().rsplit(")", 1)[1].split()[19])
            self.assertEqual(c.call(PROC_AUTH_POLKIT)["ret"], "00000001")
        finally:
            c.close()
        (_kind, subject, *_rest), = self.checks()
        self.assertEqual((subject["pid"], subject["start-time"], subject["uid"]),
                         (pid, start, pwd.getpwnam(NOBODY).pw_uid))

    def test_python_allowed(self):
        """(a) python3-libvirt as nobody: open, list, XML."""
        F.polkit.set_allowed([ACTION])
        r = self.python_libvirt("print(sorted(d.name() for d in conn.listAllDevices()))\n"
                                "print(conn.nodeDeviceLookupByName(%r).XMLDesc().splitlines()[1])\n" % NAME)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        names, xml = r.stdout.splitlines()
        self.assertIn(NAME, names)
        self.assertEqual(xml, "  <name>%s</name>" % NAME)

    def test_group_rule_style_allow_unknown(self):
        """A rule that allows every action (AllowUnknown) lets nobody in
        too: only polkit's answer counts."""
        F.polkit.allow_unknown(True)
        r = self.virsh("nodedev-list")
        self.assertEqual(r.returncode, 0, r.stderr)


class DeniedTest(Base):
    def test_virsh_denied(self):
        """(b) polkit denies: virsh fails with libvirt's text after five
        tries (it retries VIR_FROM_POLKIT/AUTH_FAILED as with libvirtd);
        the daemon is unharmed."""
        F.polkit.set_allowed(["org.hostdevd1.detach"])   # anything but libvirt's action
        r = self.virsh("nodedev-list")
        self.assert_virsh_refused(r, DENIED)
        checks = self.checks()
        self.assertEqual(len(checks), 5, checks)
        self.assertEqual({c[2] for c in checks}, {ACTION})
        self.assert_daemon_serves()
        # and the next client that polkit allows is served
        F.polkit.set_allowed([ACTION])
        self.assertEqual(self.virsh("nodedev-list").returncode, 0)

    def test_python_denied(self):
        """(b) python3-libvirt gets the code, domain and text."""
        r = self.python_libvirt("print('opened')\n")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "%d %d %s" % (VIR_ERR_AUTH_FAILED, VIR_FROM_POLKIT, DENIED))
        self.assert_daemon_serves()

    def tearDown(self):
        F.polkit.stop()        # dbustest's tearDown starts it again, with the template's methods
        super().tearDown()

    def test_challenge_no_agent(self):
        """polkit wants a password and no agent is there: libvirt's
        AUTH_UNAVAILABLE.  virsh takes it as libvirtd's: with no terminal
        (so no pkttyagent at first) it tries to start its text agent
        (which cannot run without a terminal), then gives up with the
        server's error."""
        F.polkit.answer("(False, True, {})")
        # libvirt's debug log goes to a file of its own: on virsh's stderr,
        # lines from its other threads fell between virsh's own error
        # lines, even between "error: " and the message.
        logdir = tempfile.mkdtemp(prefix="virsh-debug-")
        self.addCleanup(shutil.rmtree, logdir)
        nobody = pwd.getpwnam(NOBODY)
        os.chown(logdir, nobody.pw_uid, nobody.pw_gid)
        log = os.path.join(logdir, "libvirt.log")
        r = self.virsh("nodedev-list", env={"LIBVIRT_DEBUG": "1", "LIBVIRT_LOG_OUTPUTS": "1:file:" + log})
        self.assertEqual(r.returncode, 1, r.stderr)
        with open(log, encoding="utf-8", errors="replace") as f:
            self.assertRegex(f.read(), r"error : virPolkitAgentCreate:\d+ : polkit text authentication agent unavailable")
        # (Only the lines logged before libvirt reads LIBVIRT_LOG_OUTPUTS,
        # from virsh's one thread, still go to stderr, first.)
        self.assertEqual(r.stderr.strip("\n").split("\n")[-2:],
                         ["error: failed to connect to the hypervisor", "error: " + NO_AGENT], r.stderr)
        self.assertEqual(len(self.checks()), 1, self.checks())
        r = self.python_libvirt("print('opened')\n")
        self.assertEqual(r.stdout.strip(), "%d %d %s" % (VIR_ERR_AUTH_UNAVAILABLE, VIR_FROM_POLKIT, NO_AGENT))
        self.assert_daemon_serves()

    @unittest.skipUnless(shutil.which("script") and shutil.which("pkttyagent"), "needs script(1) and pkttyagent")
    def test_agent_on_terminal(self):
        """On a terminal virsh starts pkttyagent before it connects; polkit
        (here: a mock that says yes once an agent has registered and the
        check allows interaction, as if the admin had typed the password)
        then lets the client in.  Without the agent: AUTH_UNAVAILABLE, and
        virsh, whose agent is already running, prints it."""
        mock = "org.freedesktop.DBus.Mock"
        F.bus.call(POLKIT_NAME, POLKIT_PATH, mock, "AddMethod",
                   (POLKIT_IFACE, "RegisterAuthenticationAgentWithOptions", "(sa{sv})ssa{sv}", "",
                    "self.agent_registered = True"), "(sssss)")
        F.bus.call(POLKIT_NAME, POLKIT_PATH, mock, "AddMethod",
                   (POLKIT_IFACE, "UnregisterAuthenticationAgent", "(sa{sv})s", "", ""), "(sssss)")
        F.polkit.answer("(True, False, {}) if getattr(self, 'agent_registered', False) and args[3] & 1 "
                            "else (False, True, {})")
        cmd = "virsh -c '%s' nodedev-list" % F.daemon.uri
        r = dbustest.run(["script", "-qec", cmd, "/dev/null"], F.bus.address, NOBODY, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(NAME, r.stdout.split())
        registered = MONITOR.messages(self.mark, type="method_call", interface=POLKIT_IFACE,
                                      member="RegisterAuthenticationAgentWithOptions")
        self.assertEqual(len(registered), 1, "virsh did not start pkttyagent")
        self.assertEqual(len(self.checks()), 1)
        self.assert_daemon_serves()

    def test_dismissed(self):
        """The user dismissed the agent's dialog: libvirt's
        AUTH_CANCELLED, which virsh does not retry."""
        F.polkit.answer("(False, False, {'polkit.dismissed': 'true'})")
        r = self.python_libvirt("print('opened')\n")
        self.assertEqual(r.stdout.strip(), "%d %d %s" % (VIR_ERR_AUTH_CANCELLED, VIR_FROM_POLKIT, DISMISSED))
        r = self.virsh("nodedev-list")
        self.assert_virsh_refused(r, DISMISSED)
        self.assert_daemon_serves()

    def test_no_polkit(self):
        """No polkit on the bus: a clear libvirt error (not polkit's
        domain, so virsh does not retry), and root is still served."""
        F.polkit.stop()
        r = self.virsh("nodedev-list")
        self.assertEqual(r.returncode, 1)
        last = r.stderr.rstrip("\n").split("\n")[-1]
        self.assertTrue(last.startswith("error: authentication failed: polkit could not be asked whether uid %d "
                                        "may use the read-write socket (" % pwd.getpwnam(NOBODY).pw_uid), last)
        self.assertIn("org.freedesktop.PolicyKit1", last)
        self.assert_daemon_serves()


class BypassTest(Base):
    def test_root_skips_polkit(self):
        """(c) root is not asked: AUTH_LIST says NONE, and polkit hears
        nothing, though it denies everything."""
        self.assertIn(NAME, self.root_list())
        c = RawClient(F.daemon.sock, user=None)
        try:
            self.assertEqual(c.call(PROC_AUTH_LIST)["ret"], "0000000100000000")
            self.assertEqual(c.call(PROC_CONNECT_OPEN, OPEN_PAYLOAD)["status"], 0)
        finally:
            c.close()
        self.assertEqual(self.checks(), [])

    def test_readonly_socket(self):
        """(d) the read-only socket needs no authentication: virsh as
        nobody lists with polkit denying everything, polkit hears nothing,
        and mutations are still refused as read-only."""
        r = self.virsh("nodedev-list", ro_socket=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.root_list())
        r = self.virsh("nodedev-detach", NAME, ro_socket=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: operation forbidden: read only access prevents virNodeDeviceDettach", r.stderr)
        c = RawClient(F.daemon.ro_sock)
        try:
            self.assertEqual(c.call(PROC_AUTH_LIST)["ret"], "0000000100000000")
            self.assertEqual(error_of(c.call(PROC_AUTH_POLKIT)),
                             (VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC,
                              "internal error: client tried invalid PolicyKit init request"))
        finally:
            c.close()
        self.assertEqual(self.checks(), [])
        F.kernel.quiet(0.2)
        self.assertEqual(F.kernel.log(), [])


class RawTest(Base):
    def test_calls_before_auth(self):
        """(e) a client that skips authentication gets libvirt's
        "authentication required" (VIR_ERR_RPC) for the handshake and
        every node-device call; AUTH_LIST says POLKIT; after polkit allows
        it, the same calls work."""
        c = RawClient(F.daemon.sock)
        try:
            self.assertEqual(c.call(PROC_AUTH_LIST)["ret"], "0000000100000002")
            for proc, payload in ((PROC_CONNECT_OPEN, OPEN_PAYLOAD), (PROC_SUPPORTS_FEATURE, "0000000a"),
                                  (PROC_LIST_ALL, LIST_ALL_PAYLOAD),
                                  (PROC_LOOKUP_BY_NAME, "00000008 636f6d7075746572")):
                reply = c.call(proc, payload)
                self.assertEqual(reply["proc"], proc)
                self.assertEqual(error_of(reply), (VIR_ERR_RPC, VIR_FROM_RPC, AUTH_REQUIRED), proc)
            self.assertEqual(error_of(c.call(PROC_AUTH_POLKIT)), (VIR_ERR_AUTH_FAILED, VIR_FROM_POLKIT, DENIED))
            self.assertEqual(error_of(c.call(PROC_CONNECT_OPEN, OPEN_PAYLOAD)),
                             (VIR_ERR_RPC, VIR_FROM_RPC, AUTH_REQUIRED))
            F.polkit.set_allowed([ACTION])
            self.assertEqual(c.call(PROC_AUTH_POLKIT), {"proc": PROC_AUTH_POLKIT, "serial": 7, "type": 1,
                                                        "status": 0, "ret": "00000001"})
            self.assertEqual(c.call(PROC_AUTH_LIST)["ret"], "0000000100000000")
            self.assertEqual(c.call(PROC_CONNECT_OPEN, OPEN_PAYLOAD)["status"], 0)
            reply = c.call(PROC_LIST_ALL, LIST_ALL_PAYLOAD)
            self.assertEqual(reply["status"], 0, reply)
        finally:
            c.close()
        self.assert_daemon_serves()


class PendingTest(Base):
    def setUp(self):
        super().setUp()
        F.polkit.set_allowed([ACTION])
        F.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "SimulateHangActions", ([ACTION],),
                   "(as)")

    def tearDown(self):
        F.polkit.stop()        # forgets the hanging calls; dbustest's tearDown starts it again
        super().tearDown()

    def wait_hanging(self):
        deadline = time.monotonic() + 10
        while not F.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "HaveHangingCalls")[0]:
            self.assertLess(time.monotonic(), deadline, "hostdevd did not ask polkit")
            time.sleep(0.05)

    def release(self):
        F.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "ReleaseHangingCalls")

    def test_pending_blocks_nobody(self):
        """While polkit thinks about one client, the others are served
        (root, the read-only socket); then its answer comes through."""
        c = RawClient(F.daemon.sock)
        try:
            c.send(PROC_AUTH_POLKIT)
            self.wait_hanging()
            self.assertIn(NAME, self.root_list())
            self.assertEqual(self.virsh("nodedev-list", ro_socket=True).returncode, 0)
            self.release()
            self.assertEqual(c.recv()["ret"], "00000001")
            self.assertEqual(c.call(PROC_CONNECT_OPEN, OPEN_PAYLOAD)["status"], 0)
        finally:
            c.close()

    def test_disconnect_while_pending(self):
        """(f) the client goes while its check is pending: the check is
        cancelled (polkit's CancelCheckAuthorization), the late answer
        goes nowhere, the daemon lives on and serves the next client."""
        for _ in range(3):
            c = RawClient(F.daemon.sock)
            c.send(PROC_AUTH_POLKIT)
            self.wait_hanging()
            c.close()
            deadline = time.monotonic() + 10
            while not MONITOR.messages(self.mark, type="method_call", interface=POLKIT_IFACE,
                                       member="CancelCheckAuthorization"):
                self.assertLess(time.monotonic(), deadline, "the check was not cancelled")
                time.sleep(0.05)
            self.release()
            self.mark = MONITOR.mark()
            self.assert_daemon_serves()
        # a client that vanishes with pending checks and unread output
        c = RawClient(F.daemon.sock)
        c.send(PROC_AUTH_POLKIT)
        c.send(PROC_AUTH_POLKIT)
        self.wait_hanging()
        c.proc.kill()
        c.proc.wait()
        self.release()
        self.assert_daemon_serves()
        F.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "SimulateHangActions", ([],), "(as)")
        r = self.virsh("nodedev-list")
        self.assertEqual(r.returncode, 0, r.stderr)


class RpcDoorAloneTest(Base):
    """hostdevd --no-dbus (the libvirt door alone) with a short handshake
    deadline.  The fixture's daemon stops first (two daemons on one testbed
    would share umockdev's uevent socket)."""

    def setUp(self):
        super().setUp()
        self.assertEqual(F.daemon.stop(), 0)
        self.d = hdtest.Daemon(F.bed, args=("--no-dbus", "--handshake-timeout", "2"), bus_address=F.bus.address)
        os.chmod(self.d.dir, 0o755)

    def tearDown(self):
        F.polkit.stop()        # forgets hanging calls; dbustest's tearDown starts it again
        try:
            self.assertEqual(self.d.stop(), 0, self.d.read_log())
        finally:
            F.start_daemon()
            open_daemon_dir()
            super().tearDown()

    def test_polkit_without_dbus_service(self):
        """polkit is asked without the D-Bus API: allowed, then denied."""
        F.polkit.set_allowed([ACTION])
        r = dbustest.run(["virsh", "-c", self.d.uri, "nodedev-list"], F.bus.address, NOBODY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(NAME, r.stdout.split())
        F.polkit.deny_all()
        r = dbustest.run(["virsh", "-c", self.d.uri, "nodedev-list"], F.bus.address, NOBODY)
        self.assert_virsh_refused(r, DENIED)

    def test_pending_check_outlives_handshake_deadline(self):
        """A client waiting for polkit (an admin typing a password) is not
        dropped at the handshake deadline; one that never authenticates
        is."""
        F.polkit.set_allowed([ACTION])
        F.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "SimulateHangActions", ([ACTION],),
                   "(as)")
        idle = RawClient(self.d.sock)
        waiting = RawClient(self.d.sock)
        try:
            self.assertEqual(idle.call(PROC_AUTH_LIST)["ret"], "0000000100000002")
            waiting.send(PROC_AUTH_POLKIT)
            time.sleep(4.5)    # past the deadline, and the next one (GLib's whole seconds)
            self.assertEqual(idle.recv(), {"eof": True})
            F.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "ReleaseHangingCalls")
            self.assertEqual(waiting.recv()["ret"], "00000001")
            self.assertEqual(waiting.call(PROC_CONNECT_OPEN, OPEN_PAYLOAD)["status"], 0)
            self.assertEqual(waiting.call(PROC_LIST_ALL, LIST_ALL_PAYLOAD)["status"], 0)
        finally:
            idle.close()
            waiting.close()

if __name__ == "__main__":
    dbustest.main()
