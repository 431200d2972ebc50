#include "config.h"

#include "nodedev-xml.h"

#include "xml-writer.h"

static void
format_address (HdXmlWriter *w, const HdPciAddress *a)
{
  hd_xml_writer_printf (w, "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%d'/>\n",
                        a->domain, a->bus, a->slot, (int) a->function);
}

static void
format_system (HdXmlWriter *w, const HdSystemInfo *sys)
{
  const guint8 *u = sys->uuid;

  hd_xml_writer_escape (w, "<product>", sys->product_name, "</product>\n");
  hd_xml_writer_printf (w, "<hardware>\n");
  hd_xml_writer_indent (w, 2);
  hd_xml_writer_escape (w, "<vendor>", sys->hardware_vendor, "</vendor>\n");
  hd_xml_writer_escape (w, "<version>", sys->hardware_version, "</version>\n");
  hd_xml_writer_escape (w, "<serial>", sys->hardware_serial, "</serial>\n");
  hd_xml_writer_printf (w, "<uuid>%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x</uuid>\n",
                        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                        u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  hd_xml_writer_indent (w, -2);
  hd_xml_writer_printf (w, "</hardware>\n");

  /* libvirt writes the element even when it is empty, as an open/close
   * pair on two lines. */
  hd_xml_writer_printf (w, "<firmware>\n");
  hd_xml_writer_indent (w, 2);
  hd_xml_writer_escape (w, "<vendor>", sys->firmware_vendor, "</vendor>\n");
  hd_xml_writer_escape (w, "<version>", sys->firmware_version, "</version>\n");
  hd_xml_writer_escape (w, "<release_date>", sys->firmware_release_date, "</release_date>\n");
  hd_xml_writer_indent (w, -2);
  hd_xml_writer_printf (w, "</firmware>\n");
}

static void
format_link (HdXmlWriter *w, const HdPcieLink *link, const char *validity)
{
  const char *speed = hd_pcie_link_speed_to_string (link->speed);

  hd_xml_writer_printf (w, "<link validity='%s'", validity);
  if (link->port >= 0)
    g_string_append_printf (w->str, " port='%d'", link->port);
  /* libvirt prints "(null)" for a speed it has no name for; that would
   * break the schema, so such a speed is left out instead. */
  if (link->speed && speed != NULL)
    g_string_append_printf (w->str, " speed='%s'", speed);
  g_string_append_printf (w->str, " width='%d'/>\n", (int) link->width);
}

static void
format_pcie (HdXmlWriter *w, const HdPciConfigInfo *cfg)
{
  if (!cfg->has_link)
    {
      hd_xml_writer_printf (w, "<pci-express/>\n");
      return;
    }
  hd_xml_writer_printf (w, "<pci-express>\n");
  hd_xml_writer_indent (w, 2);
  format_link (w, &cfg->link_cap, "cap");
  format_link (w, &cfg->link_sta, "sta");
  hd_xml_writer_indent (w, -2);
  hd_xml_writer_printf (w, "</pci-express>\n");
}

static void
format_pci (HdXmlWriter *w, const HdPciInfo *pci)
{
  static const char *const header_names[] = { NULL, "pci-bridge", "cardbus-bridge" };

  if (pci->klass >= 0)
    hd_xml_writer_printf (w, "<class>0x%.6x</class>\n", (guint) pci->klass);
  hd_xml_writer_printf (w, "<domain>%d</domain>\n", (int) pci->address.domain);
  hd_xml_writer_printf (w, "<bus>%u</bus>\n", pci->address.bus);
  hd_xml_writer_printf (w, "<slot>%u</slot>\n", pci->address.slot);
  hd_xml_writer_printf (w, "<function>%u</function>\n", pci->address.function);

  hd_xml_writer_printf (w, "<product id='0x%04x'", pci->product);
  if (pci->product_name != NULL)
    hd_xml_writer_escape (w, ">", pci->product_name, "</product>\n");
  else
    hd_xml_writer_printf (w, "/>\n");
  hd_xml_writer_printf (w, "<vendor id='0x%04x'", pci->vendor);
  if (pci->vendor_name != NULL)
    hd_xml_writer_escape (w, ">", pci->vendor_name, "</vendor>\n");
  else
    hd_xml_writer_printf (w, "/>\n");

  if (pci->has_phys_function)
    {
      hd_xml_writer_printf (w, "<capability type='phys_function'>\n");
      hd_xml_writer_indent (w, 2);
      format_address (w, &pci->phys_function);
      hd_xml_writer_indent (w, -2);
      hd_xml_writer_printf (w, "</capability>\n");
    }

  if (pci->virt_functions->len > 0 || pci->sriov_totalvfs > 0)
    {
      hd_xml_writer_printf (w, "<capability type='virt_functions'");
      if (pci->sriov_totalvfs > 0)
        g_string_append_printf (w->str, " maxCount='%u'", pci->sriov_totalvfs);
      if (pci->virt_functions->len == 0)
        {
          g_string_append (w->str, "/>\n");
        }
      else
        {
          g_string_append (w->str, ">\n");
          hd_xml_writer_indent (w, 2);
          for (guint i = 0; i < pci->virt_functions->len; i++)
            format_address (w, &g_array_index (pci->virt_functions, HdPciAddress, i));
          hd_xml_writer_indent (w, -2);
          hd_xml_writer_printf (w, "</capability>\n");
        }
    }

  if (pci->config_read && pci->config.header_type > 0)
    hd_xml_writer_printf (w, "<capability type='%s'/>\n", header_names[pci->config.header_type]);

  if (pci->iommu_group_members->len > 0)
    {
      hd_xml_writer_printf (w, "<iommuGroup number='%d'>\n", pci->iommu_group);
      hd_xml_writer_indent (w, 2);
      for (guint i = 0; i < pci->iommu_group_members->len; i++)
        format_address (w, &g_array_index (pci->iommu_group_members, HdPciAddress, i));
      hd_xml_writer_indent (w, -2);
      hd_xml_writer_printf (w, "</iommuGroup>\n");
    }

  if (pci->numa_node >= 0)
    hd_xml_writer_printf (w, "<numa node='%d'/>\n", pci->numa_node);

  if (pci->config_read && pci->config.is_pcie)
    format_pcie (w, &pci->config);
}

char *
hd_nodedev_xml_format (const HdNodeDevice *dev)
{
  g_auto(HdXmlWriter) w = { 0 };

  hd_xml_writer_init (&w);
  hd_xml_writer_printf (&w, "<device>\n");
  hd_xml_writer_indent (&w, 2);
  hd_xml_writer_escape (&w, "<name>", dev->name, "</name>\n");
  hd_xml_writer_escape (&w, "<path>", dev->syspath, "</path>\n");
  hd_xml_writer_escape (&w, "<parent>", dev->parent, "</parent>\n");
  if (dev->driver != NULL)
    {
      hd_xml_writer_printf (&w, "<driver>\n");
      hd_xml_writer_indent (&w, 2);
      hd_xml_writer_escape (&w, "<name>", dev->driver, "</name>\n");
      hd_xml_writer_indent (&w, -2);
      hd_xml_writer_printf (&w, "</driver>\n");
    }

  hd_xml_writer_printf (&w, "<capability type='%s'>\n",
                        dev->kind == HD_NODE_DEVICE_SYSTEM ? "system" : "pci");
  hd_xml_writer_indent (&w, 2);
  if (dev->kind == HD_NODE_DEVICE_SYSTEM)
    format_system (&w, dev->system);
  else
    format_pci (&w, dev->pci);
  hd_xml_writer_indent (&w, -2);
  hd_xml_writer_printf (&w, "</capability>\n");

  hd_xml_writer_indent (&w, -2);
  hd_xml_writer_printf (&w, "</device>\n");
  return hd_xml_writer_finish (&w);
}
