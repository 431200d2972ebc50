#!/bin/sh
# Real libvirtd as the oracle, on this machine's own devices, read-only:
# starts a private libvirtd (its own sockets in a temporary directory), has
# it print the XML of every PCI device and of `computer` and the parents,
# and diffs that against what hostdevd's inventory serves.
#   libvirtd-oracle.sh INVENTORY_DUMP RECORD_ORACLE_PY
set -eu

dump=$1
oracle=$2

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "libvirtd reads config space only as root"
[ -x /usr/sbin/libvirtd ] || skip "libvirtd is not installed"
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || skip "python3-libvirt is not installed"

tmp=$(mktemp -d)
pid=
uri="qemu:///system?socket=$tmp/libvirt-sock"
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# A libvirtd the system already runs is as good an oracle, read-only, and
# a second one would fight it over /run/libvirt.
if /usr/bin/python3 -c "import libvirt; libvirt.openReadOnly('qemu:///system')" 2>/dev/null; then
    uri="qemu:///system"
    echo "using the running system libvirtd"
else
cat > "$tmp/libvirtd.conf" <<CONF
unix_sock_dir = "$tmp"
auth_unix_ro = "none"
auth_unix_rw = "none"
CONF
/usr/sbin/libvirtd --config "$tmp/libvirtd.conf" --pid-file "$tmp/libvirtd.pid" \
    > "$tmp/libvirtd.log" 2>&1 &
pid=$!

i=0
until [ -S "$tmp/libvirt-sock" ] && /usr/bin/python3 -c "import libvirt; libvirt.openReadOnly('$uri')" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$tmp/libvirtd.log"
        pid=
        skip "libvirtd cannot start here"
    fi
    i=$((i + 1))
    [ $i -lt 600 ] || skip "libvirtd did not answer within 60 s"
    sleep 0.1
done
fi

/usr/bin/python3 "$oracle" --uri "$uri" --out "$tmp/libvirtd"
"$dump" "$tmp/hostdevd"

echo "libvirtd: $(ls "$tmp/libvirtd" | wc -l) files, hostdevd: $(ls "$tmp/hostdevd" | wc -l) files"
diff -ru "$tmp/libvirtd" "$tmp/hostdevd"
echo "identical: $(cat "$tmp/libvirtd/tree.txt" | wc -l) node devices"
