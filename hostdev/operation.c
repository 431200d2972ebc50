#include "config.h"

#include <glib/gi18n.h>

#include "engine-private.h"
#include "nodedev/error.h"
#include "nodedev/sysfs.h"

void
hd_operation_free (HdOperation *op)
{
  g_clear_handle_id (&op->queue_timeout_id, g_source_remove);
  g_clear_handle_id (&op->watchdog_id, g_source_remove);
  g_clear_object (&op->task);
  g_free (op->name);
  g_free (op->owner);
  g_clear_pointer (&op->device, hd_node_device_unref);
  g_clear_pointer (&op->verdict, hd_verdict_free);
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

HdOperation *
hd_operation_new (HdEngine *self, HdOperationKind kind, const char *name, GAsyncReadyCallback callback, gpointer user_data)
{
  HdOperation *op = g_new0 (HdOperation, 1);

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
void
hd_operation_return_error (HdOperation *op, GError *error)
{
  if (op->returned)
    {
      g_info (_("%s: after the timeout: %s"), op->name, error->message);
      g_error_free (error);
      return;
    }
  op->returned = TRUE;
  hd_engine_emit_finished (op, error);
  g_task_return_error (op->task, error);
}

void
hd_operation_return_success (HdOperation *op)
{
  g_autoptr(GPtrArray) names = NULL;

  if (op->returned)
    return;
  op->returned = TRUE;
  hd_engine_emit_finished (op, NULL);
  switch (op->kind)
    {
    case HD_OPERATION_DETACH:
      names = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < op->devices->len; i++)
        g_ptr_array_add (names, g_strdup (((HdTransitionDevice *) g_ptr_array_index (op->devices, i))->name));
      g_task_return_pointer (op->task, g_steal_pointer (&names), (GDestroyNotify) g_ptr_array_unref);
      break;
    case HD_OPERATION_RESET:
      g_task_return_pointer (op->task, g_strdup (op->reset_method), g_free);
      break;
    case HD_OPERATION_REATTACH:
    case HD_OPERATION_RECOVER:
    default:
      g_task_return_boolean (op->task, TRUE);
      break;
    }
}

/* ---- what the main loop knows ------------------------------------------ */

HdTransitionDevice *
hd_operation_device_from (HdNodeDevice *dev)
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
HdTransitionDevice *
hd_operation_device_absent (const HdPciAddress *address)
{
  HdTransitionDevice *t = g_new0 (HdTransitionDevice, 1);
  g_autofree char *addr = hd_pci_address_to_string (address);

  t->address = *address;
  t->name = hd_pci_address_to_nodedev_name (address);
  t->syspath = g_build_filename ("/sys/bus/pci/devices", addr, NULL);
  return t;
}

HdNodeDevice *
hd_operation_lookup_pci (HdEngine *self, const char *name, GError **error)
{
  return hd_inventory_refresh_pci (self->inventory, name, error);
}

void
hd_operation_add_claim (GPtrArray *claims, const HdPciAddress *address)
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
    hd_operation_add_claim (claims, &((HdVerdictMember *) g_ptr_array_index (members, i))->address);
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

HdVerdict *
hd_operation_verdict (HdEngine *self, HdNodeDevice *dev, const HdStubDriver *stub,
                 gboolean group, gboolean force, GError **error)
{
  g_autoptr(HdHostUsage) usage = hd_host_usage_scan (self->usage_sources, error);

  if (usage == NULL)
    return NULL;
  return hd_verdict_compute (self->inventory, usage, dev, stub, group, force);
}

/* Fills @op's claims; TRUE if the operation can be prepared at all. */
gboolean
hd_operation_want (HdOperation *op, GError **error)
{
  HdEngine *self = op->engine;

  if (op->kind == HD_OPERATION_RECOVER)
    return TRUE;   /* claims made when it was created */
  g_clear_pointer (&op->device, hd_node_device_unref);
  g_clear_pointer (&op->verdict, hd_verdict_free);
  op->device = hd_operation_lookup_pci (self, op->name, error);
  if (op->device == NULL)
    return FALSE;
  g_ptr_array_set_size (op->claims, 0);
  hd_operation_add_claim (op->claims, &op->device->pci->address);
  if (op->kind != HD_OPERATION_DETACH)
    return TRUE;
  op->verdict = hd_operation_verdict (self, op->device, op->stub, op->group, op->force, error);
  if (op->verdict == NULL)
    return FALSE;
  claim_members (op->claims, op->verdict->takes);
  claim_members (op->claims, op->verdict->blockers);
  claim_members (op->claims, op->verdict->stays);
  return TRUE;
}

/* Builds the device list from what hd_operation_want() saw; FALSE with
 * @error set to refuse, FALSE without to finish at once with success
 * (nothing to do). */
gboolean
hd_operation_prepare (HdOperation *op, GError **error)
{
  HdEngine *self = op->engine;
  HdNodeDevice *dev = op->device;
  HdVerdict *verdict = op->verdict;
  g_autoptr(HdHostUsage) usage = NULL;
  HdJournalRecord *owned;
  g_autofree char *addr = NULL;

  g_return_val_if_fail (dev != NULL, FALSE);
  addr = hd_pci_address_to_string (&dev->pci->address);
  switch (op->kind)
    {
    case HD_OPERATION_DETACH:
      if (op->stub->vfio && !check_vfio (dev, error))
        return FALSE;
      if (!hd_verdict_allows (verdict, error))
        return FALSE;
      for (guint i = 0; i < verdict->takes->len; i++)
        {
          HdVerdictMember *m = g_ptr_array_index (verdict->takes, i);
          g_autoptr(HdNodeDevice) d = hd_inventory_refresh (self->inventory, m->name);

          if (d != NULL && d->pci != NULL)
            {
              g_ptr_array_add (op->devices, hd_operation_device_from (d));
              g_ptr_array_add (op->records, NULL);
            }
        }
      op->transaction = g_strdup_printf ("%s-%" G_GINT64_FORMAT "-%u", addr, g_get_real_time (), ++self->n_transactions);
      return op->devices->len > 0;

    case HD_OPERATION_REATTACH:
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
      g_ptr_array_add (op->devices, hd_operation_device_from (dev));
      return TRUE;

    case HD_OPERATION_RESET:
      usage = hd_host_usage_scan (self->usage_sources, error);
      if (usage == NULL)
        return FALSE;
      op->reset_method = hd_verdict_reset_method (self->inventory, usage, dev, op->force, error);
      if (op->reset_method == NULL)
        return FALSE;
      g_ptr_array_add (op->devices, hd_operation_device_from (dev));
      return TRUE;

    case HD_OPERATION_RECOVER:
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
  {
    g_autofree char *msg = g_strconcat ((*error)->message, more, NULL);
    g_free ((*error)->message);
    (*error)->message = g_steal_pointer (&msg);
  }
}

void
hd_operation_run_detach (HdOperation *op)
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

void
hd_operation_run_restore (HdOperation *op)
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
