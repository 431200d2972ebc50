#include "config.h"

#include "sysfs-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_INTERFACE (HdSysfsWriter, hd_sysfs_writer, G_TYPE_OBJECT)

static void
hd_sysfs_writer_default_init (HdSysfsWriterInterface *iface)
{
}

int
hd_sysfs_writer_write (HdSysfsWriter *self, const char *path, const char *data)
{
  g_return_val_if_fail (HD_IS_SYSFS_WRITER (self), EINVAL);
  return HD_SYSFS_WRITER_GET_IFACE (self)->write (self, path, data);
}

gboolean
hd_sysfs_writer_path_allowed (const char *path)
{
  static const char prefix[] = "/sys/bus/pci/";
  g_auto(GStrv) parts = NULL;

  if (path == NULL || !g_str_has_prefix (path, prefix) || strlen (path) > 4096)
    return FALSE;
  for (const char *p = path; *p; p++)
    if (g_ascii_iscntrl (*p))
      return FALSE;
  parts = g_strsplit (path + 1, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

/* ---- the kernel ---------------------------------------------------------- */

#define HD_TYPE_KERNEL_WRITER (hd_kernel_writer_get_type ())
G_DECLARE_FINAL_TYPE (HdKernelWriter, hd_kernel_writer, HD, KERNEL_WRITER, GObject)

struct _HdKernelWriter {
  GObject parent_instance;
};

static int
kernel_write (HdSysfsWriter *writer, const char *path, const char *data)
{
  size_t len = strlen (data);
  ssize_t n;
  int fd;
  int saved;

  if (!hd_sysfs_writer_path_allowed (path))
    return EACCES;
  /* O_TRUNC is what `echo x > file` does; sysfs ignores it and test
   * trees (plain files) then hold exactly what was written last. */
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno;
  do
    n = write (fd, data, len);
  while (n < 0 && errno == EINTR);
  saved = n < 0 ? errno : ((size_t) n == len ? 0 : EIO);
  if (close (fd) < 0 && saved == 0)
    saved = errno;   /* some attributes report their error only at close */
  return saved;
}

static void
hd_kernel_writer_iface_init (HdSysfsWriterInterface *iface)
{
  iface->write = kernel_write;
}

G_DEFINE_TYPE_WITH_CODE (HdKernelWriter, hd_kernel_writer, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (HD_TYPE_SYSFS_WRITER, hd_kernel_writer_iface_init))

static void
hd_kernel_writer_class_init (HdKernelWriterClass *klass)
{
}

static void
hd_kernel_writer_init (HdKernelWriter *self)
{
}

HdSysfsWriter *
hd_sysfs_writer_new_kernel (void)
{
  return g_object_new (HD_TYPE_KERNEL_WRITER, NULL);
}

/* ---- recording ----------------------------------------------------------- */

struct _HdRecordingWriter {
  GObject parent_instance;
  HdSysfsWriter *inner;
  GMutex lock;
  GPtrArray *log;
};

static int
recording_write (HdSysfsWriter *writer, const char *path, const char *data)
{
  HdRecordingWriter *self = HD_RECORDING_WRITER (writer);
  g_autoptr(GString) line = g_string_new (path);

  g_string_append (line, " <- ");
  g_string_append (line, data);
  if (g_str_has_suffix (line->str, "\n"))
    {
      g_string_truncate (line, line->len - 1);
      g_string_append (line, "\\n");
    }
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->log, g_string_free (g_steal_pointer (&line), FALSE));
  g_mutex_unlock (&self->lock);
  return hd_sysfs_writer_write (self->inner, path, data);
}

static void
hd_recording_writer_iface_init (HdSysfsWriterInterface *iface)
{
  iface->write = recording_write;
}

G_DEFINE_TYPE_WITH_CODE (HdRecordingWriter, hd_recording_writer, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (HD_TYPE_SYSFS_WRITER, hd_recording_writer_iface_init))

static void
hd_recording_writer_finalize (GObject *object)
{
  HdRecordingWriter *self = HD_RECORDING_WRITER (object);

  g_clear_object (&self->inner);
  g_ptr_array_unref (self->log);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (hd_recording_writer_parent_class)->finalize (object);
}

static void
hd_recording_writer_class_init (HdRecordingWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hd_recording_writer_finalize;
}

static void
hd_recording_writer_init (HdRecordingWriter *self)
{
  g_mutex_init (&self->lock);
  self->log = g_ptr_array_new_with_free_func (g_free);
}

HdRecordingWriter *
hd_recording_writer_new (HdSysfsWriter *inner)
{
  HdRecordingWriter *self = g_object_new (HD_TYPE_RECORDING_WRITER, NULL);

  self->inner = g_object_ref (inner);
  return self;
}

GStrv
hd_recording_writer_take_log (HdRecordingWriter *self)
{
  g_autoptr(GPtrArray) log = NULL;

  g_mutex_lock (&self->lock);
  log = g_steal_pointer (&self->log);
  self->log = g_ptr_array_new_with_free_func (g_free);
  g_mutex_unlock (&self->lock);
  g_ptr_array_set_free_func (log, NULL);
  g_ptr_array_add (log, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&log), FALSE);
}

