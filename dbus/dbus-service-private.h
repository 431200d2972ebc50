/* Inside the D-Bus door: dbus-service.c connects to the bus and wires the
 * events, object-refresh.c keeps the objects in step with them,
 * dbus-methods.c answers the method calls. */
#pragma once

#include "dbus-service.h"
#include "hostdev/assignment-store.h"
#include "hostdev/domain-source.h"
#include "hostdev/host-usage.h"
#include "nodedev/host-readiness.h"
#include "device-object.h"
#include "hd-dbus-generated.h"
#include "polkit-gate.h"
#include "reply-trimmer.h"

G_BEGIN_DECLS

struct _HdDBusService {
  GObject parent_instance;
  HdInventory *inventory;
  HdEngine *engine;
  HdPolkitGate *gate;
  guint owner_id;
  GDBusObjectManagerServer *server;
  HdDBusManager *manager;
  GHashTable *objects;       /* node-device name → HdDBusObjectSkeleton */
  guint refresh_id;          /* pending re-evaluation of the marked devices */
  GHashTable *marked;        /* names of the devices to re-evaluate */
  GHashTable *marked_parents; /* bridges whose functions are to be re-evaluated */
  GHashTable *held;          /* names of devices an operation held on their state before */
  GHashTable *assigned;      /* names of the devices with an AssignedTo */
  gboolean counts_changed;   /* devices came or went: the Manager's counts */
  gboolean on_bus;           /* the bus is there: objects are kept current */
  GCancellable *cancellable; /* the bus connection being made */
  GDBusConnection *connection;
  /* The objects are first made in batches, then the name is requested. */
  guint populate_id;
  GPtrArray *populating;     /* HdNodeDevice still to make an object for */
  guint populated;           /* how many of them are done */
  HdHostUsage *populate_usage;
  gboolean refresh_after_populate;
  gboolean probed;           /* the readiness of the host is known */
  HdAssignmentStore *store;  /* Assign()'s assignments */
  HdDomainSource *domains;   /* libvirt's domains, or NULL */
  HdReplyTrimmer *trimmer;   /* on the bus connection, once there is one */
};

void hd_dbus_methods_connect_manager (HdDBusService *self, HdDBusManager *manager);
void hd_dbus_methods_connect_device (HdDBusService *self, HdDBusDevice *device);
void hd_dbus_assign_connect (HdDBusService *self, HdDBusManager *manager);
void hd_dbus_selinux_connect (HdDBusService *self, HdDBusManager *manager);

/* Turns SELinux's virt_use_sysfs on, now and after reboots, in a worker
 * thread; *@changed: it was off. */
void hd_dbus_selinux_ensure_async (GAsyncReadyCallback callback, gpointer user_data);
gboolean hd_dbus_selinux_ensure_finish (GAsyncResult *result, gboolean *changed, GError **error);

/* hd_readiness_probe() in a worker thread: it reads /proc, /sys and the
 * boot configuration, and a file system that stalls must not stall the
 * main loop.  The task holds @self. */
void hd_dbus_readiness_probe_async (HdDBusService *self, GAsyncReadyCallback callback, gpointer data);
HdReadiness *hd_dbus_readiness_probe_finish (GAsyncResult *result, GError **error);

/* object-refresh.c */
void hd_dbus_update_manager (HdDBusService *self);
/* @usage: the host's use of devices, or NULL if unknown. */
void hd_dbus_update_device (HdDBusService *self, HdNodeDevice *dev, HdHostUsage *usage);
/* @touched (may be NULL): gets the names of the devices whose AssignedTo
 * was set. */
void hd_dbus_update_assignments (HdDBusService *self, GHashTable *touched);
/* Its object goes; its companions are marked. */
void hd_dbus_remove_device (HdDBusService *self, HdNodeDevice *dev);
/* @dev and the devices whose properties depend on it are to be
 * re-evaluated. */
void hd_dbus_mark_device (HdDBusService *self, HdNodeDevice *dev);
/* The devices an operation held: it has ended, re-evaluate them. */
void hd_dbus_release_held (HdDBusService *self);
/* The marked devices re-evaluated soon, in one go. */
void hd_dbus_schedule_refresh (HdDBusService *self);
/* The marked devices and the assignments re-evaluated now, and their
 * PropertiesChanged sent before the reply that follows. */
void hd_dbus_service_refresh (HdDBusService *self);

G_END_DECLS
