#include "config.h"

#include "pci-config.h"

#include <fcntl.h>
#include <string.h>

#include <gio/gio.h>

#include "sysfs.h"

#define PCI_STATUS              0x06
#define PCI_STATUS_CAP_LIST     0x10
#define PCI_HEADER_TYPE         0x0e
#define PCI_HEADER_TYPE_MASK    0x7f
#define PCI_HEADER_TYPE_MULTI   0x80
#define PCI_CAPABILITY_LIST     0x34
#define PCI_CONF_HEADER_LEN     0x40

#define PCI_CAP_ID_PM           0x01
#define PCI_CAP_ID_EXP          0x10
#define PCI_CAP_ID_AF           0x13

#define PCI_CAP_FLAGS           2
#define PCI_EXP_FLAGS_TYPE      0x00f0
#define PCI_EXP_DEVCAP          4
#define PCI_EXP_DEVCAP_FLR      (1u << 28)
#define PCI_EXP_LNKCAP          0x0c
#define PCI_EXP_LNKCAP_SPEED    0x0000f
#define PCI_EXP_LNKCAP_WIDTH    0x003f0
#define PCI_EXP_LNKSTA          0x12
#define PCI_EXP_LNKSTA_SPEED    0x000f
#define PCI_EXP_LNKSTA_WIDTH    0x03f0

#define PCI_PM_CTRL             4
#define PCI_PM_CTRL_NO_SOFT_RESET 0x08
#define PCI_AF_CAP              3
#define PCI_AF_CAP_FLR          0x02

#define PCI_EXT_CAP_BASE        0x100
#define PCI_EXT_CAP_LIMIT       0x1000
#define PCI_EXT_CAP_ID_ACS      0x000d
#define PCI_EXT_CAP_ID_SRIOV    0x0010
#define PCI_EXT_CAP_ACS_CTRL    6

/* The kernel's own bound for a standard capability list (PCI_FIND_CAP_TTL):
 * 48 entries of at least 4 bytes fill the 192 bytes after the header. */
#define STD_CAP_TTL             48

typedef struct {
  const guint8 *data;
  gsize len;
} Config;

/* Like libvirt's virPCIDeviceRead*: bytes past what could be read are 0. */
static guint8
read8 (const Config *c, guint pos)
{
  return pos < c->len ? c->data[pos] : 0;
}

static guint16
read16 (const Config *c, guint pos)
{
  return (guint16) (read8 (c, pos) | (read8 (c, pos + 1) << 8));
}

static guint32
read32 (const Config *c, guint pos)
{
  return (guint32) read16 (c, pos) | ((guint32) read16 (c, pos + 2) << 16);
}

/* libvirt's virPCIDeviceFindCapabilityOffset, minus its blind spot: it
 * follows the chain without bound, so a device whose list loops would hang
 * it.  We stop after STD_CAP_TTL entries or on the first revisit. */
static guint
find_capability (const Config *c, guint8 cap_id)
{
  guint8 seen[256 / 8] = { 0 };
  guint pos;

  if (!(read16 (c, PCI_STATUS) & PCI_STATUS_CAP_LIST))
    return 0;

  pos = read8 (c, PCI_CAPABILITY_LIST);
  for (guint ttl = 0; ttl < STD_CAP_TTL; ttl++)
    {
      if (pos < PCI_CONF_HEADER_LEN || pos == 0xff || pos >= c->len)
        return 0;
      if (seen[pos / 8] & (1u << (pos % 8)))
        return 0;
      seen[pos / 8] |= (guint8) (1u << (pos % 8));

      if (read8 (c, pos) == cap_id)
        return pos;
      pos = read8 (c, pos + 1);
    }
  return 0;
}

/* libvirt's virPCIDeviceFindExtendedCapabilityOffset, with the same TTL
 * (every entry takes at least 8 bytes). */
