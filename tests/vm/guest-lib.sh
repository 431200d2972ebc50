# Helpers for scripts that run INSIDE the QEMU test VM (run-guest.sh).
# Source it:  . /path/to/tests/vm/guest-lib.sh
# Every function refuses to run outside the guest (HOSTDEVD_VM_GUEST=1 is set
# by the VM's init), because they write to sysfs and start system daemons.

if [ "${HOSTDEVD_VM_GUEST:-}" != 1 ] || [ "$(hostname)" != hostdevd-vm ]; then
    echo "guest-lib.sh: not inside the hostdevd test VM; refusing" >&2
    exit 1
fi

vm_log() {
    echo "hostdevd-vm: $*"
}

# vm_wait SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds.
vm_wait() {
    _n=$(( $1 * 5 ))
    shift
    while ! "$@" >/dev/null 2>&1; do
        _n=$(( _n - 1 ))
        [ $_n -gt 0 ] || return 1
        sleep 0.2
    done
}

# vm_enable_vfs PF-ADDRESS COUNT: create COUNT SR-IOV VFs and wait for them.
vm_enable_vfs() {
    _pf=/sys/bus/pci/devices/$1
    echo "$2" > "$_pf/sriov_numvfs"
    _i=0
    while [ $_i -lt "$2" ]; do
        vm_wait 30 test -e "$_pf/virtfn$_i/uevent" || {
            vm_log "virtfn$_i of $1 did not appear"
            return 1
        }
        _i=$(( _i + 1 ))
    done
    vm_log "$1: $(cat "$_pf/sriov_numvfs") VFs"
}

# vm_start_udevd: systemd-udevd plus a coldplug, so the udev database has the
# properties a real host has (ID_VENDOR_FROM_DATABASE, ...).  The rule that
# loads drivers by modalias (80-drivers.rules) is masked, so the set of bound
# drivers stays the one the VM's init loaded (vm-testbed.md's table).
vm_start_udevd() {
    mkdir -p /etc/udev/rules.d /run/udev
    ln -sf /dev/null /etc/udev/rules.d/80-drivers.rules
    /lib/systemd/systemd-udevd --daemon
    udevadm trigger --type=subsystems --action=add
    udevadm trigger --type=devices --action=add
    udevadm settle --timeout=60
}

vm_start_dbus() {
    mkdir -p /run/dbus
    dbus-daemon --system --fork
    vm_wait 20 test -S /run/dbus/system_bus_socket
}

# vm_start_libvirtd: real libvirtd 9.0 (the oracle), daemonized; waits until
# `virsh -c qemu:///system version` answers.
vm_start_libvirtd() {
    /usr/sbin/libvirtd --daemon
    if ! vm_wait 120 virsh -c qemu:///system version; then
        vm_log "libvirtd did not answer within 120 s"
        virsh -c qemu:///system version
        return 1
    fi
    vm_log "libvirtd is up"
}
