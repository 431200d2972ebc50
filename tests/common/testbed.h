/* Loading recorded or synthetic topologies into a umockdev testbed.
 * Must run under umockdev's preload (umockdev-wrapper). */
#pragma once

#include <umockdev.h>

G_BEGIN_DECLS

/* The directory holding the testbeds (tests/data/testbeds). */
const char *hd_test_testbeds_dir (void);

/* A testbed with @name's devices.umockdev loaded and the kernel's
 * /sys/kernel/iommu_groups/N/devices/ links rebuilt from the devices'
 * iommu_group links (umockdev-record keeps only the latter). */
UMockdevTestbed *hd_test_testbed_load (const char *name, GError **error);

/* Rebuilds /sys/kernel/iommu_groups in @bed from its devices. */
gboolean hd_test_testbed_link_iommu_groups (UMockdevTestbed *bed, GError **error);

G_END_DECLS
