/* IOMMU group layout in plain words: every group with more than one
 * function is a unit of assignment, and the user should know before a
 * detach what else goes with the device.
 *
 * PCI Express or conventional PCI: a function is PCIe when sysfs shows its
 * current_link_speed, which the kernel creates only for PCIe functions
 * (pci-sysfs.c, pcie_dev_attrs_are_visible) and which anyone may read — the
 * config space beyond its first 64 bytes, where the PCIe capability lives,
 * is root's.  A PCIe bridge grouped with conventional functions is the
 * PCIe-to-PCI bridge in front of them: the kernel puts everything behind
 * such a bridge in the bridge's group (conventional PCI cannot tell
 * requesters apart), and a conventional function cannot sit behind a PCIe
 * port otherwise. */
#include "config.h"

#include "host-readiness-private.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pci-address.h"

typedef struct {
  HdPciAddress addr;
  char *label;       /* "00:1f.2 SATA controller" */
  gboolean pcie;
  gboolean bridge;   /* class 0x0604: PCI-to-PCI bridge */
} Member;

static void
member_clear (gpointer data)
{
  Member *m = data;

  g_free (m->label);
}

/* pci.ids' class names for the classes a host usually has (the kernel's
 * include/linux/pci_ids.h), then one per base class. */
static const struct {
  guint code;        /* class << 8 | subclass */
  const char *name;
} class_names[] = {
  { 0x0000, N_("Non-VGA unclassified device") },
  { 0x0001, N_("VGA compatible unclassified device") },
  { 0x0100, N_("SCSI storage controller") },
  { 0x0101, N_("IDE interface") },
  { 0x0104, N_("RAID bus controller") },
  { 0x0105, N_("ATA controller") },
  { 0x0106, N_("SATA controller") },
  { 0x0107, N_("Serial Attached SCSI controller") },
  { 0x0108, N_("Non-Volatile memory controller") },
  { 0x0200, N_("Ethernet controller") },
  { 0x0207, N_("Infiniband controller") },
  { 0x0280, N_("Network controller") },
  { 0x0300, N_("VGA compatible controller") },
  { 0x0302, N_("3D controller") },
  { 0x0380, N_("Display controller") },
  { 0x0400, N_("Multimedia video controller") },
  { 0x0401, N_("Multimedia audio controller") },
  { 0x0403, N_("Audio device") },
  { 0x0500, N_("RAM memory") },
  { 0x0600, N_("Host bridge") },
  { 0x0601, N_("ISA bridge") },
  { 0x0604, N_("PCI bridge") },
  { 0x0607, N_("CardBus bridge") },
  { 0x0700, N_("Serial controller") },
  { 0x0780, N_("Communication controller") },
  { 0x0800, N_("PIC") },
  { 0x0805, N_("SD Host controller") },
  { 0x0806, N_("IOMMU") },
  { 0x0880, N_("System peripheral") },
  { 0x0c00, N_("FireWire (IEEE 1394)") },
  { 0x0c03, N_("USB controller") },
  { 0x0c04, N_("Fibre Channel") },
  { 0x0c05, N_("SMBus") },
  { 0x0c80, N_("Serial bus controller") },
  { 0x1080, N_("Encryption controller") },
  { 0x1180, N_("Signal processing controller") },
  { 0x1200, N_("Processing accelerators") },
};

static const char *const base_names[] = {
  N_("Unclassified device"), N_("Mass storage controller"), N_("Network controller"),
  N_("Display controller"), N_("Multimedia controller"), N_("Memory controller"),
  N_("Bridge"), N_("Communication controller"), N_("Generic system peripheral"),
  N_("Input device controller"), N_("Docking station"), N_("Processor"),
  N_("Serial bus controller"), N_("Wireless controller"), N_("Intelligent controller"),
  N_("Satellite communications controller"), N_("Encryption controller"),
  N_("Signal processing controller"), N_("Processing accelerators"),
  N_("Non-Essential Instrumentation"),
};

static const char *
class_name (guint32 class_code)
{
  guint code = class_code >> 8;
  guint base = class_code >> 16;

  for (guint i = 0; i < G_N_ELEMENTS (class_names); i++)
    if (class_names[i].code == code)
      return _(class_names[i].name);
  if (base < G_N_ELEMENTS (base_names))
    return _(base_names[base]);
  return NULL;
}

static char *
short_address (const HdPciAddress *a)
{
  if (a->domain == 0)
    return g_strdup_printf ("%02x:%02x.%x", a->bus, a->slot, a->function);
  return g_strdup_printf ("%04x:%02x:%02x.%x", a->domain, a->bus, a->slot, a->function);
}

