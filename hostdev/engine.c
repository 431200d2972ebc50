#include "config.h"

#include "engine.h"

#include <glib/gi18n.h>

#include "journal.h"
#include "nodedev/error.h"
#include "nodedev/sysfs.h"
#include "transition.h"

typedef enum { OP_DETACH, OP_REATTACH, OP_RESET, OP_RECOVER } OpKind;

typedef struct {
  HdEngine *engine;
  GTask *task;
  OpKind kind;
  char *name;
  char *driver_name;
  gboolean group;
  gboolean force;
  char *owner;
  GPtrArray *claims;         /* char *: PCI addresses */
  guint queue_timeout_id;
  guint watchdog_id;
  gboolean returned;         /* the task has its result */

  /* Prepared on the main loop, read-only on the worker. */
  const HdStubDriver *stub;
  GPtrArray *devices;        /* HdTransitionDevice */
  GPtrArray *records;        /* HdJournalRecord or NULL, one per device */
  char *reset_method;
  char *transaction;

  /* Written by the worker, read on the main loop once it is done. */
  HdStepper stepper;
  GError *error;
} Op;

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
  GHashTable *claims;        /* address → Op */
  GQueue pending;            /* Op, in arrival order */
  GPtrArray *running;        /* Op with a worker */
  GHashTable *owned;         /* address → HdJournalRecord (DETACHED) */
  guint n_transactions;
};

G_DEFINE_TYPE (HdEngine, hd_engine, G_TYPE_OBJECT)

static void schedule (HdEngine *self);

static void
op_free (Op *op)
{
  g_clear_handle_id (&op->queue_timeout_id, g_source_remove);
  g_clear_handle_id (&op->watchdog_id, g_source_remove);
  g_clear_object (&op->task);
  g_free (op->name);
  g_free (op->driver_name);
  g_free (op->owner);
  g_clear_pointer (&op->claims, g_ptr_array_unref);
  g_clear_pointer (&op->devices, g_ptr_array_unref);
  g_clear_pointer (&op->records, g_ptr_array_unref);
  g_free (op->reset_method);
  g_free (op->transaction);
  if (op->stepper.writer != NULL)
    hd_stepper_clear (&op->stepper);
  g_clear_error (&op->error);
  g_object_unref (op->engine);
  g_free (op);
}

static Op *
op_new (HdEngine *self, OpKind kind, const char *name, GAsyncReadyCallback callback, gpointer user_data)
{
  Op *op = g_new0 (Op, 1);

  op->engine = g_object_ref (self);
  op->kind = kind;
  op->name = g_strdup (name);
  op->task = g_task_new (self, NULL, callback, user_data);
  op->claims = g_ptr_array_new_with_free_func (g_free);
  op->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_transition_device_free);
  op->records = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_journal_record_free);
  return op;
}

/* The task learns its result once; a later result (the worker finishing
 * after the watchdog gave up) is only logged. */
static void
op_return_error (Op *op, GError *error)
{
  if (op->returned)
    {
      g_info ("%s: after the timeout: %s", op->name, error->message);
      g_error_free (error);
      return;
    }
  op->returned = TRUE;
  g_task_return_error (op->task, error);
}

static void
op_return_success (Op *op)
{
  g_autoptr(GPtrArray) names = NULL;

  if (op->returned)
    return;
  op->returned = TRUE;
  switch (op->kind)
    {
    case OP_DETACH:
      names = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < op->devices->len; i++)
        g_ptr_array_add (names, g_strdup (((HdTransitionDevice *) g_ptr_array_index (op->devices, i))->name));
      g_task_return_pointer (op->task, g_steal_pointer (&names), (GDestroyNotify) g_ptr_array_unref);
      break;
    case OP_RESET:
      g_task_return_pointer (op->task, g_strdup (op->reset_method), g_free);
      break;
    case OP_REATTACH:
    case OP_RECOVER:
    default:
      g_task_return_boolean (op->task, TRUE);
      break;
    }
}

/* ---- what the main loop knows ------------------------------------------ */

