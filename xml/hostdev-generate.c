/* A hostdev in the configuration languages of Xen's xl and of QEMU, the way
 * libvirt 9.0 translates it (src/libxl/xen_common.c xenFormatPCI,
 * src/qemu/qemu_command.c qemuBuildPCIHostdevDevProps). */
#include "config.h"

#include "hostdev-xml.h"

#include <glib/gi18n.h>

#include "nodedev/error.h"

char *
hd_hostdev_to_xl (const HdHostdev *h)
{
  const char *permissive = "";

  g_return_val_if_fail (h != NULL, NULL);

  /* xl's permissive is the opposite of libvirt's writeFiltering. */
  if (h->write_filtering == 1)
    permissive = ",permissive=0";
  else if (h->write_filtering == 0)
    permissive = ",permissive=1";
  return g_strdup_printf ("%04x:%02x:%02x.%x%s", h->source.domain, h->source.bus,
                          h->source.slot, h->source.function, permissive);
}

char *
hd_hostdevs_to_xl_pci (GPtrArray *hostdevs)
{
  g_autoptr(GString) line = NULL;

  g_return_val_if_fail (hostdevs != NULL, NULL);

  if (hostdevs->len == 0)
    return NULL;
  /* virConfSaveValue: a list is "[ a, b ]"; a string without '"' or a
   * newline (an entry never has either) is put in double quotes. */
  line = g_string_new ("pci = [ ");
  for (guint i = 0; i < hostdevs->len; i++)
    {
      g_autofree char *entry = hd_hostdev_to_xl (g_ptr_array_index (hostdevs, i));

      g_string_append_printf (line, "%s\"%s\"", i > 0 ? ", " : "", entry);
    }
  g_string_append (line, " ]");
  return g_string_free (g_steal_pointer (&line), FALSE);
}

/* virQEMUBuildBufferEscapeComma: ',' doubled in a key=value string. */
static void
append_escaped (GString *s, const char *key, const char *value)
{
  g_string_append_printf (s, ",%s=", key);
  for (const char *p = value; *p; p++)
    {
      if (*p == ',')
        g_string_append_c (s, ',');
      g_string_append_c (s, *p);
    }
}

char *
hd_hostdev_to_qemu_arg (const HdHostdev *h, GError **error)
{
  g_autoptr(GString) arg = NULL;

  g_return_val_if_fail (h != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* In libvirt's order: validation, the host check at start, the command
   * line builder. */
  if (h->write_filtering >= 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT_UNSUPPORTED,
                   _("Write filtering of PCI device configuration space is not supported by qemu"));
      return NULL;
    }
  if (g_strcmp0 (h->driver, "kvm") == 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT_UNSUPPORTED,
                   _("host doesn't support legacy PCI passthrough"));
      return NULL;
    }
  if (h->driver != NULL && !g_str_equal (h->driver, "vfio"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT_UNSUPPORTED,
                   _("invalid PCI passthrough type '%s'"), h->driver);
      return NULL;
    }

  arg = g_string_new (NULL);
  /* VIR_PCI_DEVICE_ADDRESS_FMT */
  g_string_append_printf (arg, "vfio-pci,host=%04x:%02x:%02x.%d", h->source.domain,
                          h->source.bus, h->source.slot, (int) h->source.function);
  if (h->alias != NULL)
    append_escaped (arg, "id", h->alias);
  if (h->boot_order != 0)
    g_string_append_printf (arg, ",bootindex=%u", h->boot_order);
  /* qemuBuildDeviceAddressProps would put bus=,multifunction=,addr= here. */
  if (h->acpi_index != 0)
    g_string_append_printf (arg, ",acpi-index=%u", h->acpi_index);
  /* qemuBuildRomProps */
  if (h->rom_enabled == 0)
    g_string_append (arg, ",romfile=");
  else
    {
      if (h->rom_bar >= 0)
        g_string_append_printf (arg, ",rombar=%d", h->rom_bar);
      if (h->rom_file != NULL)
        append_escaped (arg, "romfile", h->rom_file);
    }
  return g_string_free (g_steal_pointer (&arg), FALSE);
}
