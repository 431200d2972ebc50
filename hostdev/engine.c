#include "config.h"

#include "engine-private.h"

#include <glib/gi18n.h>

#include "nodedev/error.h"
#include "nodedev/sysfs.h"

G_DEFINE_TYPE (HdEngine, hd_engine, G_TYPE_OBJECT)

static guint finished_signal;
static guint operations_changed_signal;

static void schedule (HdEngine *self);

static gboolean op_finished (gpointer data);

static gpointer
worker (gpointer data)
{
  HdOperation *op = data;

  switch (op->kind)
    {
    case HD_OPERATION_DETACH:
      hd_operation_run_detach (op);
      break;
    case HD_OPERATION_REATTACH:
    case HD_OPERATION_RECOVER:
      hd_operation_run_restore (op);
      break;
    case HD_OPERATION_RESET:
      hd_transition_reset (&op->stepper, g_ptr_array_index (op->devices, 0), op->reset_method, &op->error);
      break;
    default:
      g_assert_not_reached ();
    }
  g_main_context_invoke (op->engine->context, op_finished, op);
  return NULL;
}

/* ---- the main loop side ---------------------------------------------------- */

static void
release (HdOperation *op)
{
  for (guint i = 0; i < op->claims->len; i++)
    if (g_hash_table_lookup (op->engine->claims, g_ptr_array_index (op->claims, i)) == op)
      g_hash_table_remove (op->engine->claims, g_ptr_array_index (op->claims, i));
}

static gboolean
op_finished (gpointer data)
{
  HdOperation *op = data;
  HdEngine *self = op->engine;

  g_ptr_array_remove (self->running, op);
  for (guint i = 0; i < op->devices->len; i++)
    {
      HdTransitionDevice *dev = g_ptr_array_index (op->devices, i);
      HdJournalRecord *rec = i < op->records->len ? g_ptr_array_index (op->records, i) : NULL;
      g_autofree char *addr = hd_pci_address_to_string (&dev->address);
      g_autoptr(HdNodeDevice) fresh = NULL;

      /* What stays in the journal stays ours (a reset changes no
       * ownership); the inventory's snapshot catches up even if the
       * uevent is still on its way. */
      if (op->kind != HD_OPERATION_RESET)
        {
          if (rec == NULL)
            g_hash_table_remove (self->owned, addr);
          else if (rec->state == HD_JOURNAL_DETACHED)
            g_hash_table_replace (self->owned, g_strdup (addr), hd_journal_record_copy (rec));
        }
      fresh = hd_inventory_refresh (self->inventory, dev->name);
    }
  release (op);
  if (op->error != NULL)
    hd_operation_return_error (op, g_steal_pointer (&op->error));
  else
    hd_operation_return_success (op);
  hd_operation_free (op);
  schedule (self);
  return G_SOURCE_REMOVE;
}

static gboolean
watchdog (gpointer data)
{
  HdOperation *op = data;
  HdStepper *st = &op->stepper;
  g_autofree char *path = NULL;
  gboolean hung;

  g_mutex_lock (&st->lock);
  hung = st->in_write && !st->abandoned &&
         g_get_monotonic_time () - st->write_started > (gint64) op->engine->write_ms * G_TIME_SPAN_MILLISECOND;
  if (hung)
    {
      st->abandoned = TRUE;
      path = g_strdup (st->write_path);
      g_cond_broadcast (&st->cond);
    }
  g_mutex_unlock (&st->lock);
  if (!hung)
    return G_SOURCE_CONTINUE;
  op->watchdog_id = 0;
  g_warning (_("%s: the kernel has not returned from a write to %s for %u ms"), op->name, path, op->engine->write_ms);
  hd_operation_return_error (op, g_error_new (HD_ERROR, HD_ERROR_TIMED_OUT,
                                    _("the kernel did not return from a write to %s within %u ms (the device's driver may be hung); "
                                      "the device stays busy until the write returns, then the operation is rolled back"),
                                    path, op->engine->write_ms));
  return G_SOURCE_REMOVE;
}

static void
start (HdOperation *op)
{
  HdEngine *self = op->engine;
  g_autoptr(GError) error = NULL;
  g_autoptr(GThread) thread = NULL;

  if (op->kind != HD_OPERATION_RECOVER && !hd_operation_prepare (op, &error))
    {
      release (op);
      if (error != NULL)
        hd_operation_return_error (op, g_steal_pointer (&error));
      else
        hd_operation_return_success (op);
      hd_operation_free (op);
      return;
    }
  hd_stepper_init (&op->stepper, self->writer, self->journal, self->settle_ms);
  g_ptr_array_add (self->running, op);
  op->watchdog_id = g_timeout_add (MAX (self->write_ms / 4, 10u), watchdog, op);
  thread = g_thread_new ("hd-operation", worker, op);
}

