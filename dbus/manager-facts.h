/* The host's readiness on the Manager: its properties, and the checks as
 * Validate returns them. */
#pragma once

#include "hd-dbus-generated.h"
#include "nodedev/host-readiness.h"

G_BEGIN_DECLS

void hd_dbus_manager_update_readiness (HdDBusManager *manager, const HdReadiness *readiness);

/* (u a(sssss)): the verdict, then (id, status, title, detail, fix) per check. */
GVariant *hd_dbus_readiness_to_variant (const HdReadiness *readiness);

G_END_DECLS
