/* Host readiness on fixture hosts (tests/data/hosts/<name>: the proc/,
 * sys/, etc/, lib/modules/ and dev/ files a real host would show): the
 * status of every check that matters for each host, the verdict, the exact
 * fix texts for this host's boot loader and distribution, and the IOMMU
 * group wording.  Variants copy a fixture to a temporary directory and
 * change one file.  Last, this machine: read-only, and only invariants. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nodedev/host-readiness.h"
#include "nodedev/host-readiness-private.h"

/* Every host has these, once each, in this order; iommu-group-N follow. */
static const char *const base_ids[] = {
  "cpu-virtualization", "xen-dom0", "iommu-acpi-table", "iommu-kernel", "iommu-cmdline",
  "xen-iommu", "interrupt-remapping", "unsafe-interrupts", "acs-override", "module-vfio",
  "module-vfio-pci", "module-vfio-iommu-type1", "module-pci-stub", "module-xen-pciback",
  "vfio-device", "selinux", "selinux-virt-use-sysfs",
};

static char *
host_dir (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "hosts", name, NULL);
}

static void
assert_invariants (const HdReadiness *r)
{
  guint n_base = G_N_ELEMENTS (base_ids);
  guint last_group = 0;

  g_assert_nonnull (r->cpu_vendor);
  g_assert_nonnull (r->selinux_mode);
  g_assert_nonnull (r->kernel_cmdline);
  g_assert_cmpuint (r->checks->len, >=, n_base);
  for (guint i = 0; i < r->checks->len; i++)
    {
      const HdReadinessCheck *c = g_ptr_array_index (r->checks, i);

      g_assert_nonnull (c->id);
      g_assert_cmpstr (c->id, !=, "");
      g_assert_nonnull (c->title);
      g_assert_cmpstr (c->title, !=, "");
      g_assert_nonnull (c->detail);
      g_assert_cmpstr (c->detail, !=, "");
      g_assert_cmpint (c->status, >=, HD_READINESS_PASS);
      g_assert_cmpint (c->status, <=, HD_READINESS_FAIL);
      /* what is not as it should be says what to do */
      if (c->status == HD_READINESS_WARN || c->status == HD_READINESS_FAIL)
        g_assert_nonnull (c->fix);
      if (c->status == HD_READINESS_PASS)
        g_assert_null (c->fix);
      if (i < n_base)
        g_assert_cmpstr (c->id, ==, base_ids[i]);
      else
        {
          guint64 n;

          g_assert_true (g_str_has_prefix (c->id, "iommu-group-"));
          g_assert_true (g_ascii_string_to_unsigned (c->id + strlen ("iommu-group-"), 10, 0, G_MAXUINT, &n, NULL));
          /* by number, not by name: 12 after 8 */
          g_assert_true (i == n_base || n > last_group);
          last_group = (guint) n;
        }
    }
}

