/* The platform checks in words: CPU virtualization, Xen, the IOMMU from the
 * firmware table to the kernel line, interrupt remapping and the two
 * switches that trade isolation for convenience (unsafe interrupts, ACS
 * override), and SELinux.  virt-host-validate's IOMMU findings keep its
 * wording, so a search for its message finds ours too. */
#include "config.h"

#include "host-readiness-private.h"

#include <string.h>

#include <glib/gi18n.h>

static gboolean
is_intel (const HdProbe *p)
{
  return g_str_equal (p->r->cpu_vendor, "intel");
}

static gboolean
is_amd (const HdProbe *p)
{
  return g_str_equal (p->r->cpu_vendor, "amd");
}

/* Which IOMMU the checks look for: the firmware table that is there
 * decides, because a machine may pair them unexpectedly (QEMU's default
 * CPU model is AMD's, with svm, while its IOMMU is Intel's VT-d); without
 * a table, the CPU's vendor says which one is missing. */
static gboolean
iommu_is_intel (const HdProbe *p)
{
  if (p->dmar || p->xmar)
    return TRUE;
  return !p->ivrs && is_intel (p);
}

static gboolean
iommu_is_amd (const HdProbe *p)
{
  if (p->ivrs)
    return !(p->dmar || p->xmar);
  return !(p->dmar || p->xmar) && is_amd (p);
}

/* "dmar0, dmar1" */
static char *
join_units (const HdProbe *p)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < p->iommu_units->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", (const char *) g_ptr_array_index (p->iommu_units, i));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- CPU and Xen ---- */

static char *
cpu_fix (const HdProbe *p)
{
  /* dom0 has the flag too, but its firmware is the machine's */
  if (p->in_vm && !p->r->xen_dom0)
    return g_strdup (_("This host is itself a virtual machine: enable nested virtualization on the outer host and give this machine the CPU's virtualization extension (e.g. the host-passthrough CPU model)."));
  if (is_intel (p))
    return g_strdup (_("Enable Intel VT-x (Virtualization Technology) in the firmware setup."));
  if (is_amd (p))
    return g_strdup (_("Enable AMD-V (SVM) in the firmware setup."));
  return g_strdup (_("Enable the CPU's virtualization extension (Intel VT-x or AMD-V) in the firmware setup."));
}

static void
check_cpu (HdProbe *p)
{
  const char *title = is_intel (p) ? _("CPU virtualization (Intel VT-x: vmx)")
                      : is_amd (p) ? _("CPU virtualization (AMD-V: svm)")
                      : _("CPU virtualization");
  GPtrArray *checks = p->r->checks;
  const char *id = "cpu-virtualization";

  if (p->r->xen_dom0)
    {
      /* Xen hides vmx/svm from dom0's cpuid; its own capabilities tell. */
      if (p->xen_hv_caps != NULL && strstr (p->xen_hv_caps, "hvm") != NULL)
        hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                          g_strdup_printf (_("Xen reports HVM support (%s); dom0's /proc/cpuinfo does not show vmx or svm under Xen"), p->xen_hv_caps),
                          NULL);
      else
        hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                          g_strdup (_("Xen reports no HVM support: only paravirtualized guests can run")),
                          cpu_fix (p));
    }
  else if (!p->x86)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("Not an x86 CPU (no flags in /proc/cpuinfo): hostdevd knows only x86's virtualization flags")),
                      NULL);
  else if (p->vmx || p->svm)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup_printf (_("The CPU has %s"), p->vmx ? "vmx" : "svm"), NULL);
  else
    hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                      g_strdup (_("Host not compatible with KVM; HW virtualization CPU features not found (no vmx or svm in /proc/cpuinfo)")),
                      cpu_fix (p));
}

