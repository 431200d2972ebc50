#include "config.h"

#include "nodedev/pci-address.h"

static void
test_parse_valid (void)
{
  HdPciAddress a;

  g_assert_true (hd_pci_address_parse ("0000:02:1f.7", &a));
  g_assert_cmpuint (a.domain, ==, 0);
  g_assert_cmpuint (a.bus, ==, 2);
  g_assert_cmpuint (a.slot, ==, 0x1f);
  g_assert_cmpuint (a.function, ==, 7);

  /* VMD domains have five digits in sysfs. */
  g_assert_true (hd_pci_address_parse ("10000:e1:00.0", &a));
  g_assert_cmpuint (a.domain, ==, 0x10000);
  g_assert_cmpuint (a.bus, ==, 0xe1);
}

static void
test_parse_invalid (void)
{
  const char *bad[] = {
    "", "0000:02:00", "0000:02:00.8", "0000:02:20.0", "000:02:00.0",
    "0000:2:00.0", "0000:02:00.0 ", " 0000:02:00.0", "0000-02-00.0",
    "../0000:02:00.0", "0000:02:00.0/..", "0000:0g:00.0", "0000:02:00.00",
    "000000000:00:00.0", "x0000:00:00.0",
  };
  HdPciAddress a = { 9, 9, 9, 9 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("%s", bad[i]);
      g_assert_false (hd_pci_address_parse (bad[i], &a));
    }
  g_assert_false (hd_pci_address_parse (NULL, &a));
  /* Nothing written on failure. */
  g_assert_cmpuint (a.domain, ==, 9);
}

static void
test_names (void)
{
  HdPciAddress a = { 0, 0xff, 0x17, 6 };
  g_autofree char *name = hd_pci_address_to_nodedev_name (&a);
  g_autofree char *str = hd_pci_address_to_string (&a);
  HdPciAddress b;

  g_assert_cmpstr (name, ==, "pci_0000_ff_17_6");
  g_assert_cmpstr (str, ==, "0000:ff:17.6");
  g_assert_true (hd_pci_address_from_nodedev_name (name, &b));
  g_assert_true (hd_pci_address_equal (&a, &b));

  g_assert_false (hd_pci_address_from_nodedev_name ("pci_0000_FF_17_6", &b));
  g_assert_false (hd_pci_address_from_nodedev_name ("pci_0000_ff_17", &b));
  g_assert_false (hd_pci_address_from_nodedev_name ("pci_0000_ff_17_8", &b));
  g_assert_false (hd_pci_address_from_nodedev_name ("pci_0000:ff:17.6", &b));
  g_assert_false (hd_pci_address_from_nodedev_name ("pci_8086_3a6c", &b));
  g_assert_false (hd_pci_address_from_nodedev_name ("computer", &b));
  g_assert_false (hd_pci_address_from_nodedev_name ("pci_../../etc", &b));
  g_assert_false (hd_pci_address_from_nodedev_name (NULL, &b));
}

static void
test_generate_name (void)
{
  g_autofree char *pci = hd_nodedev_name_generate ("pci", "0000:02:00.0");
  g_autofree char *odd = hd_nodedev_name_generate ("net", "eth0-x.y/ü");

  g_assert_cmpstr (pci, ==, "pci_0000_02_00_0");
  /* Every non-alphanumeric byte, multi-byte UTF-8 included, becomes '_'. */
  g_assert_cmpstr (odd, ==, "net_eth0_x_y___");
}

static void
test_compare (void)
{
  HdPciAddress a = { 0, 1, 0, 0 };
  HdPciAddress b = { 0, 0, 0x1f, 7 };

  g_assert_cmpint (hd_pci_address_compare (&a, &b), >, 0);
  g_assert_cmpint (hd_pci_address_compare (&b, &a), <, 0);
  g_assert_cmpint (hd_pci_address_compare (&a, &a), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pci-address/parse-valid", test_parse_valid);
  g_test_add_func ("/pci-address/parse-invalid", test_parse_invalid);
  g_test_add_func ("/pci-address/names", test_names);
  g_test_add_func ("/pci-address/generate-name", test_generate_name);
  g_test_add_func ("/pci-address/compare", test_compare);
  return g_test_run ();
}