static HdReadiness *
probe (const char *root)
{
  g_autoptr(GError) error = NULL;
  HdReadiness *r = hd_readiness_probe (root, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  assert_invariants (r);
  return r;
}

static HdReadiness *
probe_host (const char *name)
{
  g_autofree char *dir = host_dir (name);

  return probe (dir);
}

static const HdReadinessCheck *
find (const HdReadiness *r, const char *id)
{
  for (guint i = 0; i < r->checks->len; i++)
    {
      const HdReadinessCheck *c = g_ptr_array_index (r->checks, i);

      if (g_str_equal (c->id, id))
        return c;
    }
  g_error ("no check %s", id);
  return NULL;
}

static void
assert_status (const HdReadiness *r, const char *id, HdReadinessStatus status)
{
  const HdReadinessCheck *c = find (r, id);

  if (c->status != status)
    g_error ("%s: %s, expected %s (%s)", id, hd_readiness_status_to_string (c->status),
             hd_readiness_status_to_string (status), c->detail);
}

static guint
count_groups (const HdReadiness *r)
{
  guint n = 0;

  for (guint i = 0; i < r->checks->len; i++)
    n += g_str_has_prefix (((const HdReadinessCheck *) g_ptr_array_index (r->checks, i))->id, "iommu-group-");
  return n;
}

/* ---- fixture hosts ---- */

static void
test_intel (void)
{
  g_autoptr(HdReadiness) r = probe_host ("intel");

  g_assert_cmpstr (r->cpu_vendor, ==, "intel");
  g_assert_true (r->cpu_virtualization);
  g_assert_false (r->xen_dom0);
  g_assert_true (r->iommu_acpi_table);
  g_assert_true (r->iommu_active);
  g_assert_cmpuint (r->n_iommu_groups, ==, 10);
  g_assert_true (r->interrupt_remapping);
  g_assert_false (r->unsafe_interrupts);
  g_assert_false (r->acs_override);
  g_assert_true (r->vfio_available);
  g_assert_cmpstr (r->selinux_mode, ==, "disabled");
  g_assert_cmpint (r->virt_use_sysfs, ==, -1);
  g_assert_true (g_str_has_suffix (r->kernel_cmdline, "ro quiet intel_iommu=on iommu=pt"));

  assert_status (r, "cpu-virtualization", HD_READINESS_PASS);
  assert_status (r, "iommu-acpi-table", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "iommu-acpi-table")->title, ==, "IOMMU firmware table (Intel VT-d: DMAR)");
  assert_status (r, "iommu-kernel", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "iommu-kernel")->detail, ==, "dmar0, dmar1 active, 10 IOMMU groups");
  assert_status (r, "iommu-cmdline", HD_READINESS_PASS);
  assert_status (r, "interrupt-remapping", HD_READINESS_PASS);
  assert_status (r, "unsafe-interrupts", HD_READINESS_PASS);
  assert_status (r, "acs-override", HD_READINESS_PASS);
  assert_status (r, "module-vfio", HD_READINESS_PASS);
  assert_status (r, "module-vfio-pci", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "module-vfio-pci")->detail, ==, "vfio-pci is loaded");
  assert_status (r, "module-vfio-iommu-type1", HD_READINESS_PASS);
  assert_status (r, "module-pci-stub", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "module-pci-stub")->detail, ==,
                   "pci-stub is available (/lib/modules/6.1.0-18-amd64/kernel/drivers/pci/pci-stub.ko) but not loaded; "
                   "only the legacy kvm driver (pci-stub) uses it");
  assert_status (r, "module-xen-pciback", HD_READINESS_INFO);
  assert_status (r, "vfio-device", HD_READINESS_PASS);
  assert_status (r, "selinux-virt-use-sysfs", HD_READINESS_INFO);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 0);

  /* groups of one function are not worth a line: 1, 3, 8 and 12 remain */
  g_assert_cmpuint (count_groups (r), ==, 4);
  g_assert_cmpstr (find (r, "iommu-group-1")->title, ==, "IOMMU group 1");
  g_assert_cmpstr (find (r, "iommu-group-1")->detail, ==,
                   "IOMMU group 1 holds 3 functions (00:01.0 PCI bridge, 01:00.0 VGA compatible controller, "
                   "01:00.1 Audio device): they can only be assigned together");
  g_assert_cmpstr (find (r, "iommu-group-3")->detail, ==,
                   "IOMMU group 3 holds 2 functions (00:14.0 USB controller, 00:14.2 RAM memory): "
                   "they can only be assigned together");
  g_assert_cmpstr (find (r, "iommu-group-8")->detail, ==,
                   "IOMMU group 8 holds 3 functions (00:1f.0 ISA bridge, 00:1f.2 SATA controller, 00:1f.3 SMBus): "
                   "they can only be assigned together");
  g_assert_cmpstr (find (r, "iommu-group-12")->detail, ==,
                   "IOMMU group 12 holds a PCIe-to-PCI bridge (04:00.0) and 2 conventional PCI devices "
                   "(05:00.0 Ethernet controller, 05:01.0 Multimedia audio controller): they can only be assigned together");
  g_assert_cmpint (find (r, "iommu-group-12")->status, ==, HD_READINESS_INFO);
}

static void
test_amd (void)
{
  g_autoptr(HdReadiness) r = probe_host ("amd");

  g_assert_cmpstr (r->cpu_vendor, ==, "amd");
  g_assert_true (r->iommu_acpi_table);
  g_assert_true (r->iommu_active);
  g_assert_cmpuint (r->n_iommu_groups, ==, 5);
  g_assert_true (r->interrupt_remapping);
  g_assert_true (r->vfio_available);

  assert_status (r, "cpu-virtualization", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "cpu-virtualization")->title, ==, "CPU virtualization (AMD-V: svm)");
  assert_status (r, "iommu-acpi-table", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "iommu-acpi-table")->detail, ==, "ACPI table IVRS is present");
  assert_status (r, "iommu-kernel", HD_READINESS_PASS);
  /* AMD-Vi needs no word; iommu=pt is a suggestion, on Arch's line */
  assert_status (r, "iommu-cmdline", HD_READINESS_INFO);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"iommu=pt\"\n"
                   "then run: grub-mkconfig -o /boot/grub/grub.cfg\n"
                   "and reboot.");
  /* loadable, not loaded: fine, with the way to load it */
  assert_status (r, "module-vfio-pci", HD_READINESS_INFO);
  g_assert_cmpstr (find (r, "module-vfio-pci")->detail, ==,
                   "vfio-pci is available (/lib/modules/6.7.4-arch1-1/kernel/drivers/vfio/pci/vfio-pci.ko) but not loaded; "
                   "hostdevd loads it when a device is detached to it");
  g_assert_cmpstr (find (r, "module-vfio-pci")->fix, ==,
                   "To load it now: modprobe vfio-pci\n"
                   "To load it at every boot: echo vfio-pci > /etc/modules-load.d/vfio-pci.conf");
  assert_status (r, "vfio-device", HD_READINESS_INFO);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 0);

  g_assert_cmpuint (count_groups (r), ==, 3);
  g_assert_cmpstr (find (r, "iommu-group-14")->detail, ==,
                   "IOMMU group 14 holds 2 functions (0a:00.0 VGA compatible controller, 0a:00.1 Audio device): "
                   "they can only be assigned together");
  g_assert_cmpstr (find (r, "iommu-group-15")->detail, ==,
                   "IOMMU group 15 holds 3 functions (02:00.0 USB controller, 02:00.1 SATA controller, 02:00.2 PCI bridge): "
                   "they can only be assigned together");
}