static void
check_xen (HdProbe *p)
{
  const char *id = "xen-dom0";
  const char *title = _("Xen dom0");
  GPtrArray *checks = p->r->checks;

  if (p->r->xen_dom0 && p->xen_version != NULL)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup_printf (_("This is a Xen dom0 (Xen %s): devices go to guests through xen-pciback, and Xen drives the IOMMU"), p->xen_version),
                      NULL);
  else if (p->r->xen_dom0)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("This is a Xen dom0: devices go to guests through xen-pciback, and Xen drives the IOMMU")),
                      NULL);
  else if (p->xen && !p->xen_caps_known)
    hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                      g_strdup (_("Running on Xen, but /proc/xen is not mounted: dom0 and a guest cannot be told apart")),
                      g_strdup ("mount -t xenfs xenfs /proc/xen"));
  else if (p->xen)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("A Xen guest (domU), not dom0: only devices that dom0 gave this guest can be passed on")),
                      NULL);
  else
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("Not running on Xen")), NULL);
}

/* ---- the IOMMU ---- */

static char *
firmware_iommu_fix (const HdProbe *p)
{
  if (p->in_vm && !p->r->xen_dom0)
    return g_strdup (_("This host is itself a virtual machine: give it a virtual IOMMU (QEMU: the q35 machine with -device intel-iommu,intremap=on or -device amd-iommu), or assign the device on the outer host."));
  if (iommu_is_intel (p))
    return g_strdup (_("Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup."));
  if (iommu_is_amd (p))
    return g_strdup (_("Enable AMD-Vi (IOMMU) in the firmware setup."));
  return g_strdup (_("Enable the IOMMU (VT-d, AMD-Vi or SMMU) in the firmware setup, if the platform has one."));
}

/* What turns the IOMMU on from the kernel line, as @check's fix: for VT-d
 * intel_iommu=on; AMD-Vi is on unless something turns it off. */
static void
kernel_iommu_fix (HdProbe *p, HdReadinessCheck *check)
{
  g_auto(GStrv) off = hd_probe_iommu_off_words (p);

  if (iommu_is_intel (p))
    hd_probe_boot_fix (p, check, HD_BOOT_LINE_LINUX, "intel_iommu=on", (const char *const *) off, NULL);
  else if (off[0] != NULL)
    hd_probe_boot_fix (p, check, HD_BOOT_LINE_LINUX, NULL, (const char *const *) off, NULL);
  else if (iommu_is_amd (p))
    check->fix = g_strdup (_("AMD-Vi is on by default and nothing on the kernel command line turns it off: the kernel log tells why it is not in use (dmesg | grep -i AMD-Vi); the firmware may describe an IOMMU it has not enabled."));
  else
    check->fix = g_strdup (_("The kernel log tells why no IOMMU driver took the hardware: dmesg | grep -i iommu"));
}

static void
check_acpi_table (HdProbe *p)
{
  const char *id = "iommu-acpi-table";
  const char *title = iommu_is_intel (p) ? _("IOMMU firmware table (Intel VT-d: DMAR)")
                      : iommu_is_amd (p) ? _("IOMMU firmware table (AMD-Vi: IVRS)")
                      : _("IOMMU firmware table");
  GPtrArray *checks = p->r->checks;

  if (iommu_is_intel (p) && p->dmar)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS, g_strdup (_("ACPI table DMAR is present")), NULL);
  else if (iommu_is_intel (p) && p->r->xen_dom0 && p->xmar)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup (_("ACPI table DMAR is present (Xen took it and shows it to dom0 as XMAR)")), NULL);
  else if (iommu_is_intel (p))
    hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                      g_strdup (_("No ACPI DMAR table found, IOMMU either disabled in BIOS or not supported by this hardware platform")),
                      firmware_iommu_fix (p));
  else if (iommu_is_amd (p) && p->ivrs)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS, g_strdup (_("ACPI table IVRS is present")), NULL);
  else if (iommu_is_amd (p))
    hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                      g_strdup (_("No ACPI IVRS table found, IOMMU either disabled in BIOS or not supported by this hardware platform")),
                      firmware_iommu_fix (p));
  else if (p->dmar || p->ivrs)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup_printf (_("ACPI table %s is present"), p->dmar ? "DMAR" : "IVRS"), NULL);
  else if (p->iommu_units->len > 0)
    {
      g_autofree char *units = join_units (p);

      hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                        g_strdup_printf (_("No DMAR or IVRS table, but the kernel drives an IOMMU (%s)"), units), NULL);
    }
  else
    /* virt-host-validate's words for a CPU it does not know */
    hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                      g_strdup (_("Unknown if this platform has IOMMU support")), firmware_iommu_fix (p));
}

