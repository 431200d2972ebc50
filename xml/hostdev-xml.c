/* The hostdev model, and parsing one <hostdev> or <interface type='hostdev'>
 * by libvirt 9.0's rules (src/conf/domain_conf.c, device_conf.c,
 * domain_validate.c). */
#include "config.h"

#include "hostdev-xml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <libxml/tree.h>

#include "nodedev/error.h"
#include "hostdev-xml-private.h"
#include "xml-reader.h"

/* ---- the model ---------------------------------------------------------- */

HdHostdev *
hd_hostdev_new (const HdPciAddress *source)
{
  HdHostdev *h = g_new0 (HdHostdev, 1);

  if (source != NULL)
    h->source = *source;
  h->write_filtering = -1;
  h->rom_enabled = -1;
  h->rom_bar = -1;
  h->guest_multifunction = -1;
  return h;
}

HdHostdev *
hd_hostdev_copy (const HdHostdev *h)
{
  HdHostdev *c = g_memdup2 (h, sizeof *h);

  c->driver = g_strdup (h->driver);
  c->boot_loadparm = g_strdup (h->boot_loadparm);
  c->alias = g_strdup (h->alias);
  c->rom_file = g_strdup (h->rom_file);
  c->mac = g_strdup (h->mac);
  return c;
}

void
hd_hostdev_free (HdHostdev *h)
{
  if (h == NULL)
    return;
  g_free (h->driver);
  g_free (h->boot_loadparm);
  g_free (h->alias);
  g_free (h->rom_file);
  g_free (h->mac);
  g_free (h);
}

gboolean
hd_hostdev_equal (const HdHostdev *a, const HdHostdev *b)
{
  return hd_pci_address_equal (&a->source, &b->source) &&
         a->managed == b->managed &&
         g_strcmp0 (a->driver, b->driver) == 0 &&
         a->write_filtering == b->write_filtering &&
         a->boot_order == b->boot_order &&
         g_strcmp0 (a->boot_loadparm, b->boot_loadparm) == 0 &&
         g_strcmp0 (a->alias, b->alias) == 0 &&
         a->rom_enabled == b->rom_enabled &&
         a->rom_bar == b->rom_bar &&
         g_strcmp0 (a->rom_file, b->rom_file) == 0 &&
         a->acpi_index == b->acpi_index &&
         a->guest_address_type == b->guest_address_type &&
         hd_pci_address_equal (&a->guest_address, &b->guest_address) &&
         a->guest_multifunction == b->guest_multifunction &&
         a->from_interface == b->from_interface &&
         g_strcmp0 (a->mac, b->mac) == 0;
}

/* ---- libvirt's enums (domain_conf.c, device_conf.c) --------------------- */

static const char *const hostdev_modes[] = { "subsystem", "capabilities", NULL };
static const char *const subsys_types[] = { "usb", "pci", "scsi", "scsi_host", "mdev", NULL };
static const char *const sgio_types[] = { "default", "filtered", "unfiltered", NULL };
static const char *const pci_backends[] = { "default", "kvm", "vfio", "xen", NULL };
static const char *const address_types[] = {
  "none", "pci", "drive", "virtio-serial", "ccid", "usb", "spapr-vio",
  "virtio-s390", "ccw", "virtio-mmio", "isa", "dimm", "unassigned", NULL
};
enum { SUBSYS_USB, SUBSYS_PCI, SUBSYS_SCSI, SUBSYS_SCSI_HOST, SUBSYS_MDEV };
enum { ADDR_PCI = 1, ADDR_VIRTIO_S390 = 7, ADDR_UNASSIGNED = 12 };

/* ---- addresses ---------------------------------------------------------- */

/* virPCIDeviceAddressParseXML + virPCIDeviceAddressIsValid.  <zpci> is
 * not looked at. */
static gboolean
parse_pci_address (xmlNode *node, HdPciAddress *a, int *multi, GError **error)
{
  memset (a, 0, sizeof *a);
  if (hd_xml_prop_uint (node, "domain", 0, 0, &a->domain, error) < 0 ||
      hd_xml_prop_uint (node, "bus", 0, 0, &a->bus, error) < 0 ||
      hd_xml_prop_uint (node, "slot", 0, 0, &a->slot, error) < 0 ||
      hd_xml_prop_uint (node, "function", 0, 0, &a->function, error) < 0 ||
      hd_xml_prop_tristate (node, "multifunction", hd_xml_tristate_switch, multi, error) < 0)
    return FALSE;

  /* An "empty" address (domain, bus and slot 0) is not checked at all. */
  if (a->domain == 0 && a->bus == 0 && a->slot == 0)
    return TRUE;
  if (a->bus > 0xFF)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Invalid PCI address bus='0x%x', must be <= 0xFF"), a->bus);
      return FALSE;
    }
  if (a->slot > 0x1F)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Invalid PCI address slot='0x%x', must be <= 0x1F"), a->slot);
      return FALSE;
    }
  if (a->function > 7)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Invalid PCI address function=0x%x, must be <= 7"), a->function);
      return FALSE;
    }
  return TRUE;
}

