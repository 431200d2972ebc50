/* The assignment rules on tables: domains with <hostdev>s in, conflicts
 * and warnings out, with a host described by a lookup table. */
#include "config.h"

#include <glib.h>

#include "hostdev/assignments.h"

typedef struct {
  const char *address;
  int iommu_group;
  const char *driver;   /* NULL: no driver */
} HostDevice;

/* The test VM's devices that matter here. */
static const HostDevice host[] = {
  { "0000:01:00.0", 9, "e1000e" },     /* alone in its group */
  { "0000:02:01.0", 4, "e1000" },      /* conventional PCI, group 4 ... */
  { "0000:02:02.0", 4, "8139cp" },     /* ... with the rtl8139 */
  { "0000:03:00.1", 11, "vfio-pci" },  /* a VF already detached */
};

static void
lookup (const HdPciAddress *address, HdAssignmentFacts *facts, gpointer user_data)
{
  g_autofree char *addr = hd_pci_address_to_string (address);

  for (guint i = 0; i < G_N_ELEMENTS (host); i++)
    if (g_str_equal (host[i].address, addr))
      {
        facts->present = TRUE;
        facts->iommu_group = host[i].iommu_group;
        facts->driver = host[i].driver;
        facts->on_stub = g_strcmp0 (host[i].driver, "vfio-pci") == 0;
      }
}

static HdAssignmentDomain *
domain (GPtrArray *domains, const char *name, gboolean running, gboolean autostart)
{
  HdAssignmentDomain *d = hd_assignment_domain_new (name, "qemu:///system", running, autostart);

  g_ptr_array_add (domains, d);
  return d;
}

static void
hostdev (HdAssignmentDomain *d, const char *address, gboolean managed, const char *driver)
{
  HdPciAddress a;
  HdHostdev *h;

  g_assert_true (hd_pci_address_parse (address, &a));
  h = hd_hostdev_new (&a);
  h->managed = managed;
  h->driver = g_strdup (driver);
  g_ptr_array_add (d->hostdevs, h);
}

static GPtrArray *
domains_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) hd_assignment_domain_free);
}

static GPtrArray *
check (GPtrArray *domains)
{
  g_autoptr(GPtrArray) assignments = hd_assignments_collect (domains);

  return hd_assignments_check (assignments, lookup, NULL);
}

static void
assert_conflict (GPtrArray *conflicts, guint i, HdConflictKind kind, gboolean error, const char *device,
                 const char *domains, const char *message)
{
  HdConflict *c;
  g_autofree char *joined = NULL;

  g_assert_cmpuint (i, <, conflicts->len);
  c = g_ptr_array_index (conflicts, i);
  joined = g_strjoinv (",", c->domains);
  g_assert_cmpstr (hd_conflict_kind_to_string (c->kind), ==, hd_conflict_kind_to_string (kind));
  g_assert_cmpint (c->error, ==, error);
  g_assert_cmpstr (c->device, ==, device);
  g_assert_cmpstr (joined, ==, domains);
  g_assert_cmpstr (c->message, ==, message);
}

static void
test_collect (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) assignments = NULL;
  HdAssignment *a;

  hostdev (domain (domains, "win10", TRUE, FALSE), "0000:02:01.0", TRUE, NULL);
  hostdev (domain (domains, "alpine", FALSE, TRUE), "0000:01:00.0", FALSE, "kvm");
  assignments = hd_assignments_collect (domains);
  g_assert_cmpuint (assignments->len, ==, 2);
  a = g_ptr_array_index (assignments, 0);   /* address order */
  g_assert_cmpstr (a->device, ==, "pci_0000_01_00_0");
  g_assert_cmpstr (a->domain, ==, "alpine");
  g_assert_cmpstr (a->driver, ==, "kvm");
  g_assert_false (a->managed);
  g_assert_cmpstr (hd_assignment_state_to_string (a->state), ==, "defined");
  g_assert_true (a->autostart);
  a = g_ptr_array_index (assignments, 1);
  g_assert_cmpstr (a->device, ==, "pci_0000_02_01_0");
  g_assert_cmpstr (a->driver, ==, "vfio");   /* libvirt's default */
  g_assert_cmpstr (hd_assignment_state_to_string (a->state), ==, "running");
}

