/* Gives the memory of large D-Bus replies back to the kernel.
 *
 * A GetManagedObjects on a host with thousands of SR-IOV functions builds
 * a reply of megabytes out of hundreds of thousands of small GVariants.
 * Freed, they stay in the allocator: at 4,096 functions one call left
 * hostdevd's RSS about 54 MB higher for good (bench/README.md).  A moment
 * after the connection has sent a method return of at least @threshold
 * bytes, malloc_trim(0) hands the free pages back.  GLib 2.74's slice allocator
 * keeps its own pages, so this helps only with G_SLICE=always-malloc
 * (hostdevd.service sets it). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _HdReplyTrimmer HdReplyTrimmer;

/* Watches @connection's outgoing method returns; trims @delay_ms after a
 * large one, on the thread-default main context of the caller (one trim
 * for a burst of large replies). */
HdReplyTrimmer *hd_reply_trimmer_new (GDBusConnection *connection, gsize threshold, guint delay_ms);
void hd_reply_trimmer_free (HdReplyTrimmer *trimmer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdReplyTrimmer, hd_reply_trimmer_free)

/* How many trims have run. */
guint hd_reply_trimmer_get_n_trims (HdReplyTrimmer *trimmer);

G_END_DECLS
