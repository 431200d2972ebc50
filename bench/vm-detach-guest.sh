#!/bin/sh
# Detach + reattach of the test VM's e1000e, hostdevd against libvirtd 9.0
# in the same guest, through the same virsh (DESIGN.md's target: "no
# slower than libvirtd").  Run by bench/vm-detach:
#   tests/vm/run-guest.sh bench/vm-detach-guest.sh OUTDIR
out=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/vm/guest-lib.sh"
hostdevd=${HOSTDEVD:-$here/../build-gcc/daemon/hostdevd}
rounds=${ROUNDS:-7}
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# One round: detach then reattach, in milliseconds, as virsh sees it.
round() {
    t0=$(ms)
    virsh -c "$1" nodedev-detach pci_0000_01_00_0 > /dev/null || return 1
    virsh -c "$1" nodedev-reattach pci_0000_01_00_0 > /dev/null || return 1
    echo $(( $(ms) - t0 ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

mkdir -p /tmp/hd
"$hostdevd" --socket /tmp/hd/s --ro-socket /tmp/hd/s-ro --state-dir /tmp/hd/state > /tmp/hd/log 2>&1 &
for _ in $(seq 50); do [ -S /tmp/hd/s-ro ] && break; sleep 0.1; done
round "nodedev:///system?socket=/tmp/hd/s" > /dev/null   # loads vfio-pci once
for _ in $(seq "$rounds"); do round "nodedev:///system?socket=/tmp/hd/s"; done > "$out/hostdevd.ms"
kill %1

vm_start_dbus
vm_start_libvirtd
round qemu:///system > /dev/null
for _ in $(seq "$rounds"); do round qemu:///system; done > "$out/libvirtd.ms"

h=$(median < "$out/hostdevd.ms"); l=$(median < "$out/libvirtd.ms")
{
    echo "| measure (TCG guest, median of $rounds) | libvirtd 9.0 | hostdevd | ratio |"
    echo "|---|---|---|---|"
    echo "| virsh nodedev-detach + nodedev-reattach, e1000e | $l ms | $h ms | $(awk "BEGIN { printf \"%.2f\", $h / $l }") |"
} > "$out/table.md"
cat "$out/table.md"
