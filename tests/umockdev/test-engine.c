/* The engine on the vm-q35 testbed with the fake kernel: detach to each
 * stub by both routes, reattach, reset; every refusal of the verdicts;
 * every rollback; group transactions; hung and slow kernels; two
 * operations on one device; and journal replay after the daemon is
 * killed at each step. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-kernel.h"
#include "hostdev/engine.h"
#include "nodedev/error.h"
#include "testbed.h"

#define E1000E "0000:01:00.0"       /* own group, reset "pm bus" */
#define E1000 "0000:02:01.0"        /* conventional, behind the bridge, reset "bus" */
#define RTL8139 "0000:02:02.0"      /* the other one behind it, 8139cp */
#define BRIDGE "0000:00:04.0"
#define DEV "/sys/bus/pci/devices/"
#define DRV "/sys/bus/pci/drivers/"
#define PROBE "/sys/bus/pci/drivers_probe <- "

typedef struct {
  const char *testbed;
  UMockdevTestbed *bed;
  HdFakeKernel *kernel;
  HdInventory *inventory;
  HdEngine *engine;
  HdSysfsWriter *writer;       /* what the engine writes through */
  char *state_dir;
  char *empty_file;
  HdHostUsageSources sources;
  GHashTable *addresses;       /* ifname -> "ADDR/PREFIX" */
  /* results */
  gboolean done;
  GError *error;
  GPtrArray *taken;
  char *method;
} Fixture;

static GStrv
fake_addresses (const char *ifname, gpointer user_data)
{
  Fixture *f = user_data;
  const char *addr = g_hash_table_lookup (f->addresses, ifname);
  char *v[] = { (char *) addr, NULL };

  return addr ? g_strdupv (v) : NULL;
}

/* Stands in for libkmod: the module "loads" only if the fake kernel has
 * the driver (the test removes one to see the error). */
static gboolean
fake_loader (const HdStubDriver *stub, gpointer user_data, GError **error)
{
  if (hd_module_loader_driver_present (stub))
    return TRUE;
  g_set_error (error, HD_ERROR, HD_ERROR_FAILED, "Failed to load PCI driver module %s: Module not found",
               stub->module);
  return FALSE;
}

static void
start_engine (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->inventory = hd_inventory_new (TRUE, &error);
  g_assert_no_error (error);
  f->engine = hd_engine_new (f->inventory, f->writer, f->state_dir, &error);
  g_assert_no_error (error);
  hd_engine_set_driver_loader (f->engine, fake_loader, f);
  hd_engine_set_host_usage_sources (f->engine, &f->sources);
  hd_engine_set_timeouts (f->engine, 600, 600, 1500);
}

static void
stop_engine (Fixture *f)
{
  g_clear_object (&f->engine);
  g_clear_object (&f->inventory);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *drivers[] = { "vfio-pci", "pci-stub", "pciback" };

  f->testbed = data ? data : "vm-q35";
  f->bed = hd_test_testbed_load (f->testbed, &error);
  g_assert_no_error (error);
  f->kernel = hd_fake_kernel_new (f->bed);
  for (guint i = 0; i < G_N_ELEMENTS (drivers); i++)
    {
      hd_fake_kernel_add_driver (f->kernel, drivers[i], &error);
      g_assert_no_error (error);
    }
  f->writer = g_object_ref (HD_SYSFS_WRITER (f->kernel));
  f->state_dir = g_dir_make_tmp ("hostdevd-engine-XXXXXX", &error);
  g_assert_no_error (error);
  f->empty_file = g_strconcat (f->state_dir, ".empty", NULL);
  g_file_set_contents (f->empty_file, "", 0, &error);
  g_assert_no_error (error);
  /* The host uses nothing unless a test says so: empty mount and swap
   * tables, no routes, addresses from the table below. */
  f->addresses = g_hash_table_new (g_str_hash, g_str_equal);
  f->sources.mountinfo = f->empty_file;
  f->sources.swaps = f->empty_file;
  f->sources.ipv4_routes = f->empty_file;
  f->sources.ipv6_routes = f->empty_file;
  f->sources.interface_addresses = fake_addresses;
  f->sources.user_data = f;
  start_engine (f);
  hd_fake_kernel_clear_log (f->kernel);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s' '%s'", f->state_dir, f->empty_file);

  hd_fake_kernel_clear_faults (f->kernel);
  /* Let abandoned workers finish before the objects go. */
  while (f->engine && hd_engine_get_n_operations (f->engine) > 0)
    g_main_context_iteration (NULL, TRUE);
  stop_engine (f);
  g_clear_object (&f->writer);
  g_clear_object (&f->kernel);
  g_clear_object (&f->bed);
  g_clear_pointer (&f->addresses, g_hash_table_unref);
  g_assert_cmpint (system (rm), ==, 0);
  g_free (f->state_dir);
  g_free (f->empty_file);
  g_clear_error (&f->error);
  g_clear_pointer (&f->taken, g_ptr_array_unref);
  g_free (f->method);
}

