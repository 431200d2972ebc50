#include "config.h"

#include "pci-address.h"

#include <string.h>

static gboolean
parse_hex_field (const char **p, guint ndigits, guint *out)
{
  guint v = 0;

  for (guint i = 0; i < ndigits; i++)
    {
      int d = g_ascii_xdigit_value ((*p)[i]);
      if (d < 0)
        return FALSE;
      v = (v << 4) | (guint) d;
    }
  *p += ndigits;
  *out = v;
  return TRUE;
}

gboolean
hd_pci_address_parse (const char *str, HdPciAddress *addr)
{
  HdPciAddress a = { 0 };
  const char *p = str;
  const char *colon;
  size_t domain_len;

  g_return_val_if_fail (addr != NULL, FALSE);

  if (str == NULL)
    return FALSE;
  /* Domains above 0xffff (VMD) print with more than four digits. */
  colon = strchr (str, ':');
  if (colon == NULL)
    return FALSE;
  domain_len = (size_t) (colon - str);
  if (domain_len < 4 || domain_len > 8 ||
      strlen (colon) != strlen (":00:00.0"))
    return FALSE;
  if (!parse_hex_field (&p, (guint) domain_len, &a.domain) || *p++ != ':')
    return FALSE;
  if (!parse_hex_field (&p, 2, &a.bus) || *p++ != ':')
    return FALSE;
  if (!parse_hex_field (&p, 2, &a.slot) || *p++ != '.')
    return FALSE;
  if (!parse_hex_field (&p, 1, &a.function))
    return FALSE;
  if (a.slot > 0x1f || a.function > 7)
    return FALSE;

  *addr = a;
  return TRUE;
}

char *
hd_pci_address_to_string (const HdPciAddress *addr)
{
  return g_strdup_printf ("%04x:%02x:%02x.%x",
                          addr->domain, addr->bus, addr->slot, addr->function);
}

char *
hd_pci_address_to_nodedev_name (const HdPciAddress *addr)
{
  return g_strdup_printf ("pci_%04x_%02x_%02x_%x",
                          addr->domain, addr->bus, addr->slot, addr->function);
}

gboolean
hd_pci_address_from_nodedev_name (const char *name, HdPciAddress *addr)
{
  HdPciAddress a;
  g_autofree char *sysname = NULL;
  g_autofree char *canonical = NULL;
  size_t len;

  if (name == NULL || !g_str_has_prefix (name, "pci_"))
    return FALSE;
  sysname = g_strdup (name + 4);
  len = strlen (sysname);
  if (len < strlen ("0000_00_00_0") || len > strlen ("00000000_00_00_0"))
    return FALSE;
  /* Only the separator positions may carry '_'. */
  if (sysname[len - 2] != '_' || sysname[len - 5] != '_' || sysname[len - 8] != '_')
    return FALSE;
  sysname[len - 2] = '.';
  sysname[len - 5] = ':';
  sysname[len - 8] = ':';
  if (!hd_pci_address_parse (sysname, &a))
    return FALSE;

  /* Names are case-sensitive and canonical: libvirt generates them from
   * sysfs, which spells hex in lower case with fixed widths. */
  canonical = hd_pci_address_to_nodedev_name (&a);
  if (!g_str_equal (canonical, name))
    return FALSE;
  *addr = a;
  return TRUE;
}

gboolean
hd_pci_address_equal (const HdPciAddress *a, const HdPciAddress *b)
{
  return a->domain == b->domain && a->bus == b->bus &&
         a->slot == b->slot && a->function == b->function;
}

int
hd_pci_address_compare (const HdPciAddress *a, const HdPciAddress *b)
{
  if (a->domain != b->domain)
    return a->domain < b->domain ? -1 : 1;
  if (a->bus != b->bus)
    return a->bus < b->bus ? -1 : 1;
  if (a->slot != b->slot)
    return a->slot < b->slot ? -1 : 1;
  if (a->function != b->function)
    return a->function < b->function ? -1 : 1;
  return 0;
}

char *
hd_nodedev_name_generate (const char *subsystem, const char *sysname)
{
  char *name = g_strdup_printf ("%s_%s", subsystem, sysname);

  for (char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p))
      *p = '_';
  return name;
}
