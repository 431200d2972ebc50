/* The fake kernel itself, on the vm-q35 testbed: the detach and reattach
 * paths (driver_override, new_id, pciback slots), the kernel's refusals,
 * injected faults, delayed effects, hangs, resets and hot-unplug, and the
 * inventory seeing each driver change through its uevent. */
#include "config.h"

#include <errno.h>

#include "fake-kernel.h"
#include "nodedev/inventory.h"
#include "testbed.h"

#define E1000E "0000:01:00.0"          /* e1000e, IOMMU group 9, reset "pm bus" */
#define OVERRIDE "/sys/bus/pci/devices/" E1000E "/driver_override"
#define PROBE "/sys/bus/pci/drivers_probe"

typedef struct {
  UMockdevTestbed *bed;
  HdFakeKernel *fk;
  HdInventory *inventory;
  GPtrArray *events;   /* "changed NAME DRIVER", "removed NAME" */
} Fixture;

static void
on_changed (HdInventory *inv, HdNodeDevice *dev, Fixture *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("changed %s %s", dev->name,
                                               dev->driver ? dev->driver : "-"));
}

static void
on_removed (HdInventory *inv, HdNodeDevice *dev, Fixture *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("removed %s", dev->name));
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->bed = hd_test_testbed_load ("vm-q35", &error);
  g_assert_no_error (error);
  f->fk = hd_fake_kernel_new (f->bed);
  f->events = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->inventory);
  g_clear_object (&f->fk);
  g_clear_object (&f->bed);
  g_clear_pointer (&f->events, g_ptr_array_unref);
}

static void
start_inventory (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->inventory = hd_inventory_new (TRUE, &error);
  g_assert_no_error (error);
  g_signal_connect (f->inventory, "device-changed", G_CALLBACK (on_changed), f);
  g_signal_connect (f->inventory, "device-removed", G_CALLBACK (on_removed), f);
}

/* Runs the main context until @n events arrived; the microseconds it took. */
static gint64
wait_for_events (Fixture *f, guint n)
{
  gint64 start = g_get_monotonic_time ();

  while (f->events->len < n)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () - start > 10 * G_USEC_PER_SEC)
        g_error ("only %u of %u events within 10 s", f->events->len, n);
      if (f->events->len < n)
        g_usleep (200);
    }
  return g_get_monotonic_time () - start;
}

static void
assert_events (Fixture *f, const char *const *expected)
{
  g_ptr_array_add (f->events, NULL);
  g_assert_cmpstrv ((const char *const *) f->events->pdata, expected);
  g_ptr_array_remove_index (f->events, f->events->len - 1);
}

static int
w (Fixture *f, const char *path, const char *data)
{
  return hd_sysfs_writer_write (HD_SYSFS_WRITER (f->fk), path, data);
}

static char *
read_sys (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static void
assert_driver (Fixture *f, const char *addr, const char *driver)
{
  g_autofree char *current = hd_fake_kernel_dup_driver (f->fk, addr);

  g_assert_cmpstr (current, ==, driver);
}

static gboolean
sys_exists (const char *path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
}

static void
add_driver (Fixture *f, const char *driver)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (hd_fake_kernel_add_driver (f->fk, driver, &error));
  g_assert_no_error (error);
}

