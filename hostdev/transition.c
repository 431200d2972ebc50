#include "config.h"

#include "transition.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "nodedev/error.h"
#include "nodedev/sysfs.h"

/* How often a waiter looks at the driver link when no uevent woke it. */
#define POLL_INTERVAL_US (20 * G_TIME_SPAN_MILLISECOND)

void
hd_stepper_init (HdStepper *st, HdSysfsWriter *writer, HdJournal *journal, guint settle_timeout_ms)
{
  memset (st, 0, sizeof *st);
  st->writer = g_object_ref (writer);
  st->journal = journal;
  st->settle_timeout_ms = settle_timeout_ms;
  g_mutex_init (&st->lock);
  g_cond_init (&st->cond);
}

void
hd_stepper_clear (HdStepper *st)
{
  g_clear_object (&st->writer);
  g_clear_pointer (&st->write_path, g_free);
  g_mutex_clear (&st->lock);
  g_cond_clear (&st->cond);
}

void
hd_stepper_kick (HdStepper *st)
{
  g_mutex_lock (&st->lock);
  g_cond_broadcast (&st->cond);
  g_mutex_unlock (&st->lock);
}

void
hd_transition_device_free (HdTransitionDevice *dev)
{
  if (dev == NULL)
    return;
  g_free (dev->name);
  g_free (dev->syspath);
  g_free (dev->driver);
  g_free (dev->override);
  g_free (dev);
}

static gboolean
abandoned (HdStepper *st)
{
  gboolean a;

  g_mutex_lock (&st->lock);
  a = st->abandoned;
  g_mutex_unlock (&st->lock);
  return a;
}

/* One write, visible to the watchdog while it runs. */
static int
step_write (HdStepper *st, const char *path, const char *data)
{
  int r;

  g_mutex_lock (&st->lock);
  st->in_write = TRUE;
  st->write_started = g_get_monotonic_time ();
  g_free (st->write_path);
  st->write_path = g_strdup (path);
  g_mutex_unlock (&st->lock);

  r = hd_sysfs_writer_write (st->writer, path, data);

  g_mutex_lock (&st->lock);
  st->in_write = FALSE;
  g_mutex_unlock (&st->lock);
  return r;
}

static char *
current_driver (const HdTransitionDevice *dev, gboolean *present)
{
  *present = g_file_test (dev->syspath, G_FILE_TEST_IS_DIR);
  return hd_sysfs_read_link_basename (dev->syspath, "driver");
}

/* Waits until the device's driver is @expect (NULL: none).  The kernel
 * binds synchronously, so this is usually immediate; the wait covers
 * drivers that probe asynchronously and catches a probe that failed. */
static gboolean
wait_driver (HdStepper *st, const HdTransitionDevice *dev, const char *expect,
             gboolean forward, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + st->settle_timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);

  for (;;)
    {
      gboolean present;
      g_autofree char *driver = current_driver (dev, &present);
      gint64 now;

      if (!present)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_NO_DEVICE, _("PCI device %s disappeared"), addr);
          return FALSE;
        }
      if (g_strcmp0 (driver, expect) == 0)
        return TRUE;
      now = g_get_monotonic_time ();
      if (now >= deadline || (forward && abandoned (st)))
        {
          if (expect == NULL)
            g_set_error (error, HD_ERROR, HD_ERROR_TIMED_OUT,
                         _("PCI device %s is still bound to %s %u ms after the unbind"),
                         addr, driver, st->settle_timeout_ms);
          else if (driver == NULL)
            g_set_error (error, HD_ERROR, HD_ERROR_TIMED_OUT,
                         _("the kernel did not bind PCI device %s to %s within %u ms (the driver's probe may have failed; see the kernel log)"),
                         addr, expect, st->settle_timeout_ms);
          else
            g_set_error (error, HD_ERROR, HD_ERROR_TIMED_OUT,
                         _("PCI device %s was bound to %s instead of %s"), addr, driver, expect);
          return FALSE;
        }
      g_mutex_lock (&st->lock);
      g_cond_wait_until (&st->cond, &st->lock, MIN (deadline, now + POLL_INTERVAL_US));
      g_mutex_unlock (&st->lock);
    }
}

