#!/bin/sh
# Boot the QEMU test VM (topology of /work/shared/reference/vm-testbed.md) and
# run one script inside it.
#
#   run-guest.sh GUEST-SCRIPT OUTDIR [EXTRA-QEMU-ARGS...]
#   run-guest.sh --shell OUTDIR [EXTRA-QEMU-ARGS...]     (interactive, serial on stdio)
#
# The devices are those of vm-testbed.md at the addresses listed there, plus
# the writable 9p share "out" at 0000:00:07.0 (virtio-pci, its own IOMMU group)
# and a fixed SMBIOS UUID (HOSTDEVD_VM_UUID): without one the guest has no
# product_uuid and libvirtd makes up a random host UUID for `computer`.
# The guest's root is this machine's root filesystem (read-only 9p + tmpfs
# overlay), so GUEST-SCRIPT and everything it uses are seen at the same paths.
# GUEST-SCRIPT runs as root in the guest as `GUEST-SCRIPT /out`, where /out is
# OUTDIR shared writable over 9p.  Afterwards OUTDIR holds:
#   serial.log     the guest's serial console (kernel messages and the script's output)
#   exit-status    the script's exit status, written by the guest
#   qmp.sock       QMP socket while the guest runs (override: HOSTDEVD_VM_QMP)
# The exit status of run-guest.sh is the script's; 1 if the guest never got to
# write one, 124 on timeout, 77 (skip) if QEMU is missing or cannot run (a
# TCG machine with no devices is started and stopped over QMP first), or if
# no bootable kernel is installed.
#
# Environment: HOSTDEVD_VM_TIMEOUT (seconds, default 300), HOSTDEVD_VM_CACHE
# (initramfs cache dir, default /tmp/hostdevd-vm-cache-$UID), HOSTDEVD_VM_KERNEL
# (kernel version), HOSTDEVD_VM_QEMU (binary, default qemu-system-x86_64),
# HOSTDEVD_VM_APPEND (more kernel command line).
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ $# -lt 2 ]; then
    echo "usage: $0 GUEST-SCRIPT|--shell OUTDIR [EXTRA-QEMU-ARGS...]" >&2
    exit 2
fi
script=$1
outdir=$2
shift 2

qemu=${HOSTDEVD_VM_QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "SKIP: $qemu not found (apt-get install qemu-system-x86)" >&2
    exit 77
fi
# Can this machine run QEMU at all (TCG, no KVM needed)?  Only then is
# there anything to test; otherwise skip, with QEMU's own words.
rc=0
probe=$(printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
        timeout 60 "$qemu" -accel tcg -M none -nodefaults -display none -monitor none \
            -serial none -qmp stdio 2>&1) || rc=$?
if [ $rc -ne 0 ]; then
    echo "SKIP: $qemu cannot run here (exit $rc): $probe" >&2
    exit 77
fi
K=$("$here/build-initramfs.sh" --kernel) || rc=$?
if [ $rc -ne 0 ]; then
    echo "SKIP: no bootable kernel for the test VM (apt-get install linux-image-amd64)" >&2
    exit 77
fi
cache=${HOSTDEVD_VM_CACHE:-/tmp/hostdevd-vm-cache-$(id -u)}
initrd=$("$here/build-initramfs.sh" "$cache") || rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIP: cannot build the test VM initramfs" >&2
    exit 77
elif [ $rc -ne 0 ]; then
    echo "run-guest: build-initramfs.sh failed" >&2
    exit 1
fi

append="console=ttyS0 panic=-1 quiet intel_iommu=on"
# HOSTDEVD_VM_APPEND: more of the guest kernel's command line.
append="$append ${HOSTDEVD_VM_APPEND:-}"
if [ "$script" != --shell ]; then
    script=$(realpath "$script")
    case $script in
    *[[:space:]]*) echo "run-guest: the script path must not contain spaces: $script" >&2; exit 2 ;;
    esac
    if [ ! -r "$script" ]; then
        echo "run-guest: $script not found" >&2
        exit 2
    fi
    append="$append hostdevd.run=$script"
fi

mkdir -p "$outdir"
outdir=$(realpath "$outdir")
log=$outdir/serial.log
qmp=${HOSTDEVD_VM_QMP:-$outdir/qmp.sock}
rm -f "$outdir/exit-status" "$log" "$qmp"

set -- -accel tcg -smp 2 -m 2048 -nographic -no-reboot \
    -M q35,kernel-irqchip=split -device intel-iommu,intremap=on \
    -uuid "${HOSTDEVD_VM_UUID:-5bd9a5b3-2e64-4d8f-9b6a-7c1f0e3d2a10}" \
    -kernel "/boot/vmlinuz-$K" -initrd "$initrd" \
    -append "$append" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -netdev user,id=n0 -netdev user,id=n1 -netdev user,id=n2 \
    -device pcie-root-port,id=rp1,chassis=1 -device e1000e,netdev=n0,bus=rp1 \
    -device pcie-pci-bridge,id=br1 \
    -device e1000,netdev=n1,bus=br1,addr=1 -device rtl8139,netdev=n2,bus=br1,addr=2 \
    -device pcie-root-port,id=rp2,chassis=2 \
    -device nvme-subsys,id=ss0,nqn=subsys0 \
    -device nvme,serial=deadbeef,subsys=ss0,bus=rp2,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4,max_ioqpairs=10,msix_qsize=16 \
    -device pcie-root-port,id=rp3,chassis=3 \
    -fsdev "local,id=fsout,path=$outdir,security_model=none,multidevs=remap" \
    -device virtio-9p-pci,fsdev=fsout,mount_tag=out,bus=pcie.0,addr=0x7 \
    -qmp "unix:$qmp,server=on,wait=off" \
    "$@"

if [ "$script" = --shell ]; then
    exec "$qemu" "$@" -serial mon:stdio
fi

timeout=${HOSTDEVD_VM_TIMEOUT:-300}
start=$(date +%s)
rc=0
timeout --kill-after=10 "$timeout" "$qemu" "$@" -serial "file:$log" -monitor none \
    < /dev/null || rc=$?
elapsed=$(( $(date +%s) - start ))
rm -f "$qmp"

fail() {
    echo "run-guest: $* (after ${elapsed}s); last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
}
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    fail "QEMU timed out after ${timeout}s"
    exit 124
elif [ $rc -ne 0 ]; then
    fail "QEMU exited with status $rc"
    exit 1
elif [ ! -s "$outdir/exit-status" ]; then
    fail "the guest stopped without writing exit-status"
    exit 1
fi
status=$(cat "$outdir/exit-status")
if [ "$status" != 0 ]; then
    fail "$(basename "$script") exited with status $status in the guest"
fi
exit "$status"