/* ---- running operations ----------------------------------------------- */

static void
wait_done (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!f->done)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () > deadline)
        g_error ("the operation did not finish within 20 s");
      if (!f->done)
        g_usleep (500);
    }
}

static void
reset_result (Fixture *f)
{
  f->done = FALSE;
  g_clear_error (&f->error);
  g_clear_pointer (&f->taken, g_ptr_array_unref);
  g_clear_pointer (&f->method, g_free);
}

static void
detach_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->taken = hd_engine_detach_finish (HD_ENGINE (source), result, &f->error);
  f->done = TRUE;
}

static void
reattach_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  hd_engine_reattach_finish (HD_ENGINE (source), result, &f->error);
  f->done = TRUE;
}

static void
reset_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->method = hd_engine_reset_finish (HD_ENGINE (source), result, &f->error);
  f->done = TRUE;
}

static void
detach_full (Fixture *f, const char *addr, const char *driver, gboolean group, gboolean force)
{
  HdPciAddress a;
  g_autofree char *name = NULL;
  HdDetachOptions options = { driver, group, force, "test" };

  g_assert_true (hd_pci_address_parse (addr, &a));
  name = hd_pci_address_to_nodedev_name (&a);
  reset_result (f);
  hd_engine_detach_async (f->engine, name, &options, detach_done, f);
  wait_done (f);
}

static void
detach (Fixture *f, const char *addr, const char *driver)
{
  detach_full (f, addr, driver, FALSE, FALSE);
}

static char *
name_of (const char *addr)
{
  HdPciAddress a;

  g_assert_true (hd_pci_address_parse (addr, &a));
  return hd_pci_address_to_nodedev_name (&a);
}

static void
reattach (Fixture *f, const char *addr)
{
  g_autofree char *name = name_of (addr);

  reset_result (f);
  hd_engine_reattach_async (f->engine, name, "test", reattach_done, f);
  wait_done (f);
}

static void
reset (Fixture *f, const char *addr)
{
  g_autofree char *name = name_of (addr);

  reset_result (f);
  hd_engine_reset_async (f->engine, name, FALSE, "test", reset_done, f);
  wait_done (f);
}

/* ---- looking at the result ----------------------------------------------- */

static void
assert_driver (Fixture *f, const char *addr, const char *expected)
{
  g_autofree char *driver = hd_fake_kernel_dup_driver (f->kernel, addr);

  g_assert_cmpstr (driver, ==, expected);
}

static void
assert_override_clear (const char *addr)
{
  g_autofree char *path = g_strconcat (DEV, addr, "/driver_override", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "(null)\n");
}

/* The writes since the last call, as "PATH <- DATA" lines. */
static void
assert_log (Fixture *f, const char *const *expected)
{
  g_auto(GStrv) log = hd_fake_kernel_get_log (f->kernel);
  g_autofree char *got = g_strjoinv ("\n", log);
  g_autofree char *want = g_strjoinv ("\n", (GStrv) expected);

  g_assert_cmpstr (got, ==, want);
  hd_fake_kernel_clear_log (f->kernel);
}