/* The journal learns each step before it runs. */
static gboolean
journal_step (HdStepper *st, HdJournalRecord *rec, const char *step, HdJournalRecord **out, GError **error)
{
  g_free (rec->step);
  rec->step = g_strdup (step);
  rec->updated = g_get_real_time ();
  if (!hd_journal_write (st->journal, rec, error))
    return FALSE;
  if (out != NULL)
    {
      hd_journal_record_free (*out);
      *out = hd_journal_record_copy (rec);
    }
  return TRUE;
}

static char *
path_of_device (const HdTransitionDevice *dev, const char *attr)
{
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);

  return g_build_filename ("/sys/bus/pci/devices", addr, attr, NULL);
}

static char *
path_of_driver (const char *driver, const char *attr)
{
  return g_build_filename ("/sys/bus/pci/drivers", driver, attr, NULL);
}

static gboolean
set_system_error (GError **error, int err, const char *what)
{
  g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM, "%s: %s", what, g_strerror (err));
  return FALSE;
}

static gboolean
write_override (HdStepper *st, const HdTransitionDevice *dev, const char *value, GError **error)
{
  g_autofree char *path = path_of_device (dev, "driver_override");
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *what = NULL;
  g_autofree char *shown = g_strstrip (g_strdup (value));
  int r = step_write (st, path, value);

  if (r == 0)
    return TRUE;
  what = g_strdup_printf (_("Failed to add driver '%s' to driver_override interface of PCI device '%s'"),
                          shown, addr);
  return set_system_error (error, r, what);
}

/* A write whose effect is a bind or an unbind, then the wait for the
 * kernel to show it; @failure is libvirt's text for a refused write. */
static gboolean
write_then_wait (HdStepper *st, const HdTransitionDevice *dev, const char *path, const char *data,
                 const char *expect, gboolean forward, const char *failure, GError **error)
{
  int r = step_write (st, path, data);

  if (r == 0)
    return wait_driver (st, dev, expect, forward, error);
  return set_system_error (error, r, failure);
}

static gboolean
write_unbind (HdStepper *st, const HdTransitionDevice *dev, const char *driver, gboolean forward, GError **error)
{
  g_autofree char *path = path_of_driver (driver, "unbind");
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *failure = g_strdup_printf (_("Failed to unbind PCI device '%s' from %s"), addr, driver);

  return write_then_wait (st, dev, path, addr, NULL, forward, failure, error);
}

static gboolean
write_probe (HdStepper *st, const HdTransitionDevice *dev, const char *expect, gboolean forward, GError **error)
{
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *failure = g_strdup_printf (_("Failed to trigger a probe for PCI device '%s'"), addr);

  return write_then_wait (st, dev, "/sys/bus/pci/drivers_probe", addr, expect, forward, failure, error);
}

static gboolean
write_bind (HdStepper *st, const HdTransitionDevice *dev, const char *driver, gboolean forward, GError **error)
{
  g_autofree char *path = path_of_driver (driver, "bind");
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *failure = g_strdup_printf (_("Failed to bind PCI device '%s' to %s"), addr, driver);

  return write_then_wait (st, dev, path, addr, driver, forward, failure, error);
}

/* new_id, remove_id, new_slot, remove_slot: a control file of the stub. */
static gboolean
write_stub_control (HdStepper *st, const char *driver, const char *attr, const char *value,
                    const char *failure, GError **error)
{
  g_autofree char *path = path_of_driver (driver, attr);
  int r = step_write (st, path, value);

  /* new_id of an ID the driver already has answers EEXIST: it is there. */
  if (r == 0 || (r == EEXIST && g_str_equal (attr, "new_id")))
    return TRUE;
  return set_system_error (error, r, failure);
}

static gboolean
check_forward (HdStepper *st, GError **error)
{
  if (!abandoned (st))
    return TRUE;
  g_set_error_literal (error, HD_ERROR, HD_ERROR_TIMED_OUT, _("the operation was abandoned after a timeout"));
  return FALSE;
}

static gboolean
detach_by_override (HdStepper *st, const HdTransitionDevice *dev, const HdStubDriver *stub,
                    HdJournalRecord *rec, HdJournalRecord **out, GError **error)
{
  if (!journal_step (st, rec, "override", out, error) ||
      !write_override (st, dev, stub->driver, error) || !check_forward (st, error))
    return FALSE;
  if (dev->driver != NULL &&
      (!journal_step (st, rec, "unbind", out, error) ||
       !write_unbind (st, dev, dev->driver, TRUE, error) || !check_forward (st, error)))
    return FALSE;
  return journal_step (st, rec, "probe", out, error) &&
         write_probe (st, dev, stub->driver, TRUE, error) && check_forward (st, error);
}