static HdTransitionDevice *
transition_device_new (HdNodeDevice *dev)
{
  HdTransitionDevice *t = g_new0 (HdTransitionDevice, 1);

  t->address = dev->pci->address;
  t->name = g_strdup (dev->name);
  t->syspath = g_strdup (dev->syspath);
  t->vendor = dev->pci->vendor;
  t->product = dev->pci->product;
  t->driver = g_strdup (dev->driver);
  t->override = g_strdup (dev->pci->driver_override);
  return t;
}

/* A device that is not in the inventory (gone since the journal wrote
 * it): its restore finds no directory and only forgets the record. */
static HdTransitionDevice *
transition_device_absent (const HdPciAddress *address)
{
  HdTransitionDevice *t = g_new0 (HdTransitionDevice, 1);
  g_autofree char *addr = hd_pci_address_to_string (address);

  t->address = *address;
  t->name = hd_pci_address_to_nodedev_name (address);
  t->syspath = g_build_filename ("/sys/bus/pci/devices", addr, NULL);
  return t;
}

static HdNodeDevice *
lookup_pci (HdEngine *self, const char *name, GError **error)
{
  g_autoptr(HdNodeDevice) dev = hd_inventory_refresh (self->inventory, name);

  if (dev == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_NO_DEVICE, _("no node device with matching name '%s'"), name);
      return NULL;
    }
  if (dev->pci == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, _("device %s is not a PCI device"), name);
      return NULL;
    }
  return g_steal_pointer (&dev);
}

static void
add_claim (GPtrArray *claims, const HdPciAddress *address)
{
  char *addr = hd_pci_address_to_string (address);

  for (guint i = 0; i < claims->len; i++)
    if (g_str_equal (g_ptr_array_index (claims, i), addr))
      {
        g_free (addr);
        return;
      }
  g_ptr_array_add (claims, addr);
}

static void
claim_members (GPtrArray *claims, GPtrArray *members)
{
  for (guint i = 0; i < members->len; i++)
    add_claim (claims, &((HdVerdictMember *) g_ptr_array_index (members, i))->address);
}

/* VFIO needs an IOMMU: libvirt's virHostdevHostSupportsPassthroughVFIO. */
static gboolean
check_vfio (HdNodeDevice *dev, GError **error)
{
  g_autoptr(GPtrArray) groups = hd_sysfs_list_dir ("/sys/kernel/iommu_groups", NULL);

  if (groups != NULL && groups->len > 0 && dev->pci->iommu_group >= 0)
    return TRUE;
  g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT_UNSUPPORTED,
                       _("VFIO device assignment is currently not supported on this system"));
  return FALSE;
}

static HdVerdict *
compute_verdict (HdEngine *self, HdNodeDevice *dev, const HdStubDriver *stub,
                 gboolean group, gboolean force, GError **error)
{
  g_autoptr(HdHostUsage) usage = hd_host_usage_scan (self->usage_sources, error);

  if (usage == NULL)
    return NULL;
  return hd_verdict_compute (self->inventory, usage, dev, stub, group, force);
}

/* Fills @op's claims; TRUE if the operation can be prepared at all. */
static gboolean
op_want (Op *op, GError **error)
{
  HdEngine *self = op->engine;
  g_autoptr(HdNodeDevice) dev = NULL;
  g_autoptr(HdVerdict) verdict = NULL;

  if (op->kind == OP_RECOVER)
    return TRUE;   /* claims made when it was created */
  dev = lookup_pci (self, op->name, error);
  if (dev == NULL)
    return FALSE;
  g_ptr_array_set_size (op->claims, 0);
  add_claim (op->claims, &dev->pci->address);
  if (op->kind != OP_DETACH)
    return TRUE;
  verdict = compute_verdict (self, dev, op->stub, op->group, op->force, error);
  if (verdict == NULL)
    return FALSE;
  claim_members (op->claims, verdict->takes);
  claim_members (op->claims, verdict->blockers);
  claim_members (op->claims, verdict->stays);
  return TRUE;
}

