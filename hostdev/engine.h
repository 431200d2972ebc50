/* The operations on devices: detach, reattach, reset — the only code
 * that changes drivers, and it does so through the writer seam.
 *
 * Each operation claims the devices it touches (the device, and for a
 * detach its IOMMU group); an operation that finds its devices claimed
 * waits in line, and gives up with HD_ERROR_BUSY after the queue timeout.
 * The verdict is computed when an operation starts; the sysfs steps run
 * on a worker thread, watched by a watchdog: a write the kernel does not
 * return from in time fails the operation (HD_ERROR_TIMED_OUT) while the
 * main loop keeps serving; the devices stay claimed until the write
 * returns and what it changed is rolled back.
 *
 * A journal in the state directory records each step before it runs.  At
 * start, hd_engine_recover_async() rolls back detaches that a previous
 * run left half done and completes interrupted reattaches; devices that
 * were fully detached stay known as ours, with their original driver. */
#pragma once

#include <gio/gio.h>

#include "module-loader.h"
#include "host-usage.h"
#include "nodedev/inventory.h"
#include "sysfs-writer.h"
#include "verdict.h"

G_BEGIN_DECLS

#define HD_TYPE_ENGINE (hd_engine_get_type ())
G_DECLARE_FINAL_TYPE (HdEngine, hd_engine, HD, ENGINE, GObject)

typedef struct {
  const char *driver;  /* libvirt's name (vfio, kvm, xen); NULL: vfio */
  gboolean group;      /* take the whole IOMMU group / bridge set as one transaction */
  gboolean force;      /* even if the host uses it */
  const char *owner;   /* who asks, for the journal and the log */
} HdDetachOptions;

/* Signal "operation-finished" (kind, name, devices, error): every
 * operation when it ends, whoever asked for it — kind is "detach",
 * "reattach", "reset" or "recover"; devices (NULL-terminated) are those it
 * changed, empty when it failed; error is NULL on success.
 * Signal "operations-changed": hd_engine_get_n_operations() may have
 * changed (an operation was submitted, started or ended). */

/* Opens the journal in @state_dir (created 0700).  Nothing is replayed
 * until hd_engine_recover_async(). */
HdEngine *hd_engine_new (HdInventory *inventory, HdSysfsWriter *writer,
                         const char *state_dir, GError **error);

/* Tests: where stub drivers come from (default: libkmod), where the host's
 * use of devices is read from (default: this host; the struct must stay
 * valid), and the time limits (default 10 s per write, 5 s for the kernel
 * to show a bind, 30 s in the queue). */
void hd_engine_set_driver_loader (HdEngine *self, HdDriverLoadFunc load, gpointer user_data);
void hd_engine_set_host_usage_sources (HdEngine *self, const HdHostUsageSources *sources);
void hd_engine_set_timeouts (HdEngine *self, guint write_ms, guint settle_ms, guint queue_ms);

void hd_engine_recover_async (HdEngine *self, GAsyncReadyCallback callback, gpointer user_data);
/* FALSE if some device could not be restored (it stays in the journal
 * and is retried at the next start); the others were. */
gboolean hd_engine_recover_finish (HdEngine *self, GAsyncResult *result, GError **error);

/* What a detach with @options would do, now. */
HdVerdict *hd_engine_preview (HdEngine *self, const char *name,
                              const HdDetachOptions *options, GError **error);

void hd_engine_detach_async (HdEngine *self, const char *name, const HdDetachOptions *options,
                             GAsyncReadyCallback callback, gpointer user_data);
/* The names of the devices now on the stub (empty if it already was). */
GPtrArray *hd_engine_detach_finish (HdEngine *self, GAsyncResult *result, GError **error);

void hd_engine_reattach_async (HdEngine *self, const char *name, const char *owner,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean hd_engine_reattach_finish (HdEngine *self, GAsyncResult *result, GError **error);

void hd_engine_reset_async (HdEngine *self, const char *name, gboolean force, const char *owner,
                            GAsyncReadyCallback callback, gpointer user_data);
/* The reset method the kernel used ("flr", "pm", "bus", … or "default"). */
char *hd_engine_reset_finish (HdEngine *self, GAsyncResult *result, GError **error);

/* TRUE if hostdevd holds @name (detached, in the journal); its driver
 * before that in @original_driver (NULL if it had none). */
gboolean hd_engine_lookup_owned (HdEngine *self, const char *name, char **original_driver);

/* Operations running or waiting. */
guint hd_engine_get_n_operations (HdEngine *self);

/* TRUE while a running operation holds the function at @address (the
 * device itself or a member of its IOMMU group): what the kernel shows of
 * it now is a step of that operation, not its outcome. */
gboolean hd_engine_is_claimed (HdEngine *self, const HdPciAddress *address);

G_END_DECLS
