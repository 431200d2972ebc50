/* Shared between the host-readiness files: host-readiness.c (the facts),
 * host-readiness-checks.c (firmware, kernel, interrupts, SELinux in words),
 * host-readiness-modules.c (kernel modules, /dev/vfio/vfio),
 * host-readiness-groups.c (IOMMU group layout in words),
 * host-readiness-cmdline.c (the kernel command line's grammar) and
 * host-readiness-fixes.c (the boot-loader fix texts).  Not for use outside
 * nodedev/ (and its unit test). */
#pragma once

#include "host-readiness.h"

G_BEGIN_DECLS

/* ---- reading below the root ---- */

/* @root joined with @rel ("proc/cmdline"); never escapes @root as long as
 * @rel comes from us or has been validated (group numbers, addresses). */
char *hd_readiness_path (const char *root, const char *rel);

/* The whole file, or NULL when it cannot be read (a missing file is a fact
 * for the caller, not an error). */
char *hd_readiness_read (const char *root, const char *rel);

/* The first line of a sysfs or procfs attribute, stripped; NULL if unreadable. */
char *hd_readiness_read_line (const char *root, const char *rel);

gboolean hd_readiness_exists (const char *root, const char *rel);

/* Appends a check; takes @detail and @fix (either may be NULL). */
HdReadinessCheck *hd_readiness_add (GPtrArray *checks, const char *id, const char *title,
                                    HdReadinessStatus status, char *detail, char *fix);

/* ---- the kernel command line (host-readiness-cmdline.c) ---- */

/* The kernel's own words, split as the kernel's next_arg() does (double
 * quotes group, and are dropped), up to "--": what follows belongs to init. */
GPtrArray *hd_cmdline_split (const char *text);

/* The value of the last @name on the line: "" for a bare word, NULL when
 * absent.  Names compare as the kernel compares them: '-' equals '_'. */
const char *hd_cmdline_get (const GPtrArray *words, const char *name);

/* kstrtobool(), as bool module parameters read it: y/Y/1/on are true, and
 * a bare word ("") sets a bool on the command line. */
gboolean hd_cmdline_bool (const char *value);

/* "name" matches every word naming it ("name", "name=…"); "name=value"
 * only that exact word. */
gboolean hd_cmdline_word_matches (const char *word, const char *spec);

/* TRUE when the comma-separated @value holds @token ("on,sm_on" holds "on"). */
gboolean hd_cmdline_value_has (const char *value, const char *token);

/* ---- the boot loader and the distribution (host-readiness-fixes.c) ---- */

typedef struct _HdBootConfig HdBootConfig;

/* /etc/os-release, /etc/default/grub and /etc/default/grub.d/ *.cfg. */
HdBootConfig *hd_boot_config_read (const char *root);
void hd_boot_config_free (HdBootConfig *boot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdBootConfig, hd_boot_config_free)

typedef enum {
  HD_BOOT_LINE_LINUX,   /* GRUB_CMDLINE_LINUX (and _DEFAULT) */
  HD_BOOT_LINE_XEN,     /* GRUB_CMDLINE_XEN_DEFAULT (and GRUB_CMDLINE_XEN) */
} HdBootLine;

/* The exact steps that put the words of @add on @line's command line and
 * take off every word matching @remove (both NULL-terminated or NULL;
 * "name" matches any value of name, "name=value" only that word): the new
 * GRUB_CMDLINE_* line for this machine, the command that regenerates the
 * boot configuration on this distribution, and the reboot. */
char *hd_boot_config_fix (const HdBootConfig *boot, HdBootLine line,
                          const char *const *add, const char *const *remove);

/* The raw value of a GRUB_CMDLINE_* variable, NULL when never set. */
const char *hd_boot_config_get (const HdBootConfig *boot, const char *name);

/* ---- the facts one probe gathers, shared by the check writers ---- */

typedef struct {
  const char *root;
  HdReadiness *r;
  char *release;             /* proc/sys/kernel/osrelease */
  GPtrArray *cmdline;        /* the running kernel's words */
  HdBootConfig *boot;

  char *vendor_id;           /* "GenuineIntel", as /proc/cpuinfo spells it */
  gboolean x86;              /* cpuinfo has a "flags" line: vmx/svm mean something */
  gboolean vmx, svm;
  gboolean in_vm;            /* the "hypervisor" flag: this host is a guest itself */

  gboolean xen;              /* running on Xen, dom0 or not */
  gboolean xen_caps_known;   /* /proc/xen/capabilities could be read (xenfs mounted) */
  char *xen_hv_caps;         /* sys/hypervisor/properties/capabilities */
  char *xen_version;         /* "4.17" */

  gboolean acpi_tables;      /* sys/firmware/acpi/tables exists */
  gboolean dmar, xmar, ivrs; /* XMAR: Xen hides DMAR from dom0 under that name */
  GPtrArray *iommu_units;    /* sys/class/iommu entries, sorted */
  gboolean groups_dir;       /* sys/kernel/iommu_groups exists (CONFIG_IOMMU_API) */

  gboolean interrupts_read;  /* proc/interrupts could be read */
  int ir_hardware;           /* -1 unknown, else whether every VT-d unit has ecap.IR */
  char *unsafe_word;         /* the kernel word that allows unsafe interrupts */
  char *unsafe_file;         /* the modprobe.d file that does */
  gboolean unsafe_runtime;   /* the loaded module's parameter says Y */
  int virt_use_sysfs_pending; /* -1 unknown, else the value after the next commit */

  GPtrArray *boot_edits;     /* HdBootEdit, in the order the checks asked */
} HdProbe;

/* A change to a boot line that @check's fix makes.  The fix text is written
 * after every check has had its say (hd_probe_write_boot_fixes), because two
 * checks may change the same line: each fix then shows the line with every
 * change this report asks for (those of WARN and FAIL checks), so following
 * one fix never undoes another.  @more (may be NULL) follows the steps. */
GPtrArray *hd_probe_boot_edits_new (void);
void hd_probe_boot_fix (HdProbe *p, HdReadinessCheck *check, HdBootLine line,
                        const char *add, const char *const *remove, const char *more);
void hd_probe_write_boot_fixes (HdProbe *p);

/* The words of the running kernel line that turn the IOMMU off, NULL-terminated. */
GStrv hd_probe_iommu_off_words (const HdProbe *p);

/* cpu-virtualization, xen-dom0, iommu-*, xen-iommu, interrupt-remapping,
 * unsafe-interrupts, acs-override (host-readiness-checks.c). */
void hd_readiness_check_platform (HdProbe *p);

/* selinux and selinux-virt-use-sysfs. */
void hd_readiness_check_selinux (HdProbe *p);

/* ---- modules and groups ---- */

/* module-* and vfio-device; sets @r->vfio_available. */
void hd_readiness_check_modules (HdReadiness *r, const char *root, const char *release);

/* iommu-group-N for every group with more than one function, by number. */
void hd_readiness_check_groups (HdReadiness *r, const char *root);

G_END_DECLS
