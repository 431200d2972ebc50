/* Small, bounded readers for sysfs attributes (read-only). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Up to @max bytes of the file at @path (relative to @dirfd, or AT_FDCWD),
 * and its size as fstat() reports it in @file_size (-1 if unknown; may be
 * NULL).  A failing read() ends the data when @partial_ok — the kernel
 * gives an unprivileged reader of `config` a short read — and is an error
 * otherwise. */
GBytes *hd_sysfs_read_file (int dirfd, const char *path, int open_flags, gsize max,
                            gboolean partial_ok, gint64 *file_size, GError **error);

/* A device's sysfs directory, opened once (O_PATH) so that its attributes
 * are read relative to it: the kernel walks the long device path once,
 * not once per attribute.  -1 with @error set when it cannot be opened;
 * g_auto(HdSysfsDir) closes it. */
typedef int HdSysfsDir;
HdSysfsDir hd_sysfs_open_dir (const char *path, GError **error);
void hd_sysfs_dir_close (HdSysfsDir dirfd);
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (HdSysfsDir, hd_sysfs_dir_close, -1)

/* An attribute's text without its trailing newline (as libudev returns it), or NULL (with
 * @error set) when it cannot be read.  Reads at most one page, as sysfs
 * attributes never hold more. */
char *hd_sysfs_read_attr (const char *dir, const char *attr, GError **error);
char *hd_sysfs_read_attr_at (int dirfd, const char *attr, GError **error);

/* Parses an attribute as an integer in @base; FALSE when it is missing or
 * not a number. */
gboolean hd_sysfs_read_int (const char *dir, const char *attr, guint base, gint64 *value);
gboolean hd_sysfs_read_int_at (int dirfd, const char *attr, guint base, gint64 *value);

/* The last component of the symlink @dir/@attr, or NULL if it is no link. */
char *hd_sysfs_read_link_basename (const char *dir, const char *attr);
char *hd_sysfs_read_link_basename_at (int dirfd, const char *attr);

gboolean hd_sysfs_exists (const char *dir, const char *attr);

/* The hash kernfs orders a directory by (fs/kernfs/dir.c
 * kernfs_name_hash, for entries without a namespace). */
guint hd_kernfs_name_hash (const char *name);

/* The entries of @path in the order readdir() returns them on sysfs:
 * ascending kernfs hash, then name.  On sysfs this is the order the kernel
 * hands out anyway; on a testbed (tmpfs, ext4) it makes the result what
 * the real kernel would have shown libvirt. */
GPtrArray *hd_sysfs_list_dir (const char *path, GError **error);
GPtrArray *hd_sysfs_list_dir_at (int dirfd, const char *path, GError **error);

G_END_DECLS
