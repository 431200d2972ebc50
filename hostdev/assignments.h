/* Assignments: which domain uses which PCI device, and what is wrong with
 * that.  Pure: the domains (from libvirt, or from Assign() on D-Bus) and
 * the facts of the host's devices come in, assignments and their
 * conflicts and warnings go out, so every rule is testable on tables.
 *
 * An assignment is (domain, device, managed, driver, state).  The rules
 * are the old guides' warnings, and libvirt's own start-time refusals
 * said before the start:
 * - one device in two domains that are running or set to autostart
 *   (libvirt refuses the second start: "PCI device … is in use by driver
 *   QEMU, domain …");
 * - one IOMMU group split across domains (VFIO gives a group to one
 *   container: the second domain cannot start);
 * - a managed='no' device still on a host driver while its domain
 *   autostarts (the start fails until someone detaches it);
 * - a device a domain references that this host does not have. */
#pragma once

#include <glib.h>

#include "nodedev/pci-address.h"
#include "xml/hostdev-xml.h"

G_BEGIN_DECLS

/* A domain as the assignments see it. */
typedef struct {
  char *name;
  char *uri;             /* qemu:///system, xen:///system, or "hostdevd" for Assign() */
  gboolean running;
  gboolean autostart;
  GPtrArray *hostdevs;   /* HdHostdev */
} HdAssignmentDomain;

HdAssignmentDomain *hd_assignment_domain_new (const char *name, const char *uri, gboolean running,
                                              gboolean autostart);
void hd_assignment_domain_free (HdAssignmentDomain *domain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdAssignmentDomain, hd_assignment_domain_free)

typedef enum {
  HD_ASSIGNMENT_DEFINED,   /* the domain is not running */
  HD_ASSIGNMENT_RUNNING,
} HdAssignmentState;

typedef struct {
  char *domain;
  char *uri;
  HdPciAddress address;
  char *device;            /* node-device name, pci_DDDD_BB_SS_F */
  gboolean managed;
  char *driver;            /* libvirt's name: vfio (also when the XML says nothing), kvm, xen */
  HdAssignmentState state;
  gboolean autostart;
} HdAssignment;

void hd_assignment_free (HdAssignment *assignment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdAssignment, hd_assignment_free)

const char *hd_assignment_state_to_string (HdAssignmentState state);   /* "defined", "running" */

typedef enum {
  HD_CONFLICT_SHARED_DEVICE,       /* error: two running/autostart domains */
  HD_CONFLICT_SPLIT_GROUP,         /* error: one IOMMU group, several domains */
  HD_CONFLICT_UNMANAGED_ON_HOST,   /* warning: managed='no', not detached, domain autostarts */
  HD_CONFLICT_MISSING_DEVICE,      /* warning: the host has no such device */
  HD_CONFLICT_VIRT_USE_SYSFS_OFF,  /* warning: pci-stub/pciback while SELinux's virt_use_sysfs is off */
} HdConflictKind;

typedef struct {
  HdConflictKind kind;
  gboolean error;          /* TRUE: a domain will fail to start; FALSE: a warning */
  char *device;            /* node-device name */
  GStrv domains;           /* the domains concerned, sorted */
  char *message;           /* translated, one sentence with the fix */
} HdConflict;

void hd_conflict_free (HdConflict *conflict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdConflict, hd_conflict_free)

const char *hd_conflict_kind_to_string (HdConflictKind kind);
/* "shared-device", "split-group", "unmanaged-on-host", "missing-device",
 * "virt-use-sysfs-off" */

/* What the rules need to know of a device; filled by the lookup. */
typedef struct {
  gboolean present;
  int iommu_group;         /* -1: none */
  const char *driver;      /* bound now; NULL: none */
  gboolean on_stub;        /* driver is vfio-pci, pci-stub or pciback */
} HdAssignmentFacts;

typedef void (*HdAssignmentLookup) (const HdPciAddress *address, HdAssignmentFacts *facts,
                                    gpointer user_data);

/* Every assignment of @domains (HdAssignmentDomain), sorted by device,
 * then domain. */
GPtrArray *hd_assignments_collect (GPtrArray *domains);

/* The conflicts and warnings of @assignments, sorted by kind, then
 * device; @lookup answers for each device. */
GPtrArray *hd_assignments_check (GPtrArray *assignments, HdAssignmentLookup lookup, gpointer user_data);

/* The SELinux rule, for libvirt's domains as much as for Assign()'s: with
 * pci-stub (`kvm`) or pciback (`xen`) QEMU itself uses the device's sysfs
 * files, which SELinux refuses while virt_use_sysfs is off.  When
 * @virt_use_sysfs_off (hd_selinux_virt_use_sysfs_running_off()), adds one
 * warning per device assigned with such a driver to @conflicts, which stays
 * sorted.  VFIO never needs the boolean. */
void hd_assignments_check_virt_use_sysfs (GPtrArray *assignments, gboolean virt_use_sysfs_off,
                                          GPtrArray *conflicts);

G_END_DECLS