static guint
find_extended_capability (const Config *c, guint16 cap_id)
{
  guint pos = PCI_EXT_CAP_BASE;

  for (int ttl = (PCI_EXT_CAP_LIMIT - PCI_EXT_CAP_BASE) / 8;
       ttl > 0 && pos >= PCI_EXT_CAP_BASE && pos + 4 <= c->len;
       ttl--)
    {
      guint32 header = read32 (c, pos);

      if ((header & 0xffff) == cap_id)
        return pos;
      pos = (header >> 20) & 0xffc;
    }
  return 0;
}

void
hd_pci_config_parse (const guint8 *data, gsize len, gint64 file_size,
                     HdPciConfigInfo *info)
{
  const Config c = { data, MIN (len, (gsize) HD_PCI_CONFIG_MAX) };
  guint8 hdr = read8 (&c, PCI_HEADER_TYPE);
  guint af;

  memset (info, 0, sizeof *info);
  info->header_type = (hdr & PCI_HEADER_TYPE_MASK) <= HD_PCI_HEADER_CARDBUS_BRIDGE
                      ? (hdr & PCI_HEADER_TYPE_MASK) : -1;
  info->multifunction = (hdr & PCI_HEADER_TYPE_MULTI) != 0;
  info->link_cap.port = -1;
  info->link_sta.port = -1;

  info->pcie_cap = find_capability (&c, PCI_CAP_ID_EXP);
  if (info->pcie_cap != 0)
    {
      guint32 lnkcap;
      guint16 lnksta;

      info->is_pcie = TRUE;
      info->pcie_type = (read16 (&c, info->pcie_cap + PCI_CAP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
      info->has_link = info->pcie_type != HD_PCIE_TYPE_ROOT_INTEGRATED_ENDPOINT &&
                       info->pcie_type != HD_PCIE_TYPE_ROOT_EVENT_COLLECTOR;

      lnkcap = read32 (&c, info->pcie_cap + PCI_EXP_LNKCAP);
      info->link_cap.port = (int) (lnkcap >> 24);
      info->link_cap.speed = lnkcap & PCI_EXP_LNKCAP_SPEED;
      info->link_cap.width = (lnkcap & PCI_EXP_LNKCAP_WIDTH) >> 4;
      lnksta = read16 (&c, info->pcie_cap + PCI_EXP_LNKSTA);
      info->link_sta.speed = lnksta & PCI_EXP_LNKSTA_SPEED;
      info->link_sta.width = (lnksta & PCI_EXP_LNKSTA_WIDTH) >> 4;

      if (read32 (&c, info->pcie_cap + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR)
        info->has_flr = TRUE;
    }
  else
    {
      /* libvirt cannot tell "no PCIe capability" from "could not read that
       * far", and guesses from the size of the config file: only a
       * 256-byte file is certainly conventional PCI. */
      info->is_pcie = file_size != 256;
    }

  info->pm_cap = find_capability (&c, PCI_CAP_ID_PM);
  if (info->pm_cap != 0)
    info->has_pm_reset = !(read32 (&c, info->pm_cap + PCI_PM_CTRL) & PCI_PM_CTRL_NO_SOFT_RESET);

  af = find_capability (&c, PCI_CAP_ID_AF);
  if (af != 0 && (read16 (&c, af + PCI_AF_CAP) & PCI_AF_CAP_FLR))
    info->has_flr = TRUE;

  info->acs_cap = find_extended_capability (&c, PCI_EXT_CAP_ID_ACS);
  if (info->acs_cap != 0)
    info->acs_ctrl = read16 (&c, info->acs_cap + PCI_EXT_CAP_ACS_CTRL);
  info->sriov_cap = find_extended_capability (&c, PCI_EXT_CAP_ID_SRIOV);
}

const char *
hd_pcie_link_speed_to_string (guint speed)
{
  static const char *const names[] = { "", "2.5", "5", "8", "16", "32", "64" };

  return speed < G_N_ELEMENTS (names) ? names[speed] : NULL;
}

GBytes *
hd_pci_config_read (int dirfd, const char *path, gint64 *file_size, GError **error)
{
  /* The kernel hands an unprivileged reader a short read (64 bytes):
   * that is the data, not an error. */
  return hd_sysfs_read_file (dirfd, path, O_NOFOLLOW, HD_PCI_CONFIG_MAX, TRUE, file_size, error);
}
