/* Host readiness: gathering the facts below the root, and the result's
 * life cycle.  The checks' words live in host-readiness-checks.c (firmware,
 * kernel, interrupts, SELinux), host-readiness-modules.c and
 * host-readiness-groups.c; the boot-line fix texts in
 * host-readiness-fixes.c, the kernel command line's grammar in
 * host-readiness-cmdline.c. */
#include "config.h"

#define G_LOG_DOMAIN "HostdevdReadiness"

#include "host-readiness-private.h"

#include <glib/gstdio.h>
#include <string.h>


/* ---- reading below the root ---- */

char *
hd_readiness_path (const char *root, const char *rel)
{
  return g_build_filename (root, rel, NULL);
}

char *
hd_readiness_read (const char *root, const char *rel)
{
  g_autofree char *path = hd_readiness_path (root, rel);
  char *text = NULL;

  /* g_file_get_contents reads to EOF: procfs files report a size of 0 */
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

char *
hd_readiness_read_line (const char *root, const char *rel)
{
  char *text = hd_readiness_read (root, rel);
  char *nl;

  if (text == NULL)
    return NULL;
  nl = strchr (text, '\n');
  if (nl != NULL)
    *nl = '\0';
  return g_strstrip (text);
}

gboolean
hd_readiness_exists (const char *root, const char *rel)
{
  g_autofree char *path = hd_readiness_path (root, rel);
  GStatBuf st;

  /* stat, not access (F_OK): the kernel asks the device cgroup even for
   * F_OK on a device node, so under the unit's DevicePolicy=closed an
   * existing /dev/vfio/vfio would look missing.  (The ACPI tables are
   * root-only files; stat needs no permission on them either.) */
  return g_stat (path, &st) == 0;
}

HdReadinessCheck *
hd_readiness_add (GPtrArray *checks, const char *id, const char *title,
                  HdReadinessStatus status, char *detail, char *fix)
{
  HdReadinessCheck *check = g_new0 (HdReadinessCheck, 1);

  check->id = g_strdup (id);
  check->title = g_strdup (title);
  check->status = status;
  check->detail = detail;
  check->fix = fix;
  g_ptr_array_add (checks, check);
  return check;
}

/* ---- facts ---- */

static void
read_cpu (HdProbe *p)
{
  g_autofree char *text = hd_readiness_read (p->root, "proc/cpuinfo");
  g_auto(GStrv) lines = NULL;
  const char *vendor;

  if (text == NULL)
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');
      g_autofree char *key = NULL;

      if (colon == NULL)
        continue;
      key = g_strstrip (g_strndup (lines[i], (gsize) (colon - lines[i])));
      if (g_str_equal (key, "vendor_id") && p->vendor_id == NULL)
        p->vendor_id = g_strstrip (g_strdup (colon + 1));
      else if (g_str_equal (key, "flags"))
        {
          g_auto(GStrv) flags = g_strsplit (colon + 1, " ", -1);

          /* as virt-host-validate: any processor's line counts */
          p->x86 = TRUE;
          p->vmx = p->vmx || g_strv_contains ((const char *const *) flags, "vmx");
          p->svm = p->svm || g_strv_contains ((const char *const *) flags, "svm");
          p->in_vm = p->in_vm || g_strv_contains ((const char *const *) flags, "hypervisor");
        }
    }

  /* The vendor decides which IOMMU to look for.  virt-host-validate goes by
   * vmx/svm alone, which loses the vendor exactly when VT-x or AMD-V is off
   * in the firmware; vendor_id does not, and the flags remain the fallback
   * (VIA/Zhaoxin have VT-x and VT-d). */
  vendor = p->vendor_id != NULL ? p->vendor_id : "";
  if (g_str_equal (vendor, "GenuineIntel"))
    p->r->cpu_vendor = g_strdup ("intel");
  else if (g_str_equal (vendor, "AuthenticAMD") || g_str_equal (vendor, "HygonGenuine"))
    p->r->cpu_vendor = g_strdup ("amd");
  else if (p->vmx)
    p->r->cpu_vendor = g_strdup ("intel");
  else if (p->svm)
    p->r->cpu_vendor = g_strdup ("amd");
  p->r->cpu_virtualization = p->vmx || p->svm;
}

static void
read_xen (HdProbe *p)
{
  g_autofree char *caps = hd_readiness_read_line (p->root, "proc/xen/capabilities");
  g_autofree char *type = hd_readiness_read_line (p->root, "sys/hypervisor/type");
  g_autofree char *major = hd_readiness_read_line (p->root, "sys/hypervisor/version/major");
  g_autofree char *minor = hd_readiness_read_line (p->root, "sys/hypervisor/version/minor");

  p->xen_caps_known = caps != NULL;
  p->r->xen_dom0 = caps != NULL && strstr (caps, "control_d") != NULL;
  p->xen = p->r->xen_dom0 || g_strcmp0 (type, "xen") == 0;
  if (!p->xen)
    return;
  p->xen_hv_caps = hd_readiness_read_line (p->root, "sys/hypervisor/properties/capabilities");
  if (major != NULL && minor != NULL)
    p->xen_version = g_strdup_printf ("%s.%s", major, minor);
}