static void
test_no_iommu (void)
{
  g_autoptr(HdReadiness) r = probe_host ("no-iommu");
  const HdReadinessCheck *table;

  g_assert_cmpstr (r->cpu_vendor, ==, "intel");
  g_assert_false (r->iommu_acpi_table);
  g_assert_false (r->iommu_active);
  g_assert_cmpuint (r->n_iommu_groups, ==, 0);
  g_assert_false (r->interrupt_remapping);

  table = find (r, "iommu-acpi-table");
  g_assert_cmpint (table->status, ==, HD_READINESS_FAIL);
  /* virt-host-validate's words */
  g_assert_cmpstr (table->detail, ==,
                   "No ACPI DMAR table found, IOMMU either disabled in BIOS or not supported by this hardware platform");
  g_assert_cmpstr (table->fix, ==, "Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup.");
  assert_status (r, "iommu-kernel", HD_READINESS_FAIL);
  g_assert_cmpstr (find (r, "iommu-kernel")->fix, ==, table->fix);
  /* the kernel word comes next, on Ubuntu's line */
  assert_status (r, "iommu-cmdline", HD_READINESS_INFO);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"intel_iommu=on\"\n"
                   "then run: update-grub\n"
                   "and reboot.");
  assert_status (r, "interrupt-remapping", HD_READINESS_WARN);
  g_assert_cmpstr (find (r, "interrupt-remapping")->fix, ==, table->fix);
  /* built in: by /sys/module (vfio, vfio-pci) and by modules.builtin alone */
  assert_status (r, "module-vfio", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "module-vfio")->detail, ==, "vfio is built into the kernel");
  assert_status (r, "module-vfio-pci", HD_READINESS_PASS);
  assert_status (r, "module-vfio-iommu-type1", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "module-vfio-iommu-type1")->detail, ==, "vfio_iommu_type1 is built into the kernel");
  assert_status (r, "vfio-device", HD_READINESS_PASS);
  g_assert_cmpuint (count_groups (r), ==, 0);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 2);
}

static const char iommu_off_fix[] =
  "Edit /etc/default/grub so that it reads:\n"
  "  GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\n"
  "then run: update-grub\n"
  "and reboot.";

static void
test_iommu_off_cmdline (void)
{
  g_autoptr(HdReadiness) r = probe_host ("iommu-off-cmdline");

  g_assert_true (r->iommu_acpi_table);
  g_assert_false (r->iommu_active);
  assert_status (r, "iommu-acpi-table", HD_READINESS_PASS);
  assert_status (r, "iommu-kernel", HD_READINESS_FAIL);
  g_assert_cmpstr (find (r, "iommu-kernel")->detail, ==,
                   "IOMMU appears to be disabled in kernel: no IOMMU groups, although the firmware offers DMAR");
  g_assert_cmpstr (find (r, "iommu-kernel")->fix, ==, iommu_off_fix);
  assert_status (r, "iommu-cmdline", HD_READINESS_FAIL);
  g_assert_cmpstr (find (r, "iommu-cmdline")->detail, ==, "intel_iommu=off on the kernel command line turns the IOMMU off");
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==, iommu_off_fix);
  /* interrupt remapping does not depend on intel_iommu= */
  assert_status (r, "interrupt-remapping", HD_READINESS_PASS);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 2);
}