/* Kernels before 3.16 have no driver_override: the stub learns the
 * device's ID (new_id), pciback its slot (new_slot), and binds it. */
static gboolean
detach_by_new_id (HdStepper *st, const HdTransitionDevice *dev, const HdStubDriver *stub,
                  HdJournalRecord *rec, HdJournalRecord **out, GError **error)
{
  g_autofree char *id = g_strdup_printf ("%04x %04x", dev->vendor, dev->product);
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *new_id_failure = g_strdup_printf (_("Failed to add PCI device ID '%s' to %s"), id, stub->driver);
  g_autofree char *slot_failure = g_strdup_printf (_("Failed to add slot for PCI device '%s' to %s"), addr, stub->driver);
  g_autofree char *remove_path = path_of_driver (stub->driver, "remove_id");
  g_autofree char *slot_path = path_of_driver (stub->driver, "new_slot");
  gboolean present;
  g_autofree char *now = NULL;

  if (!journal_step (st, rec, "new_id", out, error) ||
      !write_stub_control (st, stub->driver, "new_id", id, new_id_failure, error) ||
      !check_forward (st, error))
    return FALSE;
  if (dev->driver != NULL &&
      (!journal_step (st, rec, "unbind", out, error) ||
       !write_unbind (st, dev, dev->driver, TRUE, error) || !check_forward (st, error)))
    return FALSE;
  if (g_file_test (slot_path, G_FILE_TEST_EXISTS) &&
      (!journal_step (st, rec, "new_slot", out, error) ||
       !write_stub_control (st, stub->driver, "new_slot", addr, slot_failure, error)))
    return FALSE;
  /* new_id binds unbound devices by itself when the device had no driver. */
  now = current_driver (dev, &present);
  if (g_strcmp0 (now, stub->driver) != 0 &&
      (!journal_step (st, rec, "bind", out, error) ||
       !write_bind (st, dev, stub->driver, TRUE, error) || !check_forward (st, error)))
    return FALSE;
  if (g_file_test (remove_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GError) local = NULL;

      /* Without remove_id the ID would make the stub grab every other
       * device of this model at its next probe; it is not fatal here. */
      if (!journal_step (st, rec, "remove_id", out, error))
        return FALSE;
      if (!write_stub_control (st, stub->driver, "remove_id", id, "remove_id", &local))
        g_warning (_("Failed to remove PCI ID '%s' from %s: %s"), id, stub->driver, local->message);
    }
  return TRUE;
}

gboolean
hd_transition_detach (HdStepper *st, const HdTransitionDevice *dev, const HdStubDriver *stub,
                      const char *owner, const char *transaction, HdJournalRecord **out,
                      GError **error)
{
  g_autoptr(HdJournalRecord) rec = hd_journal_record_new (&dev->address);
  g_autofree char *override_path = g_build_filename (dev->syspath, "driver_override", NULL);
  gboolean done;

  *out = NULL;
  rec->state = HD_JOURNAL_DETACHING;
  rec->stub = g_strdup (stub->driver);
  rec->original_driver = g_strdup (dev->driver);
  rec->original_override = g_strdup (dev->override);
  rec->new_id_route = !g_file_test (override_path, G_FILE_TEST_EXISTS);
  rec->owner = g_strdup (owner);
  rec->transaction = g_strdup (transaction);

  if (rec->new_id_route)
    done = detach_by_new_id (st, dev, stub, rec, out, error);
  else
    done = detach_by_override (st, dev, stub, rec, out, error);
  if (!done)
    return FALSE;
  rec->state = HD_JOURNAL_DETACHED;
  return journal_step (st, rec, NULL, out, error);
}

