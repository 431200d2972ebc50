/* Inside the engine: its state, and one operation (detach, reattach,
 * reset, recovery) from the request to its worker's result.  engine.c
 * schedules operations; operation.c prepares them on the main loop from
 * the inventory and the verdicts, and runs their steps on the worker. */
#pragma once

#include "engine.h"
#include "journal.h"
#include "transition.h"

G_BEGIN_DECLS

typedef enum { HD_OPERATION_DETACH, HD_OPERATION_REATTACH, HD_OPERATION_RESET, HD_OPERATION_RECOVER } HdOperationKind;

typedef struct {
  HdEngine *engine;
  GTask *task;
  HdOperationKind kind;
  char *name;
  gboolean group;
  gboolean force;
  char *owner;
  GPtrArray *claims;         /* char *: PCI addresses */
  guint queue_timeout_id;
  guint watchdog_id;
  gboolean returned;         /* the task has its result */

  /* What hd_operation_want() saw: the device and, for a detach, its
   * verdict.  The operation starts in the same main-loop turn, so
   * hd_operation_prepare() uses them instead of reading them again. */
  HdNodeDevice *device;
  HdVerdict *verdict;

  /* Prepared on the main loop, read-only on the worker. */
  const HdStubDriver *stub;
  GPtrArray *devices;        /* HdTransitionDevice */
  GPtrArray *records;        /* HdJournalRecord or NULL, one per device */
  char *reset_method;
  char *transaction;

  /* Written by the worker, read on the main loop once it is done. */
  HdStepper stepper;
  GError *error;
} HdOperation;

struct _HdEngine {
  GObject parent_instance;
  HdInventory *inventory;
  HdSysfsWriter *writer;
  HdJournal *journal;
  GMainContext *context;
  HdDriverLoadFunc load;
  gpointer load_data;
  const HdHostUsageSources *usage_sources;
  guint write_ms;
  guint settle_ms;
  guint queue_ms;
  GHashTable *claims;        /* address → HdOperation */
  GQueue pending;            /* HdOperation, in arrival order */
  GPtrArray *running;        /* HdOperation with a worker */
  GHashTable *owned;         /* address → HdJournalRecord (DETACHED) */
  guint n_transactions;
};


void hd_operation_free (HdOperation *op);
void hd_engine_emit_finished (HdOperation *op, const GError *error);
HdOperation *hd_operation_new (HdEngine *self, HdOperationKind kind, const char *name, GAsyncReadyCallback callback, gpointer user_data);
void hd_operation_return_error (HdOperation *op, GError *error);
void hd_operation_return_success (HdOperation *op);
HdTransitionDevice *hd_operation_device_from (HdNodeDevice *dev);
HdTransitionDevice *hd_operation_device_absent (const HdPciAddress *address);
HdNodeDevice *hd_operation_lookup_pci (HdEngine *self, const char *name, GError **error);
void hd_operation_add_claim (GPtrArray *claims, const HdPciAddress *address);
HdVerdict *hd_operation_verdict (HdEngine *self, HdNodeDevice *dev, const HdStubDriver *stub, gboolean group, gboolean force, GError **error);
gboolean hd_operation_want (HdOperation *op, GError **error);
gboolean hd_operation_prepare (HdOperation *op, GError **error);
void hd_operation_run_detach (HdOperation *op);
void hd_operation_run_restore (HdOperation *op);

G_END_DECLS
