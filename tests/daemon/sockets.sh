#!/bin/sh
# The daemon's sockets: modes, a stale socket replaced, a live one or a
# non-socket refused, systemd socket activation, and a clean stop when the
# system bus goes away.  Read-only on this machine's devices.
#   sockets.sh HOSTDEVD
set -eu

hostdevd=$1
command -v virsh >/dev/null || { echo "SKIP: virsh is not installed"; exit 77; }

tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for log in "$tmp/log" "$tmp/bus.log"; do
        [ ! -f "$log" ] || cat "$log"
    done
    exit 1
}

# Polls until COMMAND succeeds, every 0.1 s for at most 10 s; fails
# with MESSAGE after that.
#   wait_until MESSAGE COMMAND [ARG...]
wait_until() {
    message=$1
    shift
    i=0
    until "$@"; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "$message"
        sleep 0.1
    done
}

answers() { virsh -q -c "nodedev:///system?socket=$1" nodedev-list >/dev/null 2>&1; }
wait_socket() { wait_until "no answer on $1" answers "$1"; }

start() {
    "$hostdevd" --no-dbus --no-libvirt --state-dir "$tmp/state" --socket "$tmp/sock" --ro-socket "$tmp/sock-ro" > "$tmp/log" 2>&1 &
    pid=$!
    pids="$pids $pid"
}

# Modes: both 0666, as Debian's virtnodedevd sockets; on the read-write
# one, clients other than root pass libvirt's polkit check
# (tests/dbus/test-rpc-polkit.py).
start
wait_socket "$tmp/sock"
[ "$(stat -c %a "$tmp/sock")" = 666 ] || fail "rw socket mode $(stat -c %a "$tmp/sock")"
[ "$(stat -c %a "$tmp/sock-ro")" = 666 ] || fail "ro socket mode $(stat -c %a "$tmp/sock-ro")"
echo "ok 1 modes 0666 and 0666"

# A second daemon must not steal the live sockets.
if "$hostdevd" --no-dbus --no-libvirt --state-dir "$tmp/state" --socket "$tmp/sock" --ro-socket "$tmp/sock-ro2" > "$tmp/log2" 2>&1; then
    fail "a second daemon started over a live socket"
fi
grep -q "another process is listening on $tmp/sock" "$tmp/log2" || fail "unclear refusal: $(cat "$tmp/log2")"
wait_socket "$tmp/sock"
echo "ok 2 a live socket is refused and keeps working"

# Killed without cleanup, the sockets stay behind: stale, to be replaced.
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[ -S "$tmp/sock" ] || fail "expected a stale socket file"
start
wait_socket "$tmp/sock"
echo "ok 3 a stale socket is replaced"

# A clean stop removes what it created.
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
[ ! -e "$tmp/sock" ] && [ ! -e "$tmp/sock-ro" ] || fail "sockets left behind after SIGTERM"
echo "ok 4 SIGTERM removes the sockets"

# Anything that is not a socket is never replaced.
echo precious > "$tmp/sock"
if "$hostdevd" --no-dbus --no-libvirt --state-dir "$tmp/state" --socket "$tmp/sock" --ro-socket "$tmp/sock-ro" > "$tmp/log2" 2>&1; then
    fail "started over a regular file"
fi
[ "$(cat "$tmp/sock")" = precious ] || fail "the regular file was touched"
rm -f "$tmp/sock"
echo "ok 5 a non-socket path is refused and left alone"

# Socket activation: systemd hands over both listening sockets; the one at
# the read-only path is read-only.
if command -v systemd-socket-activate >/dev/null; then
    systemd-socket-activate -l "$tmp/act" -l "$tmp/act-ro" \
        "$hostdevd" --no-dbus --no-libvirt --state-dir "$tmp/state" --socket "$tmp/act" --ro-socket "$tmp/act-ro" > "$tmp/log" 2>&1 &
    pids="$pids $!"
    wait_socket "$tmp/act"
    out=$(virsh -c "nodedev:///system?socket=$tmp/act-ro" nodedev-reset computer 2>&1 || true)
    echo "$out" | grep -q "read only access prevents virNodeDeviceReset" || fail "activated ro socket is not read-only: $out"
    out=$(virsh -c "nodedev:///system?socket=$tmp/act" nodedev-reset computer 2>&1 || true)
    echo "$out" | grep -q "read only" && fail "activated rw socket is read-only: $out"
    echo "ok 6 socket activation"
else
    echo "ok 6 # SKIP systemd-socket-activate is not installed"
fi
# The system bus goes away (dbus-daemon stopped): hostdevd says so and
# stops cleanly, so that its sockets and D-Bus activation start a fresh
# one, instead of serving on without its D-Bus API.
if command -v dbus-daemon >/dev/null && command -v busctl >/dev/null; then
    cat > "$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
    dbus-daemon --config-file="$tmp/bus.conf" --nofork > "$tmp/bus.log" 2>&1 &
    bus=$!
    pids="$pids $bus"
    wait_until "dbus-daemon did not start" test -S "$tmp/bus"
    LANG=C DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus" "$hostdevd" --no-libvirt --state-dir "$tmp/state" \
        --assignments-dir "$tmp/assignments" --socket "$tmp/sock" --ro-socket "$tmp/sock-ro" > "$tmp/log" 2>&1 &
    pid=$!
    pids="$pids $pid"
    owns_name() { busctl --address="unix:path=$tmp/bus" list 2>/dev/null | grep -q '^org\.hostdevd1 '; }
    wait_until "hostdevd did not take org.hostdevd1" owns_name
    kill -TERM "$bus"
    gone() { ! kill -0 "$1" 2>/dev/null; }
    wait_until "hostdevd serves on without its bus" gone "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "hostdevd exited with status $rc when the bus went away"
    grep -q "Lost the system bus" "$tmp/log" || fail "hostdevd did not say that it lost the bus"
    [ ! -e "$tmp/sock" ] || fail "sockets left behind"
    echo "ok 7 the system bus goes away: a clean stop, said in the log"
else
    echo "ok 7 # SKIP dbus-daemon or busctl is not installed"
fi
echo "1..7"