/* libvirt's detach and reattach by driver_override, through /sys. */
static void
test_override_probe (Fixture *f, gconstpointer data)
{
  const char *expected_log[] = {
    OVERRIDE " <- vfio-pci\\n",
    "/sys/bus/pci/drivers/e1000e/unbind <- " E1000E,
    PROBE " <- " E1000E,
    OVERRIDE " <- \\n",
    "/sys/bus/pci/devices/" E1000E "/driver/unbind <- " E1000E,
    PROBE " <- " E1000E,
    NULL
  };
  g_autofree char *text = NULL;
  g_autofree char *link = NULL;
  g_autofree char *uevent = NULL;
  g_auto(GStrv) log = NULL;

  add_driver (f, "vfio-pci");
  g_assert_true (sys_exists ("/dev/vfio/vfio"));
  g_assert_false (sys_exists ("/dev/vfio/9"));

  g_assert_cmpint (w (f, OVERRIDE, "vfio-pci\n"), ==, 0);
  text = read_sys (OVERRIDE);
  g_assert_cmpstr (text, ==, "vfio-pci\n");
  assert_driver (f, E1000E, "e1000e");

  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);
  assert_driver (f, E1000E, NULL);
  g_assert_false (sys_exists ("/sys/bus/pci/devices/" E1000E "/driver"));
  g_assert_false (sys_exists ("/sys/bus/pci/drivers/e1000e/" E1000E));

  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, "vfio-pci");
  /* The link as the kernel makes it, relative and resolving. */
  link = g_file_read_link ("/sys/bus/pci/devices/" E1000E "/driver", NULL);
  g_assert_cmpstr (link, ==, "../../../../bus/pci/drivers/vfio-pci");
  g_assert_true (g_file_test ("/sys/bus/pci/devices/" E1000E "/driver/bind", G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test ("/sys/bus/pci/drivers/vfio-pci/" E1000E "/vendor", G_FILE_TEST_EXISTS));
  uevent = read_sys ("/sys/bus/pci/devices/" E1000E "/uevent");
  g_assert_nonnull (strstr (uevent, "DRIVER=vfio-pci\n"));
  g_assert_true (sys_exists ("/dev/vfio/9"));

  /* Reattach: clear the override, unbind (through the device's link, as
   * libvirt does), probe: the host driver comes back. */
  g_assert_cmpint (w (f, OVERRIDE, "\n"), ==, 0);
  g_clear_pointer (&text, g_free);
  text = read_sys (OVERRIDE);
  g_assert_cmpstr (text, ==, "(null)\n");
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/" E1000E "/driver/unbind", E1000E), ==, 0);
  assert_driver (f, E1000E, NULL);
  g_assert_false (sys_exists ("/dev/vfio/9"));
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, "e1000e");
  g_clear_pointer (&uevent, g_free);
  uevent = read_sys ("/sys/bus/pci/devices/" E1000E "/uevent");
  g_assert_nonnull (strstr (uevent, "DRIVER=e1000e\n"));

  log = hd_fake_kernel_get_log (f->fk);
  g_assert_cmpstrv (log, expected_log);
  hd_fake_kernel_clear_log (f->fk);
  g_clear_pointer (&log, g_strfreev);
  log = hd_fake_kernel_get_log (f->fk);
  g_assert_cmpuint (g_strv_length (log), ==, 0);
}

/* The override names a driver whose module is not loaded: nothing binds
 * until it is, and then driver_register() takes the device. */
static void
test_override_module_missing (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (w (f, OVERRIDE, "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E "\n"), ==, 0);
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, NULL);
  /* Its control files are not there either. */
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/vfio-pci/bind", E1000E), ==, ENOENT);

  add_driver (f, "vfio-pci");
  assert_driver (f, E1000E, "vfio-pci");
}

/* The old pci-stub route: new_id, remove_id. */
static void
test_new_id (Fixture *f, gconstpointer data)
{
  const char *stub_new_id = "/sys/bus/pci/drivers/pci-stub/new_id";
  const char *stub_remove_id = "/sys/bus/pci/drivers/pci-stub/remove_id";

  add_driver (f, "pci-stub");
  /* A bound device stays with its driver. */
  g_assert_cmpint (w (f, stub_new_id, "8086 10d3"), ==, 0);
  assert_driver (f, E1000E, "e1000e");
  g_assert_cmpint (w (f, stub_new_id, "8086 10d3"), ==, EEXIST);
  g_assert_cmpint (w (f, stub_new_id, "8086"), ==, EINVAL);
  /* e1000e's own table has that id already. */
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/new_id", "8086 10d3"), ==, EEXIST);
  g_assert_cmpint (w (f, stub_remove_id, "8086 10d3"), ==, 0);
  g_assert_cmpint (w (f, stub_remove_id, "8086 10d3"), ==, ENODEV);
  g_assert_cmpint (w (f, stub_remove_id, "zz"), ==, EINVAL);

  /* An unbound device is taken as soon as the id is added. */
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);
  g_assert_cmpint (w (f, stub_new_id, "8086 10d3\n"), ==, 0);
  assert_driver (f, E1000E, "pci-stub");
  /* Unless its driver_override names another driver. */
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/0000:02:01.0/driver_override", "vfio-pci\n"), ==, 0);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000/unbind", "0000:02:01.0"), ==, 0);
  g_assert_cmpint (w (f, stub_new_id, "8086 100e"), ==, 0);
  assert_driver (f, "0000:02:01.0", NULL);

  /* remove_id leaves bound devices alone; the host driver probes first. */
  g_assert_cmpint (w (f, stub_remove_id, "8086 10d3"), ==, 0);
  assert_driver (f, E1000E, "pci-stub");
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/pci-stub/unbind", E1000E), ==, 0);
  g_assert_cmpint (w (f, stub_new_id, "8086 10d3"), ==, 0);
  assert_driver (f, E1000E, "pci-stub");
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/pci-stub/unbind", E1000E), ==, 0);
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, "e1000e");
}