static void
check_iommu_kernel (HdProbe *p)
{
  const char *id = "iommu-kernel";
  const char *title = _("IOMMU enabled by the kernel");
  GPtrArray *checks = p->r->checks;
  guint n = p->r->n_iommu_groups;

  if (p->r->xen_dom0)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("On a Xen dom0 the IOMMU is Xen's: dom0's kernel shows no IOMMU groups (see xen-iommu)")), NULL);
  else if (p->r->iommu_active && p->iommu_units->len > 0)
    {
      g_autofree char *units = join_units (p);

      hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                        g_strdup_printf (ngettext ("%s active, %u IOMMU group", "%s active, %u IOMMU groups", n), units, n),
                        NULL);
    }
  else if (p->r->iommu_active)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup_printf (ngettext ("%u IOMMU group", "%u IOMMU groups", n), n), NULL);
  else if (!p->groups_dir)
    hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                      g_strdup (_("IOMMU capability not compiled into kernel (no /sys/kernel/iommu_groups)")),
                      g_strdup (_("Boot a kernel built with CONFIG_IOMMU_SUPPORT and CONFIG_INTEL_IOMMU or CONFIG_AMD_IOMMU, as distribution kernels are.")));
  else if (!p->r->iommu_acpi_table)
    hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                      g_strdup (_("No IOMMU groups: the firmware offers no IOMMU (see iommu-acpi-table)")),
                      firmware_iommu_fix (p));
  else
    kernel_iommu_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                                           g_strdup_printf (_("IOMMU appears to be disabled in kernel: no IOMMU groups, although the firmware offers %s"),
                                                            p->dmar ? "DMAR" : "IVRS"),
                                           NULL));
}

/* iommu=pt: the host's own devices skip translation. */
static gboolean
passthrough_mode (const HdProbe *p)
{
  return hd_cmdline_value_has (hd_cmdline_get (p->cmdline, "iommu"), "pt") ||
         hd_cmdline_bool (hd_cmdline_get (p->cmdline, "iommu.passthrough"));
}

static void
add_cmdline_pass (HdProbe *p, char *detail)
{
  const char *id = "iommu-cmdline";
  const char *title = _("IOMMU on the kernel command line");
  GPtrArray *checks = p->r->checks;

  if (passthrough_mode (p))
    {
      hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                        g_strdup_printf (_("%s; iommu=pt lets the host's own devices skip translation"), detail), NULL);
      g_free (detail);
      return;
    }
  if (!p->r->iommu_active)
    {
      hd_readiness_add (checks, id, title, HD_READINESS_PASS, detail, NULL);
      return;
    }
  hd_probe_boot_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                                          g_strdup_printf (_("%s; iommu=pt is not set, so the DMA of the host's own devices is translated too, which costs some speed"), detail),
                                          NULL),
                     HD_BOOT_LINE_LINUX, "iommu=pt", NULL, NULL);
  g_free (detail);
}

static void
check_cmdline (HdProbe *p)
{
  const char *id = "iommu-cmdline";
  const char *title = _("IOMMU on the kernel command line");
  GPtrArray *checks = p->r->checks;
  g_auto(GStrv) off = hd_probe_iommu_off_words (p);
  const char *intel = hd_cmdline_get (p->cmdline, "intel_iommu");

  if (p->r->xen_dom0)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("On a Xen dom0 the IOMMU is switched on Xen's command line, not dom0's (see xen-iommu)")), NULL);
  else if (off[0] != NULL)
    {
      g_autofree char *words = g_strjoinv (" ", off);

      kernel_iommu_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                                             g_strdup_printf (_("%s on the kernel command line turns the IOMMU off"), words),
                                             NULL));
    }
  else if (iommu_is_intel (p) && hd_cmdline_value_has (intel, "on"))
    add_cmdline_pass (p, g_strdup (_("intel_iommu=on is on the kernel command line")));
  else if (iommu_is_intel (p) && p->r->iommu_active)
    add_cmdline_pass (p, g_strdup (_("intel_iommu=on is not needed: this kernel turns VT-d on by default (CONFIG_INTEL_IOMMU_DEFAULT_ON)")));
  else if (iommu_is_intel (p) && p->r->iommu_acpi_table)
    kernel_iommu_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                                           g_strdup (_("intel_iommu=on is missing: this kernel leaves VT-d off unless asked")),
                                           NULL));
  else if (iommu_is_intel (p))
    kernel_iommu_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                                           g_strdup (_("intel_iommu=on is not set; most kernels need it once VT-d is on in the firmware")),
                                           NULL));
  else if (iommu_is_amd (p))
    add_cmdline_pass (p, g_strdup (_("AMD-Vi is on by default and nothing on the kernel command line turns it off")));
  else
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("Nothing on the kernel command line turns the IOMMU off (the switches checked are x86's)")), NULL);
}

