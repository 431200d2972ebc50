/* What the host uses, on a testbed: disks behind partitions, device-mapper
 * and btrfs, swap, 9p and virtiofs shares under an overlay root, network
 * interfaces with addresses, routes or a master, the boot VGA device and
 * a framebuffer.  The /proc-style sources are fixture files.
 *
 * Block device numbers use majors 60 and 61 (devices.txt: "local/
 * experimental use"), so that a device number taken from this machine
 * (the swap file test stats a real file) cannot meet a testbed device. */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "hostdev/host-usage.h"
#include "nodedev/error.h"
#include "testbed.h"

#define PCI "/sys/devices/pci0000:00/0000:00:"

static const char *testbed =
  /* 00:04.0: the system disk: /boot, / and swap */
  "P: /devices/pci0000:00/0000:00:04.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10000\n\n"
  "P: /devices/pci0000:00/0000:00:04.0/virtio1\nE: SUBSYSTEM=virtio\n\n"
  "P: /devices/pci0000:00/0000:00:04.0/virtio1/block/vda\nN: vda\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vda\nE: DEVTYPE=disk\nA: dev=60:0\\n\n\n"
  "P: /devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1\nN: vda1\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vda1\nE: DEVTYPE=partition\nA: dev=60:1\\n\nA: partition=1\\n\n\n"
  "P: /devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda2\nN: vda2\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vda2\nE: DEVTYPE=partition\nA: dev=60:2\\n\nA: partition=2\\n\n\n"
  "P: /devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda3\nN: vda3\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vda3\nE: DEVTYPE=partition\nA: dev=60:3\\n\nA: partition=3\\n\n\n"
  /* 00:05.0 and 00:06.0: the two legs of dm-0, a partition and a whole disk */
  "P: /devices/pci0000:00/0000:00:05.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10000\n\n"
  "P: /devices/pci0000:00/0000:00:05.0/virtio2\nE: SUBSYSTEM=virtio\n\n"
  "P: /devices/pci0000:00/0000:00:05.0/virtio2/block/vdb\nN: vdb\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vdb\nE: DEVTYPE=disk\nA: dev=60:16\\n\n\n"
  "P: /devices/pci0000:00/0000:00:05.0/virtio2/block/vdb/vdb1\nN: vdb1\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vdb1\nE: DEVTYPE=partition\nA: dev=60:17\\n\nA: partition=1\\n\n\n"
  "P: /devices/pci0000:00/0000:00:06.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10000\n\n"
  "P: /devices/pci0000:00/0000:00:06.0/virtio3\nE: SUBSYSTEM=virtio\n\n"
  "P: /devices/pci0000:00/0000:00:06.0/virtio3/block/vdc\nN: vdc\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vdc\nE: DEVTYPE=disk\nA: dev=60:32\\n\n\n"
  "P: /devices/virtual/block/dm-0\nN: dm-0\nE: SUBSYSTEM=block\nE: DEVNAME=/dev/dm-0\n"
  "E: DEVTYPE=disk\nA: dev=61:0\\n\n"
  "L: slaves/vdb1=../../../../pci0000:00/0000:00:05.0/virtio2/block/vdb/vdb1\n"
  "L: slaves/vdc=../../../../pci0000:00/0000:00:06.0/virtio3/block/vdc\n\n"
  /* 00:0a.0: a mount point with a blank, and btrfs (an anonymous 0:N) */
  "P: /devices/pci0000:00/0000:00:0a.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10000\n\n"
  "P: /devices/pci0000:00/0000:00:0a.0/virtio6\nE: SUBSYSTEM=virtio\n\n"
  "P: /devices/pci0000:00/0000:00:0a.0/virtio6/block/vdd\nN: vdd\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vdd\nE: DEVTYPE=disk\nA: dev=60:48\\n\n\n"
  "P: /devices/pci0000:00/0000:00:0a.0/virtio6/block/vdd/vdd1\nN: vdd1\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vdd1\nE: DEVTYPE=partition\nA: dev=60:49\\n\nA: partition=1\\n\n\n"
  "P: /devices/pci0000:00/0000:00:0a.0/virtio6/block/vdd/vdd2\nN: vdd2\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vdd2\nE: DEVTYPE=partition\nA: dev=60:50\\n\nA: partition=2\\n\n\n"
  /* 00:0f.0: a disk nobody mounts */
  "P: /devices/pci0000:00/0000:00:0f.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10000\n\n"
  "P: /devices/pci0000:00/0000:00:0f.0/virtio7\nE: SUBSYSTEM=virtio\n\n"
  "P: /devices/pci0000:00/0000:00:0f.0/virtio7/block/vde\nN: vde\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/vde\nE: DEVTYPE=disk\nA: dev=60:64\\n\n\n"
  /* 00:11.0: an NVMe namespace behind native multipath, its head virtual */
  "P: /devices/pci0000:00/0000:00:11.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10802\n\n"
  "P: /devices/pci0000:00/0000:00:11.0/nvme/nvme0\nE: SUBSYSTEM=nvme\n\n"
  "P: /devices/pci0000:00/0000:00:11.0/nvme/nvme0/nvme0c0n1\nE: SUBSYSTEM=block\nE: DEVTYPE=disk\n\n"
  "P: /devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1\nN: nvme0n1\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/nvme0n1\nE: DEVTYPE=disk\nA: dev=60:80\\n\n"
  "L: multipath/nvme0c0n1=../../../../../pci0000:00/0000:00:11.0/nvme/nvme0/nvme0c0n1\n\n"
  "P: /devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1/nvme0n1p1\nN: nvme0n1p1\nE: SUBSYSTEM=block\n"
  "E: DEVNAME=/dev/nvme0n1p1\nE: DEVTYPE=partition\nA: dev=60:81\\n\nA: partition=1\\n\n\n"
  /* 00:07.0: 9p share "rootfs"; 00:0e.0: virtiofs share "shared" */
  "P: /devices/pci0000:00/0000:00:07.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=0\n\n"
  "P: /devices/pci0000:00/0000:00:07.0/virtio4\nE: SUBSYSTEM=virtio\nA: mount_tag=rootfs\n\n"
  "P: /devices/pci0000:00/0000:00:0e.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=10000\n\n"
  "P: /devices/pci0000:00/0000:00:0e.0/virtio5\nE: SUBSYSTEM=virtio\n\n"
  /* NICs: eth0 addresses and routes, eth1 routes only, eth2 in br0,
   * eth3 link-local only, eth4 an IPv6 route */
  "P: /devices/pci0000:00/0000:00:03.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=20000\n\n"
  "P: /devices/pci0000:00/0000:00:03.0/virtio0\nE: SUBSYSTEM=virtio\n\n"
  "P: /devices/pci0000:00/0000:00:03.0/virtio0/net/eth0\nE: SUBSYSTEM=net\nE: INTERFACE=eth0\n\n"
  "P: /devices/pci0000:00/0000:00:08.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=20000\n\n"
  "P: /devices/pci0000:00/0000:00:08.0/net/eth1\nE: SUBSYSTEM=net\nE: INTERFACE=eth1\n\n"
  "P: /devices/virtual/net/br0\nE: SUBSYSTEM=net\nE: INTERFACE=br0\n\n"
  "P: /devices/virtual/net/lo\nE: SUBSYSTEM=net\nE: INTERFACE=lo\n\n"
  "P: /devices/pci0000:00/0000:00:09.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=20000\n\n"
  "P: /devices/pci0000:00/0000:00:09.0/net/eth2\nE: SUBSYSTEM=net\nE: INTERFACE=eth2\n"
  "L: master=../../../../virtual/net/br0\n\n"
  "P: /devices/pci0000:00/0000:00:0b.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=20000\n\n"
  "P: /devices/pci0000:00/0000:00:0b.0/net/eth3\nE: SUBSYSTEM=net\nE: INTERFACE=eth3\n\n"
  "P: /devices/pci0000:00/0000:00:0c.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=20000\n\n"
  "P: /devices/pci0000:00/0000:00:0c.0/net/eth4\nE: SUBSYSTEM=net\nE: INTERFACE=eth4\n\n"
  /* VGA: 00:02.0 booted the machine, 00:0d.0 carries fb0, 00:10.0 idles */
  "P: /devices/pci0000:00/0000:00:02.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=30000\nA: boot_vga=1\\n\n\n"
  "P: /devices/pci0000:00/0000:00:0d.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=30000\nA: boot_vga=0\\n\n\n"
  "P: /devices/pci0000:00/0000:00:0d.0/graphics/fb0\nE: SUBSYSTEM=graphics\n"
  "L: device=../../../0000:00:0d.0\n\n"
  "P: /devices/virtual/graphics/fbcon\nE: SUBSYSTEM=graphics\n\n"
  "P: /devices/pci0000:00/0000:00:10.0\nE: SUBSYSTEM=pci\nE: PCI_CLASS=30000\nA: boot_vga=0\\n\n";

