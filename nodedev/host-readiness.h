/* Host readiness for PCI passthrough: the firmware, kernel and policy
 * switches the old guides start with, read from the host (or from a
 * fixture tree standing in for it), each with what it means and the exact
 * fix for this machine.
 *
 * Everything is read below @root ("/" on a host; a directory holding
 * proc/, sys/, etc/, lib/modules/, dev/ in tests): /proc/cpuinfo,
 * /proc/cmdline, /proc/interrupts, /proc/sys/kernel/{osrelease,modules_disabled},
 * /proc/xen/capabilities and /sys/hypervisor, the ACPI tables under
 * /sys/firmware/acpi/tables, /sys/class/iommu (VT-d ecap),
 * /sys/kernel/iommu_groups with each member's class and
 * current_link_speed under /sys/bus/pci/devices, /sys/module/<module>, the
 * kernel's modules
 * (libkmod on <root>/lib/modules/<release>), /dev/vfio/vfio, SELinux
 * (/sys/fs/selinux), /etc/os-release, /etc/default/grub (and grub.d/),
 * /etc/modprobe.d.  Nothing is written and nothing is loaded.  (libkmod
 * itself also reads the running kernel's /proc/cmdline for modprobe options;
 * that does not change what a lookup finds.) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HD_READINESS_PASS,    /* as it should be */
  HD_READINESS_INFO,    /* a fact worth knowing, no action needed (a fix, if any, is a suggestion) */
  HD_READINESS_WARN,    /* passthrough works, but not as well or not as safely as it could */
  HD_READINESS_FAIL,    /* passthrough cannot work until this is fixed */
} HdReadinessStatus;

typedef struct {
  char *id;       /* stable, for scripts.  Every probe has these, once each, in this
                   * order (the order a person fixes things in: firmware, kernel,
                   * modules, policy): "cpu-virtualization", "xen-dom0",
                   * "iommu-acpi-table", "iommu-kernel", "iommu-cmdline", "xen-iommu",
                   * "interrupt-remapping", "unsafe-interrupts", "acs-override",
                   * "module-vfio", "module-vfio-pci", "module-vfio-iommu-type1",
                   * "module-pci-stub", "module-xen-pciback", "vfio-device", "selinux",
                   * "selinux-virt-use-sysfs"; then "iommu-group-N", one per group
                   * with more than one function, by ascending N (always INFO).
                   * A check that does not apply to this host (xen-iommu off Xen,
                   * the VFIO modules on a Xen dom0, …) is INFO and says so. */
  char *title;    /* translated: "IOMMU firmware table (Intel VT-d: DMAR)" */
  HdReadinessStatus status;
  char *detail;   /* translated, what was found, never NULL: "ACPI table DMAR is present" */
  char *fix;      /* translated, the exact remedy for this machine; NULL for PASS and set
                   * for every WARN and FAIL.  May span lines, one step per line:
                   * "Edit /etc/default/grub so that it reads:\n"
                   * "  GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\n"
                   * "then run: update-grub\n"
                   * "and reboot."
                   * Fixes that change the same boot line show the line with every
                   * change the WARN and FAIL checks of this probe ask for, so that
                   * following one fix never undoes another. */
} HdReadinessCheck;

void hd_readiness_check_free (HdReadinessCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdReadinessCheck, hd_readiness_check_free)

typedef struct {
  /* The facts, for D-Bus properties and callers that want them raw. */
  char *cpu_vendor;            /* which IOMMU to look for: "intel" (GenuineIntel, or vmx as
                                * virt-host-validate decides), "amd" (AuthenticAMD,
                                * HygonGenuine, or svm) or "" (unknown, non-x86) */
  gboolean cpu_virtualization; /* vmx or svm in /proc/cpuinfo (FALSE on a Xen dom0, whose
                                * cpuinfo Xen masks; its check reads Xen's capabilities) */
  gboolean xen_dom0;           /* /proc/xen/capabilities holds control_d */
  gboolean iommu_acpi_table;   /* DMAR (Intel) or IVRS (AMD) present; on a Xen dom0 also
                                * XMAR, the name Xen gives DMAR once it has taken it */
  gboolean iommu_active;       /* /sys/class/iommu has entries or IOMMU groups exist (always
                                * FALSE on a Xen dom0: the IOMMU is Xen's) */
  guint n_iommu_groups;
  gboolean interrupt_remapping; /* in use: /proc/interrupts shows IR-… irq chips */
  gboolean unsafe_interrupts;  /* vfio_iommu_type1.allow_unsafe_interrupts: the loaded
                                * module's value, else the kernel line or /etc/modprobe.d */
  gboolean acs_override;       /* pcie_acs_override= on the kernel command line */
  gboolean vfio_available;     /* vfio-pci loaded, built in or loadable */
  char *selinux_mode;          /* "disabled", "permissive", "enforcing" */
  int virt_use_sysfs;          /* -1: no such boolean; else its running value */
  char *kernel_cmdline;        /* /proc/cmdline, stripped ("" when unreadable) */

  GPtrArray *checks;           /* HdReadinessCheck, in the order given for their ids */
} HdReadiness;

void hd_readiness_free (HdReadiness *readiness);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdReadiness, hd_readiness_free)

/* Reads every fact below @root (NULL: "/").  Missing files are facts
 * ("no DMAR table"), not errors; only an unreadable @root is an error
 * (G_FILE_ERROR, from opening it).  Blocking file reads only: call it from a
 * thread where that is fine (it takes milliseconds on a real host). */
HdReadiness *hd_readiness_probe (const char *root, GError **error);

/* The worst status among the checks: 0 when all pass (or are INFO), 1 with
 * warnings, 2 when passthrough cannot work (hostdevctl validate's exit
 * status). */
int hd_readiness_verdict (const HdReadiness *readiness);

const char *hd_readiness_status_to_string (HdReadinessStatus status);   /* "pass", "info", "warn", "fail" */

G_END_DECLS