static void
test_xen_dom0 (void)
{
  g_autoptr(HdReadiness) r = probe_host ("xen-dom0");

  g_assert_true (r->xen_dom0);
  g_assert_cmpstr (r->cpu_vendor, ==, "intel");
  /* Xen hides vmx from dom0 */
  g_assert_false (r->cpu_virtualization);
  g_assert_true (r->iommu_acpi_table);
  g_assert_false (r->iommu_active);

  assert_status (r, "cpu-virtualization", HD_READINESS_PASS);
  assert_status (r, "xen-dom0", HD_READINESS_INFO);
  g_assert_cmpstr (find (r, "xen-dom0")->detail, ==,
                   "This is a Xen dom0 (Xen 4.17): devices go to guests through xen-pciback, and Xen drives the IOMMU");
  assert_status (r, "iommu-acpi-table", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "iommu-acpi-table")->detail, ==,
                   "ACPI table DMAR is present (Xen took it and shows it to dom0 as XMAR)");
  assert_status (r, "iommu-kernel", HD_READINESS_INFO);
  assert_status (r, "iommu-cmdline", HD_READINESS_INFO);
  assert_status (r, "xen-iommu", HD_READINESS_INFO);
  g_assert_cmpstr (find (r, "xen-iommu")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=4096M,max:4096M iommu=1\"\n"
                   "then run: update-grub\n"
                   "and reboot.");
  assert_status (r, "interrupt-remapping", HD_READINESS_INFO);
  assert_status (r, "module-vfio-pci", HD_READINESS_INFO);
  assert_status (r, "module-xen-pciback", HD_READINESS_PASS);
  assert_status (r, "vfio-device", HD_READINESS_INFO);
  g_assert_cmpuint (count_groups (r), ==, 0);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 0);
}

static void
test_selinux_enforcing (void)
{
  g_autoptr(HdReadiness) r = probe_host ("selinux-enforcing");
  const HdReadinessCheck *boolean;

  g_assert_cmpstr (r->selinux_mode, ==, "enforcing");
  g_assert_cmpint (r->virt_use_sysfs, ==, 0);
  assert_status (r, "selinux", HD_READINESS_INFO);
  boolean = find (r, "selinux-virt-use-sysfs");
  g_assert_cmpint (boolean->status, ==, HD_READINESS_WARN);
  g_assert_cmpstr (boolean->fix, ==, "setsebool -P virt_use_sysfs 1");

  /* a 6.x kernel that turns VT-d on by itself: no intel_iommu=on needed */
  assert_status (r, "iommu-kernel", HD_READINESS_PASS);
  assert_status (r, "iommu-cmdline", HD_READINESS_INFO);
  g_assert_true (g_str_has_prefix (find (r, "iommu-cmdline")->detail, "intel_iommu=on is not needed"));
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"rootflags=subvol=root rhgb quiet iommu=pt\"\n"
                   "then run: grubby --update-kernel=ALL --args=\"iommu=pt\"\n"
                   "and reboot.");
  g_assert_cmpstr (find (r, "iommu-group-9")->detail, ==,
                   "IOMMU group 9 holds 4 functions (00:1f.0 ISA bridge, 00:1f.3 Audio device, 00:1f.4 SMBus, "
                   "00:1f.5 Serial bus controller): they can only be assigned together");
  g_assert_cmpint (hd_readiness_verdict (r), ==, 1);
}

static const char unsafe_acs_line[] =
  "Edit /etc/default/grub so that it reads:\n"
  "  GRUB_CMDLINE_LINUX_DEFAULT=\"splash=silent quiet mitigations=auto iommu=pt\"\n"
  "then run: grub2-mkconfig -o /boot/grub2/grub.cfg\n"
  "and reboot.";

static void
test_unsafe_acs (void)
{
  g_autoptr(HdReadiness) r = probe_host ("unsafe-acs");
  g_autofree char *unsafe_fix = g_strconcat (unsafe_acs_line, "\n",
                                             "Remove allow_unsafe_interrupts=1 from /etc/modprobe.d/vfio.conf.\n"
                                             "For the running system: echo N > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                                             NULL);

  g_assert_true (r->unsafe_interrupts);
  g_assert_true (r->acs_override);
  g_assert_true (r->interrupt_remapping);
  assert_status (r, "iommu-cmdline", HD_READINESS_PASS);
  assert_status (r, "interrupt-remapping", HD_READINESS_PASS);
  assert_status (r, "unsafe-interrupts", HD_READINESS_WARN);
  g_assert_cmpstr (find (r, "unsafe-interrupts")->detail, ==,
                   "On (vfio_iommu_type1.allow_unsafe_interrupts=1 on the kernel command line; options in /etc/modprobe.d/vfio.conf): "
                   "VFIO assigns devices even without interrupt remapping, so a guest can raise interrupts the host never gave it");
  assert_status (r, "acs-override", HD_READINESS_WARN);
  g_assert_true (g_str_has_prefix (find (r, "acs-override")->detail,
                                   "pcie_acs_override=downstream,multifunction is on the kernel command line"));
  /* both change one line: each fix shows it with both words gone, so that
   * following one does not undo the other */
  g_assert_cmpstr (find (r, "acs-override")->fix, ==, unsafe_acs_line);
  g_assert_cmpstr (find (r, "unsafe-interrupts")->fix, ==, unsafe_fix);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 1);
}

