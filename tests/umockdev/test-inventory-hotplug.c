/* Live updates: devices that appear, disappear or change driver in a
 * testbed reach the inventory through uevents, within 100 ms, and the
 * tree is never enumerated again. */
#include "config.h"

#include <unistd.h>

#include "nodedev/inventory.h"
#include "testbed.h"
#include "xml/nodedev-xml.h"

#define DEADLINE_US (100 * 1000)

typedef struct {
  UMockdevTestbed *bed;
  HdInventory *inventory;
  GPtrArray *events;   /* "added NAME", "removed NAME", "changed NAME DRIVER" */
} Fixture;

static void
on_added (HdInventory *inv, HdNodeDevice *dev, Fixture *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("added %s", dev->name));
}

static void
on_removed (HdInventory *inv, HdNodeDevice *dev, Fixture *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("removed %s", dev->name));
}

static void
on_changed (HdInventory *inv, HdNodeDevice *dev, Fixture *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("changed %s %s", dev->name,
                                               dev->driver ? dev->driver : "-"));
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->bed = hd_test_testbed_load ("host-virtio", &error);
  g_assert_no_error (error);
  f->inventory = hd_inventory_new (TRUE, &error);
  g_assert_no_error (error);
  f->events = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->inventory, "device-added", G_CALLBACK (on_added), f);
  g_signal_connect (f->inventory, "device-removed", G_CALLBACK (on_removed), f);
  g_signal_connect (f->inventory, "device-changed", G_CALLBACK (on_changed), f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->inventory);
  g_clear_object (&f->bed);
  g_clear_pointer (&f->events, g_ptr_array_unref);
}

/* Runs the main loop until @n events arrived; returns the microseconds it
 * took, or fails the test once the deadline has long passed. */
static gint64
wait_for_events (Fixture *f, guint n)
{
  gint64 start = g_get_monotonic_time ();

  while (f->events->len < n)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () - start > 10 * G_USEC_PER_SEC)
        g_error ("no uevent reached the inventory within 10 s");
      if (f->events->len < n)
        g_usleep (200);
    }
  return g_get_monotonic_time () - start;
}

static const char *new_device =
  "P: /devices/pci0000:00/0000:00:09.0\n"
  "E: SUBSYSTEM=pci\n"
  "E: DRIVER=e1000e\n"
  "E: PCI_CLASS=20000\n"
  "E: PCI_ID=8086:10D3\n"
  "E: PCI_SLOT_NAME=0000:00:09.0\n"
  "A: vendor=0x8086\\n\n"
  "A: device=0x10d3\\n\n"
  "A: numa_node=-1\\n\n"
  "A: driver_override=(null)\\n\n"
  "L: driver=../../../bus/pci/drivers/e1000e\n";

static void
test_add_remove (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNodeDevice) dev = NULL;
  g_autofree char *xml = NULL;
  guint before = hd_inventory_get_n_devices (f->inventory);
  gint64 took;

  g_assert_true (umockdev_testbed_add_from_string (f->bed, new_device, &error));
  g_assert_no_error (error);
  /* The kernel creates the driver's directory with its first device. */
  g_assert_true (hd_test_testbed_complete (f->bed, &error));
  took = wait_for_events (f, 1);
  g_test_message ("add reached the inventory after %" G_GINT64_FORMAT " µs", took);
  g_assert_cmpint (took, <, DEADLINE_US);
  g_assert_cmpstr (g_ptr_array_index (f->events, 0), ==, "added pci_0000_00_09_0");
  g_assert_cmpuint (hd_inventory_get_n_devices (f->inventory), ==, before + 1);

  dev = hd_inventory_lookup (f->inventory, "pci_0000_00_09_0");
  g_assert_nonnull (dev);
  g_assert_cmpstr (dev->parent, ==, "computer");
  g_assert_cmpstr (dev->driver, ==, "e1000e");
  xml = hd_nodedev_xml_format (dev);
  g_assert_nonnull (strstr (xml, "<product id='0x10d3'>82574L Gigabit Network Connection</product>"));

  umockdev_testbed_uevent (f->bed, "/sys/devices/pci0000:00/0000:00:09.0", "remove");
  took = wait_for_events (f, 2);
  g_test_message ("remove reached the inventory after %" G_GINT64_FORMAT " µs", took);
  g_assert_cmpint (took, <, DEADLINE_US);
  g_assert_cmpstr (g_ptr_array_index (f->events, 1), ==, "removed pci_0000_00_09_0");
  g_assert_null (hd_inventory_lookup (f->inventory, "pci_0000_00_09_0"));
  g_assert_cmpuint (hd_inventory_get_n_devices (f->inventory), ==, before);

  g_assert_cmpuint (hd_inventory_get_n_enumerations (f->inventory), ==, 1);
}