/* xen-pciback: the slot list decides, or driver_override. */
static void
test_pciback (Fixture *f, gconstpointer data)
{
  const char *bind = "/sys/bus/pci/drivers/pciback/bind";
  const char *new_slot = "/sys/bus/pci/drivers/pciback/new_slot";
  const char *remove_slot = "/sys/bus/pci/drivers/pciback/remove_slot";

  add_driver (f, "pciback");
  g_assert_true (sys_exists ("/sys/bus/pci/drivers/pciback/new_slot"));
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);
  g_assert_cmpint (w (f, bind, E1000E), ==, ENODEV);
  g_assert_cmpint (w (f, new_slot, E1000E "\n"), ==, 0);
  g_assert_true (hd_fake_kernel_has_pciback_slot (f->fk, E1000E));
  g_assert_cmpint (w (f, bind, E1000E), ==, 0);
  assert_driver (f, E1000E, "pciback");
  g_assert_cmpint (w (f, bind, E1000E), ==, EBUSY);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/pciback/new_id", "8086 10d3"), ==, EEXIST);

  g_assert_cmpint (w (f, new_slot, "nonsense"), ==, EINVAL);
  g_assert_cmpint (w (f, new_slot, "05:00.*"), ==, 0);
  g_assert_true (hd_fake_kernel_has_pciback_slot (f->fk, "0000:05:00.7"));
  g_assert_cmpint (w (f, remove_slot, "0000:05:00.*"), ==, 0);
  g_assert_false (hd_fake_kernel_has_pciback_slot (f->fk, "0000:05:00.7"));
  g_assert_cmpint (w (f, remove_slot, "0000:05:00.1"), ==, ENOENT);
  /* The slot file belongs to pciback only. */
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/new_slot", E1000E), ==, ENOENT);

  /* driver_override lets pciback take a device without a slot, and the
   * slot is listed from then on. */
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/0000:02:01.0/driver_override", "pciback"), ==, 0);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000/unbind", "0000:02:01.0"), ==, 0);
  g_assert_cmpint (w (f, PROBE, "0000:02:01.0"), ==, 0);
  assert_driver (f, "0000:02:01.0", "pciback");
  g_assert_true (hd_fake_kernel_has_pciback_slot (f->fk, "0000:02:01.0"));
}

/* What the kernel refuses by itself, and the faults a test injects. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autofree char *text = NULL;

  add_driver (f, "vfio-pci");
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/bind", E1000E), ==, EBUSY);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/vfio-pci/bind", E1000E), ==, ENODEV);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/vfio-pci/unbind", E1000E), ==, ENODEV);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", "0000:99:00.0"), ==, ENODEV);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", "../../x"), ==, ENODEV);
  g_assert_cmpint (w (f, PROBE, "0000:99:00.0"), ==, ENODEV);
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/0000:99:00.0/driver_override", "vfio-pci"), ==, ENOENT);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/nosuch/bind", E1000E), ==, ENOENT);
  g_assert_cmpint (w (f, "/sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0/driver_override", "x"), ==, EACCES);
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/../../../x", "x"), ==, EACCES);
  /* Not emulated: written to the testbed file if there is one. */
  g_assert_cmpint (w (f, "/sys/bus/pci/rescan", "1"), ==, ENOENT);
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/" E1000E "/power/control", "auto"), ==, 0);
  text = read_sys ("/sys/bus/pci/devices/" E1000E "/power/control");
  g_assert_cmpstr (text, ==, "auto");

  /* A driver that will not let go. */
  hd_fake_kernel_refuse (f->fk, "/drivers/e1000e/unbind", EBUSY);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, EBUSY);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, EBUSY);
  assert_driver (f, E1000E, "e1000e");
  hd_fake_kernel_clear_faults (f->fk);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);

  /* A probe after which nothing binds, once. */
  hd_fake_kernel_refuse_once (f->fk, "/drivers_probe", 0);
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, NULL);
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, "e1000e");

  /* vfio-pci without an IOMMU: its probe fails. */
  hd_fake_kernel_set_probe_fails (f->fk, "vfio-pci", TRUE);
  g_assert_cmpint (w (f, OVERRIDE, "vfio-pci\n"), ==, 0);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, NULL);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/vfio-pci/bind", E1000E), ==, EINVAL);
  hd_fake_kernel_set_probe_fails (f->fk, "vfio-pci", FALSE);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/bind", E1000E), ==, ENODEV);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/vfio-pci/bind", E1000E), ==, 0);
  assert_driver (f, E1000E, "vfio-pci");

  /* A device without a host driver stays unbound after a probe. */
  hd_fake_kernel_set_native_driver (f->fk, "0000:02:02.0", NULL);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/8139cp/unbind", "0000:02:02.0"), ==, 0);
  g_assert_cmpint (w (f, PROBE, "0000:02:02.0"), ==, 0);
  assert_driver (f, "0000:02:02.0", NULL);
  hd_fake_kernel_set_native_driver (f->fk, "0000:02:02.0", "8139cp");
  g_assert_cmpint (w (f, PROBE, "0000:02:02.0"), ==, 0);
  assert_driver (f, "0000:02:02.0", "8139cp");
}

