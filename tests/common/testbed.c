#include "config.h"

#include "testbed.h"

#include <errno.h>
#include <unistd.h>

#include <gio/gio.h>

const char *
hd_test_testbeds_dir (void)
{
  const char *dir = g_getenv ("HD_TESTBEDS_DIR");

  return dir ? dir : TESTBEDS_DIR;
}

/* @dir/<device's name> -> the device, relative as the kernel links it
 * from directories four levels below /sys. */
static gboolean
link_member (const char *sys_dir, const char *dir, const char *devdir, GError **error)
{
  g_autofree char *addr = g_path_get_basename (devdir);
  g_autofree char *member = g_build_filename (dir, addr, NULL);
  g_autofree char *relative = g_strconcat ("../../../..", devdir + strlen (sys_dir), NULL);

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s", dir);
      return FALSE;
    }
  if (symlink (relative, member) < 0 && errno != EEXIST)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot link %s", member);
      return FALSE;
    }
  return TRUE;
}

static gboolean
link_device_group (const char *sys_dir, const char *devdir, GError **error)
{
  g_autofree char *group_link = g_build_filename (devdir, "iommu_group", NULL);
  g_autofree char *target = g_file_read_link (group_link, NULL);
  g_autofree char *group = NULL;
  g_autofree char *group_dir = NULL;

  if (target == NULL)
    return TRUE;
  group = g_path_get_basename (target);
  group_dir = g_build_filename (sys_dir, "kernel", "iommu_groups", group, "devices", NULL);
  return link_member (sys_dir, group_dir, devdir, error);
}

static gboolean
write_empty (const char *dir, const char *name, const char *contents, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS) ||
         g_file_set_contents (path, contents, -1, error);
}

/* The driver's directory, as the kernel has it: the device link and the
 * control files a detach writes to. */
static gboolean
link_device_driver (const char *sys_dir, const char *devdir, GError **error)
{
  g_autofree char *driver_link = g_build_filename (devdir, "driver", NULL);
  g_autofree char *target = g_file_read_link (driver_link, NULL);
  g_autofree char *driver = NULL;
  g_autofree char *driver_dir = NULL;

  if (target == NULL)
    return TRUE;
  driver = g_path_get_basename (target);
  driver_dir = g_build_filename (sys_dir, "bus", "pci", "drivers", driver, NULL);
  return link_member (sys_dir, driver_dir, devdir, error) &&
         write_empty (driver_dir, "bind", "", error) &&
         write_empty (driver_dir, "unbind", "", error) &&
         write_empty (driver_dir, "new_id", "", error) &&
         write_empty (driver_dir, "remove_id", "", error);
}

static gboolean
walk_devices (const char *sys_dir, const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return TRUE;
  if (!link_device_group (sys_dir, dir, error) || !link_device_driver (sys_dir, dir, error))
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_SYMLINK) || !g_file_test (child, G_FILE_TEST_IS_DIR))
        continue;
      if (!walk_devices (sys_dir, child, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
hd_test_testbed_complete (UMockdevTestbed *bed, GError **error)
{
  g_autofree char *sys_dir = umockdev_testbed_get_sys_dir (bed);
  g_autofree char *devices = g_build_filename (sys_dir, "devices", NULL);
  g_autofree char *bus = g_build_filename (sys_dir, "bus", "pci", NULL);

  if (!walk_devices (sys_dir, devices, error))
    return FALSE;
  return g_mkdir_with_parents (bus, 0755) == 0 &&
         write_empty (bus, "drivers_probe", "", error) &&
         write_empty (bus, "drivers_autoprobe", "1\n", error);
}

UMockdevTestbed *
hd_test_testbed_load (const char *name, GError **error)
{
  g_autoptr(UMockdevTestbed) bed = umockdev_testbed_new ();
  g_autofree char *file = g_build_filename (hd_test_testbeds_dir (), name, "devices.umockdev", NULL);

  if (!umockdev_testbed_add_from_file (bed, file, error))
    return NULL;
  if (!hd_test_testbed_complete (bed, error))
    return NULL;
  return g_steal_pointer (&bed);
}