static const char *
or_empty (const char *s)
{
  return s != NULL ? s : "";
}

/* Xen's "iommu=" is a list of booleans and options. */
static const char *
xen_iommu_state (const char *value)
{
  static const char *const off[] = { "0", "off", "no", "false", "disable" };
  static const char *const on[] = { "1", "on", "yes", "true", "enable", "force", "required" };

  for (guint i = 0; i < G_N_ELEMENTS (off); i++)
    if (hd_cmdline_value_has (value, off[i]))
      return "off";
  for (guint i = 0; i < G_N_ELEMENTS (on); i++)
    if (hd_cmdline_value_has (value, on[i]))
      return "on";
  return NULL;
}

static void
check_xen_iommu (HdProbe *p)
{
  const char *id = "xen-iommu";
  const char *title = _("IOMMU on Xen's command line");
  GPtrArray *checks = p->r->checks;
  g_autofree char *line = NULL;
  g_autoptr(GPtrArray) words = NULL;
  const char *value;
  const char *state;

  if (!p->r->xen_dom0)
    {
      hd_readiness_add (checks, id, title, HD_READINESS_INFO, g_strdup (_("Not a Xen dom0: does not apply")), NULL);
      return;
    }
  /* dom0 cannot read Xen's running command line from a file: the boot
   * configuration is what the next boot gets, and Xen's default is on. */
  line = g_strdup_printf ("%s %s", or_empty (hd_boot_config_get (p->boot, "GRUB_CMDLINE_XEN")),
                          or_empty (hd_boot_config_get (p->boot, "GRUB_CMDLINE_XEN_DEFAULT")));
  words = hd_cmdline_split (line);
  value = hd_cmdline_get (words, "iommu");
  state = xen_iommu_state (value);
  if (g_strcmp0 (state, "off") == 0)
    {
      g_autofree char *word = g_strconcat ("iommu=", value, NULL);
      const char *remove[] = { word, NULL };

      hd_probe_boot_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                                              g_strdup_printf (_("%s on Xen's command line in /etc/default/grub turns Xen's IOMMU off"), word),
                                              NULL),
                         HD_BOOT_LINE_XEN, "iommu=1", remove, NULL);
    }
  else if (state != NULL)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup_printf (_("iommu=%s is on Xen's command line in /etc/default/grub"), value), NULL);
  else
    hd_probe_boot_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                                            g_strdup (_("Xen turns its IOMMU on by default where the firmware offers one; iommu=1 on Xen's line makes it explicit. To see it in use: xl dmesg | grep -i 'I/O virtualisation'")),
                                            NULL),
                       HD_BOOT_LINE_XEN, "iommu=1", NULL, NULL);
}

/* ---- interrupts ---- */

/* The words that turn interrupt remapping off (Intel's intremap=off,
 * nointremap), NULL-terminated. */
static GStrv
intremap_off_words (const HdProbe *p)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  const char *intremap = hd_cmdline_get (p->cmdline, "intremap");

  if (hd_cmdline_value_has (intremap, "off"))
    {
      g_autofree char *word = g_strconcat ("intremap=", intremap, NULL);

      g_strv_builder_add (b, word);
    }
  if (hd_cmdline_get (p->cmdline, "nointremap") != NULL)
    g_strv_builder_add (b, "nointremap");
  return g_strv_builder_end (b);
}