/* ---- failing ------------------------------------------------------------- */

typedef struct {
  char *suffix;
  guint nth;
  guint seen;
  HdFailMode mode;
  int errno_value;
} FailRule;

static void
fail_rule_free (FailRule *rule)
{
  g_free (rule->suffix);
  g_free (rule);
}

struct _HdFailingWriter {
  GObject parent_instance;
  HdSysfsWriter *inner;
  GMutex lock;
  GCond released_cond;
  gboolean released;
  guint n_hung;
  GPtrArray *rules;
};

static int
failing_write (HdSysfsWriter *writer, const char *path, const char *data)
{
  HdFailingWriter *self = HD_FAILING_WRITER (writer);
  gboolean fire = FALSE;
  FailRule fired = { 0 };
  int r;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->rules->len && !fire; i++)
    {
      FailRule *rule = g_ptr_array_index (self->rules, i);

      if (!g_str_has_suffix (path, rule->suffix))
        continue;
      rule->seen++;
      if (rule->nth == 0 || rule->seen == rule->nth)
        {
          fire = TRUE;
          fired = *rule;
        }
    }
  if (fire && fired.mode == HD_FAIL_HANG)
    {
      self->n_hung++;
      while (!self->released)
        g_cond_wait (&self->released_cond, &self->lock);
      self->n_hung--;
    }
  g_mutex_unlock (&self->lock);

  if (!fire || fired.mode == HD_FAIL_HANG)
    return hd_sysfs_writer_write (self->inner, path, data);
  switch (fired.mode)
    {
    case HD_FAIL_ERRNO:
      return fired.errno_value;
    case HD_FAIL_KILL_BEFORE:
      kill (getpid (), SIGKILL);
      return EINTR;
    case HD_FAIL_KILL_AFTER:
      r = hd_sysfs_writer_write (self->inner, path, data);
      kill (getpid (), SIGKILL);
      return r;
    case HD_FAIL_HANG:
    default:
      g_assert_not_reached ();
    }
}

static void
hd_failing_writer_iface_init (HdSysfsWriterInterface *iface)
{
  iface->write = failing_write;
}

G_DEFINE_TYPE_WITH_CODE (HdFailingWriter, hd_failing_writer, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (HD_TYPE_SYSFS_WRITER, hd_failing_writer_iface_init))

static void
hd_failing_writer_finalize (GObject *object)
{
  HdFailingWriter *self = HD_FAILING_WRITER (object);

  g_clear_object (&self->inner);
  g_ptr_array_unref (self->rules);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->released_cond);
  G_OBJECT_CLASS (hd_failing_writer_parent_class)->finalize (object);
}

static void
hd_failing_writer_class_init (HdFailingWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hd_failing_writer_finalize;
}

static void
hd_failing_writer_init (HdFailingWriter *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->released_cond);
  self->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) fail_rule_free);
}

HdFailingWriter *
hd_failing_writer_new (HdSysfsWriter *inner)
{
  HdFailingWriter *self = g_object_new (HD_TYPE_FAILING_WRITER, NULL);

  self->inner = g_object_ref (inner);
  return self;
}

void
hd_failing_writer_add_rule (HdFailingWriter *self, const char *path_suffix,
                            guint nth, HdFailMode mode, int errno_value)
{
  FailRule *rule = g_new0 (FailRule, 1);

  rule->suffix = g_strdup (path_suffix);
  rule->nth = nth;
  rule->mode = mode;
  rule->errno_value = errno_value;
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->rules, rule);
  g_mutex_unlock (&self->lock);
}

void
hd_failing_writer_release (HdFailingWriter *self)
{
  g_mutex_lock (&self->lock);
  self->released = TRUE;
  g_cond_broadcast (&self->released_cond);
  g_mutex_unlock (&self->lock);
}

guint
hd_failing_writer_get_n_hung (HdFailingWriter *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_hung;
  g_mutex_unlock (&self->lock);
  return n;
}