/* A child added under a PCI device gets that device as its parent. */
static void
test_add_child (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNodeDevice) child = NULL;
  g_autofree char *child_record = g_strconcat (
    "P: /devices/pci0000:00/0000:00:09.0/0000:01:00.0\n"
    "E: SUBSYSTEM=pci\n"
    "E: PCI_CLASS=10802\n"
    "A: vendor=0x1b36\\n\n"
    "A: device=0x0010\\n\n", NULL);

  g_assert_true (umockdev_testbed_add_from_string (f->bed, new_device, &error));
  g_assert_true (umockdev_testbed_add_from_string (f->bed, child_record, &error));
  g_assert_no_error (error);
  wait_for_events (f, 2);
  child = hd_inventory_lookup (f->inventory, "pci_0000_01_00_0");
  g_assert_nonnull (child);
  g_assert_cmpstr (child->parent, ==, "pci_0000_00_09_0");
}

/* The kernel's bind/unbind: the driver link changes, then the uevent. */
static void
test_driver_change (Fixture *f, gconstpointer data)
{
  const char *syspath = "/sys/devices/pci0000:00/0000:00:03.0";
  g_autofree char *sys_dir = umockdev_testbed_get_sys_dir (f->bed);
  g_autofree char *link = g_build_filename (sys_dir, "devices/pci0000:00/0000:00:03.0/driver", NULL);
  g_autoptr(HdNodeDevice) dev = NULL;
  gint64 took;

  g_assert_cmpint (unlink (link), ==, 0);
  umockdev_testbed_uevent (f->bed, syspath, "unbind");
  took = wait_for_events (f, 1);
  g_assert_cmpint (took, <, DEADLINE_US);
  g_assert_cmpstr (g_ptr_array_index (f->events, 0), ==, "changed pci_0000_00_03_0 -");

  /* vfio-pci is loaded: its driver directory exists. */
  {
    g_autofree char *vfio = g_build_filename (sys_dir, "bus/pci/drivers/vfio-pci", NULL);
    g_assert_cmpint (g_mkdir_with_parents (vfio, 0755), ==, 0);
  }
  umockdev_testbed_set_attribute_link (f->bed, syspath, "driver", "../../../bus/pci/drivers/vfio-pci");
  umockdev_testbed_uevent (f->bed, syspath, "bind");
  took = wait_for_events (f, 2);
  g_assert_cmpint (took, <, DEADLINE_US);
  g_assert_cmpstr (g_ptr_array_index (f->events, 1), ==, "changed pci_0000_00_03_0 vfio-pci");

  dev = hd_inventory_lookup (f->inventory, "pci_0000_00_03_0");
  g_assert_cmpstr (dev->driver, ==, "vfio-pci");
  g_assert_cmpuint (hd_inventory_get_n_enumerations (f->inventory), ==, 1);
}

/* A machine without a PCI bus (no /sys/bus/pci/devices at all) has just
 * `computer`, as libvirt shows it, and a first PCI device still arrives. */
static void
test_no_pci_bus (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(UMockdevTestbed) bed = umockdev_testbed_new ();
  g_autoptr(HdInventory) inventory = NULL;
  g_autoptr(HdNodeDevice) computer = NULL;
  g_autofree char *sys_dir = umockdev_testbed_get_sys_dir (bed);
  g_autofree char *bus_dir = g_build_filename (sys_dir, "bus", "pci", NULL);
  Fixture f = { .bed = bed, .events = g_ptr_array_new_with_free_func (g_free) };

  g_assert_false (g_file_test (bus_dir, G_FILE_TEST_EXISTS));
  inventory = hd_inventory_new (TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hd_inventory_get_n_devices (inventory), ==, 1);
  computer = hd_inventory_lookup (inventory, "computer");
  g_assert_nonnull (computer);

  f.inventory = inventory;
  g_signal_connect (inventory, "device-added", G_CALLBACK (on_added), &f);
  g_assert_true (umockdev_testbed_add_from_string (bed, new_device, &error));
  g_assert_no_error (error);
  wait_for_events (&f, 1);
  g_assert_cmpstr (g_ptr_array_index (f.events, 0), ==, "added pci_0000_00_09_0");
  g_assert_cmpuint (hd_inventory_get_n_devices (inventory), ==, 2);
  g_ptr_array_unref (f.events);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/inventory/hotplug/add-remove", Fixture, NULL, fixture_setup, test_add_remove, fixture_teardown);
  g_test_add ("/inventory/hotplug/add-child", Fixture, NULL, fixture_setup, test_add_child, fixture_teardown);
  g_test_add ("/inventory/hotplug/driver-change", Fixture, NULL, fixture_setup, test_driver_change, fixture_teardown);
  g_test_add_func ("/inventory/hotplug/no-pci-bus", test_no_pci_bus);
  return g_test_run ();
}