static gboolean
claims_free (HdEngine *self, HdOperation *op)
{
  for (guint i = 0; i < op->claims->len; i++)
    if (g_hash_table_contains (self->claims, g_ptr_array_index (op->claims, i)))
      return FALSE;
  return TRUE;
}

static void
schedule (HdEngine *self)
{
  GList *l = self->pending.head;

  while (l != NULL)
    {
      HdOperation *op = l->data;
      GList *next = l->next;
      g_autoptr(GError) error = NULL;

      if (!hd_operation_want (op, &error))
        {
          g_queue_delete_link (&self->pending, l);
          hd_operation_return_error (op, g_steal_pointer (&error));
          hd_operation_free (op);
        }
      else if (claims_free (self, op))
        {
          g_queue_delete_link (&self->pending, l);
          g_clear_handle_id (&op->queue_timeout_id, g_source_remove);
          for (guint i = 0; i < op->claims->len; i++)
            g_hash_table_insert (self->claims, g_strdup (g_ptr_array_index (op->claims, i)), op);
          start (op);
        }
      l = next;
    }
  /* Every submission and every end passes through here. */
  g_signal_emit (self, operations_changed_signal, 0);
}

static gboolean
queue_timeout (gpointer data)
{
  HdOperation *op = data;
  HdEngine *self = op->engine;

  op->queue_timeout_id = 0;
  g_queue_remove (&self->pending, op);
  hd_operation_return_error (op, g_error_new (HD_ERROR, HD_ERROR_BUSY,
                                    _("device %s is busy: another operation on it or its IOMMU group has not finished"),
                                    op->name));
  hd_operation_free (op);
  g_signal_emit (self, operations_changed_signal, 0);
  return G_SOURCE_REMOVE;
}

static void
submit (HdEngine *self, HdOperation *op)
{
  g_queue_push_tail (&self->pending, op);
  op->queue_timeout_id = g_timeout_add (self->queue_ms, queue_timeout, op);
  schedule (self);
}

/* ---- public ---------------------------------------------------------------- */

static void
kernel_event (HdInventory *inventory, gpointer dev, gpointer user_data)
{
  HdEngine *self = user_data;

  for (guint i = 0; i < self->running->len; i++)
    hd_stepper_kick (&((HdOperation *) g_ptr_array_index (self->running, i))->stepper);
}

static void
hd_engine_finalize (GObject *object)
{
  HdEngine *self = HD_ENGINE (object);

  g_signal_handlers_disconnect_by_data (self->inventory, self);
  g_clear_object (&self->inventory);
  g_clear_object (&self->writer);
  g_clear_pointer (&self->journal, hd_journal_free);
  g_clear_pointer (&self->claims, g_hash_table_unref);
  g_clear_pointer (&self->owned, g_hash_table_unref);
  g_clear_pointer (&self->running, g_ptr_array_unref);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (hd_engine_parent_class)->finalize (object);
}