static void
test_unknown_cpu (void)
{
  g_autoptr(HdReadiness) r = probe_host ("unknown-cpu");

  g_assert_cmpstr (r->cpu_vendor, ==, "");
  g_assert_false (r->cpu_virtualization);
  g_assert_false (r->vfio_available);
  assert_status (r, "cpu-virtualization", HD_READINESS_INFO);
  g_assert_cmpstr (find (r, "iommu-acpi-table")->title, ==, "IOMMU firmware table");
  assert_status (r, "iommu-acpi-table", HD_READINESS_WARN);
  g_assert_cmpstr (find (r, "iommu-acpi-table")->detail, ==, "Unknown if this platform has IOMMU support");
  assert_status (r, "iommu-kernel", HD_READINESS_FAIL);
  assert_status (r, "iommu-cmdline", HD_READINESS_FAIL);
  /* an unknown distribution gets both spellings of GRUB's generator */
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"console=ttyAMA0,115200\"\n"
                   "then run: grub-mkconfig -o /boot/grub/grub.cfg (or, where GRUB is installed as grub2: grub2-mkconfig -o /boot/grub2/grub.cfg)\n"
                   "and reboot.");
  assert_status (r, "interrupt-remapping", HD_READINESS_INFO);
  assert_status (r, "module-vfio-pci", HD_READINESS_FAIL);
  g_assert_cmpstr (find (r, "module-vfio-pci")->detail, ==,
                   "vfio-pci is not available: no modules are installed for the running kernel 6.6.13-gentoo-arm64 "
                   "(/lib/modules/6.6.13-gentoo-arm64)");
  assert_status (r, "module-pci-stub", HD_READINESS_INFO);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 2);
}

/* ---- variants: a fixture copied, one file changed ---- */

static void
copy_tree (const char *src, const char *dst)
{
  g_autoptr(GDir) dir = g_dir_open (src, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (dst, 0755), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *from = g_build_filename (src, name, NULL);
      g_autofree char *to = g_build_filename (dst, name, NULL);
      struct stat st;

      g_assert_cmpint (lstat (from, &st), ==, 0);
      if (S_ISLNK (st.st_mode))
        {
          g_autofree char *target = g_file_read_link (from, NULL);

          g_assert_cmpint (symlink (target, to), ==, 0);
        }
      else if (S_ISDIR (st.st_mode))
        copy_tree (from, to);
      else
        {
          g_autofree char *data = NULL;
          gsize len;

          g_assert_true (g_file_get_contents (from, &data, &len, NULL));
          g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
        }
    }
}

static void
remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    g_assert_cmpint (g_unlink (path), ==, 0);
}

typedef struct {
  char *tmp;
  char *root;
} Variant;

static void
variant_setup (Variant *v, gconstpointer data)
{
  g_autofree char *src = host_dir (data);

  v->tmp = g_dir_make_tmp ("hostdevd-readiness-XXXXXX", NULL);
  g_assert_nonnull (v->tmp);
  v->root = g_build_filename (v->tmp, "host", NULL);
  copy_tree (src, v->root);
}

static void
variant_teardown (Variant *v, gconstpointer data)
{
  remove_tree (v->tmp);
  g_free (v->root);
  g_free (v->tmp);
}