typedef struct {
  UMockdevTestbed *bed;
  char *tmpdir;
} Fixture;

static const char *const kind_names[] = {
  "root-fs", "mount", "swap", "net-address", "net-route", "net-master", "boot-vga", "framebuffer",
};

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sys_dir = NULL;
  g_autofree char *virtiofs = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *device = NULL;

  f->bed = umockdev_testbed_new ();
  g_assert_true (umockdev_testbed_add_from_string (f->bed, testbed, &error));
  g_assert_no_error (error);
  /* Linux 6.9's /sys/fs/virtiofs/N/{tag,device}, which umockdev cannot record */
  sys_dir = umockdev_testbed_get_sys_dir (f->bed);
  virtiofs = g_build_filename (sys_dir, "fs", "virtiofs", "0", NULL);
  tag = g_build_filename (virtiofs, "tag", NULL);
  device = g_build_filename (virtiofs, "device", NULL);
  g_assert_cmpint (g_mkdir_with_parents (virtiofs, 0755), ==, 0);
  g_assert_true (g_file_set_contents (tag, "shared\n", -1, &error));
  g_assert_cmpint (symlink ("../../../devices/pci0000:00/0000:00:0e.0/virtio5", device), ==, 0);
  /* umockdev files devices outside a block/ directory under /sys/dev/char */
  {
    g_autofree char *link = g_build_filename (sys_dir, "dev", "block", "60:81", NULL);

    g_assert_cmpint (symlink ("../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1/nvme0n1p1", link), ==, 0);
  }
  f->tmpdir = g_dir_make_tmp ("test-host-usage-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->tmpdir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->tmpdir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->tmpdir);
  g_free (f->tmpdir);
  g_clear_object (&f->bed);
}

