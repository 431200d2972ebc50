/* Loading recorded or synthetic topologies into a umockdev testbed.
 * Must run under umockdev's preload (umockdev-wrapper). */
#pragma once

#include <umockdev.h>

G_BEGIN_DECLS

/* The directory holding the testbeds (tests/data/testbeds). */
const char *hd_test_testbeds_dir (void);

/* A testbed with @name's devices.umockdev loaded and completed. */
UMockdevTestbed *hd_test_testbed_load (const char *name, GError **error);

/* Adds what a umockdev record cannot hold, rebuilt from the devices'
 * links as the kernel keeps them: /sys/kernel/iommu_groups/N/devices/,
 * /sys/bus/pci/drivers/NAME/ with its control files and device links,
 * and /sys/bus/pci/drivers_probe.  (tests/data/testbeds/complete-sysfs.py
 * does the same for the libvirtd recordings.) */
gboolean hd_test_testbed_complete (UMockdevTestbed *bed, GError **error);

G_END_DECLS