static void
test_no_conflict (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) conflicts = NULL;

  /* Two defined domains may name the same device: only one can start. */
  hostdev (domain (domains, "a", FALSE, FALSE), "0000:01:00.0", TRUE, NULL);
  hostdev (domain (domains, "b", TRUE, FALSE), "0000:01:00.0", TRUE, NULL);
  /* One domain with the whole group is fine. */
  hostdev (domain (domains, "c", FALSE, TRUE), "0000:02:01.0", TRUE, NULL);
  hostdev (g_ptr_array_index (domains, 2), "0000:02:02.0", TRUE, NULL);
  conflicts = check (domains);
  g_assert_cmpuint (conflicts->len, ==, 0);
}

static void
test_shared_device (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) conflicts = NULL;

  hostdev (domain (domains, "web", TRUE, FALSE), "0000:01:00.0", TRUE, NULL);
  hostdev (domain (domains, "db", FALSE, TRUE), "0000:01:00.0", TRUE, NULL);
  hostdev (domain (domains, "idle", FALSE, FALSE), "0000:01:00.0", TRUE, NULL);
  conflicts = check (domains);
  g_assert_cmpuint (conflicts->len, ==, 1);
  assert_conflict (conflicts, 0, HD_CONFLICT_SHARED_DEVICE, TRUE, "pci_0000_01_00_0", "db,web",
                   "PCI device 0000:01:00.0 is in db, web, which run or start automatically: only one of "
                   "them can have it; remove its <hostdev> from the others (virsh edit)");
}

static void
test_split_group (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) conflicts = NULL;

  hostdev (domain (domains, "router", TRUE, FALSE), "0000:02:01.0", TRUE, NULL);
  hostdev (domain (domains, "nas", FALSE, TRUE), "0000:02:02.0", TRUE, NULL);
  conflicts = check (domains);
  g_assert_cmpuint (conflicts->len, ==, 1);
  assert_conflict (conflicts, 0, HD_CONFLICT_SPLIT_GROUP, TRUE, "pci_0000_02_01_0", "nas,router",
                   "IOMMU group 4 is split across nas, router: VFIO gives a group to one domain only; "
                   "assign its devices (pci_0000_02_01_0, pci_0000_02_02_0) to the same domain");
}

static void
test_unmanaged_on_host (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) conflicts = NULL;

  hostdev (domain (domains, "boot", FALSE, TRUE), "0000:01:00.0", FALSE, NULL);
  /* Already on vfio-pci: nothing to say. */
  hostdev (g_ptr_array_index (domains, 0), "0000:03:00.1", FALSE, NULL);
  /* Not autostarting: it is detached before someone starts it, or not. */
  hostdev (domain (domains, "manual", FALSE, FALSE), "0000:02:01.0", FALSE, NULL);
  hostdev (g_ptr_array_index (domains, 1), "0000:02:02.0", FALSE, NULL);
  conflicts = check (domains);
  g_assert_cmpuint (conflicts->len, ==, 1);
  assert_conflict (conflicts, 0, HD_CONFLICT_UNMANAGED_ON_HOST, FALSE, "pci_0000_01_00_0", "boot",
                   "Domain boot starts automatically with PCI device 0000:01:00.0 (managed='no'), which is "
                   "on e1000e: detach it first (hostdevctl detach pci_0000_01_00_0) or make it managed='yes'");
}

static void
test_missing_device (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) conflicts = NULL;

  hostdev (domain (domains, "old", FALSE, FALSE), "0000:0a:00.0", TRUE, NULL);
  hostdev (domain (domains, "older", TRUE, TRUE), "0000:0a:00.0", TRUE, NULL);
  hostdev (g_ptr_array_index (domains, 1), "0000:01:00.0", TRUE, NULL);
  conflicts = check (domains);
  g_assert_cmpuint (conflicts->len, ==, 1);
  assert_conflict (conflicts, 0, HD_CONFLICT_MISSING_DEVICE, FALSE, "pci_0000_0a_00_0", "old,older",
                   "PCI device 0000:0a:00.0, used by old, older, is not on this host");
}