static const char *
fixture_file (const char *name)
{
  return g_test_get_filename (G_TEST_DIST, "..", "data", "host-usage", name, NULL);
}

/* A file in the test's scratch directory holding @contents. */
static char *
scratch_file (Fixture *f, const char *name, const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
  return path;
}

/* The addresses the host's interfaces have in this test. */
static GStrv
fake_addresses (const char *ifname, gpointer user_data)
{
  if (g_str_equal (ifname, "eth0"))
    return g_strsplit ("10.0.2.15/24 fe80::5054:ff:fe12:3456/64", " ", -1);
  if (g_str_equal (ifname, "eth3"))
    return g_strsplit ("fe80::1/64 FE80::2%eth3/64", " ", -1);
  if (g_str_equal (ifname, "br0"))
    return g_strsplit ("192.168.1.2/24", " ", -1);
  return NULL;
}

static HdHostUsageSources
sources (const char *mountinfo, const char *swaps, const char *ipv4, const char *ipv6)
{
  return (HdHostUsageSources) {
    .mountinfo = fixture_file (mountinfo),
    .swaps = fixture_file (swaps),
    .ipv4_routes = fixture_file (ipv4),
    .ipv6_routes = fixture_file (ipv6),
    .interface_addresses = fake_addresses,
  };
}

static HdHostUsage *
scan (const HdHostUsageSources *src)
{
  g_autoptr(GError) error = NULL;
  HdHostUsage *usage = hd_host_usage_scan (src, &error);

  g_assert_no_error (error);
  g_assert_nonnull (usage);
  return usage;
}

/* The uses of the PCI function 0000:00:@slot as "KIND HOLDER: DESCRIPTION"
 * lines, the holder relative to the function. */
static char *
uses_of (HdHostUsage *usage, const char *slot)
{
  g_autofree char *syspath = g_strconcat (PCI, slot, NULL);
  g_autoptr(GPtrArray) uses = hd_host_usage_lookup (usage, syspath);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < uses->len; i++)
    {
      const HdHostUse *use = g_ptr_array_index (uses, i);

      g_assert_true (g_str_has_prefix (use->holder, syspath));
      g_string_append_printf (out, "%s %s: %s\n", kind_names[use->kind],
                              use->holder[strlen (syspath)] ? use->holder + strlen (syspath) + 1 : ".",
                              use->description);
    }
  return g_string_free (out, FALSE);
}

#define assert_uses(usage, slot, expected) \
  G_STMT_START { \
    g_autofree char *_got = uses_of ((usage), (slot)); \
    g_assert_cmpstr (_got, ==, (expected)); \
  } G_STMT_END