static void
test_reset (Fixture *f, gconstpointer data)
{
  const char *reset = "/sys/bus/pci/devices/" E1000E "/reset";
  const char *method = "/sys/bus/pci/devices/" E1000E "/reset_method";
  g_autofree char *text = NULL;
  g_autofree char *last = NULL;

  /* The kernel shows `reset` where there is a reset method. */
  g_assert_true (sys_exists (reset));
  g_assert_false (sys_exists ("/sys/bus/pci/devices/0000:00:01.0/reset"));

  g_assert_cmpint (w (f, reset, "1"), ==, 0);
  g_assert_cmpuint (hd_fake_kernel_get_n_resets (f->fk, E1000E), ==, 1);
  last = hd_fake_kernel_dup_last_reset_method (f->fk, E1000E);
  g_assert_cmpstr (last, ==, "pm");

  g_assert_cmpint (w (f, method, "bus\n"), ==, 0);
  text = read_sys (method);
  g_assert_cmpstr (text, ==, "bus\n");
  g_assert_cmpint (w (f, reset, "1\n"), ==, 0);
  g_clear_pointer (&last, g_free);
  last = hd_fake_kernel_dup_last_reset_method (f->fk, E1000E);
  g_assert_cmpstr (last, ==, "bus");
  g_assert_cmpuint (hd_fake_kernel_get_n_resets (f->fk, E1000E), ==, 2);

  /* Unsupported or unknown: EINVAL, and the list stays. */
  g_assert_cmpint (w (f, method, "flr"), ==, EINVAL);
  g_assert_cmpint (w (f, method, "bus bogus"), ==, EINVAL);
  g_clear_pointer (&text, g_free);
  text = read_sys (method);
  g_assert_cmpstr (text, ==, "bus\n");
  g_assert_cmpint (w (f, method, "bus pm"), ==, 0);
  g_clear_pointer (&text, g_free);
  text = read_sys (method);
  g_assert_cmpstr (text, ==, "bus pm\n");
  g_assert_cmpint (w (f, method, "default\n"), ==, 0);
  g_clear_pointer (&text, g_free);
  text = read_sys (method);
  g_assert_cmpstr (text, ==, "pm bus\n");

  /* An empty list disables resets altogether, as in the kernel. */
  g_assert_cmpint (w (f, method, "\n"), ==, 0);
  g_clear_pointer (&text, g_free);
  text = read_sys (method);
  g_assert_cmpstr (text, ==, "");
  g_assert_cmpint (w (f, reset, "1"), ==, ENOTTY);
  g_assert_cmpint (w (f, method, "default"), ==, 0);

  g_assert_cmpint (w (f, reset, "2"), ==, EINVAL);
  g_assert_cmpint (w (f, reset, "yes"), ==, EINVAL);
  g_assert_cmpint (w (f, reset, "0x1"), ==, 0);
  g_assert_cmpuint (hd_fake_kernel_get_n_resets (f->fk, E1000E), ==, 3);

  /* No reset method, no reset files. */
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/0000:00:01.0/reset", "1"), ==, ENOENT);
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/0000:00:01.0/reset_method", "bus"), ==, ENOENT);

  hd_fake_kernel_reset_counters (f->fk);
  g_assert_cmpuint (hd_fake_kernel_get_n_resets (f->fk, E1000E), ==, 0);
  g_clear_pointer (&last, g_free);
  last = hd_fake_kernel_dup_last_reset_method (f->fk, E1000E);
  g_assert_null (last);
}

