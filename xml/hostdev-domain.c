/* Every PCI hostdev of a <domain>, with the domain-wide checks libvirt 9.0
 * makes on them (virDomainDefParseXML, virDomainDefParseIDs,
 * virDomainDefBootOrderPostParse, virDomainDefHostdevValidate,
 * virDomainDefValidateAliases). */
#include "config.h"

#include "hostdev-xml.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libxml/tree.h>

#include "nodedev/error.h"
#include "hostdev-xml-private.h"
#include "xml-reader.h"

/* virUUIDParse, into virUUIDFormat's spelling. */
static char *
parse_uuid (const char *str)
{
  const char *cur = str;
  guint8 u[16];

  while (g_ascii_isspace (*cur))
    cur++;
  for (int i = 0; i < 16;)
    {
      int hi, lo;

      if (*cur == '\0')
        return NULL;
      if (*cur == '-' || *cur == ' ')
        {
          cur++;
          continue;
        }
      if ((hi = g_ascii_xdigit_value (*cur++)) < 0 || *cur == '\0' ||
          (lo = g_ascii_xdigit_value (*cur++)) < 0)
        return NULL;
      u[i++] = (guint8) (hi * 16 + lo);
    }
  for (; *cur; cur++)
    if (!g_ascii_isspace (*cur))
      return NULL;
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                          u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static gboolean
parse_devices (xmlNode *root, const char *element, GArray *parsed, GError **error)
{
  /* XPath ./devices/<element>: every <devices>, in document order. */
  for (xmlNode *d = root->children; d != NULL; d = d->next)
    {
      if (d->type != XML_ELEMENT_NODE || d->ns != NULL || !xmlStrEqual (d->name, BAD_CAST "devices"))
        continue;
      for (xmlNode *c = d->children; c != NULL; c = c->next)
        {
          HdHostdevParsed p = { 0 };
          gboolean ok;

          if (c->type != XML_ELEMENT_NODE || c->ns != NULL || !xmlStrEqual (c->name, BAD_CAST element))
            continue;
          ok = g_str_equal (element, "hostdev") ? hd_hostdev_parse_hostdev_element (c, &p, error)
                                                : hd_hostdev_parse_interface_element (c, &p, error);
          if (!ok)
            return FALSE;
          g_clear_pointer (&p.why_not, g_free);
          if (p.hostdev != NULL)
            g_array_append_val (parsed, p);
        }
    }
  return TRUE;
}

/* The domain-wide checks that concern PCI hostdevs, in libvirt's order:
 * boot orders (post-parse), each device's validation, duplicate hostdevs
 * (virDomainDefHostdevValidate), user aliases (virDomainDefValidateAliases). */
static gboolean
check_domain (GArray *parsed, GError **error)
{
  g_autoptr(GHashTable) orders = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) aliases = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < parsed->len; i++)
    {
      HdHostdev *h = g_array_index (parsed, HdHostdevParsed, i).hostdev;

      if (h->boot_order == 0)
        continue;
      if (g_hash_table_contains (orders, GUINT_TO_POINTER (h->boot_order)))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                       _("boot order '%u' used for more than one device"), h->boot_order);
          return FALSE;
        }
      g_hash_table_add (orders, GUINT_TO_POINTER (h->boot_order));
    }
  for (guint i = 0; i < parsed->len; i++)
    if (!hd_hostdev_parsed_validate (g_array_index (parsed, HdHostdevParsed, i).other_type, error))
      return FALSE;
  for (guint i = 0; i < parsed->len; i++)
    for (guint j = i + 1; j < parsed->len; j++)
      if (hd_pci_address_equal (&g_array_index (parsed, HdHostdevParsed, i).hostdev->source,
                                &g_array_index (parsed, HdHostdevParsed, j).hostdev->source))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_XML,
                       _("Hostdev already exists in the domain configuration"));
          return FALSE;
        }
  for (guint i = 0; i < parsed->len; i++)
    {
      const char *alias = g_array_index (parsed, HdHostdevParsed, i).hostdev->alias;

      if (alias == NULL || !g_str_has_prefix (alias, "ua-"))
        continue;
      if (g_hash_table_contains (aliases, alias))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_CONFIG_UNSUPPORTED,
                       _("non unique alias detected: %s"), alias);
          return FALSE;
        }
      g_hash_table_add (aliases, (gpointer) alias);
    }
  return TRUE;
}

GPtrArray *
hd_hostdev_parse_domain (const char *xml, char **name, char **uuid, GError **error)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GArray) parsed = g_array_new (FALSE, TRUE, sizeof (HdHostdevParsed));
  g_autofree char *dom_name = NULL;
  g_autofree char *uuid_text = NULL;
  g_autofree char *dom_uuid = NULL;
  GPtrArray *out;
  xmlNode *root;

  g_return_val_if_fail (xml != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_array_set_clear_func (parsed, (GDestroyNotify) hd_hostdev_parsed_clear);
  if ((doc = hd_xml_read (xml, strlen (xml), "(domain_definition)", "domain", error)) == NULL)
    return NULL;
  root = xmlDocGetRootElement (doc);

  /* virDomainDefParseIDs */
  if ((dom_name = hd_xml_child_text (root, "name")) == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML, _("missing name information"));
      return NULL;
    }
  if ((uuid_text = hd_xml_child_text (root, "uuid")) != NULL &&
      (dom_uuid = parse_uuid (uuid_text)) == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML, _("malformed uuid element"));
      return NULL;
    }

  if (!parse_devices (root, "interface", parsed, error) ||
      !parse_devices (root, "hostdev", parsed, error) ||
      !check_domain (parsed, error))
    return NULL;

  out = g_ptr_array_new_full (parsed->len, (GDestroyNotify) hd_hostdev_free);
  for (guint i = 0; i < parsed->len; i++)
    g_ptr_array_add (out, g_steal_pointer (&g_array_index (parsed, HdHostdevParsed, i).hostdev));
  if (name != NULL)
    *name = g_steal_pointer (&dom_name);
  if (uuid != NULL)
    *uuid = g_steal_pointer (&dom_uuid);
  return out;
}
