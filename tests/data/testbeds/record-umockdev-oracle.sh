#!/bin/sh
# Record what real libvirtd 9.0 prints for a umockdev testbed.
#
#   record-umockdev-oracle.sh TESTBED_DIR          (as root)
#
# Loads TESTBED_DIR/devices.umockdev into a fresh umockdev testbed
# (umockdev-run -d), completes it with complete-sysfs.py (IOMMU group and
# driver directories), then, in a private mount namespace, bind-mounts the
# testbed's sys/ over /sys, puts a tmpfs over /run and starts a private
# libvirtd that loads only the node-device driver.  record-oracle.py then
# writes TESTBED_DIR/expected/NAME.xml and tree.txt, and libvirtd is stopped.
#
# Why not LD_PRELOAD=libumockdev-preload.so: libvirtd 9.0 opens its own
# NETLINK_KOBJECT_UEVENT socket with libnl at startup; the preload turns it
# into an AF_UNIX socket, nl_connect() rejects that (getsockname is not
# AF_NETLINK) and libvirtd exits with status 6.  A bind mount needs no
# preload.  Then libudev must be told not to insist on a real sysfs
# (SYSTEMD_DEVICE_VERIFY_SYSFS=0).
#
# Root is required: libvirt reads config space (pci-bridge, pci-express) only
# when privileged, and the mount namespace needs CAP_SYS_ADMIN.  Nothing
# outside the namespace is touched: the real /sys and /run are hidden from
# libvirtd, its sockets, pid file, and log live in a temporary directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)

case "${1:-}" in
--in-namespace)
    tb=$2
    work=$(mktemp -d /tmp/umockdev-oracle.XXXXXX)
    # tmpfs: readdir() order = creation order, on every machine
    mount -t tmpfs -o mode=0755 tmpfs "$work"
    mount -t tmpfs -o mode=0755 tmpfs /run
    mkdir "$work/run" "$work/drivers" "$work/tmp"
    set -- /usr/lib/*/libvirt/connection-driver/libvirt_driver_nodedev.so
    [ -e "$1" ] || { echo "libvirt's nodedev driver module not found" >&2; exit 1; }
    ln -s "$1" "$work/drivers/"
    cat > "$work/libvirtd.conf" <<EOF
unix_sock_dir = "$work/run"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$work/libvirtd.log"
EOF
    status=0
    TMPDIR=$work/tmp umockdev-run -d "$tb/devices.umockdev" -- \
        "$0" --in-testbed "$tb" "$work" || status=$?
    [ "$status" = 0 ] || cat "$work/libvirtd.log" >&2 || true
    umount "$work" && rmdir "$work"
    exit "$status"
    ;;
--in-testbed)
    # umockdev-run's child: the testbed exists, LD_PRELOAD is set for us
    tb=$2 work=$3 root=$UMOCKDEV_DIR
    unset LD_PRELOAD UMOCKDEV_DIR
    /usr/bin/python3 "$here/complete-sysfs.py" "$root"
    mount --bind "$root/sys" /sys
    SYSTEMD_DEVICE_VERIFY_SYSFS=0 LIBVIRT_DRIVER_DIR=$work/drivers \
        /usr/sbin/libvirtd --config "$work/libvirtd.conf" \
        --pid-file "$work/libvirtd.pid" &
    pid=$!
    i=0
    until [ -S "$work/run/libvirt-sock" ]; do
        kill -0 "$pid" 2>/dev/null || { echo "libvirtd died" >&2; exit 1; }
        i=$((i + 1)); [ $i -lt 100 ] || { echo "no socket" >&2; exit 1; }
        sleep 0.1
    done
    rm -rf "$tb/expected"
    status=0
    /usr/bin/python3 "$here/record-oracle.py" \
        --uri "nodedev:///system?socket=$work/run/libvirt-sock" \
        --out "$tb/expected" || status=$?
    kill -TERM "$pid"
    wait "$pid" || true
    exit "$status"
    ;;
esac

[ $# -eq 1 ] || { echo "usage: $0 TESTBED_DIR" >&2; exit 2; }
[ -f "$1/devices.umockdev" ] || { echo "$1/devices.umockdev: not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 2; }
exec unshare --mount --propagation private "$here/${0##*/}" --in-namespace \
    "$(cd "$1" && pwd -P)"
