/* libFuzzer entry point for the hostdev XML reader: the input is a domain
 * XML or one <hostdev>/<interface> element, as a client would send it.
 * Both parsers run on it; what they accept is formatted (both indents),
 * parsed again and turned into xl and QEMU configuration.  A formatted
 * hostdev must parse again, and, where libvirt's own formatting loses
 * nothing, to the same device. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml/hostdev-xml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (gboolean ok, const char *what)
{
  if (!ok)
    {
      fprintf (stderr, "fuzz-hostdev-xml: check failed: %s\n", what);
      abort ();
    }
}

static gboolean
plain (const char *s)
{
  /* Control characters do not survive: libvirt's escaping drops most, the
   * XML parser turns tab, CR and LF in attributes into blanks. */
  for (; s != NULL && *s; s++)
    if ((guchar) *s < 0x20)
      return FALSE;
  return TRUE;
}

/* libvirt prints what it parsed, except: a function over 7 in an address
 * it does not check ('0x%d'), the function of an "empty" guest address,
 * control characters. */
static gboolean
lossless (const HdHostdev *h)
{
  const HdPciAddress *g = &h->guest_address;

  if (h->source.function > 7)
    return FALSE;
  if (h->guest_address_type == HD_HOSTDEV_GUEST_ADDRESS_PCI &&
      (g->function > 7 || (g->domain == 0 && g->bus == 0 && g->slot == 0 && g->function != 0)))
    return FALSE;
  return plain (h->alias) && plain (h->rom_file);
}

static void
exercise (const HdHostdev *h)
{
  g_autofree char *inner = hd_hostdev_format (h, HD_HOSTDEV_INDENT_DEVICES);
  g_autofree char *alone = hd_hostdev_format (h, 0);
  g_autofree char *xl = hd_hostdev_to_xl (h);
  g_autofree char *qemu = hd_hostdev_to_qemu_arg (h, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdHostdev) again = hd_hostdev_parse (alone, lossless (h) ? &error : NULL);

  check (inner != NULL && alone != NULL && xl != NULL, "formatting failed");
  check ((qemu == NULL) == (h->write_filtering >= 0 || (h->driver != NULL && !g_str_equal (h->driver, "vfio"))),
         "QEMU refuses exactly writeFiltering and the drivers other than vfio");
  check (strlen (inner) > strlen (alone), "indentation");
  if (lossless (h))
    {
      g_autofree char *alone_again = NULL;

      if (again == NULL)
        fprintf (stderr, "%s\n%s\n", alone, error->message);
      check (again != NULL, "a formatted hostdev does not parse");
      check (hd_hostdev_equal (h, again), "format/parse changed the hostdev");
      alone_again = hd_hostdev_format (again, 0);
      check (g_str_equal (alone, alone_again), "formatting is not stable");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *xml = g_strndup ((const char *) data, size);
  g_autoptr(GPtrArray) hostdevs = NULL;
  g_autoptr(HdHostdev) one = NULL;
  g_autofree char *name = NULL;
  g_autofree char *uuid = NULL;
  g_autoptr(GError) error = NULL;

  hostdevs = hd_hostdev_parse_domain (xml, &name, &uuid, &error);
  check ((hostdevs == NULL) == (error != NULL), "domain: result and error disagree");
  if (hostdevs != NULL)
    {
      check (name != NULL && name[0] != '\0', "domain without a name");
      check (uuid == NULL || strlen (uuid) == 36, "uuid spelling");
      for (guint i = 0; i < hostdevs->len; i++)
        exercise (g_ptr_array_index (hostdevs, i));
      if (hostdevs->len > 0)
        g_free (hd_hostdevs_to_xl_pci (hostdevs));
    }
  g_clear_error (&error);

  one = hd_hostdev_parse (xml, &error);
  check ((one == NULL) == (error != NULL), "device: result and error disagree");
  if (one != NULL)
    exercise (one);
  return 0;
}