/* virMacAddrParse, quirks included (anything from a blank on may follow). */
static gboolean
parse_mac (const char *str, guint8 mac[6])
{
  for (int i = 0; i < 6; i++)
    {
      unsigned long v;
      char *end;

      if (!g_ascii_isxdigit (*str))
        break;
      errno = 0;
      v = strtoul (str, &end, 16);
      if (end - str < 1 || end - str > 2 || errno != 0 || v > 0xFF)
        break;
      mac[i] = (guint8) v;
      if (i == 5 && *end <= ' ')
        return TRUE;
      if (*end != ':')
        break;
      str = end + 1;
    }
  return FALSE;
}

/* ---- one device ----------------------------------------------------------- */

typedef enum {
  SUBSYS_FAILED,
  SUBSYS_NOT_PCI,
  SUBSYS_PCI_OK,
} SubsysResult;

/* virDomainHostdevDefParseXMLSubsys for @node (<hostdev> or <interface>)
 * with the source type @type, as far as it concerns PCI: the checks every
 * type goes through, then the PCI source and driver. */
static SubsysResult
parse_subsys (xmlNode *node, const char *type, HdHostdev *h, const char **type_out,
              GError **error)
{
  g_autofree char *model = NULL;
  xmlNode *source;
  int managed = -1, subsys, sgio = 0, rawio = -1, backend = 0, multi;

  /* libvirt ignores the error of an invalid managed= (ignore_value). */
  hd_xml_prop_tristate (node, "managed", hd_xml_tristate_bool, &managed, NULL);
  h->managed = managed == 1;
  model = hd_xml_prop (node, "model");

  if (type == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("missing source address type"));
      return SUBSYS_FAILED;
    }
  if ((subsys = hd_xml_enum_index (subsys_types, type)) < 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                   _("unknown host device source address type '%s'"), type);
      return SUBSYS_FAILED;
    }
  *type_out = subsys_types[subsys];
  if ((source = hd_xml_child (node, "source")) == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Missing <source> element in hostdev device"));
      return SUBSYS_FAILED;
    }
  if (subsys != SUBSYS_USB)
    for (xmlNode *c = node->children; c != NULL; c = c->next)
      if (c->type == XML_ELEMENT_NODE && c->ns == NULL &&
          xmlStrEqual (c->name, BAD_CAST "source") &&
          xmlHasNsProp (c, BAD_CAST "startupPolicy", NULL) != NULL)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                       _("Setting startupPolicy is only allowed for USB devices"));
          return SUBSYS_FAILED;
        }
  if (hd_xml_prop_enum (node, "sgio", sgio_types, &sgio, error) < 0)
    return SUBSYS_FAILED;
  if (sgio > 0 && subsys != SUBSYS_SCSI)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("sgio is only supported for scsi host device"));
      return SUBSYS_FAILED;
    }
  if (hd_xml_prop_tristate (node, "rawio", hd_xml_tristate_bool, &rawio, error) < 0)
    return SUBSYS_FAILED;
  if (rawio >= 0 && subsys != SUBSYS_SCSI)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("rawio is only supported for scsi host device"));
      return SUBSYS_FAILED;
    }
  if (subsys != SUBSYS_MDEV && subsys != SUBSYS_SCSI_HOST && model != NULL)
    {
      /* libvirt names the hostdev's own type here, not the one needed. */
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("'model' attribute in <hostdev> is only supported when type='%s'"),
                   subsys_types[subsys]);
      return SUBSYS_FAILED;
    }
  if (subsys != SUBSYS_PCI)
    return SUBSYS_NOT_PCI;

  /* virDomainHostdevSubsysPCIDefParseXML */
  if (hd_xml_prop_tristate (source, "writeFiltering", hd_xml_tristate_bool, &h->write_filtering, error) < 0)
    return SUBSYS_FAILED;
  if (hd_xml_child (source, "address") != NULL &&
      !parse_pci_address (hd_xml_child (source, "address"), &h->source, &multi, error))
    return SUBSYS_FAILED;
  if (hd_xml_prop_enum (hd_xml_child (node, "driver"), "name", pci_backends, &backend, error) < 0)
    return SUBSYS_FAILED;
  if (backend > 0)
    h->driver = g_strdup (pci_backends[backend]);
  return SUBSYS_PCI_OK;
}