static void
member_read (const char *root, const char *name, Member *m)
{
  g_autofree char *class_rel = g_strdup_printf ("sys/bus/pci/devices/%s/class", name);
  g_autofree char *link_rel = g_strdup_printf ("sys/bus/pci/devices/%s/current_link_speed", name);
  g_autofree char *class_text = hd_readiness_read_line (root, class_rel);
  g_autofree char *addr = short_address (&m->addr);
  const char *what = NULL;
  guint64 class_code;

  if (class_text != NULL && g_str_has_prefix (class_text, "0x") &&
      g_ascii_string_to_unsigned (class_text + 2, 16, 0, 0xffffff, &class_code, NULL))
    {
      what = class_name ((guint32) class_code);
      m->bridge = (class_code >> 8) == 0x0604;
    }
  m->pcie = hd_readiness_exists (root, link_rel);
  m->label = what != NULL ? g_strdup_printf ("%s %s", addr, what) : g_steal_pointer (&addr);
}

static int
compare_members (gconstpointer a, gconstpointer b)
{
  return hd_pci_address_compare (&((const Member *) a)->addr, &((const Member *) b)->addr);
}

static char *
join_labels (GArray *members, gboolean skip_pcie_bridge)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  for (guint i = 0; i < members->len; i++)
    {
      Member *m = &g_array_index (members, Member, i);

      if (!(skip_pcie_bridge && m->bridge && m->pcie))
        g_ptr_array_add (labels, m->label);
    }
  g_ptr_array_add (labels, NULL);
  return g_strjoinv (", ", (char **) labels->pdata);
}

static void
describe_group (HdReadiness *r, const char *root, guint number)
{
  g_autofree char *rel = g_strdup_printf ("sys/kernel/iommu_groups/%u/devices", number);
  g_autofree char *path = hd_readiness_path (root, rel);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GArray) members = g_array_new (FALSE, TRUE, sizeof (Member));
  g_autofree char *id = g_strdup_printf ("iommu-group-%u", number);
  g_autofree char *title = g_strdup_printf (_("IOMMU group %u"), number);
  guint pcie_bridges = 0, conventional = 0;
  const Member *front = NULL;
  const char *name;
  char *detail;

  g_array_set_clear_func (members, member_clear);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      Member m = { 0 };

      /* only well-formed addresses become paths */
      if (!hd_pci_address_parse (name, &m.addr))
        continue;
      member_read (root, name, &m);
      g_array_append_val (members, m);
    }
  if (members->len < 2)
    return;
  /* readdir order is the kernel's hash order: sort, for people and tests */
  g_array_sort (members, compare_members);

  for (guint i = 0; i < members->len; i++)
    {
      const Member *m = &g_array_index (members, Member, i);

      if (m->bridge && m->pcie)
        {
          pcie_bridges++;
          front = m;
        }
      else if (!m->pcie)
        conventional++;
    }

  if (pcie_bridges == 1 && conventional > 0 && conventional + 1 == members->len && front != NULL)
    {
      g_autofree char *behind = join_labels (members, TRUE);
      g_autofree char *bridge = short_address (&front->addr);

      detail = g_strdup_printf (ngettext ("IOMMU group %u holds a PCIe-to-PCI bridge (%s) and %u conventional PCI device (%s): they can only be assigned together",
                                          "IOMMU group %u holds a PCIe-to-PCI bridge (%s) and %u conventional PCI devices (%s): they can only be assigned together",
                                          conventional),
                                number, bridge, conventional, behind);
    }
  else
    {
      g_autofree char *all = join_labels (members, FALSE);

      detail = g_strdup_printf (ngettext ("IOMMU group %u holds %u function (%s): they can only be assigned together",
                                          "IOMMU group %u holds %u functions (%s): they can only be assigned together",
                                          members->len),
                                number, members->len, all);
    }
  hd_readiness_add (r->checks, id, title, HD_READINESS_INFO, detail, NULL);
}

static int
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a;
  guint y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

void
hd_readiness_check_groups (HdReadiness *r, const char *root)
{
  g_autofree char *path = hd_readiness_path (root, "sys/kernel/iommu_groups");
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      guint64 n;

      if (g_ascii_string_to_unsigned (name, 10, 0, G_MAXUINT, &n, NULL))
        {
          guint number = (guint) n;

          g_array_append_val (numbers, number);
        }
    }
  g_array_sort (numbers, compare_uint);
  for (guint i = 0; i < numbers->len; i++)
    describe_group (r, root, g_array_index (numbers, guint, i));
}