static void
put (const Variant *v, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (v->root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
drop (const Variant *v, const char *rel)
{
  g_autofree char *path = g_build_filename (v->root, rel, NULL);

  g_assert_cmpint (g_unlink (path), ==, 0);
}

static const char no_ir_interrupts[] =
  "           CPU0       CPU1\n"
  "  0:         33          0   IO-APIC    2-edge      timer\n"
  "122:          0          0   PCI-MSI 16384-edge      PCIe PME\n";

static void
test_variant_no_remapping (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  put (v, "proc/interrupts", no_ir_interrupts);
  r = probe (v->root);
  g_assert_false (r->interrupt_remapping);
  /* VFIO refuses: a failure, with the firmware as the way out (the VT-d
   * units can remap: ecap.IR is set) */
  assert_status (r, "interrupt-remapping", HD_READINESS_FAIL);
  g_assert_true (strstr (find (r, "interrupt-remapping")->detail, "No interrupt remapping support") != NULL);
  g_assert_true (g_str_has_prefix (find (r, "interrupt-remapping")->fix, "Enable interrupt remapping"));
  g_assert_cmpint (hd_readiness_verdict (r), ==, 2);
  g_clear_pointer (&r, hd_readiness_free);

  /* units without ecap.IR: the hardware cannot */
  put (v, "sys/class/iommu/dmar1/intel-iommu/ecap", "19e2ff05056\n");
  r = probe (v->root);
  g_assert_true (g_str_has_prefix (find (r, "interrupt-remapping")->fix,
                                   "The VT-d units have no interrupt remapping (ecap IR bit clear)"));
  g_clear_pointer (&r, hd_readiness_free);

  /* intremap=off on the line: take it off */
  put (v, "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 ro quiet intel_iommu=on iommu=pt intremap=off\n");
  put (v, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt intremap=off\"\n");
  r = probe (v->root);
  g_assert_cmpstr (find (r, "interrupt-remapping")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n"
                   "then run: update-grub\n"
                   "and reboot.");
}

static void
test_variant_unsafe_needed (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  put (v, "proc/interrupts", no_ir_interrupts);
  r = probe (v->root);
  /* no remapping: the switch is what keeps VFIO working, so no fix takes it away */
  assert_status (r, "interrupt-remapping", HD_READINESS_WARN);
  assert_status (r, "unsafe-interrupts", HD_READINESS_WARN);
  g_assert_true (g_str_has_prefix (find (r, "unsafe-interrupts")->fix,
                                   "This host does not remap interrupts, so this switch is what lets VFIO work here"));
  g_assert_cmpstr (find (r, "acs-override")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX_DEFAULT=\"splash=silent quiet mitigations=auto vfio_iommu_type1.allow_unsafe_interrupts=1 iommu=pt\"\n"
                   "then run: grub2-mkconfig -o /boot/grub2/grub.cfg\n"
                   "and reboot.");
  g_assert_cmpint (hd_readiness_verdict (r), ==, 1);
}

static void
test_variant_no_vfio_device (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  drop (v, "dev/vfio/vfio");
  r = probe (v->root);
  assert_status (r, "vfio-device", HD_READINESS_WARN);
  g_assert_true (strstr (find (r, "vfio-device")->fix, "mknod -m 0666 /dev/vfio/vfio c 10 196") != NULL);
  g_assert_cmpint (hd_readiness_verdict (r), ==, 1);
}

/* QEMU's default CPU model is AMD's (svm) while its IOMMU is Intel's
 * VT-d: the table that is there decides which IOMMU is checked, not the
 * CPU's vendor (virt-host-validate would look for IVRS and fail). */
static void
test_variant_amd_cpu_intel_iommu (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  put (v, "proc/cpuinfo",
       "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 15\n"
       "model name\t: QEMU Virtual CPU version 2.5+\nflags\t\t: fpu pae msr svm lm\n\n");
  r = probe (v->root);
  g_assert_cmpstr (r->cpu_vendor, ==, "amd");
  assert_status (r, "cpu-virtualization", HD_READINESS_PASS);
  assert_status (r, "iommu-acpi-table", HD_READINESS_PASS);
  g_assert_cmpstr (find (r, "iommu-acpi-table")->detail, ==, "ACPI table DMAR is present");
  assert_status (r, "iommu-kernel", HD_READINESS_PASS);
  g_assert_true (r->iommu_acpi_table);
}

static void
test_variant_modules_disabled (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  put (v, "proc/sys/kernel/modules_disabled", "1\n");
  r = probe (v->root);
  /* loadable is not enough once loading is off */
  g_assert_false (r->vfio_available);
  assert_status (r, "module-vfio-pci", HD_READINESS_FAIL);
  g_assert_cmpstr (find (r, "module-vfio-pci")->fix, ==,
                   "Load it at boot, before module loading is disabled: echo vfio-pci > /etc/modules-load.d/vfio-pci.conf\n"
                   "Then reboot.");
  g_assert_cmpint (hd_readiness_verdict (r), ==, 2);
}

static void
test_variant_grub (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  /* the edit already made, the reboot not yet */
  put (v, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\nGRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\n");
  r = probe (v->root);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "/etc/default/grub already has this change; the running system was started before it was made.\n"
                   "Run: update-grub\n"
                   "and reboot.\n"
                   "If intel_iommu=off is still on the kernel command line then, something other than /etc/default/grub puts it there.");
  g_clear_pointer (&r, hd_readiness_free);

  /* the word comes from a cloud image's drop-in, which grub-mkconfig reads last */
  put (v, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"quiet\"\n");
  put (v, "etc/default/grub.d/50-cloudimg-settings.cfg",
       "# Set the default commandline\nGRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0 intel_iommu=off\"\n");
  r = probe (v->root);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\n"
                   "Edit /etc/default/grub.d/50-cloudimg-settings.cfg so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\n"
                   "then run: update-grub\n"
                   "and reboot.");
  g_clear_pointer (&r, hd_readiness_free);

  /* the running line has it, the boot configuration does not */
  drop (v, "etc/default/grub.d/50-cloudimg-settings.cfg");
  r = probe (v->root);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\n"
                   "intel_iommu=off is on the running command line but not in /etc/default/grub: "
                   "remove it where the boot loader's configuration sets it.\n"
                   "then run: update-grub\n"
                   "and reboot.");
  g_clear_pointer (&r, hd_readiness_free);

  /* no GRUB at all */
  drop (v, "etc/default/grub");
  r = probe (v->root);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Remove intel_iommu=off from the kernel command line in the boot loader's configuration (this host has no /etc/default/grub).\n"
                   "Add intel_iommu=on to the kernel command line in the boot loader's configuration (this host has no /etc/default/grub).\n"
                   "Then reboot.");
  g_clear_pointer (&r, hd_readiness_free);

  /* Fedora without /etc/default/grub: grubby edits the boot entries */
  put (v, "etc/os-release", "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n");
  r = probe (v->root);
  g_assert_cmpstr (find (r, "iommu-cmdline")->fix, ==,
                   "Run: grubby --update-kernel=ALL --remove-args=\"intel_iommu=off\" --args=\"intel_iommu=on\"\n"
                   "Then reboot.");
}