/* virDomainDeviceInfoParseXML with ALLOW_BOOT and ALLOW_ROM.  *@other_type
 * is set for a guest address of a type a PCI hostdev may not have, which
 * validation refuses later (as libvirt does). */
static gboolean
parse_info (xmlNode *node, HdHostdev *h, gboolean *other_type, GError **error)
{
  xmlNode *boot, *rom, *acpi, *address;

  h->alias = hd_xml_child_attr (node, "alias", "name");

  if ((boot = hd_xml_child (node, "boot")) != NULL)
    {
      g_autofree char *loadparm = NULL;

      if (hd_xml_prop_uint (boot, "order", 10, HD_XML_PROP_REQUIRED | HD_XML_PROP_NONZERO, &h->boot_order, error) < 0)
        return FALSE;
      if ((loadparm = hd_xml_prop (boot, "loadparm")) != NULL)
        {
          g_autofree char *upper = g_ascii_strup (loadparm, -1);

          if (upper[0] == '\0' || strlen (upper) > 8)
            {
              g_set_error (error, HD_ERROR, HD_ERROR_XML,
                           _("loadparm value '%s' must be between 1 and 8 characters"), upper);
              return FALSE;
            }
          if (strspn (upper, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789. ") != strlen (upper))
            {
              g_set_error (error, HD_ERROR, HD_ERROR_XML,
                           _("invalid loadparm value '%s', expecting chars in set of [a-zA-Z0-9.] and blank spaces"),
                           upper);
              return FALSE;
            }
          h->boot_loadparm = g_steal_pointer (&upper);
        }
    }

  if ((rom = hd_xml_child (node, "rom")) != NULL)
    {
      if (hd_xml_prop_tristate (rom, "enabled", hd_xml_tristate_bool, &h->rom_enabled, error) < 0 ||
          hd_xml_prop_tristate (rom, "bar", hd_xml_tristate_switch, &h->rom_bar, error) < 0)
        return FALSE;
      h->rom_file = hd_xml_prop (rom, "file");
      if (h->rom_enabled == 0 && (h->rom_bar >= 0 || h->rom_file != NULL))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                       _("ROM tuning is not supported when ROM is disabled"));
          return FALSE;
        }
    }

  if ((acpi = hd_xml_child (node, "acpi")) != NULL &&
      hd_xml_prop_uint (acpi, "index", 10, HD_XML_PROP_NONZERO, &h->acpi_index, error) < 0)
    return FALSE;

  /* virDomainDeviceAddressParseXML */
  if ((address = hd_xml_child (node, "address")) != NULL)
    {
      g_autofree char *type = hd_xml_prop (address, "type");
      int t;

      if (type == NULL)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_XML,
                       _("No type specified for device address"));
          return FALSE;
        }
      if ((t = hd_xml_enum_index (address_types, type)) <= 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                       _("unknown address type '%s'"), type);
          return FALSE;
        }
      switch (t)
        {
        case ADDR_PCI:
          if (!parse_pci_address (address, &h->guest_address, &h->guest_multifunction, error))
            return FALSE;
          h->guest_address_type = HD_HOSTDEV_GUEST_ADDRESS_PCI;
          break;
        case ADDR_UNASSIGNED:
          h->guest_address_type = HD_HOSTDEV_GUEST_ADDRESS_UNASSIGNED;
          break;
        case ADDR_VIRTIO_S390:
          g_set_error (error, HD_ERROR, HD_ERROR_XML,
                       _("virtio-s390 bus doesn't have an address"));
          return FALSE;
        default:
          /* The other types' own attributes are not checked. */
          *other_type = TRUE;
          break;
        }
    }
  return TRUE;
}

/* virDomainHostdevDefValidate, for PCI. */
gboolean
hd_hostdev_parsed_validate (gboolean other_type, GError **error)
{
  if (other_type)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("PCI host devices must use 'pci' or 'unassigned' address type"));
      return FALSE;
    }
  return TRUE;
}

