/* "Can this be detached, and what would it take?" — one answer for every
 * door (RPC, D-Bus, hostdevctl), computed from the inventory and the
 * host's use of devices, never from a door's own logic.
 *
 * A verdict lists the devices a detach would take (the device, plus its
 * IOMMU group and its conventional-PCI bridge set when the caller asks for
 * the group), the companions that block a detach of the device alone,
 * and the host's uses of any device it would take. */
#pragma once

#include <glib.h>

#include "host-usage.h"
#include "nodedev/inventory.h"
#include "stub-driver.h"

G_BEGIN_DECLS

typedef enum {
  HD_VERDICT_DETACHABLE,       /* can be detached as asked */
  HD_VERDICT_ALREADY_DETACHED, /* already on the requested stub: nothing to do */
  HD_VERDICT_NEEDS_GROUP,      /* only together with its IOMMU group / bridge set */
  HD_VERDICT_IN_USE_BY_HOST,   /* the host uses it (or a companion): needs force */
  HD_VERDICT_NOT_ASSIGNABLE,   /* not a PCI endpoint: never */
} HdVerdictKind;

typedef struct {
  char *name;                  /* node-device name */
  HdPciAddress address;
  char *driver;                /* bound now, NULL if none */
  char *why;                   /* why it is listed: "IOMMU group 3", "behind bridge …" */
} HdVerdictMember;

typedef struct {
  char *name;                  /* the device that was asked about */
  HdPciAddress address;
  int iommu_group;             /* -1: none */
  const HdStubDriver *stub;
  gboolean group;              /* the caller asked for the whole group */
  gboolean force;
  HdVerdictKind kind;
  GPtrArray *takes;            /* HdVerdictMember: what a detach moves to the stub, the device first */
  GPtrArray *blockers;         /* HdVerdictMember: companions a lone detach would leave on host drivers */
  GPtrArray *stays;            /* HdVerdictMember: companions that need nothing (bridges, no driver, stubs) */
  GPtrArray *host_uses;        /* char *: "/dev/vda1 backs the root filesystem", a companion's prefixed with its address */
  GPtrArray *reasons;          /* char *: the verdict in sentences, translated */
} HdVerdict;

void hd_verdict_free (HdVerdict *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdVerdict, hd_verdict_free)

/* @dev must be a current snapshot.  @usage may be NULL (nothing is in use). */
HdVerdict *hd_verdict_compute (HdInventory *inventory, HdHostUsage *usage,
                               HdNodeDevice *dev, const HdStubDriver *stub,
                               gboolean group, gboolean force);

/* TRUE if a detach may go ahead; otherwise the refusal as an HD_ERROR
 * (IN_USE for the host and the group, INVALID_ARGUMENT for bridges). */
gboolean hd_verdict_allows (const HdVerdict *verdict, GError **error);

const char *hd_verdict_kind_to_string (HdVerdictKind kind);

/* TRUE for PCI bridges (header type 1/2, or class 0x0604/0x0607 when
 * config space was not read). */
gboolean hd_verdict_is_bridge (HdNodeDevice *dev);

/* The reset method to use for @dev, in the kernel's spelling ("flr", "pm",
 * "bus", …), chosen from the methods the kernel offers: the first one in
 * the kernel's order, except that a bus or slot reset is refused while
 * other functions on the same bus are bound to host drivers.  NULL with
 * an error when no method is possible.  @force lets a reset of a device
 * the host uses go ahead. */
char *hd_verdict_reset_method (HdInventory *inventory, HdHostUsage *usage,
                               HdNodeDevice *dev, gboolean force, GError **error);

G_END_DECLS
