/* What the parts of a host-usage scan share (see host-usage.h): the uses
 * found so far, and the readers of /proc-style sources.  Each part scans
 * one kind of use: host-usage-storage.c filesystems and swap,
 * host-usage-net.c network interfaces, host-usage.c the PCI functions
 * themselves. */
#pragma once

#include <glib.h>

#include "host-usage.h"
#include "nodedev/error.h"

typedef struct {
  GPtrArray *uses;     /* HdHostUse, borrowed from the HdHostUsage */
  GPtrArray *mounts;   /* host-usage-storage.c's, while it scans */
} HdUsageScan;

/* Adds a use (taking @description) unless one of that kind is already on
 * @holder: bind mounts repeat a device. */
void hd_usage_add (HdUsageScan *s, HdHostUseKind kind, const char *holder, char *description);

/* @path resolved, if that is a device directory; whatever the host uses
 * is one, anything else (a dangling link) is not. */
char *hd_usage_canonical (const char *path);

/* @path is @dir or below it: "/" holds everything, /mnt holds /mnt/x but
 * not /mnt2. */
gboolean hd_usage_is_under (const char *path, const char *dir);

/* FALSE, with an HD_ERROR of @code. */
gboolean hd_usage_fail (GError **error, HdError code, const char *format, ...) G_GNUC_PRINTF (3, 4);
/* FALSE, with HD_ERROR_INVALID_DATA naming @path and @line. */
gboolean hd_usage_malformed (const char *path, guint line, GError **error);

/* The lines of @path in @lines, NULL there if the file does not exist (a
 * container may lack /proc/swaps).  FALSE if it cannot be read or is not
 * bounded text. */
gboolean hd_usage_read_lines (const char *path, GStrv *lines, GError **error);

/* The fields of @line; /proc/swaps and the route tables pad columns with
 * runs of blanks or tabs. */
GStrv hd_usage_split_fields (const char *line);

/* Filesystems (from @mountinfo) and swap (from @swaps) down to the
 * physical devices under them. */
gboolean hd_usage_scan_storage (HdUsageScan *s, const char *mountinfo, const char *swaps, GError **error);

/* Interfaces with addresses (from @src, else getifaddrs(3)), routes (the
 * route tables in @src) or a master. */
gboolean hd_usage_scan_net (HdUsageScan *s, const HdHostUsageSources *src, GError **error);
