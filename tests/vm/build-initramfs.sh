#!/bin/sh
# Build the busybox initramfs that boots the QEMU test VM (see
# /work/shared/reference/vm-testbed.md and tests/vm/README.md).
#
#   build-initramfs.sh OUTDIR        build (or reuse) OUTDIR/initramfs-$K-$H.cpio.gz
#                                    and print its path on stdout
#   build-initramfs.sh --kernel      print the kernel version the VM boots
#
# $K is the newest kernel that has both /lib/modules/$K and /boot/vmlinuz-$K
# (the Debian linux-image-amd64 kernel, not a custom running kernel without a
# /boot image); HOSTDEVD_VM_KERNEL=$K overrides the choice.  $H is a hash of
# this script, so the cache is rebuilt whenever the init below changes.
#
# The init loads the virtio/9p/overlay modules, mounts the host's root
# filesystem (9p tag "hostroot") read-only with a tmpfs overlay on top, loads
# the drivers of the test devices, mounts the writable 9p share "out" (if
# present) at /out, and switch_roots into the overlay.  There the command named
# by `hostdevd.run=PATH` on the kernel command line runs as `PATH /out` with
# HOSTDEVD_VM_GUEST=1; its exit status is written to /out/exit-status and the
# guest powers off.  Without hostdevd.run= an interactive shell runs on ttyS0.
# With hostdevd.systemd=1 as well, /out/dest (a `meson install --destdir`) is
# copied over the root and systemd becomes PID 1, running the command as the
# service hostdevd-vm.service (test-vm.py --systemd).
#
# Exit status 77: no usable kernel or busybox (the caller should skip).
set -eu

MODULES="virtio_pci 9p 9pnet_virtio overlay vfio-pci pci-stub e1000 e1000e 8139cp nvme"
BUSYBOX=${HOSTDEVD_VM_BUSYBOX:-/bin/busybox}
PATH=$PATH:/usr/sbin:/sbin

pick_kernel() {
    if [ -n "${HOSTDEVD_VM_KERNEL:-}" ]; then
        if [ -r "/boot/vmlinuz-$HOSTDEVD_VM_KERNEL" ] && [ -d "/lib/modules/$HOSTDEVD_VM_KERNEL" ]; then
            echo "$HOSTDEVD_VM_KERNEL"
            return 0
        fi
        echo "build-initramfs: HOSTDEVD_VM_KERNEL=$HOSTDEVD_VM_KERNEL has no /boot/vmlinuz or /lib/modules" >&2
        return 77
    fi
    best=
    for d in /lib/modules/*; do
        k=${d##*/}
        [ -r "/boot/vmlinuz-$k" ] && [ -f "$d/modules.dep" ] || continue
        best="$best$k
"
    done
    best=$(printf '%s' "$best" | sort -V | tail -n 1)
    if [ -z "$best" ]; then
        echo "build-initramfs: no kernel with both /boot/vmlinuz-K and /lib/modules/K" \
             "(apt-get install linux-image-amd64)" >&2
        return 77
    fi
    echo "$best"
}

usage() {
    echo "usage: $0 OUTDIR | --kernel" >&2
    exit 2
}

[ $# -eq 1 ] || usage
case $1 in
--kernel) pick_kernel; exit ;;
-*) usage ;;
esac

K=$(pick_kernel) || exit $?
if ! "$BUSYBOX" --list 2>/dev/null | grep -qx switch_root; then
    echo "build-initramfs: $BUSYBOX is missing or has no switch_root (apt-get install busybox-static)" >&2
    exit 77
fi
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    echo "build-initramfs: $BUSYBOX is not statically linked (apt-get install busybox-static)" >&2
    exit 77
fi
for tool in cpio gzip depmod modprobe; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build-initramfs: $tool not found" >&2
        exit 77
    fi
done

outdir=$1
mkdir -p "$outdir"
hash=$(sha256sum "$0" | cut -c1-12)
img="$outdir/initramfs-$K-$hash.cpio.gz"
if [ -s "$img" ]; then
    echo "$img"
    exit 0
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/hostdevd-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/dev" "$root/proc" "$root/sys" \
         "$root/host" "$root/rw" "$root/newroot" "$root/lib/modules/$K"
cp "$BUSYBOX" "$root/bin/busybox"
for app in $("$BUSYBOX" --list); do
    [ "$app" = busybox ] || ln -s busybox "$root/bin/$app"
done

# Modules and their dependencies ("builtin X" lines need no file).
deps=
for m in $MODULES; do
    d=$(modprobe -S "$K" --show-depends "$m") || {
        echo "build-initramfs: module $m not found for $K" >&2
        exit 1
    }
    deps="$deps$d
"
done
printf '%s' "$deps" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    rel=${path#/lib/modules/$K/}
    mkdir -p "$root/lib/modules/$K/$(dirname "$rel")"
    cp "$path" "$root/lib/modules/$K/$rel"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -e "/lib/modules/$K/$f" ] && cp "/lib/modules/$K/$f" "$root/lib/modules/$K/"
done
depmod -b "$root" "$K"

cat > "$root/init" <<'EOF'
#!/bin/sh
# hostdevd test VM, stage 1 (initramfs).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

off() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 30
}
fail() {
    echo "hostdevd-vm: init: $*"
    off
}

run=
for arg in $(cat /proc/cmdline); do
    case $arg in
    hostdevd.run=*) run=${arg#hostdevd.run=} ;;
    esac
done

modprobe -a virtio_pci 9p 9pnet_virtio overlay || fail "modprobe virtio_pci 9p 9pnet_virtio overlay"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host ||
    fail "cannot mount the 9p share hostroot"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
    fail "cannot mount the overlay"
for m in e1000 e1000e 8139cp nvme; do
    modprobe "$m" || echo "hostdevd-vm: init: modprobe $m failed"
done

mkdir -p /newroot/out
if grep -qs '^out' /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; then
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot/out ||
        fail "cannot mount the 9p share out"
fi

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
# The overlay's lower layer stays visible at the path its options name
# (lowerdir=/host), as a live system's medium is: without it the 9p mount
# that carries the root filesystem would be hidden from /proc/self/mountinfo
# after switch_root, and nothing could tell that the virtio device under it
# is the root filesystem's.
mkdir -p /newroot/host
mount --move /host /newroot/host
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run
mkdir -p /newroot/run/hostdevd-vm
cat > /newroot/run/hostdevd-vm/stage2 <<'STAGE2'
#!/bin/sh
# hostdevd test VM, stage 2 (PID 1 in the switched root).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=${TERM:-vt100} HOSTDEVD_VM_GUEST=1
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname hostdevd-vm
ip link set lo up 2>/dev/null
cd /
run=$1
if grep -qw hostdevd.systemd=1 /proc/cmdline && [ -n "$run" ]; then
    # systemd as PID 1: what `meson install --destdir /out/dest` laid out
    # goes over the (overlay) root, the sockets are enabled through their
    # [Install] sections, and $run runs as a service of its own; its exit
    # status goes to /out/exit-status and the guest powers off.
    # tar, not cp: /lib is a symlink to usr/lib here, a directory in dest.
    tar -C /out/dest -cf - . | tar -C / -xf - --keep-directory-symlink
    # The host root may be a container's: systemd must see a VM, and read
    # its settings from the kernel command line as it does on one.
    rm -f /.dockerenv /run/.containerenv
    # The checks (and the guestlib and hdtest they import) run from a copy
    # under /run: the checkout may be under /tmp, and the guest's /tmp is
    # its own, as on a VM.  Otherwise systemd-tmpfiles-setup empties the
    # host's /tmp at boot (tmp.conf's "D /tmp"): through the overlay it
    # only hides the files, but it walks all of them over 9p (minutes on
    # a busy /tmp) and takes the checkout away from under the checks.
    tests=$(dirname "$(dirname "$run")")
    mkdir -p /run/hostdevd-vm/tests
    cp -a "$tests/vm" "$tests/integration" /run/hostdevd-vm/tests/
    run=/run/hostdevd-vm/tests/vm/$(basename "$run")
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
    mkdir -p /etc/systemd/system
    cat > /etc/systemd/system/hostdevd-vm.service <<UNIT
[Unit]
Description=hostdevd VM checks
After=sysinit.target sockets.target dbus.socket
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
Environment=HOSTDEVD_VM_GUEST=1 HOME=/root LANG=C.UTF-8
ExecStart=$run /out
ExecStopPost=/bin/sh -c 'echo \$EXIT_STATUS > /out/exit-status; sync'
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
UNIT
    cat > /etc/systemd/system/hostdevd-vm.target <<UNIT
[Unit]
Description=hostdevd VM checks under systemd
Requires=sysinit.target sockets.target hostdevd-vm.service
After=sysinit.target sockets.target
AllowIsolate=yes
UNIT
    systemctl enable hostdevd.socket hostdevd-ro.socket
    echo "hostdevd-vm: systemd as PID 1, running $run as hostdevd-vm.service"
    exec /lib/systemd/systemd --unit=hostdevd-vm.target
fi
if [ -n "$run" ]; then
    echo "hostdevd-vm: running $run /out"
    if [ -x "$run" ]; then
        "$run" /out < /dev/null
    else
        /bin/sh "$run" /out < /dev/null
    fi
    rc=$?
    echo "hostdevd-vm: $run exited with status $rc"
    mountpoint -q /out && echo "$rc" > /out/exit-status
else
    echo "hostdevd-vm: interactive shell; exit it to power off"
    setsid -c /bin/bash -i < /dev/ttyS0 > /dev/ttyS0 2>&1
fi
# Power off.  PID 1 must not exit meanwhile (that panics the kernel) and must
# not exec anything from the 9p root, which goes away: block on a FIFO.
sync
mkfifo /run/hostdevd-vm/halt
echo o > /proc/sysrq-trigger
while :; do read -r _ < /run/hostdevd-vm/halt; done
STAGE2
chmod 755 /newroot/run/hostdevd-vm/stage2
exec switch_root /newroot /run/hostdevd-vm/stage2 "$run"
EOF
chmod 755 "$root/init"

tmpimg="$img.tmp.$$"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmpimg"
mv "$tmpimg" "$img"
echo "$img"
