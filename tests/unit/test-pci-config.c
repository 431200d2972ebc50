/* The config-space parser on crafted bytes: libvirt's results on sane
 * devices, and bounded, crash-free behaviour on hostile ones. */
#include "config.h"

#include <string.h>

#include "nodedev/pci-config.h"

typedef struct {
  guint8 b[HD_PCI_CONFIG_MAX];
} Cfg;

static void
put16 (Cfg *c, guint pos, guint16 v)
{
  c->b[pos] = v & 0xff;
  c->b[pos + 1] = v >> 8;
}

static void
put32 (Cfg *c, guint pos, guint32 v)
{
  put16 (c, pos, v & 0xffff);
  put16 (c, pos + 2, v >> 16);
}

/* Standard capability at @pos with @id, linked to @next. */
static void
cap (Cfg *c, guint pos, guint8 id, guint8 next)
{
  c->b[pos] = id;
  c->b[pos + 1] = next;
}

static void
with_cap_list (Cfg *c, guint8 first)
{
  put16 (c, 0x06, 0x0010);
  c->b[0x34] = first;
}

/* A PCIe endpoint: PM at 0x40, PCIe at 0x60, 8 GT/s x4 capable, 5 GT/s x2
 * running, port 3, FLR. */
static void
pcie_endpoint (Cfg *c)
{
  memset (c, 0, sizeof *c);
  put32 (c, 0, 0x10c98086);
  with_cap_list (c, 0x40);
  cap (c, 0x40, 0x01, 0x60);
  put32 (c, 0x44, 0x0000);
  cap (c, 0x60, 0x10, 0x00);
  put16 (c, 0x62, 0x0002);           /* version 2, type 0 (endpoint) */
  put32 (c, 0x64, 1u << 28);         /* DevCap: FLR */
  put32 (c, 0x6c, (3u << 24) | (4u << 4) | 3);
  put16 (c, 0x72, (2u << 4) | 2);
}

static void
test_endpoint (void)
{
  Cfg c;
  HdPciConfigInfo info;

  pcie_endpoint (&c);
  hd_pci_config_parse (c.b, sizeof c.b, 4096, &info);
  g_assert_cmpint (info.header_type, ==, HD_PCI_HEADER_ENDPOINT);
  g_assert_true (info.is_pcie);
  g_assert_cmpuint (info.pcie_cap, ==, 0x60);
  g_assert_true (info.has_link);
  g_assert_cmpint (info.link_cap.port, ==, 3);
  g_assert_cmpuint (info.link_cap.speed, ==, 3);
  g_assert_cmpuint (info.link_cap.width, ==, 4);
  g_assert_cmpint (info.link_sta.port, ==, -1);
  g_assert_cmpuint (info.link_sta.speed, ==, 2);
  g_assert_cmpuint (info.link_sta.width, ==, 2);
  g_assert_cmpuint (info.pm_cap, ==, 0x40);
  g_assert_true (info.has_pm_reset);
  g_assert_true (info.has_flr);
  g_assert_cmpstr (hd_pcie_link_speed_to_string (info.link_cap.speed), ==, "8");
}

static void
test_rciep_has_no_link (void)
{
  Cfg c;
  HdPciConfigInfo info;

  pcie_endpoint (&c);
  put16 (&c, 0x62, (0x9 << 4) | 2);
  hd_pci_config_parse (c.b, sizeof c.b, 4096, &info);
  g_assert_true (info.is_pcie);
  g_assert_false (info.has_link);
}

static void
test_bridge_header (void)
{
  Cfg c;
  HdPciConfigInfo info;

  memset (&c, 0, sizeof c);
  c.b[0x0e] = 0x81;
  hd_pci_config_parse (c.b, 256, 256, &info);
  g_assert_cmpint (info.header_type, ==, HD_PCI_HEADER_PCI_BRIDGE);
  g_assert_true (info.multifunction);
  g_assert_false (info.is_pcie);

  c.b[0x0e] = 0x05;
  hd_pci_config_parse (c.b, 256, 256, &info);
  g_assert_cmpint (info.header_type, ==, -1);
}

/* libvirt's guess: no PCIe capability found, and the file is not exactly
 * 256 bytes long, means PCIe (without a link). */
static void
test_is_pcie_guess (void)
{
  Cfg c;
  HdPciConfigInfo info;

  memset (&c, 0, sizeof c);
  hd_pci_config_parse (c.b, 4096, 4096, &info);
  g_assert_true (info.is_pcie);
  g_assert_false (info.has_link);

  hd_pci_config_parse (c.b, 256, 256, &info);
  g_assert_false (info.is_pcie);

  hd_pci_config_parse (c.b, 0, -1, &info);
  g_assert_true (info.is_pcie);
}

/* An unprivileged reader gets 64 bytes: the capability pointer leads past
 * them, so nothing beyond is used, whatever the rest of the buffer says. */
static void
test_short_read (void)
{
  Cfg c;
  HdPciConfigInfo info;

  pcie_endpoint (&c);
  hd_pci_config_parse (c.b, 64, 4096, &info);
  g_assert_cmpuint (info.pcie_cap, ==, 0);
  g_assert_cmpuint (info.pm_cap, ==, 0);
  g_assert_false (info.has_flr);
  g_assert_true (info.is_pcie);   /* the size guess */
  g_assert_false (info.has_link);
}