static guint
journal_size (Fixture *f)
{
  g_autoptr(GDir) dir = g_dir_open (f->state_dir, 0, NULL);
  guint n = 0;

  while (dir && g_dir_read_name (dir))
    n++;
  return n;
}

static char *
journal_get (Fixture *f, const char *addr, const char *key)
{
  g_autofree char *path = g_build_filename (f->state_dir, addr, NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_key_file_get_string (kf, "device", key, NULL);
}

/* ---- detach and reattach ---------------------------------------------------- */

static void
test_detach_vfio (Fixture *f, gconstpointer data)
{
  g_autofree char *state = NULL;
  g_autofree char *original = NULL;
  g_autofree char *owned = NULL;
  const char *detach_log[] = {
    DEV E1000E "/driver_override <- vfio-pci",
    DRV "e1000e/unbind <- " E1000E,
    PROBE E1000E,
    NULL };
  const char *reattach_log[] = {
    DEV E1000E "/driver_override <- \\n",
    DRV "vfio-pci/unbind <- " E1000E,
    PROBE E1000E,
    NULL };

  detach (f, E1000E, NULL);
  g_assert_no_error (f->error);
  g_assert_cmpuint (f->taken->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->taken, 0), ==, "pci_0000_01_00_0");
  assert_log (f, detach_log);
  assert_driver (f, E1000E, "vfio-pci");
  state = journal_get (f, E1000E, "state");
  original = journal_get (f, E1000E, "original-driver");
  g_assert_cmpstr (state, ==, "detached");
  g_assert_cmpstr (original, ==, "e1000e");
  g_assert_true (hd_engine_lookup_owned (f->engine, "pci_0000_01_00_0", &owned));
  g_assert_cmpstr (owned, ==, "e1000e");

  /* Asking again changes nothing and succeeds, as libvirt does. */
  detach (f, E1000E, "vfio");
  g_assert_no_error (f->error);
  g_assert_cmpuint (f->taken->len, ==, 0);
  assert_log (f, (const char *[]) { NULL });

  reattach (f, E1000E);
  g_assert_no_error (f->error);
  assert_log (f, reattach_log);
  assert_driver (f, E1000E, "e1000e");
  assert_override_clear (E1000E);
  g_assert_cmpuint (journal_size (f), ==, 0);
  g_assert_false (hd_engine_lookup_owned (f->engine, "pci_0000_01_00_0", NULL));
}

