/* The state journal in the runtime directory (/run/hostdevd).
 *
 * One record per device hostdevd has taken or is taking, written
 * atomically (write to a temporary file, fsync, rename) *before* each step
 * that changes the device, so a daemon killed at any instant finds, on
 * restart, what it was doing, which driver the device came from, and for
 * whom.  A record in a stable state (DETACHED) means "ours, with this
 * original driver"; any other state is an interrupted operation. */
#pragma once

#include <glib.h>

#include "nodedev/pci-address.h"

G_BEGIN_DECLS

typedef enum {
  HD_JOURNAL_DETACHING,      /* a detach is in progress */
  HD_JOURNAL_DETACHED,       /* done: the device is on the stub, and ours */
  HD_JOURNAL_REATTACHING,    /* a reattach (or a rollback) is in progress */
} HdJournalState;

typedef struct {
  HdPciAddress address;
  HdJournalState state;
  char *step;                /* the step about to run, e.g. "unbind" */
  char *stub;                /* PCI driver we bind: vfio-pci, pci-stub, pciback */
  char *original_driver;     /* the driver it had; NULL: none */
  char *original_override;   /* driver_override before us; NULL: none */
  gboolean new_id_route;     /* bound through new_id/bind (no driver_override) */
  char *owner;               /* who asked: "rpc uid=0 pid=1234", a D-Bus name, … */
  char *transaction;         /* shared by the devices of one group detach */
  gint64 updated;            /* wall clock, microseconds */
} HdJournalRecord;

HdJournalRecord *hd_journal_record_new (const HdPciAddress *address);
HdJournalRecord *hd_journal_record_copy (const HdJournalRecord *record);
void hd_journal_record_free (HdJournalRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdJournalRecord, hd_journal_record_free)

const char *hd_journal_state_to_string (HdJournalState state);

typedef struct _HdJournal HdJournal;

/* Opens (creating, mode 0700) @dir, which holds one file per device. */
HdJournal *hd_journal_open (const char *dir, GError **error);
void hd_journal_free (HdJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdJournal, hd_journal_free)

const char *hd_journal_get_dir (HdJournal *journal);

/* Replaces the device's record; durable when it returns TRUE. */
gboolean hd_journal_write (HdJournal *journal, const HdJournalRecord *record, GError **error);

/* Forgets the device: it is the host's again. */
gboolean hd_journal_remove (HdJournal *journal, const HdPciAddress *address, GError **error);

/* Every record, in address order.  A file that is not a valid record is
 * renamed to NAME.bad and reported in @bad (one line each); it never stops
 * the daemon. */
GPtrArray *hd_journal_load (HdJournal *journal, GPtrArray *bad, GError **error);

G_END_DECLS