static void
test_capability_loop (void)
{
  Cfg c;
  HdPciConfigInfo info;

  memset (&c, 0, sizeof c);
  with_cap_list (&c, 0x40);
  cap (&c, 0x40, 0x05, 0x50);
  cap (&c, 0x50, 0x09, 0x40);      /* back to the start */
  hd_pci_config_parse (c.b, 256, 256, &info);
  g_assert_cmpuint (info.pcie_cap, ==, 0);
  g_assert_cmpuint (info.pm_cap, ==, 0);

  cap (&c, 0x50, 0x09, 0x50);      /* onto itself */
  hd_pci_config_parse (c.b, 256, 256, &info);
  g_assert_cmpuint (info.pcie_cap, ==, 0);
}

static void
test_capability_out_of_range (void)
{
  Cfg c;
  HdPciConfigInfo info;

  memset (&c, 0, sizeof c);
  with_cap_list (&c, 0x10);        /* inside the header: invalid */
  hd_pci_config_parse (c.b, 256, 256, &info);
  g_assert_cmpuint (info.pm_cap, ==, 0);

  with_cap_list (&c, 0xfe);        /* the next pointer lies past the end */
  cap (&c, 0xfe, 0x01, 0x00);
  hd_pci_config_parse (c.b, 0xff, 256, &info);
  g_assert_cmpuint (info.pm_cap, ==, 0xfe);
  g_assert_true (info.has_pm_reset);

  with_cap_list (&c, 0x80);        /* beyond what could be read */
  cap (&c, 0x80, 0x10, 0x00);
  hd_pci_config_parse (c.b, 0x80, 4096, &info);
  g_assert_cmpuint (info.pcie_cap, ==, 0);
}

static void
test_extended_capabilities (void)
{
  Cfg c;
  HdPciConfigInfo info;

  pcie_endpoint (&c);
  put32 (&c, 0x100, (0x140u << 20) | (1 << 16) | 0x0001);   /* AER */
  put32 (&c, 0x140, (0x160u << 20) | (1 << 16) | 0x000d);   /* ACS */
  put16 (&c, 0x146, 0x001d);
  put32 (&c, 0x160, (0u << 20) | (1 << 16) | 0x0010);      /* SR-IOV */
  hd_pci_config_parse (c.b, sizeof c.b, 4096, &info);
  g_assert_cmpuint (info.acs_cap, ==, 0x140);
  g_assert_cmpuint (info.acs_ctrl, ==, 0x1d);
  g_assert_cmpuint (info.sriov_cap, ==, 0x160);

  /* A loop in the extended list ends by its TTL. */
  put32 (&c, 0x100, (0x100u << 20) | 0x0001);
  hd_pci_config_parse (c.b, sizeof c.b, 4096, &info);
  g_assert_cmpuint (info.acs_cap, ==, 0);

  /* Not read at all with only 256 bytes. */
  pcie_endpoint (&c);
  put32 (&c, 0x100, 0x000d);
  hd_pci_config_parse (c.b, 256, 4096, &info);
  g_assert_cmpuint (info.acs_cap, ==, 0);
}

/* Random bytes of every length: the parser must stay inside the buffer
 * (ASan checks that) and terminate. */
static void
test_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4242);
  Cfg c;
  HdPciConfigInfo info;

  for (guint round = 0; round < 2000; round++)
    {
      gsize len = g_rand_int_range (rand, 0, HD_PCI_CONFIG_MAX + 1);
      g_autofree guint8 *copy = NULL;

      for (guint i = 0; i < sizeof c.b; i++)
        c.b[i] = (guint8) g_rand_int (rand);
      copy = g_memdup2 (c.b, len);
      hd_pci_config_parse (copy, len, (gint64) len, &info);
    }
}

static void
test_speed_names (void)
{
  g_assert_cmpstr (hd_pcie_link_speed_to_string (0), ==, "");
  g_assert_cmpstr (hd_pcie_link_speed_to_string (1), ==, "2.5");
  g_assert_cmpstr (hd_pcie_link_speed_to_string (6), ==, "64");
  g_assert_null (hd_pcie_link_speed_to_string (7));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pci-config/endpoint", test_endpoint);
  g_test_add_func ("/pci-config/rciep-has-no-link", test_rciep_has_no_link);
  g_test_add_func ("/pci-config/bridge-header", test_bridge_header);
  g_test_add_func ("/pci-config/is-pcie-guess", test_is_pcie_guess);
  g_test_add_func ("/pci-config/short-read", test_short_read);
  g_test_add_func ("/pci-config/capability-loop", test_capability_loop);
  g_test_add_func ("/pci-config/capability-out-of-range", test_capability_out_of_range);
  g_test_add_func ("/pci-config/extended-capabilities", test_extended_capabilities);
  g_test_add_func ("/pci-config/random", test_random);
  g_test_add_func ("/pci-config/speed-names", test_speed_names);
  return g_test_run ();
}
