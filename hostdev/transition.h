/* The sysfs steps that move one device between drivers, run on an
 * operation's worker thread, never on the main loop.
 *
 * Every step is written to the journal before it runs; every change is
 * verified by reading the device's `driver` link until the kernel shows
 * it, woken early by the kernel's uevents; every write is watched by the
 * engine's watchdog, which abandons the operation when the kernel does not
 * return in time. */
#pragma once

#include <glib.h>

#include "journal.h"
#include "stub-driver.h"
#include "sysfs-writer.h"

G_BEGIN_DECLS

/* Shared between a worker and the main loop, under @lock. */
typedef struct {
  HdSysfsWriter *writer;
  HdJournal *journal;
  guint settle_timeout_ms;   /* how long the kernel may take to show a bind/unbind */

  GMutex lock;
  GCond cond;                /* kernel events and abandonment wake waiters */
  gboolean in_write;
  gint64 write_started;      /* monotonic, while in_write */
  char *write_path;
  gboolean abandoned;        /* the watchdog gave up on this operation */
} HdStepper;

void hd_stepper_init (HdStepper *st, HdSysfsWriter *writer, HdJournal *journal, guint settle_timeout_ms);
void hd_stepper_clear (HdStepper *st);

/* Called on the main loop when the kernel reported something. */
void hd_stepper_kick (HdStepper *st);

/* What the main loop knows of a device when a detach starts. */
typedef struct {
  HdPciAddress address;
  char *name;
  char *syspath;
  guint vendor;
  guint product;
  char *driver;              /* bound now */
  char *override;            /* driver_override now, NULL if none */
} HdTransitionDevice;

void hd_transition_device_free (HdTransitionDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdTransitionDevice, hd_transition_device_free)

/* Binds @dev to @stub.  On success *@record is the DETACHED record; on
 * failure it is the record of how far it got (NULL if nothing changed),
 * for hd_transition_restore() to undo. */
gboolean hd_transition_detach (HdStepper *st, const HdTransitionDevice *dev,
                               const HdStubDriver *stub, const char *owner,
                               const char *transaction, HdJournalRecord **record,
                               GError **error);

/* Gives a device back to the driver @record says it came from: the
 * reattach of a detached device, the rollback of a failed detach, and
 * the recovery of an interrupted one.  Removes the record when done;
 * on failure the record stays (state REATTACHING) for the next try. */
gboolean hd_transition_restore (HdStepper *st, const HdTransitionDevice *dev,
                                const HdJournalRecord *record, GError **error);

/* Resets @dev through the kernel with @method ("default": the kernel's
 * choice), restoring the reset_method list afterwards. */
gboolean hd_transition_reset (HdStepper *st, const HdTransitionDevice *dev,
                              const char *method, GError **error);

G_END_DECLS