/* Builds the device list; FALSE with @error set to refuse, FALSE without
 * to finish at once with success (nothing to do). */
static gboolean
op_prepare (Op *op, GError **error)
{
  HdEngine *self = op->engine;
  g_autoptr(HdNodeDevice) dev = lookup_pci (self, op->name, error);
  g_autoptr(HdVerdict) verdict = NULL;
  g_autoptr(HdHostUsage) usage = NULL;
  HdJournalRecord *owned;
  g_autofree char *addr = NULL;

  if (dev == NULL)
    return FALSE;
  addr = hd_pci_address_to_string (&dev->pci->address);
  switch (op->kind)
    {
    case OP_DETACH:
      if (op->stub->vfio && !check_vfio (dev, error))
        return FALSE;
      verdict = compute_verdict (self, dev, op->stub, op->group, op->force, error);
      if (verdict == NULL || !hd_verdict_allows (verdict, error))
        return FALSE;
      for (guint i = 0; i < verdict->takes->len; i++)
        {
          HdVerdictMember *m = g_ptr_array_index (verdict->takes, i);
          g_autoptr(HdNodeDevice) d = hd_inventory_refresh (self->inventory, m->name);

          if (d != NULL && d->pci != NULL)
            {
              g_ptr_array_add (op->devices, transition_device_new (d));
              g_ptr_array_add (op->records, NULL);
            }
        }
      op->transaction = g_strdup_printf ("%s-%" G_GINT64_FORMAT "-%u", addr, g_get_real_time (), ++self->n_transactions);
      return op->devices->len > 0;

    case OP_REATTACH:
      owned = g_hash_table_lookup (self->owned, addr);
      if (owned == NULL)
        {
          HdJournalRecord *r;

          /* Not ours.  On a stub, it is given back to whatever the kernel
           * probes, as libvirt does; on a host driver there is nothing to
           * do (libvirt would unbind and rebind it, which a disk or a NIC
           * in use does not survive). */
          if (hd_stub_driver_find_by_driver (dev->driver) == NULL)
            return FALSE;
          r = hd_journal_record_new (&dev->pci->address);
          r->state = HD_JOURNAL_DETACHED;
          r->stub = g_strdup (dev->driver);
          r->new_id_route = !hd_sysfs_exists (dev->syspath, "driver_override");
          r->owner = g_strdup (op->owner);
          g_ptr_array_add (op->records, r);
        }
      else
        g_ptr_array_add (op->records, hd_journal_record_copy (owned));
      g_ptr_array_add (op->devices, transition_device_new (dev));
      return TRUE;

    case OP_RESET:
      usage = hd_host_usage_scan (self->usage_sources, error);
      if (usage == NULL)
        return FALSE;
      op->reset_method = hd_verdict_reset_method (self->inventory, usage, dev, op->force, error);
      if (op->reset_method == NULL)
        return FALSE;
      g_ptr_array_add (op->devices, transition_device_new (dev));
      return TRUE;

    case OP_RECOVER:
    default:
      g_assert_not_reached ();
    }
}

/* ---- the worker ---------------------------------------------------------- */

static void
append_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
append_error (GError **error, const char *format, ...)
{
  g_autofree char *more = NULL;
  va_list args;

  va_start (args, format);
  more = g_strdup_vprintf (format, args);
  va_end (args);
  g_prefix_error (error, "%s", "");
  {
    g_autofree char *msg = g_strconcat ((*error)->message, more, NULL);
    g_free ((*error)->message);
    (*error)->message = g_steal_pointer (&msg);
  }
}

