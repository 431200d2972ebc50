#!/bin/sh
# The systemd units as built (tests/systemd/meson.build):
#   test-units.sh BUILD-SYSTEMD-DIR SOURCE-SYSTEMD-DIR HOSTDEVD
# 1. systemd-analyze verify (its own checks of every setting; the man
#    pages are checked where they are installed, in the VM tier);
# 2. the sandbox: systemd-analyze security --offline=true, exposure <= 2.0;
# 3. the sockets are virtnodedevd's, at the paths hostdevd uses when it
#    is not socket-activated, with libvirt's modes;
# 3b. the unit's RuntimeDirectory= and StateDirectory= are where hostdevd
#    writes under systemd;
# 4. D-Bus activation names the bus name hostdevd owns and its service.
set -eu
built=$1
src=$2
hostdevd=$(realpath "$3")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "not ok - $*"
    exit 1
}

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }

# verify wants ExecStart= to exist: the same unit, with the built binary.
sed "s|^ExecStart=.*|ExecStart=$hostdevd|" "$built/hostdevd.service" > "$tmp/hostdevd.service"
cp "$built/hostdevd.socket" "$src/hostdevd-ro.socket" "$tmp/"
out=$(cd "$tmp" && systemd-analyze verify --man=no hostdevd.service hostdevd.socket hostdevd-ro.socket 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify has warnings: $out"
echo "ok - systemd-analyze verify"

report=$(systemd-analyze security --offline=true --threshold=20 "$built/hostdevd.service" 2>&1) ||
    fail "exposure above 2.0: $(echo "$report" | tail -n 1)"
echo "ok - $(echo "$report" | grep 'Overall exposure')"

# 3. socket paths and modes
help=$("$hostdevd" --help)
rw=$(sed -n 's/^ListenStream=//p' "$built/hostdevd.socket")
ro=$(sed -n 's/^ListenStream=//p' "$src/hostdevd-ro.socket")
[ "$rw" = /run/libvirt/virtnodedevd-sock ] || fail "read-write socket is $rw"
[ "$ro" = /run/libvirt/virtnodedevd-sock-ro ] || fail "read-only socket is $ro"
echo "$help" | grep -q "default $rw)" || fail "hostdevd's own default is not $rw"
echo "$help" | grep -q "default $ro)" || fail "hostdevd's own default is not $ro"
grep -qx 'SocketMode=0666' "$src/hostdevd-ro.socket" || fail "read-only socket mode is not libvirt's 0666"
grep -qx 'Service=hostdevd.service' "$built/hostdevd.socket" || fail "hostdevd.socket starts something else"
grep -qx 'Service=hostdevd.service' "$src/hostdevd-ro.socket" || fail "hostdevd-ro.socket starts something else"
echo "ok - sockets: $rw ($(sed -n 's/^SocketMode=//p' "$built/hostdevd.socket")), $ro (0666)"

# 3b. the directories: what systemd makes for the unit is where hostdevd
# writes under it (the sandbox allows nothing else), whatever the prefix
runtime=$(sed -n 's/^RuntimeDirectory=//p' "$built/hostdevd.service")
state=$(sed -n 's/^StateDirectory=//p' "$built/hostdevd.service")
[ "$runtime" = hostdevd ] && [ "$state" = hostdevd ] || fail "RuntimeDirectory=$runtime StateDirectory=$state"
help=$(LANG=C RUNTIME_DIRECTORY=/run/$runtime STATE_DIRECTORY=/var/lib/$state "$hostdevd" --help)
echo "$help" | grep -q "default /run/$runtime)" || fail "--state-dir does not follow \$RUNTIME_DIRECTORY: $help"
echo "$help" | grep -q "default /var/lib/$state/assignments)" ||
    fail "--assignments-dir does not follow \$STATE_DIRECTORY: $help"
echo "ok - the journal in \$RUNTIME_DIRECTORY, the assignments in \$STATE_DIRECTORY/assignments"

# 4. D-Bus activation
grep -qx 'Name=org.hostdevd1' "$src/org.hostdevd1.service" || fail "activation file names another bus name"
grep -qx 'SystemdService=hostdevd.service' "$src/org.hostdevd1.service" || fail "activation starts another unit"
grep -q '<allow own="org.hostdevd1"/>' "$src/org.hostdevd1.conf" || fail "bus policy does not let hostdevd own its name"
echo "ok - D-Bus activation of org.hostdevd1 through hostdevd.service"