static void
test_detach_stubs (Fixture *f, gconstpointer data)
{
  const struct { const char *name; const char *driver; } cases[] = {
    { "kvm", "pci-stub" }, { "xen", "pciback" }, { "vfio", "vfio-pci" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      detach (f, E1000E, cases[i].name);
      g_assert_no_error (f->error);
      assert_driver (f, E1000E, cases[i].driver);
      reattach (f, E1000E);
      g_assert_no_error (f->error);
      assert_driver (f, E1000E, "e1000e");
      assert_override_clear (E1000E);
    }
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* Kernels before 3.16 have no driver_override. */
static void
test_detach_new_id (Fixture *f, gconstpointer data)
{
  g_autofree char *override = g_strconcat (g_getenv ("UMOCKDEV_DIR"), DEV, E1000E, "/driver_override", NULL);
  const char *detach_log[] = {
    DRV "pciback/new_id <- 8086 10d3",
    DRV "e1000e/unbind <- " E1000E,
    DRV "pciback/new_slot <- " E1000E,
    DRV "pciback/bind <- " E1000E,
    DRV "pciback/remove_id <- 8086 10d3",
    NULL };
  const char *reattach_log[] = {
    DRV "pciback/remove_id <- 8086 10d3",
    DRV "pciback/unbind <- " E1000E,
    DRV "pciback/remove_slot <- " E1000E,
    DRV "e1000e/bind <- " E1000E,
    NULL };

  g_assert_cmpint (g_unlink (override), ==, 0);
  detach (f, E1000E, "xen");
  g_assert_no_error (f->error);
  assert_log (f, detach_log);
  assert_driver (f, E1000E, "pciback");
  g_assert_true (hd_fake_kernel_has_pciback_slot (f->kernel, E1000E));
  reattach (f, E1000E);
  g_assert_no_error (f->error);
  assert_log (f, reattach_log);
  assert_driver (f, E1000E, "e1000e");
  g_assert_false (hd_fake_kernel_has_pciback_slot (f->kernel, E1000E));

  detach (f, E1000E, "kvm");
  g_assert_no_error (f->error);
  assert_driver (f, E1000E, "pci-stub");
  reattach (f, E1000E);
  g_assert_no_error (f->error);
  assert_driver (f, E1000E, "e1000e");
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* ---- refusals: nothing is written ------------------------------------------- */

static void
assert_refused (Fixture *f, int code, const char *message)
{
  g_assert_error (f->error, HD_ERROR, code);
  if (message != NULL && strstr (f->error->message, message) == NULL)
    g_error ("\"%s\" does not contain \"%s\"", f->error->message, message);
  assert_log (f, (const char *[]) { NULL });
  g_assert_cmpuint (journal_size (f), ==, 0);
}

static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = NULL;

  detach (f, E1000, NULL);
  assert_refused (f, HD_ERROR_IN_USE,
                  "PCI device 0000:02:01.0 cannot be detached alone: it must go together with "
                  "0000:02:02.0 (driver 8139cp); detach the whole group");
  assert_driver (f, E1000, "e1000");

  detach (f, BRIDGE, NULL);
  assert_refused (f, HD_ERROR_INVALID_ARGUMENT, "PCI device 0000:00:04.0 is a bridge");

  detach (f, E1000E, "foo");
  assert_refused (f, HD_ERROR_INVALID_ARGUMENT, "unknown driver name 'foo'");

  reset_result (f);
  hd_engine_detach_async (f->engine, "pci_0000_99_00_0", &(HdDetachOptions) { 0 }, detach_done, f);
  wait_done (f);
  assert_refused (f, HD_ERROR_NO_DEVICE, "no node device with matching name 'pci_0000_99_00_0'");

  reset_result (f);
  hd_engine_detach_async (f->engine, "../../etc", &(HdDetachOptions) { 0 }, detach_done, f);
  wait_done (f);
  assert_refused (f, HD_ERROR_NO_DEVICE, NULL);

  reset_result (f);
  hd_engine_detach_async (f->engine, "computer", &(HdDetachOptions) { 0 }, detach_done, f);
  wait_done (f);
  assert_refused (f, HD_ERROR_INVALID_ARGUMENT, "device computer is not a PCI device");

  /* The module cannot be loaded: the error names it, nothing changes. */
  missing = g_build_filename (g_getenv ("UMOCKDEV_DIR"), "sys/bus/pci/drivers/pci-stub", NULL);
  g_assert_true (g_file_test (missing, G_FILE_TEST_IS_DIR));
  {
    g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", missing);
    g_assert_cmpint (system (rm), ==, 0);
  }
  detach (f, E1000E, "kvm");
  assert_refused (f, HD_ERROR_FAILED, "Failed to load PCI driver module pci-stub");
  assert_driver (f, E1000E, "e1000e");
}

/* No IOMMU (this machine's own tree): VFIO is refused as libvirt does. */
static void
test_no_iommu (Fixture *f, gconstpointer data)
{
  detach (f, "0000:00:03.0", NULL);
  assert_refused (f, HD_ERROR_ARGUMENT_UNSUPPORTED,
                  "VFIO device assignment is currently not supported on this system");
}

static void
test_host_in_use (Fixture *f, gconstpointer data)
{
  g_autofree char *parent = g_strconcat ("/sys/devices/pci0000:00/0000:00:03.0/", E1000E, NULL);
  g_autofree char *netdev = umockdev_testbed_add_device (f->bed, "net", "eth7", parent,
                                                          "address", "52:54:00:12:34:56", NULL,
                                                          "INTERFACE", "eth7", NULL);

  g_assert_nonnull (netdev);
  g_hash_table_insert (f->addresses, "eth7", "10.0.2.15/24");
  hd_fake_kernel_clear_log (f->kernel);

  detach (f, E1000E, NULL);
  assert_refused (f, HD_ERROR_IN_USE, "PCI device 0000:01:00.0 is in use by the host");
  g_assert_nonnull (strstr (f->error->message, "eth7"));
  g_assert_nonnull (strstr (f->error->message, "use force"));
  assert_driver (f, E1000E, "e1000e");

  reset (f, E1000E);
  assert_refused (f, HD_ERROR_IN_USE, "PCI device 0000:01:00.0 is in use by the host");

  detach_full (f, E1000E, NULL, FALSE, TRUE);
  g_assert_no_error (f->error);
  assert_driver (f, E1000E, "vfio-pci");
}

/* The chipset's host and ISA bridges are the host's, by their class (they
 * have an endpoint's header): refused unless forced, and never reset. */
static void
test_chipset_in_use (Fixture *f, gconstpointer data)
{
  detach (f, "0000:00:00.0", NULL);
  assert_refused (f, HD_ERROR_IN_USE,
                  "PCI device 0000:00:00.0 is in use by the host (it is the chipset's host bridge); use force");
  detach (f, "0000:00:1f.0", NULL);
  assert_refused (f, HD_ERROR_IN_USE,
                  "PCI device 0000:00:1f.0 is in use by the host (it is the chipset's ISA bridge); use force");
  reset (f, "0000:00:00.0");
  assert_refused (f, HD_ERROR_IN_USE,
                  "PCI device 0000:00:00.0 is in use by the host (it is the chipset's host bridge)");
  /* Its neighbour on the chipset is nobody's: that one goes. */
  detach (f, "0000:00:1f.3", NULL);
  g_assert_no_error (f->error);
  assert_driver (f, "0000:00:1f.3", "vfio-pci");
}

/* ---- groups ------------------------------------------------------------ */

static void
test_group (Fixture *f, gconstpointer data)
{
  g_autofree char *t1 = NULL;
  g_autofree char *t2 = NULL;

  detach_full (f, E1000, NULL, TRUE, FALSE);
  g_assert_no_error (f->error);
  g_assert_cmpuint (f->taken->len, ==, 2);
  assert_driver (f, E1000, "vfio-pci");
  assert_driver (f, RTL8139, "vfio-pci");
  assert_driver (f, BRIDGE, NULL);
  t1 = journal_get (f, E1000, "transaction");
  t2 = journal_get (f, RTL8139, "transaction");
  g_assert_nonnull (t1);
  g_assert_cmpstr (t1, ==, t2);

  /* With the group on vfio-pci, only the bus reset is possible, and it is. */
  reset (f, E1000);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->method, ==, "bus");

  reattach (f, E1000);
  g_assert_no_error (f->error);
  reattach (f, RTL8139);
  g_assert_no_error (f->error);
  assert_driver (f, E1000, "e1000");
  assert_driver (f, RTL8139, "8139cp");
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* All or nothing: the second device refuses, the first goes back. */
static void
test_group_rollback (Fixture *f, gconstpointer data)
{
  hd_fake_kernel_refuse (f->kernel, "drivers/8139cp/unbind", EBUSY);
  detach_full (f, E1000, NULL, TRUE, FALSE);
  g_assert_error (f->error, HD_ERROR, HD_ERROR_SYSTEM);
  g_assert_nonnull (strstr (f->error->message,
                            "Failed to unbind PCI device '0000:02:02.0' from 8139cp: Device or resource busy"));
  g_assert_nonnull (strstr (f->error->message, "rolled back"));
  assert_driver (f, E1000, "e1000");
  assert_driver (f, RTL8139, "8139cp");
  assert_override_clear (E1000);
  assert_override_clear (RTL8139);
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* ---- rollbacks -------------------------------------------------------------- */

static void
test_probe_fails (Fixture *f, gconstpointer data)
{
  hd_fake_kernel_set_probe_fails (f->kernel, "vfio-pci", TRUE);
  detach (f, E1000E, NULL);
  g_assert_error (f->error, HD_ERROR, HD_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (f->error->message, "did not bind PCI device 0000:01:00.0 to vfio-pci"));
  g_assert_nonnull (strstr (f->error->message, "rolled back"));
  assert_driver (f, E1000E, "e1000e");
  assert_override_clear (E1000E);
  g_assert_cmpuint (journal_size (f), ==, 0);
}

static void
test_override_refused (Fixture *f, gconstpointer data)
{
  hd_fake_kernel_refuse_once (f->kernel, E1000E "/driver_override", ENODEV);
  detach (f, E1000E, NULL);
  g_assert_error (f->error, HD_ERROR, HD_ERROR_SYSTEM);
  g_assert_nonnull (strstr (f->error->message,
                            "Failed to add driver 'vfio-pci' to driver_override interface of PCI device "
                            "'0000:01:00.0': No such device"));
  assert_driver (f, E1000E, "e1000e");
  g_assert_cmpuint (journal_size (f), ==, 0);
}

static void
test_unbind_refused (Fixture *f, gconstpointer data)
{
  hd_fake_kernel_refuse_once (f->kernel, "drivers/e1000e/unbind", EBUSY);
  detach (f, E1000E, NULL);
  g_assert_error (f->error, HD_ERROR, HD_ERROR_SYSTEM);
  g_assert_nonnull (strstr (f->error->message, "Failed to unbind PCI device '0000:01:00.0' from e1000e"));
  assert_driver (f, E1000E, "e1000e");
  assert_override_clear (E1000E);
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* ---- slow and hung kernels ----------------------------------------------------- */

static void
test_async_kernel (Fixture *f, gconstpointer data)
{
  hd_fake_kernel_set_async (f->kernel, 150);
  detach (f, E1000E, NULL);
  g_assert_no_error (f->error);
  assert_driver (f, E1000E, "vfio-pci");
  reattach (f, E1000E);
  g_assert_no_error (f->error);
  assert_driver (f, E1000E, "e1000e");
}

static gboolean
tick (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

static void
test_hang (Fixture *f, gconstpointer data)
{
  guint ticks = 0;
  guint tick_id;
  gint64 start;

  hd_fake_kernel_hang (f->kernel, "drivers/e1000e/unbind");
  tick_id = g_timeout_add (10, tick, &ticks);
  start = g_get_monotonic_time ();
  detach (f, E1000E, NULL);
  g_assert_error (f->error, HD_ERROR, HD_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (f->error->message, "did not return from a write to /sys/bus/pci/drivers/e1000e/unbind"));
  /* Answered after the write timeout, and the main loop ran meanwhile. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (ticks, >, 10);
  g_source_remove (tick_id);
  g_assert_cmpuint (hd_fake_kernel_get_n_hung (f->kernel), ==, 1);

  /* The device stays busy while the write hangs. */
  detach (f, E1000E, NULL);
  g_assert_error (f->error, HD_ERROR, HD_ERROR_BUSY);

  /* The write returns at last: the detach is rolled back. */
  hd_fake_kernel_release (f->kernel);
  while (hd_engine_get_n_operations (f->engine) > 0)
    g_main_context_iteration (NULL, TRUE);
  assert_driver (f, E1000E, "e1000e");
  assert_override_clear (E1000E);
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* ---- two operations at once ------------------------------------------------------ */

static void
test_concurrent (Fixture *f, gconstpointer data)
{
  Fixture second = { 0 };
  g_autofree char *name = name_of (E1000E);
  g_auto(GStrv) log = NULL;
  guint overrides = 0;

  hd_fake_kernel_set_async (f->kernel, 100);
  reset_result (f);
  hd_engine_detach_async (f->engine, name, &(HdDetachOptions) { 0 }, detach_done, f);
  hd_engine_detach_async (f->engine, name, &(HdDetachOptions) { "kvm" }, detach_done, &second);
  g_assert_cmpuint (hd_engine_get_n_operations (f->engine), ==, 2);
  wait_done (f);
  wait_done (&second);
  g_assert_no_error (f->error);
  g_assert_cmpuint (f->taken->len, ==, 1);
  /* The second ran after the first: the device was on vfio-pci by then,
   * and moving it to pci-stub is a detach of its own. */
  g_assert_no_error (second.error);
  assert_driver (f, E1000E, "pci-stub");
  log = hd_fake_kernel_get_log (f->kernel);
  for (guint i = 0; log[i]; i++)
    if (g_str_has_suffix (log[i], "driver_override <- vfio-pci") || g_str_has_suffix (log[i], "driver_override <- pci-stub"))
      {
        /* Each sequence is complete before the next starts. */
        g_assert_true (g_str_has_suffix (log[i + 2], "drivers_probe <- " E1000E));
        overrides++;
      }
  g_assert_cmpuint (overrides, ==, 2);
  g_clear_pointer (&second.taken, g_ptr_array_unref);
}

/* ---- reset ----------------------------------------------------------------- */

static void
test_reset (Fixture *f, gconstpointer data)
{
  g_autofree char *last = NULL;
  const char *reset_log[] = {
    DEV E1000E "/reset_method <- pm",
    DEV E1000E "/reset <- 1",
    DEV E1000E "/reset_method <- pm bus",
    NULL };

  reset (f, E1000E);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->method, ==, "pm");
  assert_log (f, reset_log);
  g_assert_cmpuint (hd_fake_kernel_get_n_resets (f->kernel, E1000E), ==, 1);
  last = hd_fake_kernel_dup_last_reset_method (f->kernel, E1000E);
  g_assert_cmpstr (last, ==, "pm");

  /* Only a bus reset, and 8139cp holds the other function on that bus. */
  reset (f, E1000);
  assert_refused (f, HD_ERROR_FAILED, "Unable to reset PCI device 0000:02:01.0: internal error: "
                  "Active 0000:02:02.0 devices on bus with 0000:02:01.0, not doing bus reset");

  reset (f, BRIDGE);
  assert_refused (f, HD_ERROR_FAILED, "Only PCI endpoint devices can be reset");
}

/* ---- journal replay after kill -9 --------------------------------------------------- */

typedef struct {
  const char *suffix;
  HdFailMode mode;
} KillPoint;

/* Runs a detach of the e1000e in a child process whose writer kills it at
 * @kill; returns once the child is dead. */
static void
detach_and_die (Fixture *f, const KillPoint *kill_at)
{
  pid_t pid = fork ();
  int status;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      g_autoptr(HdFailingWriter) failing = hd_failing_writer_new (f->writer);

      if (kill_at->suffix != NULL)
        hd_failing_writer_add_rule (failing, kill_at->suffix, 1, kill_at->mode, 0);
      stop_engine (f);
      g_set_object (&f->writer, HD_SYSFS_WRITER (failing));
      start_engine (f);
      detach (f, E1000E, NULL);
      _exit (f->error ? 1 : 0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  if (kill_at->suffix != NULL)
    {
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
    }
  else
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

static void
recover_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  hd_engine_recover_finish (HD_ENGINE (source), result, &f->error);
  f->done = TRUE;
}

/* A fresh daemon on the same journal. */
static void
restart (Fixture *f)
{
  stop_engine (f);
  start_engine (f);
  reset_result (f);
  hd_engine_recover_async (f->engine, recover_done, f);
  wait_done (f);
  g_assert_no_error (f->error);
}

static void
test_replay (Fixture *f, gconstpointer data)
{
  const KillPoint points[] = {
    { "/driver_override", HD_FAIL_KILL_BEFORE },
    { "/driver_override", HD_FAIL_KILL_AFTER },
    { "e1000e/unbind", HD_FAIL_KILL_BEFORE },
    { "e1000e/unbind", HD_FAIL_KILL_AFTER },
    { "/drivers_probe", HD_FAIL_KILL_BEFORE },
    { "/drivers_probe", HD_FAIL_KILL_AFTER },
  };

  /* fork() is only safe where no other thread can hold a lock: a fresh
   * process for this test, whatever earlier tests left running. */
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 100 * G_USEC_PER_SEC,
                              G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  /* The kernel brings e1000e back on a probe without override even when
   * the device was unbound by the child. */
  hd_fake_kernel_set_native_driver (f->kernel, E1000E, "e1000e");
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    {
      g_test_message ("killed %s %s", points[i].mode == HD_FAIL_KILL_BEFORE ? "before" : "after", points[i].suffix);
      detach_and_die (f, &points[i]);
      g_assert_cmpuint (journal_size (f), ==, 1);
      restart (f);
      /* An interrupted detach is rolled back. */
      assert_driver (f, E1000E, "e1000e");
      assert_override_clear (E1000E);
      g_assert_cmpuint (journal_size (f), ==, 0);
    }

  /* A finished detach survives the restart: still ours, with its
   * original driver, and reattach restores it. */
  detach_and_die (f, &(KillPoint) { NULL, 0 });
  restart (f);
  assert_driver (f, E1000E, "vfio-pci");
  {
    g_autofree char *original = NULL;
    g_assert_true (hd_engine_lookup_owned (f->engine, "pci_0000_01_00_0", &original));
    g_assert_cmpstr (original, ==, "e1000e");
  }
  reattach (f, E1000E);
  g_assert_no_error (f->error);
  assert_driver (f, E1000E, "e1000e");
  g_assert_cmpuint (journal_size (f), ==, 0);
}

/* A record that is not one is set aside, not trusted. */
static void
test_bad_journal (Fixture *f, gconstpointer data)
{
  g_autofree char *bad = g_build_filename (f->state_dir, E1000E, NULL);
  g_autofree char *aside = g_strconcat (bad, ".bad", NULL);

  g_assert_true (g_file_set_contents (bad, "[device]\naddress=0000:01:00.0\nstate=exploded\n", -1, NULL));
  restart (f);
  g_assert_true (g_file_test (aside, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  assert_driver (f, E1000E, "e1000e");
  g_assert_false (hd_engine_lookup_owned (f->engine, "pci_0000_01_00_0", NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The bad-journal test logs a warning on purpose. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);

#define ADD(path, fn, data) \
  g_test_add (path, Fixture, data, fixture_setup, fn, fixture_teardown)
  ADD ("/engine/detach/vfio", test_detach_vfio, NULL);
  ADD ("/engine/detach/stubs", test_detach_stubs, NULL);
  ADD ("/engine/detach/new-id", test_detach_new_id, NULL);
  ADD ("/engine/refuse/verdicts", test_refusals, NULL);
  ADD ("/engine/refuse/no-iommu", test_no_iommu, "host-virtio");
  ADD ("/engine/refuse/host-in-use", test_host_in_use, NULL);
  ADD ("/engine/refuse/chipset", test_chipset_in_use, NULL);
  ADD ("/engine/group/detach", test_group, NULL);
  ADD ("/engine/group/rollback", test_group_rollback, NULL);
  ADD ("/engine/rollback/probe-fails", test_probe_fails, NULL);
  ADD ("/engine/rollback/override-refused", test_override_refused, NULL);
  ADD ("/engine/rollback/unbind-refused", test_unbind_refused, NULL);
  ADD ("/engine/kernel/async", test_async_kernel, NULL);
  ADD ("/engine/kernel/hang", test_hang, NULL);
  ADD ("/engine/concurrent", test_concurrent, NULL);
  ADD ("/engine/reset", test_reset, NULL);
  ADD ("/engine/journal/replay", test_replay, NULL);
  ADD ("/engine/journal/bad-record", test_bad_journal, NULL);
  return g_test_run ();
}
