#include "config.h"

#include "node-device.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "error.h"
#include "pci-ids.h"
#include "sysfs.h"

static void
system_info_free (HdSystemInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->product_name);
  g_free (info->hardware_vendor);
  g_free (info->hardware_version);
  g_free (info->hardware_serial);
  g_free (info->firmware_vendor);
  g_free (info->firmware_version);
  g_free (info->firmware_release_date);
  g_free (info);
}

static void
pci_info_clear_dynamic (HdPciInfo *info)
{
  g_clear_pointer (&info->virt_functions, g_array_unref);
  g_clear_pointer (&info->iommu_group_members, g_array_unref);
  g_clear_pointer (&info->driver_override, g_free);
  g_clear_pointer (&info->reset_methods, g_strfreev);
}

static void
pci_info_free (HdPciInfo *info)
{
  if (info == NULL)
    return;
  pci_info_clear_dynamic (info);
  g_free (info->vendor_name);
  g_free (info->product_name);
  g_free (info);
}

static void
node_device_clear (HdNodeDevice *dev)
{
  g_free (dev->name);
  g_free (dev->syspath);
  g_free (dev->parent);
  g_free (dev->driver);
  system_info_free (dev->system);
  pci_info_free (dev->pci);
}

HdNodeDevice *
hd_node_device_ref (HdNodeDevice *dev)
{
  return g_atomic_rc_box_acquire (dev);
}

void
hd_node_device_unref (HdNodeDevice *dev)
{
  g_atomic_rc_box_release_full (dev, (GDestroyNotify) node_device_clear);
}

/* libvirt's virStringStripControlChars plus "empty means absent". */
static char *
dmi_string (const char *dir, const char *attr)
{
  g_autofree char *value = hd_sysfs_read_attr (dir, attr, NULL);
  char *out;
  gsize j = 0;

  if (value == NULL)
    return NULL;
  for (gsize i = 0; value[i]; i++)
    {
      guchar c = (guchar) value[i];
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
        continue;
      value[j++] = value[i];
    }
  value[j] = '\0';
  if (j == 0)
    return NULL;
  out = g_steal_pointer (&value);
  return out;
}

static gboolean
uuid_parse (const char *text, guint8 uuid[16])
{
  guint8 out[16];
  guint n = 0;

  /* virUUIDParse: hex digits, dashes anywhere between them ignored. */
  for (const char *p = text; *p && n < 16;)
    {
      int hi, lo;

      if (*p == '-' || *p == ' ')
        {
          p++;
          continue;
        }
      hi = g_ascii_xdigit_value (p[0]);
      lo = hi >= 0 ? g_ascii_xdigit_value (p[1]) : -1;
      if (hi < 0 || lo < 0)
        return FALSE;
      out[n++] = (guint8) ((hi << 4) | lo);
      p += 2;
    }
  if (n != 16)
    return FALSE;
  memcpy (uuid, out, 16);
  return TRUE;
}

/* virUUIDIsValid: a UUID of one repeated byte (all zeros, all 0xff) is a
 * firmware placeholder, not an identity. */
static gboolean
uuid_is_valid (const guint8 uuid[16])
{
  for (guint i = 1; i < 16; i++)
    if (uuid[i] != uuid[0])
      return TRUE;
  return FALSE;
}

static void
host_uuid (const char *dmi_dir, guint8 uuid[16])
{
  g_autofree char *text = hd_sysfs_read_attr (dmi_dir, "product_uuid", NULL);
  g_autofree char *machine_id = NULL;

  if (text != NULL && uuid_parse (text, uuid) && uuid_is_valid (uuid))
    return;

  /* libvirt falls back to a random UUID per daemon start; a stable one
   * serves clients better, and /etc/machine-id is libvirt's own
   * alternative source (host_uuid_source = "machine-id"). */
  if (g_file_get_contents ("/etc/machine-id", &machine_id, NULL, NULL) &&
      uuid_parse (g_strstrip (machine_id), uuid))
    return;
  memset (uuid, 0, 16);
}