static void
hd_engine_class_init (HdEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hd_engine_finalize;
  finished_signal = g_signal_new ("operation-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRV, G_TYPE_ERROR);
  operations_changed_signal = g_signal_new ("operations-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                            0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

void
hd_engine_emit_finished (HdOperation *op, const GError *error)
{
  static const char *const kinds[] = { "detach", "reattach", "reset", "recover" };
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  for (guint i = 0; error == NULL && op->devices != NULL && i < op->devices->len; i++)
    g_ptr_array_add (names, ((HdTransitionDevice *) g_ptr_array_index (op->devices, i))->name);
  g_ptr_array_add (names, NULL);
  g_signal_emit (op->engine, finished_signal, 0, kinds[op->kind], op->name,
                 (char **) names->pdata, error);
}

static void
hd_engine_init (HdEngine *self)
{
  self->claims = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->owned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) hd_journal_record_free);
  self->running = g_ptr_array_new ();
  g_queue_init (&self->pending);
  self->load = hd_module_loader_load;
  self->write_ms = 10000;
  self->settle_ms = 5000;
  self->queue_ms = 30000;
  self->context = g_main_context_ref_thread_default ();
}

HdEngine *
hd_engine_new (HdInventory *inventory, HdSysfsWriter *writer, const char *state_dir, GError **error)
{
  g_autoptr(HdEngine) self = g_object_new (HD_TYPE_ENGINE, NULL);

  self->journal = hd_journal_open (state_dir, error);
  if (self->journal == NULL)
    return NULL;
  self->inventory = g_object_ref (inventory);
  self->writer = g_object_ref (writer);
  g_signal_connect (inventory, "device-changed", G_CALLBACK (kernel_event), self);
  g_signal_connect (inventory, "device-removed", G_CALLBACK (kernel_event), self);
  g_signal_connect (inventory, "device-added", G_CALLBACK (kernel_event), self);
  return g_steal_pointer (&self);
}

void
hd_engine_set_driver_loader (HdEngine *self, HdDriverLoadFunc load, gpointer user_data)
{
  self->load = load;
  self->load_data = user_data;
}

void
hd_engine_set_host_usage_sources (HdEngine *self, const HdHostUsageSources *sources)
{
  self->usage_sources = sources;
}

void
hd_engine_set_timeouts (HdEngine *self, guint write_ms, guint settle_ms, guint queue_ms)
{
  self->write_ms = write_ms;
  self->settle_ms = settle_ms;
  self->queue_ms = queue_ms;
}

void
hd_engine_recover_async (HdEngine *self, GAsyncReadyCallback callback, gpointer user_data)
{
  HdOperation *op = hd_operation_new (self, HD_OPERATION_RECOVER, "recovery", callback, user_data);
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) records = NULL;
  GError *error = NULL;

  records = hd_journal_load (self->journal, bad, &error);
  for (guint i = 0; i < bad->len; i++)
    g_warning (_("state journal: %s"), (const char *) g_ptr_array_index (bad, i));
  if (records == NULL)
    {
      hd_operation_return_error (op, error);
      hd_operation_free (op);
      return;
    }
  for (guint i = 0; i < records->len; i++)
    {
      HdJournalRecord *rec = g_ptr_array_index (records, i);
      g_autofree char *addr = hd_pci_address_to_string (&rec->address);
      g_autoptr(HdNodeDevice) dev = hd_inventory_lookup_address (self->inventory, &rec->address);

      if (rec->state == HD_JOURNAL_DETACHED)
        {
          g_hash_table_replace (self->owned, g_steal_pointer (&addr), hd_journal_record_copy (rec));
          continue;
        }
      g_info (_("state journal: %s was interrupted while %s (step %s); %s"), addr,
              hd_journal_state_to_string (rec->state), rec->step ? rec->step : "-",
              rec->state == HD_JOURNAL_DETACHING ? _("rolling it back") : _("completing it"));
      hd_operation_add_claim (op->claims, &rec->address);
      g_ptr_array_add (op->devices, dev && dev->pci ? hd_operation_device_from (dev) : hd_operation_device_absent (&rec->address));
      g_ptr_array_add (op->records, hd_journal_record_copy (rec));
    }
  /* First in line and never timed out: nothing else can claim these
   * devices before it. */
  g_queue_push_head (&self->pending, op);
  schedule (self);
}

gboolean
hd_engine_recover_finish (HdEngine *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

HdVerdict *
hd_engine_preview (HdEngine *self, const char *name, const HdDetachOptions *options, GError **error)
{
  const HdStubDriver *stub = hd_stub_driver_lookup (options->driver, error);
  g_autoptr(HdNodeDevice) dev = NULL;

  if (stub == NULL)
    return NULL;
  dev = hd_operation_lookup_pci (self, name, error);
  if (dev == NULL)
    return NULL;
  return hd_operation_verdict (self, dev, stub, options->group, options->force, error);
}

void
hd_engine_detach_async (HdEngine *self, const char *name, const HdDetachOptions *options,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  HdOperation *op = hd_operation_new (self, HD_OPERATION_DETACH, name, callback, user_data);
  GError *error = NULL;

  op->group = options->group;
  op->force = options->force;
  op->owner = g_strdup (options->owner);
  op->stub = hd_stub_driver_lookup (options->driver, &error);
  if (op->stub == NULL)
    {
      hd_operation_return_error (op, error);
      hd_operation_free (op);
      return;
    }
  submit (self, op);
}

GPtrArray *
hd_engine_detach_finish (HdEngine *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
hd_engine_reattach_async (HdEngine *self, const char *name, const char *owner,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  HdOperation *op = hd_operation_new (self, HD_OPERATION_REATTACH, name, callback, user_data);

  op->owner = g_strdup (owner);
  submit (self, op);
}

gboolean
hd_engine_reattach_finish (HdEngine *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
hd_engine_reset_async (HdEngine *self, const char *name, gboolean force, const char *owner,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  HdOperation *op = hd_operation_new (self, HD_OPERATION_RESET, name, callback, user_data);

  op->force = force;
  op->owner = g_strdup (owner);
  submit (self, op);
}

char *
hd_engine_reset_finish (HdEngine *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
hd_engine_lookup_owned (HdEngine *self, const char *name, char **original_driver)
{
  HdPciAddress address;
  g_autofree char *addr = NULL;
  HdJournalRecord *rec;

  if (!hd_pci_address_from_nodedev_name (name, &address))
    return FALSE;
  addr = hd_pci_address_to_string (&address);
  rec = g_hash_table_lookup (self->owned, addr);
  if (rec == NULL)
    return FALSE;
  if (original_driver != NULL)
    *original_driver = g_strdup (rec->original_driver);
  return TRUE;
}

guint
hd_engine_get_n_operations (HdEngine *self)
{
  return self->running->len + self->pending.length;
}

gboolean
hd_engine_is_claimed (HdEngine *self, const HdPciAddress *address)
{
  g_autofree char *addr = hd_pci_address_to_string (address);

  return g_hash_table_contains (self->claims, addr);
}