static void
test_order (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) conflicts = NULL;

  /* Everything at once: sorted by kind, then device. */
  hostdev (domain (domains, "x", TRUE, FALSE), "0000:0b:00.0", TRUE, NULL);
  hostdev (g_ptr_array_index (domains, 0), "0000:02:01.0", TRUE, NULL);
  hostdev (g_ptr_array_index (domains, 0), "0000:01:00.0", TRUE, NULL);
  hostdev (domain (domains, "y", FALSE, TRUE), "0000:02:02.0", FALSE, NULL);
  hostdev (g_ptr_array_index (domains, 1), "0000:01:00.0", TRUE, NULL);
  conflicts = check (domains);
  g_assert_cmpuint (conflicts->len, ==, 4);
  g_assert_cmpint (((HdConflict *) g_ptr_array_index (conflicts, 0))->kind, ==, HD_CONFLICT_SHARED_DEVICE);
  g_assert_cmpint (((HdConflict *) g_ptr_array_index (conflicts, 1))->kind, ==, HD_CONFLICT_SPLIT_GROUP);
  g_assert_cmpint (((HdConflict *) g_ptr_array_index (conflicts, 2))->kind, ==, HD_CONFLICT_UNMANAGED_ON_HOST);
  g_assert_cmpint (((HdConflict *) g_ptr_array_index (conflicts, 3))->kind, ==, HD_CONFLICT_MISSING_DEVICE);
}

static void
test_virt_use_sysfs_off (void)
{
  g_autoptr(GPtrArray) domains = domains_new ();
  g_autoptr(GPtrArray) assignments = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;

  /* xen (pciback) and kvm (pci-stub) need the boolean, VFIO never; the
   * missing device keeps its own warning, ahead in the order. */
  hostdev (domain (domains, "dom-xen", FALSE, FALSE), "0000:01:00.0", TRUE, "xen");
  hostdev (domain (domains, "dom-kvm", FALSE, FALSE), "0000:01:00.0", TRUE, "kvm");
  hostdev (g_ptr_array_index (domains, 1), "0000:0a:00.0", TRUE, "kvm");
  hostdev (domain (domains, "dom-vfio", TRUE, TRUE), "0000:02:01.0", TRUE, "vfio");
  hostdev (g_ptr_array_index (domains, 2), "0000:02:02.0", TRUE, NULL);
  assignments = hd_assignments_collect (domains);
  conflicts = hd_assignments_check (assignments, lookup, NULL);
  g_assert_cmpuint (conflicts->len, ==, 1);

  /* SELinux disabled, or the boolean on: nothing more. */
  hd_assignments_check_virt_use_sysfs (assignments, FALSE, conflicts);
  g_assert_cmpuint (conflicts->len, ==, 1);

  hd_assignments_check_virt_use_sysfs (assignments, TRUE, conflicts);
  g_assert_cmpuint (conflicts->len, ==, 3);
  assert_conflict (conflicts, 0, HD_CONFLICT_MISSING_DEVICE, FALSE, "pci_0000_0a_00_0", "dom-kvm",
                   "PCI device 0000:0a:00.0, used by dom-kvm, is not on this host");
  assert_conflict (conflicts, 1, HD_CONFLICT_VIRT_USE_SYSFS_OFF, FALSE, "pci_0000_01_00_0", "dom-kvm,dom-xen",
                   "PCI device 0000:01:00.0 is assigned to dom-kvm, dom-xen through pci-stub or pciback; "
                   "SELinux keeps QEMU from its sysfs files while virt_use_sysfs is off: turn it on (hostdevctl set-virt-use-sysfs, or "
                   "setsebool -P virt_use_sysfs 1)");
  assert_conflict (conflicts, 2, HD_CONFLICT_VIRT_USE_SYSFS_OFF, FALSE, "pci_0000_0a_00_0", "dom-kvm",
                   "PCI device 0000:0a:00.0 is assigned to dom-kvm through pci-stub or pciback; "
                   "SELinux keeps QEMU from its sysfs files while virt_use_sysfs is off: turn it on (hostdevctl set-virt-use-sysfs, or "
                   "setsebool -P virt_use_sysfs 1)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/assignments/collect", test_collect);
  g_test_add_func ("/assignments/no-conflict", test_no_conflict);
  g_test_add_func ("/assignments/shared-device", test_shared_device);
  g_test_add_func ("/assignments/split-group", test_split_group);
  g_test_add_func ("/assignments/unmanaged-on-host", test_unmanaged_on_host);
  g_test_add_func ("/assignments/missing-device", test_missing_device);
  g_test_add_func ("/assignments/order", test_order);
  g_test_add_func ("/assignments/virt-use-sysfs-off", test_virt_use_sysfs_off);
  return g_test_run ();
}
