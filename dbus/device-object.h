/* Node devices on the bus: their object paths, and an org.hostdevd1.Device
 * interface filled from a snapshot.  Setting a property to the value it
 * already has emits nothing, so updating every property on each kernel
 * event sends PropertiesChanged only for what changed. */
#pragma once

#include "hd-dbus-generated.h"
#include "hostdev/verdict.h"
#include "nodedev/node-device.h"

G_BEGIN_DECLS

#define HD_DBUS_PATH "/org/hostdevd1"
#define HD_DBUS_MANAGER_PATH HD_DBUS_PATH "/Manager"
#define HD_DBUS_DEVICES_PATH HD_DBUS_PATH "/devices"

/* /org/hostdevd1/devices/NAME: the libvirt name as it is when it is a
 * valid path element ([A-Za-z0-9_], as every name hostdevd makes is),
 * escaped by g_dbus_escape_object_path() otherwise. */
char *hd_dbus_device_path (const char *name);
char *hd_dbus_device_path_for_address (const HdPciAddress *address);

/* The paths of @n_names node-device names, NULL-terminated. */
GStrv hd_dbus_device_paths (char *const *names, guint n_names);

/* @verdict: what a lone detach to vfio-pci would meet (NULL for computer).
 * @original_driver and @detached: hostdevd's hold on it (the journal). */
void hd_dbus_device_update (HdDBusDevice *iface, HdNodeDevice *dev, const HdVerdict *verdict,
                            const char *original_driver, gboolean detached);

G_END_DECLS
