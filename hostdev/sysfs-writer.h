/* The one seam every write to sysfs goes through.
 *
 * hostdev/ never writes a file itself: it hands (path, text) to an
 * HdSysfsWriter.  The kernel writer is the only one that touches files;
 * the recording and failing writers wrap another writer so that tests can
 * see the exact sequence of writes and inject the kernel's refusals
 * (EBUSY, ENODEV, …), hangs, or the death of the daemon between two
 * steps.  Writers are called from worker threads: implementations must be
 * thread-safe. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define HD_TYPE_SYSFS_WRITER (hd_sysfs_writer_get_type ())
G_DECLARE_INTERFACE (HdSysfsWriter, hd_sysfs_writer, HD, SYSFS_WRITER, GObject)

struct _HdSysfsWriterInterface {
  GTypeInterface parent_iface;

  /* Writes @data to @path in one write(2); 0 or the errno the kernel gave. */
  int (*write) (HdSysfsWriter *self, const char *path, const char *data);
};

/* 0 on success, else an errno value (never negative). */
int hd_sysfs_writer_write (HdSysfsWriter *self, const char *path, const char *data);

/* TRUE if @path is somewhere hostdevd may write: below /sys/bus/pci/, no
 * `.`/`..` components, no empty components, no control characters. */
gboolean hd_sysfs_writer_path_allowed (const char *path);

/* The real thing: open(O_WRONLY), one write(), close().  Paths that
 * hd_sysfs_writer_path_allowed() refuses fail with EACCES, untouched. */
HdSysfsWriter *hd_sysfs_writer_new_kernel (void);

/* Passes every write to @inner and records it as "PATH <- DATA" (a
 * trailing newline of DATA shown as \n). */
#define HD_TYPE_RECORDING_WRITER (hd_recording_writer_get_type ())
G_DECLARE_FINAL_TYPE (HdRecordingWriter, hd_recording_writer, HD, RECORDING_WRITER, GObject)

HdRecordingWriter *hd_recording_writer_new (HdSysfsWriter *inner);
/* The writes so far, in order; clears the record. */
GStrv hd_recording_writer_take_log (HdRecordingWriter *self);

/* Passes writes to @inner unless a rule matches. */
#define HD_TYPE_FAILING_WRITER (hd_failing_writer_get_type ())
G_DECLARE_FINAL_TYPE (HdFailingWriter, hd_failing_writer, HD, FAILING_WRITER, GObject)

typedef enum {
  HD_FAIL_ERRNO,        /* return @errno_value without writing */
  HD_FAIL_HANG,         /* block until hd_failing_writer_release(), then write */
  HD_FAIL_KILL_BEFORE,  /* SIGKILL this process before writing */
  HD_FAIL_KILL_AFTER,   /* write, then SIGKILL this process */
} HdFailMode;

HdFailingWriter *hd_failing_writer_new (HdSysfsWriter *inner);

/* Matches writes whose path ends with @path_suffix; fires on the @nth
 * matching write (1 = the first) and, if @nth is 0, on every one. */
void hd_failing_writer_add_rule (HdFailingWriter *self, const char *path_suffix,
                                 guint nth, HdFailMode mode, int errno_value);

/* Lets every hung write go on (and later ones pass). */
void hd_failing_writer_release (HdFailingWriter *self);

/* How many writes are blocked in HD_FAIL_HANG right now. */
guint hd_failing_writer_get_n_hung (HdFailingWriter *self);

G_END_DECLS
