/* <hostdev> and <interface type='hostdev'> as libvirt 9.0 formats them
 * (virDomainHostdevDefFormat, virDomainHostdevDefFormatSubsysPCI,
 * virDomainNetDefFormat, virDomainDeviceInfoFormat). */
#include "config.h"

#include "hostdev-xml.h"

#include "xml-writer.h"

static const char *
yes_no (int v)
{
  return v ? "yes" : "no";
}

static const char *
on_off (int v)
{
  return v ? "on" : "off";
}

/* virDomainHostdevDefFormatSubsysPCI */
static void
format_subsys (HdXmlWriter *w, const HdHostdev *h, gboolean type_in_address)
{
  const HdPciAddress *a = &h->source;

  hd_xml_writer_escape (w, "<driver name='", h->driver, "'/>\n");
  hd_xml_writer_printf (w, "<source");
  if (h->write_filtering >= 0)
    g_string_append_printf (w->str, " writeFiltering='%s'", yes_no (h->write_filtering));
  g_string_append (w->str, ">\n");
  hd_xml_writer_indent (w, 2);
  /* virPCIDeviceAddressFormat: '0x%d' for the function, as libvirt has it. */
  hd_xml_writer_printf (w, "<address %sdomain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%d'/>\n",
                        type_in_address ? "type='pci' " : "",
                        a->domain, a->bus, a->slot, (int) a->function);
  hd_xml_writer_indent (w, -2);
  hd_xml_writer_printf (w, "</source>\n");
}

/* virDomainDeviceInfoFormat with ALLOW_BOOT and ALLOW_ROM */
static void
format_info (HdXmlWriter *w, const HdHostdev *h)
{
  const HdPciAddress *g = &h->guest_address;

  if (h->boot_order != 0)
    {
      hd_xml_writer_printf (w, "<boot order='%u'", h->boot_order);
      hd_xml_writer_escape (w, " loadparm='", h->boot_loadparm, "'");
      g_string_append (w->str, "/>\n");
    }
  /* libvirt prints the alias unescaped; escaping keeps the XML well formed
   * whatever a live XML carried. */
  hd_xml_writer_escape (w, "<alias name='", h->alias, "'/>\n");
  if (h->rom_enabled >= 0 || h->rom_bar >= 0 || h->rom_file != NULL)
    {
      hd_xml_writer_printf (w, "<rom");
      if (h->rom_enabled >= 0)
        g_string_append_printf (w->str, " enabled='%s'", yes_no (h->rom_enabled));
      if (h->rom_bar >= 0)
        g_string_append_printf (w->str, " bar='%s'", on_off (h->rom_bar));
      hd_xml_writer_escape (w, " file='", h->rom_file, "'");
      g_string_append (w->str, "/>\n");
    }
  if (h->acpi_index != 0)
    hd_xml_writer_printf (w, "<acpi index='%u'/>\n", h->acpi_index);

  switch (h->guest_address_type)
    {
    case HD_HOSTDEV_GUEST_ADDRESS_NONE:
      break;
    case HD_HOSTDEV_GUEST_ADDRESS_UNASSIGNED:
      hd_xml_writer_printf (w, "<address type='unassigned'/>\n");
      break;
    case HD_HOSTDEV_GUEST_ADDRESS_PCI:
      hd_xml_writer_printf (w, "<address type='pci'");
      /* An "empty" address (domain, bus, slot 0) has no attributes. */
      if (g->domain != 0 || g->bus != 0 || g->slot != 0)
        g_string_append_printf (w->str, " domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%d'",
                                g->domain, g->bus, g->slot, (int) g->function);
      if (h->guest_multifunction >= 0)
        g_string_append_printf (w->str, " multifunction='%s'", on_off (h->guest_multifunction));
      g_string_append (w->str, "/>\n");
      break;
    }
}

char *
hd_hostdev_format (const HdHostdev *h, guint indent)
{
  g_auto(HdXmlWriter) w = { 0 };

  g_return_val_if_fail (h != NULL, NULL);

  hd_xml_writer_init (&w);
  hd_xml_writer_indent (&w, (int) indent);
  if (h->from_interface)
    {
      hd_xml_writer_printf (&w, "<interface type='hostdev'%s>\n",
                            h->managed ? " managed='yes'" : "");
      hd_xml_writer_indent (&w, 2);
      hd_xml_writer_escape (&w, "<mac address='", h->mac, "'/>\n");
      format_subsys (&w, h, TRUE);
      format_info (&w, h);
      hd_xml_writer_indent (&w, -2);
      hd_xml_writer_printf (&w, "</interface>\n");
    }
  else
    {
      hd_xml_writer_printf (&w, "<hostdev mode='subsystem' type='pci' managed='%s'>\n",
                            yes_no (h->managed));
      hd_xml_writer_indent (&w, 2);
      format_subsys (&w, h, FALSE);
      format_info (&w, h);
      hd_xml_writer_indent (&w, -2);
      hd_xml_writer_printf (&w, "</hostdev>\n");
    }
  return hd_xml_writer_finish (&w);
}

char *
hd_hostdev_xml_for_address (const HdPciAddress *a, gboolean managed, const char *driver)
{
  g_autoptr(HdHostdev) h = NULL;

  g_return_val_if_fail (a != NULL, NULL);
  g_return_val_if_fail (driver == NULL || g_str_equal (driver, "vfio") ||
                        g_str_equal (driver, "kvm") || g_str_equal (driver, "xen"), NULL);

  h = hd_hostdev_new (a);
  h->managed = managed;
  h->driver = g_strdup (driver != NULL ? driver : "vfio");
  return hd_hostdev_format (h, 0);
}
