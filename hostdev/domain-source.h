/* libvirt's domains as hostdevd sees them: a read-only libvirt client
 * (libvirt.so) of qemu:///system, and of xen:///system on a Xen host.
 *
 * For every defined or running domain of every URI, an immutable snapshot
 * (HdDomain) with its PCI hostdevs, kept current from libvirt's lifecycle
 * events (a `virsh define`, `edit` or `undefine` shows within a second)
 * and, for the autostart flag (libvirt 9.0 has no event for it), from a
 * poll.  The connections come back by themselves when libvirtd restarts.
 *
 * Threads: libvirt is only ever called off the main loop.  Each URI has a
 * worker thread that opens the connection, lists the domains and reads
 * their XML (every one of those calls can block on a hung libvirtd; only
 * that worker waits).  libvirt's own event loop (virEventRegisterDefaultImpl)
 * runs on one more thread of its own, shared by the process; its
 * callbacks only queue work for the workers.  Results reach the main
 * context (the thread-default one of hd_domain_source_new's caller) by
 * g_main_context_invoke, and every signal is emitted there.
 *
 * Which XML counts:
 * - a running domain: `hostdevs` from the live XML (what the guest holds
 *   now, hot-plugged devices included) and `config_hostdevs` from the
 *   inactive XML when the domain is persistent (what it takes at its next
 *   start; empty for a transient domain);
 * - a defined, shut-off domain: both from its (inactive) XML, the same
 *   devices.
 * `autostart` and `persistent` come from the API, never the XML.
 * A document that does not parse leaves that list empty and says why in
 * `error`; other domains are not affected.
 *
 * When a connection is lost the last snapshots of its domains are kept
 * (their guests keep running, and keep their devices, while libvirtd is
 * away) and "disconnected" is emitted; once it is back, "connected" and
 * then the differences (changed, removed) are emitted. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  HD_DOMAIN_DEFINED,   /* not running (shut off): virDomainIsActive false */
  HD_DOMAIN_RUNNING,   /* active: running, paused, … */
} HdDomainState;

typedef struct {
  char *uri;               /* the connection's URI, as given */
  char *name;
  char *uuid;              /* libvirt's spelling, lower case with dashes */
  HdDomainState state;
  gboolean autostart;
  gboolean persistent;
  GPtrArray *hostdevs;        /* HdHostdev*: what it uses now (see above); never NULL */
  GPtrArray *config_hostdevs; /* HdHostdev*: at its next start; never NULL */
  char *error;             /* NULL, or why an XML document did not parse */
  /*< private >*/
  gint refcount;
} HdDomain;

#define HD_TYPE_DOMAIN (hd_domain_get_type ())
GType hd_domain_get_type (void);
HdDomain *hd_domain_ref (HdDomain *domain);
void hd_domain_unref (HdDomain *domain);
/* Same fields and same hostdevs (hd_hostdev_equal, in order). */
gboolean hd_domain_equal (const HdDomain *a, const HdDomain *b);
const char *hd_domain_state_to_string (HdDomainState state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdDomain, hd_domain_unref)

#define HD_TYPE_DOMAIN_SOURCE (hd_domain_source_get_type ())
G_DECLARE_FINAL_TYPE (HdDomainSource, hd_domain_source, HD, DOMAIN_SOURCE, GObject)

/* qemu:///system, and xen:///system when /proc/xen exists (a Xen dom0 or
 * guest; elsewhere libvirt has no Xen driver to open, and trying would
 * only log errors).  NULL-terminated, free with g_strfreev. */
char **hd_domain_source_default_uris (void);

/* Starts watching @uris (NULL: the defaults).  Returns at once; the first
 * "connected" and "domain-changed" signals follow on the caller's
 * thread-default main context.
 * @poll_ms: how often the autostart flags are read again (libvirt sends
 * no event for them), 0 for 5000 ms.
 *
 * Signals:
 *   "connected" (const char *uri)
 *   "disconnected" (const char *uri, const char *reason)
 *   "domain-changed" (HdDomain *domain): new, or different from before
 *   "domain-removed" (const char *uri, const char *uuid, const char *name)
 */
HdDomainSource *hd_domain_source_new (const char *const *uris, guint poll_ms);

/* Snapshots of every domain known now (HdDomain*, referenced; free the
 * array), sorted by URI then name. */
GPtrArray *hd_domain_source_list (HdDomainSource *self);

/* The snapshot of one domain, or NULL. */
HdDomain *hd_domain_source_lookup (HdDomainSource *self, const char *uri, const char *uuid);

gboolean hd_domain_source_is_connected (HdDomainSource *self, const char *uri);

G_END_DECLS