static gboolean
all_digits (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
read_iommu (HdProbe *p)
{
  g_autofree char *class_dir = hd_readiness_path (p->root, "sys/class/iommu");
  g_autofree char *groups_path = hd_readiness_path (p->root, "sys/kernel/iommu_groups");
  g_autoptr(GDir) units = g_dir_open (class_dir, 0, NULL);
  g_autoptr(GDir) groups = g_dir_open (groups_path, 0, NULL);
  const char *name;

  p->acpi_tables = hd_readiness_exists (p->root, "sys/firmware/acpi/tables");
  p->dmar = hd_readiness_exists (p->root, "sys/firmware/acpi/tables/DMAR");
  p->xmar = hd_readiness_exists (p->root, "sys/firmware/acpi/tables/XMAR");
  p->ivrs = hd_readiness_exists (p->root, "sys/firmware/acpi/tables/IVRS");
  p->r->iommu_acpi_table = p->dmar || p->ivrs || (p->r->xen_dom0 && p->xmar);

  p->iommu_units = g_ptr_array_new_with_free_func (g_free);
  while (units != NULL && (name = g_dir_read_name (units)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (p->iommu_units, g_strdup (name));
  g_ptr_array_sort (p->iommu_units, compare_strings);

  p->groups_dir = groups != NULL;
  while (groups != NULL && (name = g_dir_read_name (groups)) != NULL)
    if (all_digits (name))
      p->r->n_iommu_groups++;
  p->r->iommu_active = p->iommu_units->len > 0 || p->r->n_iommu_groups > 0;
}

/* Interrupt remapping in use: the kernel names the remapping irq chips
 * "IR-IO-APIC" and "IR-PCI-MSI…" in /proc/interrupts (dmesg's "DMAR-IR:
 * Enabled IRQ remapping" needs the log; this needs nothing). */
static void
read_interrupts (HdProbe *p)
{
  g_autofree char *text = hd_readiness_read (p->root, "proc/interrupts");

  p->ir_hardware = -1;
  p->interrupts_read = text != NULL;
  p->r->interrupt_remapping = text != NULL && (strstr (text, " IR-") != NULL || strstr (text, "\tIR-") != NULL);

  /* What the hardware can do: VT-d's extended capability register, bit 3 (IR). */
  for (guint i = 0; i < p->iommu_units->len; i++)
    {
      const char *unit = g_ptr_array_index (p->iommu_units, i);
      g_autofree char *rel = g_strdup_printf ("sys/class/iommu/%s/intel-iommu/ecap", unit);
      g_autofree char *ecap = hd_readiness_read_line (p->root, rel);
      guint64 value;

      if (ecap == NULL || !g_ascii_string_to_unsigned (ecap, 16, 0, G_MAXUINT64, &value, NULL))
        continue;
      p->ir_hardware = (p->ir_hardware != 0) && (value & (1u << 3)) != 0;
    }
}

/* "options vfio_iommu_type1 allow_unsafe_interrupts=1" in /etc/modprobe.d:
 * it takes effect whenever the module is next loaded. */
static char *
modprobe_d_unsafe (const char *root)
{
  g_autofree char *dir_path = hd_readiness_path (root, "etc/modprobe.d");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *rel = g_strconcat ("etc/modprobe.d/", (char *) g_ptr_array_index (names, i), NULL);
      g_autofree char *text = hd_readiness_read (root, rel);
      g_auto(GStrv) lines = text != NULL ? g_strsplit (text, "\n", -1) : NULL;

      for (guint l = 0; lines != NULL && lines[l] != NULL; l++)
        {
          g_auto(GStrv) words = g_strsplit_set (g_strstrip (lines[l]), " \t", -1);
          guint n = g_strv_length (words);

          if (n < 3 || !g_str_equal (words[0], "options") ||
              (!g_str_equal (words[1], "vfio_iommu_type1") && !g_str_equal (words[1], "vfio-iommu-type1")))
            continue;
          for (guint w = 2; w < n; w++)
            if (g_str_has_prefix (words[w], "allow_unsafe_interrupts=") &&
                hd_cmdline_bool (words[w] + strlen ("allow_unsafe_interrupts=")))
              return g_strconcat ("/", rel, NULL);
        }
    }
  return NULL;
}

static void
read_unsafe (HdProbe *p)
{
  g_autofree char *param = hd_readiness_read_line (p->root, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
  const char *word = hd_cmdline_get (p->cmdline, "vfio_iommu_type1.allow_unsafe_interrupts");

  p->unsafe_runtime = hd_cmdline_bool (param);
  if (hd_cmdline_bool (word))
    p->unsafe_word = *word != '\0' ? g_strconcat ("vfio_iommu_type1.allow_unsafe_interrupts=", word, NULL)
                                   : g_strdup ("vfio_iommu_type1.allow_unsafe_interrupts");
  p->unsafe_file = modprobe_d_unsafe (p->root);
  /* the loaded module's value is the truth; the rest says what the next load does */
  p->r->unsafe_interrupts = param != NULL ? p->unsafe_runtime : (p->unsafe_word != NULL || p->unsafe_file != NULL);
  p->r->acs_override = hd_cmdline_get (p->cmdline, "pcie_acs_override") != NULL;
}

static void
read_selinux (HdProbe *p)
{
  g_autofree char *enforce = hd_readiness_read_line (p->root, "sys/fs/selinux/enforce");
  g_autofree char *boolean = hd_readiness_read_line (p->root, "sys/fs/selinux/booleans/virt_use_sysfs");

  if (enforce == NULL)
    p->r->selinux_mode = g_strdup ("disabled");
  else
    p->r->selinux_mode = g_strdup (g_str_equal (enforce, "1") ? "enforcing" : "permissive");
  /* "current pending": the running value, then the one the next commit sets */
  p->r->virt_use_sysfs = boolean == NULL ? -1 : boolean[0] == '1';
  p->virt_use_sysfs_pending = boolean == NULL || strlen (boolean) < 3 ? -1 : boolean[2] == '1';
}

GStrv
hd_probe_iommu_off_words (const HdProbe *p)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  static const char *const names[] = { "intel_iommu", "amd_iommu", "iommu" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *value = hd_cmdline_get (p->cmdline, names[i]);

      if (hd_cmdline_value_has (value, "off"))
        {
          g_autofree char *word = g_strconcat (names[i], "=", value, NULL);

          g_strv_builder_add (b, word);
        }
    }
  return g_strv_builder_end (b);
}

/* ---- the result ---- */

void
hd_readiness_check_free (HdReadinessCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->id);
  g_free (check->title);
  g_free (check->detail);
  g_free (check->fix);
  g_free (check);
}

void
hd_readiness_free (HdReadiness *readiness)
{
  if (readiness == NULL)
    return;
  g_free (readiness->cpu_vendor);
  g_free (readiness->selinux_mode);
  g_free (readiness->kernel_cmdline);
  g_clear_pointer (&readiness->checks, g_ptr_array_unref);
  g_free (readiness);
}

static void
probe_clear (HdProbe *p)
{
  g_free (p->release);
  g_clear_pointer (&p->cmdline, g_ptr_array_unref);
  g_clear_pointer (&p->boot, hd_boot_config_free);
  g_free (p->vendor_id);
  g_free (p->xen_hv_caps);
  g_free (p->xen_version);
  g_clear_pointer (&p->iommu_units, g_ptr_array_unref);
  g_free (p->unsafe_word);
  g_free (p->unsafe_file);
  g_clear_pointer (&p->boot_edits, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdProbe, probe_clear)

HdReadiness *
hd_readiness_probe (const char *root, GError **error)
{
  g_autoptr(HdReadiness) r = NULL;
  g_auto(HdProbe) p = { 0 };
  g_autoptr(GDir) dir = NULL;
  g_autofree char *cmdline = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (root == NULL)
    root = "/";
  /* everything else missing is a fact; a root we cannot read is not */
  dir = g_dir_open (root, 0, error);
  if (dir == NULL)
    return NULL;

  r = g_new0 (HdReadiness, 1);
  r->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_readiness_check_free);
  r->virt_use_sysfs = -1;
  p.root = root;
  p.r = r;
  p.release = hd_readiness_read_line (root, "proc/sys/kernel/osrelease");
  cmdline = hd_readiness_read_line (root, "proc/cmdline");
  r->kernel_cmdline = g_strdup (cmdline != NULL ? cmdline : "");
  p.cmdline = hd_cmdline_split (r->kernel_cmdline);
  p.boot = hd_boot_config_read (root);
  p.boot_edits = hd_probe_boot_edits_new ();

  read_cpu (&p);
  if (r->cpu_vendor == NULL)
    r->cpu_vendor = g_strdup ("");
  read_xen (&p);
  read_iommu (&p);
  read_interrupts (&p);
  read_unsafe (&p);
  read_selinux (&p);

  /* the order a person fixes things in: firmware, kernel, modules, policy, layout */
  hd_readiness_check_platform (&p);
  hd_readiness_check_modules (r, root, p.release);
  hd_readiness_check_selinux (&p);
  hd_readiness_check_groups (r, root);
  hd_probe_write_boot_fixes (&p);
  return g_steal_pointer (&r);
}

int
hd_readiness_verdict (const HdReadiness *readiness)
{
  int verdict = 0;

  for (guint i = 0; i < readiness->checks->len; i++)
    {
      const HdReadinessCheck *check = g_ptr_array_index (readiness->checks, i);

      if (check->status == HD_READINESS_FAIL)
        return 2;
      if (check->status == HD_READINESS_WARN)
        verdict = 1;
    }
  return verdict;
}

const char *
hd_readiness_status_to_string (HdReadinessStatus status)
{
  switch (status)
    {
    case HD_READINESS_PASS:
      return "pass";
    case HD_READINESS_INFO:
      return "info";
    case HD_READINESS_WARN:
      return "warn";
    case HD_READINESS_FAIL:
      return "fail";
    default:
      return "unknown";
    }
}