static gboolean
restore_by_override (HdStepper *st, const HdTransitionDevice *dev, HdJournalRecord *rec, GError **error)
{
  gboolean present;
  g_autofree char *now = NULL;
  g_autoptr(GError) probe_error = NULL;

  /* "\n" clears driver_override (libvirt writes the same). */
  if (!journal_step (st, rec, "override", NULL, error) ||
      !write_override (st, dev, rec->original_override ? rec->original_override : "\n", error))
    return FALSE;
  now = current_driver (dev, &present);
  if (g_strcmp0 (now, rec->original_driver) == 0)
    return TRUE;
  if (now != NULL &&
      (!journal_step (st, rec, "unbind", NULL, error) || !write_unbind (st, dev, now, FALSE, error)))
    return FALSE;
  if (!journal_step (st, rec, "probe", NULL, error))
    return FALSE;
  if (rec->original_driver == NULL)
    {
      g_autofree char *addr = hd_pci_address_to_string (&dev->address);
      int r = step_write (st, "/sys/bus/pci/drivers_probe", addr);

      /* It had no driver: whatever the probe finds, or nothing, it is the
       * host's again. */
      if (r == 0)
        return TRUE;
      return set_system_error (error, r, _("Failed to trigger a probe for the PCI device"));
    }
  if (write_probe (st, dev, rec->original_driver, FALSE, &probe_error))
    return TRUE;
  /* The probe did not bring the original driver back (another driver
   * claimed the device, or the probe order differs): bind it by name. */
  g_clear_pointer (&now, g_free);
  now = current_driver (dev, &present);
  if (now != NULL && !write_unbind (st, dev, now, FALSE, error))
    return FALSE;
  return journal_step (st, rec, "bind", NULL, error) &&
         write_bind (st, dev, rec->original_driver, FALSE, error);
}

static gboolean
restore_by_new_id (HdStepper *st, const HdTransitionDevice *dev, HdJournalRecord *rec, GError **error)
{
  g_autofree char *id = g_strdup_printf ("%04x %04x", dev->vendor, dev->product);
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *remove_id = path_of_driver (rec->stub, "remove_id");
  g_autofree char *remove_slot = path_of_driver (rec->stub, "remove_slot");
  gboolean present;
  g_autofree char *now = current_driver (dev, &present);

  /* Both may fail harmlessly (the ID or slot was never added). */
  if (g_file_test (remove_id, G_FILE_TEST_EXISTS))
    step_write (st, remove_id, id);
  if (g_strcmp0 (now, rec->original_driver) == 0)
    return TRUE;
  if (now != NULL &&
      (!journal_step (st, rec, "unbind", NULL, error) || !write_unbind (st, dev, now, FALSE, error)))
    return FALSE;
  if (g_file_test (remove_slot, G_FILE_TEST_EXISTS))
    step_write (st, remove_slot, addr);
  if (rec->original_driver == NULL)
    return TRUE;
  return journal_step (st, rec, "bind", NULL, error) &&
         write_bind (st, dev, rec->original_driver, FALSE, error);
}

gboolean
hd_transition_restore (HdStepper *st, const HdTransitionDevice *dev,
                       const HdJournalRecord *record, GError **error)
{
  g_autoptr(HdJournalRecord) rec = hd_journal_record_copy (record);
  gboolean done;

  if (!g_file_test (dev->syspath, G_FILE_TEST_IS_DIR))
    {
      /* Gone (unplugged, or a VF whose PF dropped its VFs): nothing is
       * left to give back. */
      return hd_journal_remove (st->journal, &rec->address, error);
    }
  rec->state = HD_JOURNAL_REATTACHING;
  if (rec->new_id_route)
    done = restore_by_new_id (st, dev, rec, error);
  else
    done = restore_by_override (st, dev, rec, error);
  return done && hd_journal_remove (st->journal, &rec->address, error);
}

gboolean
hd_transition_reset (HdStepper *st, const HdTransitionDevice *dev, const char *method, GError **error)
{
  g_autofree char *addr = hd_pci_address_to_string (&dev->address);
  g_autofree char *reset = path_of_device (dev, "reset");
  g_autofree char *methods = path_of_device (dev, "reset_method");
  g_autofree char *saved = NULL;
  int r;

  if (!g_str_equal (method, "default"))
    {
      saved = hd_sysfs_read_attr (dev->syspath, "reset_method", NULL);
      r = step_write (st, methods, method);
      if (r != 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("Unable to reset PCI device %s: cannot select reset method %s: %s"),
                       addr, method, g_strerror (r));
          return FALSE;
        }
    }
  r = step_write (st, reset, "1");
  /* Put the admin's method list back whatever the reset did. */
  if (saved != NULL)
    step_write (st, methods, saved[0] ? saved : "default");
  if (r != 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("Unable to reset PCI device %s: %s"), addr, g_strerror (r));
      return FALSE;
    }
  return TRUE;
}