/* virDomainHostdevDefParseXML */
gboolean
hd_hostdev_parse_hostdev_element (xmlNode *node, HdHostdevParsed *out, GError **error)
{
  g_autoptr(HdHostdev) h = hd_hostdev_new (NULL);
  g_autofree char *mode = hd_xml_prop (node, "mode");
  g_autofree char *type = hd_xml_prop (node, "type");
  const char *type_name = NULL;
  int m = 0;

  if (mode != NULL && (m = hd_xml_enum_index (hostdev_modes, mode)) < 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                   _("unknown hostdev mode '%s'"), mode);
      return FALSE;
    }
  if (m != 0)
    {
      out->why_not = g_strdup ("mode='capabilities'");
      return TRUE;
    }
  switch (parse_subsys (node, type, h, &type_name, error))
    {
    case SUBSYS_FAILED:
      return FALSE;
    case SUBSYS_NOT_PCI:
      out->why_not = g_strdup_printf ("type='%s'", type_name);
      return TRUE;
    case SUBSYS_PCI_OK:
      break;
    }
  if (!parse_info (node, h, &out->other_type, error))
    return FALSE;
  out->hostdev = g_steal_pointer (&h);
  return TRUE;
}

/* The hostdev part of virDomainNetDefParseXML, for type='hostdev'. */
gboolean
hd_hostdev_parse_interface_element (xmlNode *node, HdHostdevParsed *out, GError **error)
{
  g_autoptr(HdHostdev) h = hd_hostdev_new (NULL);
  g_autofree char *type = hd_xml_prop (node, "type");
  g_autofree char *addrtype = NULL;
  g_autofree char *macaddr = NULL;
  const char *type_name = NULL;

  if (type == NULL || !g_str_equal (type, "hostdev"))
    {
      out->why_not = g_strdup_printf ("interface type='%s'", type != NULL ? type : "user");
      return TRUE;
    }
  h->from_interface = TRUE;

  /* XPath string(./source/address/@type) */
  for (xmlNode *s = node->children; s != NULL && addrtype == NULL; s = s->next)
    if (s->type == XML_ELEMENT_NODE && s->ns == NULL && xmlStrEqual (s->name, BAD_CAST "source"))
      addrtype = hd_xml_child_attr (s, "address", "type");
  /* If not explicitly stated, source/vendor implies a USB device. */
  if (addrtype == NULL && hd_xml_child (hd_xml_child (node, "source"), "vendor") != NULL)
    addrtype = g_strdup ("usb");

  switch (parse_subsys (node, addrtype, h, &type_name, error))
    {
    case SUBSYS_FAILED:
      return FALSE;
    case SUBSYS_NOT_PCI:
      out->why_not = g_strdup_printf ("interface type='hostdev' with type='%s'", type_name);
      return TRUE;
    case SUBSYS_PCI_OK:
      break;
    }

  if ((macaddr = hd_xml_prop (hd_xml_child (node, "mac"), "address")) != NULL)
    {
      guint8 mac[6];

      if (!parse_mac (macaddr, mac))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_XML,
                       _("unable to parse mac address '%s'"), macaddr);
          return FALSE;
        }
      if (mac[0] & 1)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_XML,
                       _("expected unicast mac address, found multicast '%s'"), macaddr);
          return FALSE;
        }
      h->mac = g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x",
                                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    }

  if (!parse_info (node, h, &out->other_type, error))
    return FALSE;
  out->hostdev = g_steal_pointer (&h);
  return TRUE;
}

void
hd_hostdev_parsed_clear (HdHostdevParsed *p)
{
  g_clear_pointer (&p->hostdev, hd_hostdev_free);
  g_clear_pointer (&p->why_not, g_free);
}

HdHostdev *
hd_hostdev_parse (const char *xml, GError **error)
{
  g_autoptr(xmlDoc) doc = NULL;
  xmlNode *root;
  HdHostdevParsed p = { 0 };
  gboolean ok;

  g_return_val_if_fail (xml != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((doc = hd_xml_read (xml, strlen (xml), "(device_definition)", NULL, error)) == NULL)
    return NULL;
  root = xmlDocGetRootElement (doc);
  if (xmlStrEqual (root->name, BAD_CAST "hostdev"))
    ok = hd_hostdev_parse_hostdev_element (root, &p, error);
  else if (xmlStrEqual (root->name, BAD_CAST "interface"))
    ok = hd_hostdev_parse_interface_element (root, &p, error);
  else
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("expecting a <hostdev> or <interface> element, not <%s>"),
                   (const char *) root->name);
      return NULL;
    }
  if (ok && p.hostdev == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("not a PCI host device: %s"), p.why_not);
      ok = FALSE;
    }
  if (ok)
    ok = hd_hostdev_parsed_validate (p.other_type, error);
  if (!ok)
    {
      hd_hostdev_parsed_clear (&p);
      return NULL;
    }
  g_free (p.why_not);
  return p.hostdev;
}