static void
test_disks (Fixture *f, gconstpointer data)
{
  HdHostUsageSources src = sources ("mountinfo-disk", "swaps", "missing", "missing");
  g_autoptr(HdHostUsage) usage = scan (&src);
  g_autoptr(GPtrArray) all = hd_host_usage_list (usage);

  /* the bind mount of vda1 on /var/lib/boot-copy adds nothing */
  assert_uses (usage, "04.0",
               "root-fs virtio1/block/vda/vda2: /dev/vda2 backs the root filesystem\n"
               "mount virtio1/block/vda/vda1: /dev/vda1 is mounted on /boot\n"
               "swap virtio1/block/vda/vda3: /dev/vda3 is active swap\n");
  /* dm-0 on /srv lives on both controllers */
  assert_uses (usage, "05.0", "mount virtio2/block/vdb/vdb1: /dev/vdb1 (under /dev/dm-0) is mounted on /srv\n");
  assert_uses (usage, "06.0", "mount virtio3/block/vdc: /dev/vdc (under /dev/dm-0) is mounted on /srv\n");
  assert_uses (usage, "0a.0",
               "mount virtio6/block/vdd/vdd1: /dev/vdd1 is mounted on /mnt/my disk\n"
               "mount virtio6/block/vdd/vdd2: /dev/vdd2 is mounted on /home\n");
  assert_uses (usage, "11.0", "mount nvme/nvme0/nvme0c0n1: /dev/nvme0c0n1 (under /dev/nvme0n1p1) is mounted on /data\n");
  assert_uses (usage, "0f.0", "");
  assert_uses (usage, "07.0", "");
  /* a prefix of a name is not a parent */
  assert_uses (usage, "04", "");
  /* the whole disk and the partition answer as well as the function */
  {
    g_autoptr(GPtrArray) disk = hd_host_usage_lookup (usage, PCI "04.0/virtio1/block/vda");
    g_autoptr(GPtrArray) part = hd_host_usage_lookup (usage, PCI "04.0/virtio1/block/vda/vda1/");

    g_assert_cmpuint (disk->len, ==, 3);
    g_assert_cmpuint (part->len, ==, 1);
  }
  /* 8 above, eth0's address, eth2's master, the boot VGA and fb0; nfs,
   * proc, tmpfs hold nothing */
  g_assert_cmpuint (all->len, ==, 12);
}

static void
test_overlay_on_9p (Fixture *f, gconstpointer data)
{
  HdHostUsageSources src = sources ("mountinfo-9p", "missing", "missing", "missing");
  g_autoptr(HdHostUsage) usage = scan (&src);

  assert_uses (usage, "07.0",
               "root-fs virtio4: rootfs backs the root filesystem\n"
               "mount virtio4: rootfs is mounted on /run/rootfs-ro\n");
  assert_uses (usage, "0e.0", "mount virtio5: shared is mounted on /srv/shared\n");
  assert_uses (usage, "04.0", "");
}

static void
test_network (Fixture *f, gconstpointer data)
{
  HdHostUsageSources src = sources ("missing", "missing", "ipv4-routes", "ipv6-routes");
  g_autoptr(HdHostUsage) usage = scan (&src);
  g_autoptr(GPtrArray) all = hd_host_usage_list (usage);

  assert_uses (usage, "03.0",
               "net-address virtio0/net/eth0: network interface eth0 has addresses 10.0.2.15/24\n"
               "net-route virtio0/net/eth0: network interface eth0 carries routes\n");
  assert_uses (usage, "08.0", "net-route net/eth1: network interface eth1 carries routes\n");
  assert_uses (usage, "09.0", "net-master net/eth2: network interface eth2 is enslaved to br0\n");
  /* only link-local addresses and link-local or multicast routes */
  assert_uses (usage, "0b.0", "");
  assert_uses (usage, "0c.0", "net-route net/eth4: network interface eth4 carries routes\n");
  for (guint i = 0; i < all->len; i++)
    g_assert_false (g_str_has_prefix (((HdHostUse *) g_ptr_array_index (all, i))->holder, "/sys/devices/virtual/"));
}

static void
test_display (Fixture *f, gconstpointer data)
{
  HdHostUsageSources src = sources ("missing", "missing", "missing", "missing");
  g_autoptr(HdHostUsage) usage = scan (&src);

  assert_uses (usage, "02.0", "boot-vga .: it is the boot VGA device\n");
  assert_uses (usage, "0d.0", "framebuffer .: framebuffer fb0 is drawn on it\n");
  assert_uses (usage, "10.0", "");
}

/* Missing sources are no error: a container may lack /proc/swaps. */
static void
test_missing (Fixture *f, gconstpointer data)
{
  HdHostUsageSources src = sources ("missing", "missing", "missing", "missing");
  g_autoptr(HdHostUsage) usage = scan (&src);
  g_autoptr(GPtrArray) all = hd_host_usage_list (usage);

  /* eth0's address, eth2's master, the boot VGA, fb0 */
  g_assert_cmpuint (all->len, ==, 4);
}

/* A swap file (its name with a blank) on btrfs: the filesystem is found
 * by the file's device number in mountinfo, its disk through the source
 * node's.  The number is this machine's, so the mountinfo is written here. */