HdNodeDevice *
hd_node_device_new_computer (const char *dmi_dir)
{
  HdNodeDevice *dev = g_atomic_rc_box_new0 (HdNodeDevice);
  HdSystemInfo *sys = g_new0 (HdSystemInfo, 1);

  dev->kind = HD_NODE_DEVICE_SYSTEM;
  dev->name = g_strdup ("computer");
  dev->system = sys;

  /* Without DMI, libvirt's udevGetDMIData gives up before reading
   * anything, even the host UUID. */
  if (!g_file_test (dmi_dir, G_FILE_TEST_IS_DIR))
    return dev;

  sys->product_name = dmi_string (dmi_dir, "product_name");
  sys->hardware_vendor = dmi_string (dmi_dir, "sys_vendor");
  sys->hardware_version = dmi_string (dmi_dir, "product_version");
  sys->hardware_serial = dmi_string (dmi_dir, "product_serial");
  host_uuid (dmi_dir, sys->uuid);
  sys->firmware_vendor = dmi_string (dmi_dir, "bios_vendor");
  sys->firmware_version = dmi_string (dmi_dir, "bios_version");
  sys->firmware_release_date = dmi_string (dmi_dir, "bios_date");
  return dev;
}

/* nodeDeviceUpdateDriverName: no driver unless the link resolves. */
static char *
read_driver (int dirfd)
{
  g_autofree char *driver = hd_sysfs_read_link_basename_at (dirfd, "driver");

  if (driver == NULL || faccessat (dirfd, "driver", R_OK, 0) < 0)
    return NULL;
  return g_steal_pointer (&driver);
}

static gboolean
read_link_address (int dirfd, const char *link, HdPciAddress *addr)
{
  g_autofree char *base = hd_sysfs_read_link_basename_at (dirfd, link);

  return base != NULL && hd_pci_address_parse (base, addr);
}

static void
read_iommu_group (HdPciInfo *info, int dirfd)
{
  g_autofree char *group = hd_sysfs_read_link_basename_at (dirfd, "iommu_group");
  g_autoptr(GPtrArray) entries = NULL;
  gint64 number;

  info->iommu_group = -1;
  info->iommu_group_members = g_array_new (FALSE, FALSE, sizeof (HdPciAddress));
  if (group == NULL ||
      !g_ascii_string_to_signed (group, 10, 0, G_MAXINT, &number, NULL))
    return;
  info->iommu_group = (int) number;

  entries = hd_sysfs_list_dir_at (dirfd, "iommu_group/devices", NULL);
  if (entries == NULL)
    {
      /* libvirt: without the group's directory, the device alone. */
      g_array_append_val (info->iommu_group_members, info->address);
      return;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      HdPciAddress member;
      if (hd_pci_address_parse (g_ptr_array_index (entries, i), &member))
        g_array_append_val (info->iommu_group_members, member);
    }
}

static void
read_sriov (HdPciInfo *info, int dirfd)
{
  gint64 value;

  info->has_phys_function = read_link_address (dirfd, "physfn", &info->phys_function);
  info->is_virtfn = info->has_phys_function;

  info->sriov_totalvfs = hd_sysfs_read_int_at (dirfd, "sriov_totalvfs", 10, &value) &&
                         value > 0 && value <= G_MAXUINT16 ? (guint) value : 0;
  info->sriov_numvfs = hd_sysfs_read_int_at (dirfd, "sriov_numvfs", 10, &value) &&
                       value > 0 && value <= G_MAXUINT16 ? (guint) value : 0;

  /* virtfn0, virtfn1, … until the first gap, as libvirt reads them. */
  info->virt_functions = g_array_new (FALSE, FALSE, sizeof (HdPciAddress));
  for (guint i = 0; i <= G_MAXUINT16; i++)
    {
      char link[sizeof "virtfn65535"];
      HdPciAddress vf;

      g_snprintf (link, sizeof link, "virtfn%u", i);
      if (!read_link_address (dirfd, link, &vf))
        break;
      g_array_append_val (info->virt_functions, vf);
    }
}

static void
pci_info_read_dynamic (HdPciInfo *info, int dirfd)
{
  g_autofree char *override = NULL;
  g_autofree char *methods = NULL;
  gint64 value;

  read_sriov (info, dirfd);
  read_iommu_group (info, dirfd);

  override = hd_sysfs_read_attr_at (dirfd, "driver_override", NULL);
  if (override != NULL && *override != '\0' && !g_str_equal (override, "(null)"))
    info->driver_override = g_steal_pointer (&override);

  methods = hd_sysfs_read_attr_at (dirfd, "reset_method", NULL);
  if (methods != NULL)
    info->reset_methods = g_strsplit_set (g_strstrip (methods), " ", -1);

  info->boot_vga = hd_sysfs_read_int_at (dirfd, "boot_vga", 10, &value) && value == 1;
}