static void
run_detach (Op *op)
{
  HdEngine *self = op->engine;
  guint failed_at = 0;
  gboolean ok = TRUE;
  g_autoptr(GString) rollback = NULL;

  if (!self->load (op->stub, self->load_data, &op->error))
    return;
  for (guint i = 0; i < op->devices->len && ok; i++)
    {
      HdJournalRecord *rec = NULL;

      ok = hd_transition_detach (&op->stepper, g_ptr_array_index (op->devices, i), op->stub,
                                 op->owner, op->transaction, &rec, &op->error);
      g_ptr_array_index (op->records, i) = rec;
      failed_at = i;
    }
  if (ok)
    return;

  /* All or nothing: give back every device this operation touched, the
   * failed one first, in reverse order. */
  rollback = g_string_new (NULL);
  for (guint j = failed_at + 1; j-- > 0;)
    {
      HdTransitionDevice *dev = g_ptr_array_index (op->devices, j);
      HdJournalRecord *rec = g_ptr_array_index (op->records, j);
      g_autoptr(GError) local = NULL;

      if (rec == NULL)
        continue;
      if (hd_transition_restore (&op->stepper, dev, rec, &local))
        {
          g_ptr_array_index (op->records, j) = NULL;
          hd_journal_record_free (rec);
          continue;
        }
      g_string_append_printf (rollback, _("; rolling back %s failed too: %s (kept in the journal, retried at the next start)"),
                              dev->name, local->message);
    }
  if (rollback->len == 0)
    append_error (&op->error, _("; rolled back: the devices are on their previous drivers again"));
  else
    append_error (&op->error, "%s", rollback->str);
}

static void
run_restore_all (Op *op)
{
  for (guint i = 0; i < op->devices->len; i++)
    {
      HdJournalRecord *rec = g_ptr_array_index (op->records, i);
      g_autoptr(GError) local = NULL;

      if (hd_transition_restore (&op->stepper, g_ptr_array_index (op->devices, i), rec, &local))
        {
          g_ptr_array_index (op->records, i) = NULL;
          hd_journal_record_free (rec);
          continue;
        }
      if (op->error == NULL)
        g_propagate_error (&op->error, g_steal_pointer (&local));
      else
        append_error (&op->error, "; %s", local->message);
    }
}

static gboolean op_finished (gpointer data);