static void
remapping_fix (HdProbe *p, HdReadinessCheck *check)
{
  g_auto(GStrv) off = intremap_off_words (p);

  if (off[0] != NULL)
    hd_probe_boot_fix (p, check, HD_BOOT_LINE_LINUX, NULL, (const char *const *) off, NULL);
  else if (!p->r->iommu_acpi_table)
    /* no DMAR/IVRS, no remapping: the IOMMU brings it */
    check->fix = firmware_iommu_fix (p);
  else if (p->ir_hardware == 0)
    check->fix = g_strdup (_("The VT-d units have no interrupt remapping (ecap IR bit clear): this hardware cannot isolate interrupts; the only way left is vfio_iommu_type1.allow_unsafe_interrupts=1, which weakens isolation."));
  else
    check->fix = g_strdup (_("Enable interrupt remapping (often tied to x2APIC) in the firmware setup; the kernel log tells why it is off: dmesg | grep -i remapping"));
}

static void
check_remapping (HdProbe *p)
{
  const char *id = "interrupt-remapping";
  const char *title = _("Interrupt remapping");
  GPtrArray *checks = p->r->checks;

  if (p->r->xen_dom0)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("Xen remaps interrupts itself, out of dom0's sight. To see it: xl dmesg | grep -i remapping")), NULL);
  else if (!p->x86 && p->r->cpu_vendor[0] == '\0')
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("Interrupt remapping is an x86 IOMMU feature; on other platforms the interrupt controller isolates MSIs (e.g. a GICv3 ITS)")), NULL);
  else if (!p->interrupts_read)
    hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                      g_strdup (_("Unknown: /proc/interrupts could not be read")),
                      g_strdup (_("Run the check where /proc/interrupts is readable: on the host itself, not in a container that hides it.")));
  else if (p->r->interrupt_remapping)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup (_("In use: /proc/interrupts shows remapped interrupt chips (IR-…)")), NULL);
  else if (p->r->unsafe_interrupts)
    remapping_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                                        g_strdup (_("Not in use; VFIO still assigns devices because allow_unsafe_interrupts is on, so a guest can raise interrupts the host never gave it")),
                                        NULL));
  else if (p->r->iommu_active)
    remapping_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_FAIL,
                                        g_strdup (_("Not in use: VFIO refuses to assign devices without it (\"No interrupt remapping support. Use the module param \\\"allow_unsafe_interrupts\\\" to enable VFIO IOMMU support on this platform\")")),
                                        NULL));
  else
    remapping_fix (p, hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                                        g_strdup (_("Not in use; look again once the IOMMU is on: VFIO refuses to assign devices without it")),
                                        NULL));
}

static void
check_unsafe (HdProbe *p)
{
  const char *id = "unsafe-interrupts";
  const char *title = _("VFIO unsafe interrupts");
  GPtrArray *checks = p->r->checks;
  g_autoptr(GPtrArray) where = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) fix = g_string_new (NULL);
  g_autofree char *joined = NULL;
  HdReadinessCheck *check;

  if (!p->r->unsafe_interrupts)
    {
      hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                        g_strdup (_("Off: VFIO refuses devices whose interrupts are not remapped")), NULL);
      return;
    }
  if (p->unsafe_word != NULL)
    g_ptr_array_add (where, g_strdup_printf (_("%s on the kernel command line"), p->unsafe_word));
  if (p->unsafe_file != NULL)
    g_ptr_array_add (where, g_strdup_printf (_("options in %s"), p->unsafe_file));
  if (p->unsafe_runtime && where->len == 0)
    g_ptr_array_add (where, g_strdup (_("the loaded module's parameter")));
  g_ptr_array_add (where, NULL);
  joined = g_strjoinv ("; ", (char **) where->pdata);

  check = hd_readiness_add (checks, id, title, HD_READINESS_WARN,
                            g_strdup_printf (_("On (%s): VFIO assigns devices even without interrupt remapping, so a guest can raise interrupts the host never gave it"), joined),
                            NULL);
  if (!p->r->interrupt_remapping)
    {
      /* taking the switch away would stop VFIO: no line to change yet */
      check->fix = g_strdup (_("This host does not remap interrupts, so this switch is what lets VFIO work here: take it away once interrupt remapping is on (see interrupt-remapping)."));
      return;
    }
  if (p->unsafe_file != NULL)
    g_string_append_printf (fix, _("Remove allow_unsafe_interrupts=1 from %s."), p->unsafe_file);
  if (p->unsafe_runtime)
    {
      g_string_append_printf (fix, "%s", fix->len > 0 ? "\n" : "");
      g_string_append_printf (fix, _("For the running system: %s"),
                              "echo N > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
    }
  if (p->unsafe_word != NULL)
    {
      const char *remove[] = { p->unsafe_word, NULL };

      hd_probe_boot_fix (p, check, HD_BOOT_LINE_LINUX, NULL, remove, fix->len > 0 ? fix->str : NULL);
    }
  else
    check->fix = g_string_free (g_steal_pointer (&fix), FALSE);
}