/* Delayed effects: the write returns first, the link and the uevent come
 * later from the main context. */
static void
test_async (Fixture *f, gconstpointer data)
{
  static const char *const expected[] = {
    "changed pci_0000_01_00_0 -", "changed pci_0000_01_00_0 e1000e", NULL
  };
  gint64 took;

  start_inventory (f);
  hd_fake_kernel_set_async (f->fk, 50);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);
  assert_driver (f, E1000E, "e1000e");
  g_assert_cmpuint (hd_fake_kernel_get_n_pending (f->fk), ==, 1);
  took = wait_for_events (f, 1);
  g_assert_cmpint (took, >=, 40 * 1000);
  assert_driver (f, E1000E, NULL);
  g_assert_cmpuint (hd_fake_kernel_get_n_pending (f->fk), ==, 0);

  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  assert_driver (f, E1000E, NULL);
  /* A second probe before the first took effect binds once. */
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  wait_for_events (f, 2);
  assert_driver (f, E1000E, "e1000e");
  while (hd_fake_kernel_get_n_pending (f->fk) > 0)
    g_main_context_iteration (NULL, TRUE);
  g_usleep (20 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_events (f, expected);
}

typedef struct {
  HdFakeKernel *fk;
  const char *const *writes;   /* path, data, path, data, …, NULL */
} WriterJob;

/* The writes one after another, as an engine's worker does; the first
 * error, or 0. */
static gpointer
run_writes (gpointer user_data)
{
  WriterJob *job = user_data;

  for (guint i = 0; job->writes[i]; i += 2)
    {
      int r = hd_sysfs_writer_write (HD_SYSFS_WRITER (job->fk), job->writes[i], job->writes[i + 1]);
      if (r != 0)
        return GINT_TO_POINTER (r);
    }
  return GINT_TO_POINTER (0);
}

/* A detach from worker threads while the main loop runs, each step
 * waiting for the kernel's event as the engine does: the inventory sees
 * the unbind and then the bind, each after its link changed.  (It reads
 * the link when it handles the event, so a probe written before the
 * unbind event was handled would show as vfio-pci twice.) */
static void
test_inventory (Fixture *f, gconstpointer data)
{
  static const char *const unbind[] = {
    OVERRIDE, "vfio-pci\n",
    "/sys/bus/pci/drivers/e1000e/unbind", E1000E,
    NULL
  };
  static const char *const probe[] = { PROBE, E1000E, NULL };
  static const char *const expected[] = {
    "changed pci_0000_01_00_0 -", "changed pci_0000_01_00_0 vfio-pci", NULL
  };
  WriterJob job = { f->fk, unbind };
  g_autoptr(GThread) thread = NULL;
  g_autoptr(HdNodeDevice) dev = NULL;

  start_inventory (f);
  add_driver (f, "vfio-pci");
  thread = g_thread_new ("writer", run_writes, &job);
  wait_for_events (f, 1);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (g_steal_pointer (&thread))), ==, 0);

  job.writes = probe;
  thread = g_thread_new ("writer", run_writes, &job);
  wait_for_events (f, 2);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (g_steal_pointer (&thread))), ==, 0);
  assert_events (f, expected);

  dev = hd_inventory_lookup (f->inventory, "pci_0000_01_00_0");
  g_assert_cmpstr (dev->driver, ==, "vfio-pci");
  g_assert_cmpstr (dev->pci->driver_override, ==, "vfio-pci");
}

/* A write that hangs in the kernel, from a worker that the main thread
 * joins without iterating its context: no deadlock once released. */