static gpointer
worker (gpointer data)
{
  Op *op = data;

  switch (op->kind)
    {
    case OP_DETACH:
      run_detach (op);
      break;
    case OP_REATTACH:
    case OP_RECOVER:
      run_restore_all (op);
      break;
    case OP_RESET:
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
release (Op *op)
{
  for (guint i = 0; i < op->claims->len; i++)
    if (g_hash_table_lookup (op->engine->claims, g_ptr_array_index (op->claims, i)) == op)
      g_hash_table_remove (op->engine->claims, g_ptr_array_index (op->claims, i));
}

static gboolean
op_finished (gpointer data)
{
  Op *op = data;
  HdEngine *self = op->engine;

  g_ptr_array_remove (self->running, op);
  for (guint i = 0; i < op->devices->len; i++)
    {
      HdTransitionDevice *dev = g_ptr_array_index (op->devices, i);
      HdJournalRecord *rec = i < op->records->len ? g_ptr_array_index (op->records, i) : NULL;
      g_autofree char *addr = hd_pci_address_to_string (&dev->address);
      g_autoptr(HdNodeDevice) fresh = NULL;

      /* What stays in the journal stays ours; the inventory's snapshot
       * catches up even if the uevent is still on its way.  A reset
       * changes no ownership. */
      if (op->kind == OP_RESET)
        ;
      else if (rec != NULL && rec->state == HD_JOURNAL_DETACHED)
        g_hash_table_replace (self->owned, g_strdup (addr), hd_journal_record_copy (rec));
      else if (rec == NULL)
        g_hash_table_remove (self->owned, addr);
      fresh = hd_inventory_refresh (self->inventory, dev->name);
    }
  release (op);
  if (op->error != NULL)
    op_return_error (op, g_steal_pointer (&op->error));
  else
    op_return_success (op);
  op_free (op);
  schedule (self);
  return G_SOURCE_REMOVE;
}

static gboolean
watchdog (gpointer data)
{
  Op *op = data;
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
  g_warning ("%s: the kernel has not returned from a write to %s for %u ms", op->name, path, op->engine->write_ms);
  op_return_error (op, g_error_new (HD_ERROR, HD_ERROR_TIMED_OUT,
                                    _("the kernel did not return from a write to %s within %u ms (the device's driver may be hung); "
                                      "the device stays busy until the write returns, then the operation is rolled back"),
                                    path, op->engine->write_ms));
  return G_SOURCE_REMOVE;
}

static void
start (Op *op)
{
  HdEngine *self = op->engine;
  g_autoptr(GError) error = NULL;
  g_autoptr(GThread) thread = NULL;

  if (op->kind != OP_RECOVER && !op_prepare (op, &error))
    {
      release (op);
      if (error != NULL)
        op_return_error (op, g_steal_pointer (&error));
      else
        op_return_success (op);
      op_free (op);
      return;
    }
  hd_stepper_init (&op->stepper, self->writer, self->journal, self->settle_ms);
  g_ptr_array_add (self->running, op);
  op->watchdog_id = g_timeout_add (MAX (self->write_ms / 4, 10u), watchdog, op);
  thread = g_thread_new ("hd-operation", worker, op);
}

static gboolean
claims_free (HdEngine *self, Op *op)
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
      Op *op = l->data;
      GList *next = l->next;
      g_autoptr(GError) error = NULL;

      if (!op_want (op, &error))
        {
          g_queue_delete_link (&self->pending, l);
          op_return_error (op, g_steal_pointer (&error));
          op_free (op);
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
}

static gboolean
queue_timeout (gpointer data)
{
  Op *op = data;
  HdEngine *self = op->engine;

  op->queue_timeout_id = 0;
  g_queue_remove (&self->pending, op);
  op_return_error (op, g_error_new (HD_ERROR, HD_ERROR_BUSY,
                                    _("device %s is busy: another operation on it or its IOMMU group has not finished"),
                                    op->name));
  op_free (op);
  return G_SOURCE_REMOVE;
}

static void
submit (HdEngine *self, Op *op)
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
    hd_stepper_kick (&((Op *) g_ptr_array_index (self->running, i))->stepper);
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
  Op *op = op_new (self, OP_RECOVER, "recovery", callback, user_data);
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) records = NULL;
  GError *error = NULL;

  records = hd_journal_load (self->journal, bad, &error);
  for (guint i = 0; i < bad->len; i++)
    g_warning ("state journal: %s", (const char *) g_ptr_array_index (bad, i));
  if (records == NULL)
    {
      op_return_error (op, error);
      op_free (op);
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
      g_info ("state journal: %s was interrupted while %s (step %s); %s", addr,
              hd_journal_state_to_string (rec->state), rec->step ? rec->step : "-",
              rec->state == HD_JOURNAL_DETACHING ? "rolling it back" : "completing it");
      add_claim (op->claims, &rec->address);
      g_ptr_array_add (op->devices, dev && dev->pci ? transition_device_new (dev) : transition_device_absent (&rec->address));
      g_ptr_array_add (op->records, hd_journal_record_copy (rec));
    }
  /* First in line: nothing else can claim these devices before it. */
  g_queue_push_head (&self->pending, op);
  op->queue_timeout_id = g_timeout_add (G_MAXINT, queue_timeout, op);
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
  dev = lookup_pci (self, name, error);
  if (dev == NULL)
    return NULL;
  return compute_verdict (self, dev, stub, options->group, options->force, error);
}

void
hd_engine_detach_async (HdEngine *self, const char *name, const HdDetachOptions *options,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  Op *op = op_new (self, OP_DETACH, name, callback, user_data);
  GError *error = NULL;

  op->driver_name = g_strdup (options->driver);
  op->group = options->group;
  op->force = options->force;
  op->owner = g_strdup (options->owner);
  op->stub = hd_stub_driver_lookup (options->driver, &error);
  if (op->stub == NULL)
    {
      op_return_error (op, error);
      op_free (op);
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
  Op *op = op_new (self, OP_REATTACH, name, callback, user_data);

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
  Op *op = op_new (self, OP_RESET, name, callback, user_data);

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