static void
test_swap_file (Fixture *f, gconstpointer data)
{
  g_autofree char *swapfile = scratch_file (f, "swap file", "");
  g_autofree char *escaped = NULL;
  g_autofree char *mountinfo = NULL;
  g_autofree char *swaps = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(HdHostUsage) usage = NULL;
  HdHostUsageSources src = sources ("missing", "missing", "missing", "missing");
  struct stat st;

  g_assert_cmpint (g_stat (swapfile, &st), ==, 0);
  if (major (st.st_dev) == 60 || major (st.st_dev) == 61)
    {
      g_test_skip ("the scratch directory's device number is one of the testbed's");
      return;
    }
  {
    g_autofree char *line = g_strdup_printf ("40 1 %u:%u / /var rw - btrfs /dev/vdd2 rw\n",
                                             major (st.st_dev), minor (st.st_dev));
    mountinfo = scratch_file (f, "mountinfo", line);
  }
  /* /proc/swaps escapes blanks as mountinfo does */
  escaped = g_strconcat (f->tmpdir, "/swap\\040file", NULL);
  {
    g_autofree char *table = g_strdup_printf ("Filename Type Size Used Priority\n%s file 1024 0 -2\n", escaped);
    swaps = scratch_file (f, "swaps", table);
  }
  src.mountinfo = mountinfo;
  src.swaps = swaps;
  usage = scan (&src);
  expected = g_strdup_printf ("mount virtio6/block/vdd/vdd2: /dev/vdd2 is mounted on /var\n"
                              "swap virtio6/block/vdd/vdd2: /dev/vdd2 holds the active swap file %s\n",
                              swapfile);
  assert_uses (usage, "0a.0", expected);
}

static void
assert_scan_fails (const HdHostUsageSources *src, int code, const char *path, const char *where)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdHostUsage) usage = hd_host_usage_scan (src, &error);

  g_assert_null (usage);
  g_assert_error (error, HD_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, where));
}

static void
test_malformed (Fixture *f, gconstpointer data)
{
  HdHostUsageSources src = sources ("mountinfo-malformed", "missing", "missing", "missing");
  g_autofree char *long_line = g_strnfill (70 * 1024, 'x');
  g_autofree char *too_long = scratch_file (f, "too-long", long_line);
  g_autofree char *bad_swaps = scratch_file (f, "bad-swaps", "Filename Type Size Used Priority\n/dev/vda3 partition\n");
  g_autofree char *bad_route = scratch_file (f, "bad-route", "Iface Destination\neth0 00000000 0202000A\n");
  g_autofree char *bad_route6 = scratch_file (f, "bad-route6", "fe80 40 eth0\n");

  assert_scan_fails (&src, HD_ERROR_INVALID_DATA, src.mountinfo, "line 2");
  src.mountinfo = too_long;
  assert_scan_fails (&src, HD_ERROR_INVALID_DATA, too_long, "line 1");
  src.mountinfo = fixture_file ("missing");
  src.swaps = bad_swaps;
  assert_scan_fails (&src, HD_ERROR_INVALID_DATA, bad_swaps, "line 2");
  src.swaps = fixture_file ("missing");
  src.ipv4_routes = bad_route;
  assert_scan_fails (&src, HD_ERROR_INVALID_DATA, bad_route, "line 2");
  src.ipv4_routes = fixture_file ("missing");
  src.ipv6_routes = bad_route6;
  assert_scan_fails (&src, HD_ERROR_INVALID_DATA, bad_route6, "line 1");
  /* a directory cannot be read: that is no "missing" */
  src.ipv6_routes = f->tmpdir;
  assert_scan_fails (&src, HD_ERROR_FAILED, f->tmpdir, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/host-usage/disks", Fixture, NULL, fixture_setup, test_disks, fixture_teardown);
  g_test_add ("/host-usage/overlay-on-9p", Fixture, NULL, fixture_setup, test_overlay_on_9p, fixture_teardown);
  g_test_add ("/host-usage/network", Fixture, NULL, fixture_setup, test_network, fixture_teardown);
  g_test_add ("/host-usage/display", Fixture, NULL, fixture_setup, test_display, fixture_teardown);
  g_test_add ("/host-usage/missing", Fixture, NULL, fixture_setup, test_missing, fixture_teardown);
  g_test_add ("/host-usage/swap-file", Fixture, NULL, fixture_setup, test_swap_file, fixture_teardown);
  g_test_add ("/host-usage/malformed", Fixture, NULL, fixture_setup, test_malformed, fixture_teardown);
  return g_test_run ();
}