static void
test_hang (Fixture *f, gconstpointer data)
{
  static const char *const writes[] = {
    "/sys/bus/pci/drivers/e1000e/unbind", E1000E, NULL
  };
  WriterJob job = { f->fk, writes };
  g_autoptr(GThread) thread = NULL;
  gint64 start = g_get_monotonic_time ();

  hd_fake_kernel_hang (f->fk, "/e1000e/unbind");
  thread = g_thread_new ("writer", run_writes, &job);
  while (hd_fake_kernel_get_n_hung (f->fk) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
      g_usleep (1000);
    }
  g_usleep (20 * 1000);
  assert_driver (f, E1000E, "e1000e");
  g_assert_cmpuint (hd_fake_kernel_get_n_hung (f->fk), ==, 1);

  hd_fake_kernel_release (f->fk);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (g_steal_pointer (&thread))), ==, 0);
  assert_driver (f, E1000E, NULL);
  g_assert_cmpuint (hd_fake_kernel_get_n_hung (f->fk), ==, 0);
  /* Released rules are gone. */
  g_assert_cmpint (w (f, PROBE, E1000E), ==, 0);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/e1000e/unbind", E1000E), ==, 0);
}

/* Hot-unplug: the unbind and remove uevents, children first; the
 * device's files are gone for later writes. */
static void
test_remove_device (Fixture *f, gconstpointer data)
{
  static const char *const expected[] = {
    "changed pci_0000_02_02_0 -", "removed pci_0000_02_02_0",
    "changed pci_0000_01_00_0 -", "removed pci_0000_01_00_0",
    "changed pci_0000_00_03_0 -", "removed pci_0000_00_03_0",
    NULL
  };
  g_autoptr(GError) error = NULL;

  start_inventory (f);
  g_assert_true (hd_fake_kernel_remove_device (f->fk, "0000:02:02.0", &error));
  g_assert_no_error (error);
  wait_for_events (f, 2);
  g_assert_false (sys_exists ("/sys/bus/pci/devices/0000:02:02.0"));
  g_assert_false (sys_exists ("/sys/bus/pci/drivers/8139cp/0000:02:02.0"));
  g_assert_false (sys_exists ("/sys/kernel/iommu_groups/4/devices/0000:02:02.0"));
  g_assert_true (sys_exists ("/sys/kernel/iommu_groups/4/devices/0000:02:01.0"));
  g_assert_cmpint (w (f, "/sys/bus/pci/devices/0000:02:02.0/driver_override", "vfio-pci"), ==, ENOENT);
  g_assert_cmpint (w (f, PROBE, "0000:02:02.0"), ==, ENODEV);
  g_assert_cmpint (w (f, "/sys/bus/pci/drivers/8139cp/unbind", "0000:02:02.0"), ==, ENODEV);

  /* A root port with the e1000e below it. */
  g_assert_true (hd_fake_kernel_remove_device (f->fk, "0000:00:03.0", &error));
  g_assert_no_error (error);
  wait_for_events (f, 6);
  assert_events (f, expected);
  g_assert_false (sys_exists ("/sys/bus/pci/devices/" E1000E));
  g_assert_null (hd_inventory_lookup (f->inventory, "pci_0000_01_00_0"));

  g_assert_false (hd_fake_kernel_remove_device (f->fk, "0000:02:02.0", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/fake-kernel/override-probe", Fixture, NULL, fixture_setup, test_override_probe, fixture_teardown);
  g_test_add ("/fake-kernel/override-module-missing", Fixture, NULL, fixture_setup, test_override_module_missing, fixture_teardown);
  g_test_add ("/fake-kernel/new-id", Fixture, NULL, fixture_setup, test_new_id, fixture_teardown);
  g_test_add ("/fake-kernel/pciback", Fixture, NULL, fixture_setup, test_pciback, fixture_teardown);
  g_test_add ("/fake-kernel/refusals", Fixture, NULL, fixture_setup, test_refusals, fixture_teardown);
  g_test_add ("/fake-kernel/reset", Fixture, NULL, fixture_setup, test_reset, fixture_teardown);
  g_test_add ("/fake-kernel/async", Fixture, NULL, fixture_setup, test_async, fixture_teardown);
  g_test_add ("/fake-kernel/inventory", Fixture, NULL, fixture_setup, test_inventory, fixture_teardown);
  g_test_add ("/fake-kernel/hang", Fixture, NULL, fixture_setup, test_hang, fixture_teardown);
  g_test_add ("/fake-kernel/remove-device", Fixture, NULL, fixture_setup, test_remove_device, fixture_teardown);
  return g_test_run ();
}
