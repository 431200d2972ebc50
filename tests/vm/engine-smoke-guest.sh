#!/bin/sh
# The engine on a real kernel, by hand until the VM tier runs it as a test:
#   tests/vm/run-guest.sh tests/vm/engine-smoke-guest.sh OUTDIR; cat OUTDIR/result.txt
# Detach/reattach/reset of the e1000e through stock virsh against a
# freshly built hostdevd in the guest, and the refusals: the conventional
# e1000 alone (its group), the virtio device under the root filesystem,
# a bus reset with a busy neighbour, xen-pciback outside Xen.
out=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
hostdevd=${HOSTDEVD:-$here/../../build-gcc/daemon/hostdevd}
mkdir -p /tmp/hd
"$hostdevd" --socket /tmp/hd/s --ro-socket /tmp/hd/s-ro --state-dir /tmp/hd/state --verbose > /tmp/hd/log 2>&1 &
for _ in $(seq 50); do [ -S /tmp/hd/s-ro ] && break; sleep 0.1; done
v() { echo "\$ virsh $*"; virsh -c "nodedev:///system?socket=/tmp/hd/s" "$@" 2>&1; }
drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver")" 2>/dev/null || echo none; }
state() { echo "  driver=$(drv "$1") override=$(cat "/sys/bus/pci/devices/$1/driver_override") vfio=[$(ls /dev/vfio | tr '\n' ' ')]"; }
{
    state 0000:01:00.0
    v nodedev-detach pci_0000_01_00_0; state 0000:01:00.0
    cat /tmp/hd/state/* 2>&1
    v nodedev-reset pci_0000_01_00_0
    v nodedev-reattach pci_0000_01_00_0; state 0000:01:00.0
    v nodedev-detach pci_0000_01_00_0 --driver kvm; state 0000:01:00.0
    v nodedev-reattach pci_0000_01_00_0; state 0000:01:00.0
    v nodedev-detach pci_0000_01_00_0 --driver xen; state 0000:01:00.0
    v nodedev-detach pci_0000_02_01_0
    v nodedev-detach pci_0000_00_02_0
    v nodedev-reset pci_0000_01_00_0
    v nodedev-reset pci_0000_02_01_0
    echo "== hostdevd's log"; tail -30 /tmp/hd/log
} > "$out/result.txt" 2>&1