static void
test_variant_xen_iommu_off (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  put (v, "etc/default/grub",
       "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=4096M,max:4096M iommu=0\"\n");
  r = probe (v->root);
  assert_status (r, "xen-iommu", HD_READINESS_FAIL);
  g_assert_cmpstr (find (r, "xen-iommu")->fix, ==,
                   "Edit /etc/default/grub so that it reads:\n"
                   "  GRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=4096M,max:4096M iommu=1\"\n"
                   "then run: update-grub\n"
                   "and reboot.");
  g_assert_cmpint (hd_readiness_verdict (r), ==, 2);
  g_clear_pointer (&r, hd_readiness_free);

  put (v, "etc/default/grub", "GRUB_CMDLINE_XEN=\"iommu=1\"\n");
  r = probe (v->root);
  assert_status (r, "xen-iommu", HD_READINESS_PASS);
}

static void
test_variant_selinux (Variant *v, gconstpointer data)
{
  g_autoptr(HdReadiness) r = NULL;

  /* permissive: only logged; a pending change is mentioned */
  put (v, "sys/fs/selinux/enforce", "0");
  put (v, "sys/fs/selinux/booleans/virt_use_sysfs", "0 1");
  r = probe (v->root);
  g_assert_cmpstr (r->selinux_mode, ==, "permissive");
  assert_status (r, "selinux-virt-use-sysfs", HD_READINESS_INFO);
  g_assert_true (g_str_has_suffix (find (r, "selinux-virt-use-sysfs")->detail, "(a change to on waits for the next policy commit)"));
  g_clear_pointer (&r, hd_readiness_free);

  put (v, "sys/fs/selinux/enforce", "1");
  put (v, "sys/fs/selinux/booleans/virt_use_sysfs", "1 1");
  r = probe (v->root);
  g_assert_cmpint (r->virt_use_sysfs, ==, 1);
  assert_status (r, "selinux-virt-use-sysfs", HD_READINESS_PASS);
}

/* ---- pieces ---- */

static void
test_cmdline_split (void)
{
  g_autoptr(GPtrArray) words = hd_cmdline_split ("  BOOT_IMAGE=/vmlinuz \"dyndbg=file x.c +p\" acpi_osi=\"!Windows 2012\" "
                                                 "vfio-iommu-type1.allow-unsafe-interrupts nointremap -- iommu=off");

  g_assert_cmpuint (words->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (words, 1), ==, "dyndbg=file x.c +p");
  g_assert_cmpstr (g_ptr_array_index (words, 2), ==, "acpi_osi=!Windows 2012");
  /* dashes and underscores are one in names; a bare bool is set */
  g_assert_cmpstr (hd_cmdline_get (words, "vfio_iommu_type1.allow_unsafe_interrupts"), ==, "");
  g_assert_true (hd_cmdline_bool (hd_cmdline_get (words, "vfio_iommu_type1.allow_unsafe_interrupts")));
  g_assert_cmpstr (hd_cmdline_get (words, "nointremap"), ==, "");
  /* what follows "--" is init's */
  g_assert_null (hd_cmdline_get (words, "iommu"));
  g_assert_true (hd_cmdline_value_has ("on,sm_on", "on"));
  g_assert_false (hd_cmdline_value_has ("sm_on", "on"));
  g_assert_false (hd_cmdline_bool ("0"));
  g_assert_false (hd_cmdline_bool ("N"));
  g_assert_true (hd_cmdline_bool ("Y"));
}

/* libvirt's virt-host-validate on this same machine: everything it says
 * about device assignment, the probe says too, in the same direction (its
 * PASS is our pass; its WARN or FAIL is our warn or fail).  The words may
 * differ: it picks the IOMMU by the CPU's flags, we by the table that is
 * there. */