static gboolean
read_config (HdPciInfo *info, int dirfd, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  gint64 file_size = -1;
  gsize len;
  const guint8 *data;

  bytes = hd_pci_config_read (dirfd, "config", &file_size, error);
  if (bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (bytes, &len);
  hd_pci_config_parse (data, len, file_size, &info->config);
  info->config_read = TRUE;
  return TRUE;
}

HdNodeDevice *
hd_node_device_read_pci (const char *syspath,
                         const char *pci_class,
                         gboolean privileged,
                         GError **error)
{
  g_autoptr(HdNodeDevice) dev = g_atomic_rc_box_new0 (HdNodeDevice);
  g_autofree char *sysname = g_path_get_basename (syspath);
  g_auto(HdSysfsDir) dirfd = -1;
  HdPciInfo *info;
  gint64 value;

  dev->kind = HD_NODE_DEVICE_PCI;
  dev->syspath = g_strdup (syspath);
  dev->pci = info = g_new0 (HdPciInfo, 1);

  if (!hd_pci_address_parse (sysname, &info->address))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA,
                   _("failed to parse the PCI address from sysfs path: '%s'"), syspath);
      return NULL;
    }
  dev->name = hd_nodedev_name_generate ("pci", sysname);

  info->klass = -1;
  if (pci_class != NULL)
    {
      if (!g_ascii_string_to_signed (pci_class, 16, 0, G_MAXINT, &value, NULL))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA,
                       _("invalid PCI_CLASS '%s' for %s"), pci_class, syspath);
          return NULL;
        }
      info->klass = (int) value;
    }

  dirfd = hd_sysfs_open_dir (syspath, error);
  if (dirfd < 0)
    return NULL;

  if (hd_sysfs_read_int_at (dirfd, "vendor", 16, &value))
    info->vendor = (guint) (value & 0xffff);
  if (hd_sysfs_read_int_at (dirfd, "device", 16, &value))
    info->product = (guint) (value & 0xffff);
  if (hd_sysfs_read_int_at (dirfd, "subsystem_vendor", 16, &value))
    info->subsystem_vendor = (guint) (value & 0xffff);
  if (hd_sysfs_read_int_at (dirfd, "subsystem_device", 16, &value))
    info->subsystem_device = (guint) (value & 0xffff);

  info->numa_node = hd_sysfs_read_int_at (dirfd, "numa_node", 10, &value) &&
                    value >= 0 && value <= G_MAXINT ? (int) value : -1;

  /* libvirt reads config space only when privileged: the kernel shows an
   * unprivileged reader just the first 64 bytes. */
  if (privileged)
    {
      g_autoptr(GError) local = NULL;
      if (!read_config (info, dirfd, &local))
        g_debug ("%s: %s", dev->name, local->message);
    }

  dev->driver = read_driver (dirfd);
  pci_info_read_dynamic (info, dirfd);

  return g_steal_pointer (&dev);
}

void
hd_node_device_finish_pci (HdNodeDevice *dev, const char *parent)
{
  g_return_if_fail (dev->pci != NULL && dev->parent == NULL);

  dev->parent = g_strdup (parent);
  hd_pci_ids_lookup (dev->pci->vendor, dev->pci->product,
                     &dev->pci->vendor_name, &dev->pci->product_name);
}

HdNodeDevice *
hd_node_device_refresh (HdNodeDevice *dev)
{
  g_auto(HdSysfsDir) dirfd = -1;
  HdNodeDevice *copy;
  HdPciInfo *info;

  if (dev->kind != HD_NODE_DEVICE_PCI)
    return hd_node_device_ref (dev);

  copy = g_atomic_rc_box_new0 (HdNodeDevice);
  copy->kind = dev->kind;
  copy->name = g_strdup (dev->name);
  copy->syspath = g_strdup (dev->syspath);
  copy->parent = g_strdup (dev->parent);

  copy->pci = info = g_new (HdPciInfo, 1);
  *info = *dev->pci;
  info->vendor_name = g_strdup (dev->pci->vendor_name);
  info->product_name = g_strdup (dev->pci->product_name);
  info->virt_functions = NULL;
  info->iommu_group_members = NULL;
  info->driver_override = NULL;
  info->reset_methods = NULL;

  /* A device that is gone reads as one with nothing dynamic, as the
   * path-based reads it replaces did; its removal uevent follows. */
  dirfd = hd_sysfs_open_dir (dev->syspath, NULL);
  copy->driver = read_driver (dirfd);
  pci_info_read_dynamic (info, dirfd);
  return copy;
}

GPtrArray *
hd_node_device_list_caps (HdNodeDevice *dev)
{
  GPtrArray *caps = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (caps, g_strdup (dev->kind == HD_NODE_DEVICE_SYSTEM ? "system" : "pci"));
  return caps;
}