static void
check_acs (HdProbe *p)
{
  const char *id = "acs-override";
  const char *title = _("ACS override");
  const char *value = hd_cmdline_get (p->cmdline, "pcie_acs_override");
  g_autofree char *word = NULL;

  if (value == NULL)
    {
      hd_readiness_add (p->r->checks, id, title, HD_READINESS_PASS,
                        g_strdup (_("Not in use: the IOMMU groups are the ones the hardware isolates")), NULL);
      return;
    }
  word = *value != '\0' ? g_strconcat ("pcie_acs_override=", value, NULL) : g_strdup ("pcie_acs_override");
  hd_probe_boot_fix (p, hd_readiness_add (p->r->checks, id, title, HD_READINESS_WARN,
                                          g_strdup_printf (_("%s is on the kernel command line: a patched kernel (this is not in mainline Linux) splits IOMMU groups that the hardware does not isolate, so devices in \"separate\" groups can still reach each other by peer-to-peer DMA"), word),
                                          NULL),
                     HD_BOOT_LINE_LINUX, NULL, (const char *const[]) { word, NULL }, NULL);
}

void
hd_readiness_check_platform (HdProbe *p)
{
  check_cpu (p);
  check_xen (p);
  check_acpi_table (p);
  check_iommu_kernel (p);
  check_cmdline (p);
  check_xen_iommu (p);
  check_remapping (p);
  check_unsafe (p);
  check_acs (p);
}

/* ---- SELinux ---- */

void
hd_readiness_check_selinux (HdProbe *p)
{
  const char *mode = p->r->selinux_mode;
  const char *title = _("SELinux boolean virt_use_sysfs");
  const char *id = "selinux-virt-use-sysfs";
  GPtrArray *checks = p->r->checks;
  const char *detail;
  gboolean pending = p->virt_use_sysfs_pending >= 0 && p->virt_use_sysfs_pending != p->r->virt_use_sysfs;

  if (g_str_equal (mode, "enforcing"))
    detail = _("SELinux is enforcing");
  else if (g_str_equal (mode, "permissive"))
    detail = _("SELinux is permissive: denials are logged, not enforced");
  else
    detail = _("SELinux is disabled (nothing mounted at /sys/fs/selinux)");
  hd_readiness_add (checks, "selinux", _("SELinux"), HD_READINESS_INFO, g_strdup (detail), NULL);

  if (g_str_equal (mode, "disabled"))
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("SELinux is disabled: the boolean does not apply")), NULL);
  else if (p->r->virt_use_sysfs < 0)
    hd_readiness_add (checks, id, title, HD_READINESS_INFO,
                      g_strdup (_("This SELinux policy has no virt_use_sysfs boolean")), NULL);
  else if (p->r->virt_use_sysfs == 1)
    hd_readiness_add (checks, id, title, HD_READINESS_PASS,
                      g_strdup (_("On: QEMU may write the sysfs files of the devices it is given")), NULL);
  else
    hd_readiness_add (checks, id, title,
                      g_str_equal (mode, "enforcing") ? HD_READINESS_WARN : HD_READINESS_INFO,
                      g_strdup_printf ("%s%s",
                                       _("Off: assignment through pci-stub or xen-pciback needs QEMU to write the device's sysfs files, which SELinux denies; VFIO does not need it"),
                                       pending ? _(" (a change to on waits for the next policy commit)") : ""),
                      g_strdup ("setsebool -P virt_use_sysfs 1"));
}
