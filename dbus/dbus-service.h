/* The D-Bus door: org.hostdevd1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS
 * moves it), with an ObjectManager at /org/hostdevd1, the Manager at
 * /org/hostdevd1/Manager and one Device object per node device, kept in
 * step with the inventory and the engine.  See org.hostdevd1.xml. */
#pragma once

#include <gio/gio.h>

#include "hostdev/domain-source.h"
#include "hostdev/engine.h"
#include "nodedev/inventory.h"

G_BEGIN_DECLS

#define HD_TYPE_DBUS_SERVICE (hd_dbus_service_get_type ())
G_DECLARE_FINAL_TYPE (HdDBusService, hd_dbus_service, HD, DBUS_SERVICE, GObject)

/* @assignments_dir: where Assign()'s assignments are kept. */
HdDBusService *hd_dbus_service_new (HdInventory *inventory, HdEngine *engine, const char *assignments_dir,
                                    GError **error);

/* libvirt's domains, whose <hostdev>s become assignments too. */
void hd_dbus_service_set_domain_source (HdDBusService *self, HdDomainSource *source);

/* Asks the bus for the name.  Neither an unreachable bus nor a name that
 * cannot be had stops the daemon (libvirt's clients are served anyway);
 * both are logged. */
void hd_dbus_service_start (HdDBusService *self);

G_END_DECLS