static void
test_like_virt_host_validate (void)
{
  static const struct { const char *what, *id; } map[] = {
    { "for hardware virtualization", "cpu-virtualization" },
    { "for device assignment IOMMU support", "iommu-acpi-table" },
    { "if IOMMU is enabled by kernel", "iommu-kernel" },
  };
  g_autofree char *path = g_find_program_in_path ("virt-host-validate");
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(HdReadiness) r = NULL;
  const char *argv[] = { NULL, "qemu", NULL };
  guint compared = 0;

  if (path == NULL)
    {
      g_test_skip ("virt-host-validate is not installed (libvirt-clients)");
      return;
    }
  argv[0] = path;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               &out, NULL, NULL, NULL));
  r = probe (NULL);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    for (guint m = 0; m < G_N_ELEMENTS (map); m++)
      {
        const char *colon = strrchr (lines[i], ':');
        const HdReadinessCheck *c;
        gboolean theirs_pass;

        if (strstr (lines[i], map[m].what) == NULL || colon == NULL)
          continue;
        theirs_pass = g_str_has_prefix (colon + 1, " PASS");
        c = find (r, map[m].id);
        g_test_message ("virt-host-validate: %s | hostdevd %s: %s", lines[i],
                        hd_readiness_status_to_string (c->status), c->detail);
        if (theirs_pass)
          g_assert_cmpint (c->status, ==, HD_READINESS_PASS);
        else
          g_assert_cmpint (c->status, >=, HD_READINESS_WARN);
        compared++;
      }
  /* It always reports hardware virtualization and the IOMMU's firmware. */
  g_assert_cmpuint (compared, >=, 2);
}

static void
test_missing_root (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdReadiness) r = hd_readiness_probe ("/nonexistent/hostdevd-test-root", &error);

  g_assert_null (r);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_status_strings (void)
{
  g_assert_cmpstr (hd_readiness_status_to_string (HD_READINESS_PASS), ==, "pass");
  g_assert_cmpstr (hd_readiness_status_to_string (HD_READINESS_INFO), ==, "info");
  g_assert_cmpstr (hd_readiness_status_to_string (HD_READINESS_WARN), ==, "warn");
  g_assert_cmpstr (hd_readiness_status_to_string (HD_READINESS_FAIL), ==, "fail");
}

/* This machine, read-only: whatever it is, the report is whole. */
static void
test_this_machine (void)
{
  g_autoptr(HdReadiness) r = probe (NULL);
  int verdict = hd_readiness_verdict (r);

  g_assert_cmpint (verdict, >=, 0);
  g_assert_cmpint (verdict, <=, 2);
  g_assert_true (g_str_equal (r->cpu_vendor, "intel") || g_str_equal (r->cpu_vendor, "amd") ||
                 g_str_equal (r->cpu_vendor, ""));
  g_assert_true (g_str_equal (r->selinux_mode, "disabled") || g_str_equal (r->selinux_mode, "permissive") ||
                 g_str_equal (r->selinux_mode, "enforcing"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/host-readiness/intel", test_intel);
  g_test_add_func ("/host-readiness/amd", test_amd);
  g_test_add_func ("/host-readiness/no-iommu", test_no_iommu);
  g_test_add_func ("/host-readiness/iommu-off-cmdline", test_iommu_off_cmdline);
  g_test_add_func ("/host-readiness/xen-dom0", test_xen_dom0);
  g_test_add_func ("/host-readiness/selinux-enforcing", test_selinux_enforcing);
  g_test_add_func ("/host-readiness/unsafe-acs", test_unsafe_acs);
  g_test_add_func ("/host-readiness/unknown-cpu", test_unknown_cpu);
  g_test_add ("/host-readiness/variant/no-remapping", Variant, "intel",
              variant_setup, test_variant_no_remapping, variant_teardown);
  g_test_add ("/host-readiness/variant/unsafe-needed", Variant, "unsafe-acs",
              variant_setup, test_variant_unsafe_needed, variant_teardown);
  g_test_add ("/host-readiness/variant/no-vfio-device", Variant, "intel",
              variant_setup, test_variant_no_vfio_device, variant_teardown);
  g_test_add ("/host-readiness/variant/amd-cpu-intel-iommu", Variant, "intel",
              variant_setup, test_variant_amd_cpu_intel_iommu, variant_teardown);
  g_test_add ("/host-readiness/variant/modules-disabled", Variant, "amd",
              variant_setup, test_variant_modules_disabled, variant_teardown);
  g_test_add ("/host-readiness/variant/grub", Variant, "iommu-off-cmdline",
              variant_setup, test_variant_grub, variant_teardown);
  g_test_add ("/host-readiness/variant/xen-iommu-off", Variant, "xen-dom0",
              variant_setup, test_variant_xen_iommu_off, variant_teardown);
  g_test_add ("/host-readiness/variant/selinux", Variant, "selinux-enforcing",
              variant_setup, test_variant_selinux, variant_teardown);
  g_test_add_func ("/host-readiness/cmdline-split", test_cmdline_split);
  g_test_add_func ("/host-readiness/missing-root", test_missing_root);
  g_test_add_func ("/host-readiness/status-strings", test_status_strings);
  g_test_add_func ("/host-readiness/this-machine", test_this_machine);
  g_test_add_func ("/host-readiness/this-machine/like-virt-host-validate", test_like_virt_host_validate);
  return g_test_run ();
}
