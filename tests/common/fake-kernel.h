/* A small fake Linux kernel for the umockdev tests: an HdSysfsWriter that
 * reacts to writes on a UMockdevTestbed as the 6.1 PCI core does
 * (drivers/pci/pci-sysfs.c, pci-driver.c, drivers/base/bus.c, dd.c) and
 * as xen-pciback does (new_slot/remove_slot): it relinks `driver`, keeps
 * the driver directories' device links, updates DRIVER= in the device's
 * uevent file and emits bind/unbind uevents, so the daemon's inventory
 * sees what it would see on a real host.  It can also refuse, delay and
 * hang, and records every write.
 *
 * Paths are the daemon's (/sys/bus/pci/...); the fake kernel maps them
 * into the testbed's sys directory itself and never touches the real
 * /sys.  Writes it does not emulate go to the testbed file as the kernel
 * writer would write them (ENOENT if there is no such file).
 *
 * Threads: the daemon writes from worker threads.  umockdev's uevent
 * sender is not thread-safe (a lazily created sender, a static sequence
 * number, one libudev context), so every change to the testbed runs
 * while owning the main context the fake kernel was created in: from a
 * worker it is handed to that context when someone iterates it, and run
 * in the worker (after taking the context) when nobody does, so a test
 * that writes from the main thread, or joins a writing thread without
 * iterating, does not deadlock. */
#pragma once

#include <umockdev.h>

#include "hostdev/sysfs-writer.h"

G_BEGIN_DECLS

#define HD_TYPE_FAKE_KERNEL (hd_fake_kernel_get_type ())
G_DECLARE_FINAL_TYPE (HdFakeKernel, hd_fake_kernel, HD, FAKE_KERNEL, GObject)

/* A fake kernel on @bed (loaded and completed, see testbed.h), in the
 * thread-default main context.  Each device's "native" driver is the one
 * it is bound to now; devices that have reset methods get the write-only
 * `reset` file the kernel shows for them. */
HdFakeKernel *hd_fake_kernel_new (UMockdevTestbed *bed);

/* modprobe: creates /sys/bus/pci/drivers/@driver with its control files
 * (plus new_slot/remove_slot for pciback, and /dev/vfio/vfio for
 * vfio-pci), then binds every unbound device the driver matches, as
 * driver_register() does.  Nothing happens if it is already there. */
gboolean hd_fake_kernel_add_driver (HdFakeKernel *self, const char *driver, GError **error);

/* The driver that takes @addr when it is probed without driver_override
 * (the driver's static id table); NULL: none. */
void hd_fake_kernel_set_native_driver (HdFakeKernel *self, const char *addr, const char *driver);

/* Writes whose path ends with @path_suffix return @errno_value without
 * any effect; 0 accepts the write and does nothing (e.g. a drivers_probe
 * after which nothing binds).  _refuse: every matching write until
 * hd_fake_kernel_clear_faults(); _refuse_once: the next one only. */
void hd_fake_kernel_refuse (HdFakeKernel *self, const char *path_suffix, int errno_value);
void hd_fake_kernel_refuse_once (HdFakeKernel *self, const char *path_suffix, int errno_value);

/* @driver's probe fails with EINVAL (vfio-pci without an IOMMU: "probe of
 * ... failed with error -22"): drivers_probe binds nothing (0), bind
 * returns EINVAL, new_id and module loading leave devices unbound. */
void hd_fake_kernel_set_probe_fails (HdFakeKernel *self, const char *driver, gboolean fails);

/* 0: binds and unbinds take effect before the write returns.  Otherwise
 * the write returns at once and the link change and the uevent follow
 * @delay_ms later from the main context (an asynchronous probe). */
void hd_fake_kernel_set_async (HdFakeKernel *self, guint delay_ms);

/* How many delayed binds/unbinds have not happened yet. */
guint hd_fake_kernel_get_n_pending (HdFakeKernel *self);

/* Writes whose path ends with @path_suffix block (before any effect, as
 * a driver's remove() that does not return) until
 * hd_fake_kernel_release(), which lets them go on, with their effect,
 * and drops every hang rule. */
void hd_fake_kernel_hang (HdFakeKernel *self, const char *path_suffix);
void hd_fake_kernel_release (HdFakeKernel *self);
guint hd_fake_kernel_get_n_hung (HdFakeKernel *self);

/* Drops refusals, hang rules (releasing hung writes) and failing probes. */
void hd_fake_kernel_clear_faults (HdFakeKernel *self);

/* Every write so far, refused ones included, in order, as
 * "PATH <- DATA" with a trailing newline of DATA shown as \n (the
 * recording writer's format). */
GStrv hd_fake_kernel_get_log (HdFakeKernel *self);
void hd_fake_kernel_clear_log (HdFakeKernel *self);

/* Resets done through @addr's `reset`, and the method of the last one
 * (the first in its reset_method list then; NULL before any). */
guint hd_fake_kernel_get_n_resets (HdFakeKernel *self, const char *addr);
char *hd_fake_kernel_dup_last_reset_method (HdFakeKernel *self, const char *addr);
void hd_fake_kernel_reset_counters (HdFakeKernel *self);

/* The driver @addr is bound to now (its `driver` link), NULL if none. */
char *hd_fake_kernel_dup_driver (HdFakeKernel *self, const char *addr);

/* Whether pciback holds @slot ("DDDD:BB:SS.F") in its slot list. */
gboolean hd_fake_kernel_has_pciback_slot (HdFakeKernel *self, const char *slot);

/* Hot-unplug: unbinds @addr (and its children first), emits its
 * "remove" uevent and removes it from the testbed. */
gboolean hd_fake_kernel_remove_device (HdFakeKernel *self, const char *addr, GError **error);

G_END_DECLS
