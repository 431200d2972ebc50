/* Assignments made through hostdevd itself (Assign() on D-Bus), for
 * machines without libvirt domains: kept in /var/lib/hostdevd/assignments,
 * one file per domain, so that a restart — or a reboot — still knows them.
 * The file holds the domain's name and the <hostdev> XML it was given;
 * reading it back goes through the same parser as the first time. */
#pragma once

#include <glib.h>

#include "assignments.h"

G_BEGIN_DECLS

typedef struct _HdAssignmentStore HdAssignmentStore;

/* Opens (creating, 0700) @dir and reads its records, once.  A record that
 * does not parse is reported in @bad (may be NULL) and left aside. */
HdAssignmentStore *hd_assignment_store_open (const char *dir, GPtrArray *bad, GError **error);
void hd_assignment_store_free (HdAssignmentStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdAssignmentStore, hd_assignment_store_free)

/* A domain name hostdevd accepts: 1–200 bytes of letters, digits and
 * "._+-", not starting with '.', so that it is its own file name.
 * HD_ERROR_INVALID_ARGUMENT otherwise. */
gboolean hd_assignment_store_check_name (const char *domain, GError **error);

/* Parses @xml (a <domain>, or one or more <hostdev> elements) by
 * libvirt's rules: the domain's PCI hostdevs, at least one. */
GPtrArray *hd_assignment_store_parse (const char *domain, const char *xml, GError **error);

/* Records @domain with @xml, which must parse (durable when it returns
 * TRUE). */
gboolean hd_assignment_store_put (HdAssignmentStore *store, const char *domain, const char *xml,
                                  GError **error);
gboolean hd_assignment_store_remove (HdAssignmentStore *store, const char *domain, GError **error);

/* The recorded XML of @domain, or NULL. */
char *hd_assignment_store_get (HdAssignmentStore *store, const char *domain);

/* Every recorded domain, as HdAssignmentDomain (uri "hostdevd", not
 * running, autostart: hostdevd holds the devices for it), sorted by name;
 * copies, from memory. */
GPtrArray *hd_assignment_store_list (HdAssignmentStore *store);

G_END_DECLS
