/* The writer seam: the paths the kernel writer accepts (and refuses
 * without opening anything), the recording writer's log and the failing
 * writer's rules.  No test here writes to sysfs: the inner writer is a
 * list in memory. */
#include "config.h"

#include <errno.h>

#include "hostdev/sysfs-writer.h"

/* An inner writer that remembers and succeeds. */
#define TEST_TYPE_MEMORY_WRITER (test_memory_writer_get_type ())
G_DECLARE_FINAL_TYPE (TestMemoryWriter, test_memory_writer, TEST, MEMORY_WRITER, GObject)

struct _TestMemoryWriter {
  GObject parent_instance;
  guint n_writes;
};

static int
memory_write (HdSysfsWriter *writer, const char *path, const char *data)
{
  g_atomic_int_inc (&TEST_MEMORY_WRITER (writer)->n_writes);
  return 0;
}

static void
memory_iface_init (HdSysfsWriterInterface *iface)
{
  iface->write = memory_write;
}

G_DEFINE_TYPE_WITH_CODE (TestMemoryWriter, test_memory_writer, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (HD_TYPE_SYSFS_WRITER, memory_iface_init))

static void test_memory_writer_class_init (TestMemoryWriterClass *klass) { }
static void test_memory_writer_init (TestMemoryWriter *self) { }

static void
test_paths (void)
{
  const char *allowed[] = {
    "/sys/bus/pci/drivers_probe",
    "/sys/bus/pci/devices/0000:01:00.0/driver_override",
    "/sys/bus/pci/drivers/vfio-pci/bind",
  };
  const char *refused[] = {
    NULL, "", "/", "/sys", "/sys/bus/pci", "/sys/bus/pci/", "/sys/bus/usb/drivers_probe",
    "/sys/bus/pci/../../../etc/passwd", "/sys/bus/pci/devices/./x", "/sys/bus/pci//drivers_probe",
    "/sys/bus/pci/devices/0000:01:00.0/driver_override/", "sys/bus/pci/drivers_probe",
    "/sys/bus/pci/devices/a\nb", "/sys/bus/pci/devices/a\tb", "/etc/sys/bus/pci/x",
    "/sys/devices/pci0000:00/0000:00:02.0/remove",
  };

  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    g_assert_true (hd_sysfs_writer_path_allowed (allowed[i]));
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    g_assert_false (hd_sysfs_writer_path_allowed (refused[i]));
}

/* The kernel writer refuses before it opens anything: safe to run here. */
static void
test_kernel_refuses (void)
{
  g_autoptr(HdSysfsWriter) kernel = hd_sysfs_writer_new_kernel ();

  g_assert_cmpint (hd_sysfs_writer_write (kernel, "/sys/bus/pci/../../../tmp/x", "1"), ==, EACCES);
  g_assert_cmpint (hd_sysfs_writer_write (kernel, "/tmp/hostdevd-must-not-exist", "1"), ==, EACCES);
  g_assert_false (g_file_test ("/tmp/hostdevd-must-not-exist", G_FILE_TEST_EXISTS));
}

static void
test_recording (void)
{
  g_autoptr(TestMemoryWriter) memory = g_object_new (TEST_TYPE_MEMORY_WRITER, NULL);
  g_autoptr(HdRecordingWriter) rec = hd_recording_writer_new (HD_SYSFS_WRITER (memory));
  g_auto(GStrv) log = NULL;
  g_auto(GStrv) empty = NULL;

  g_assert_cmpint (hd_sysfs_writer_write (HD_SYSFS_WRITER (rec), "/sys/bus/pci/a", "vfio-pci"), ==, 0);
  g_assert_cmpint (hd_sysfs_writer_write (HD_SYSFS_WRITER (rec), "/sys/bus/pci/b", "\n"), ==, 0);
  log = hd_recording_writer_take_log (rec);
  g_assert_cmpuint (g_strv_length (log), ==, 2);
  g_assert_cmpstr (log[0], ==, "/sys/bus/pci/a <- vfio-pci");
  g_assert_cmpstr (log[1], ==, "/sys/bus/pci/b <- \\n");
  empty = hd_recording_writer_take_log (rec);
  g_assert_cmpuint (g_strv_length (empty), ==, 0);
  g_assert_cmpuint (memory->n_writes, ==, 2);
}

static void
test_failing (void)
{
  g_autoptr(TestMemoryWriter) memory = g_object_new (TEST_TYPE_MEMORY_WRITER, NULL);
  g_autoptr(HdFailingWriter) failing = hd_failing_writer_new (HD_SYSFS_WRITER (memory));
  HdSysfsWriter *w = HD_SYSFS_WRITER (failing);

  hd_failing_writer_add_rule (failing, "/unbind", 2, HD_FAIL_ERRNO, EBUSY);
  hd_failing_writer_add_rule (failing, "/drivers_probe", 0, HD_FAIL_ERRNO, ENODEV);
  g_assert_cmpint (hd_sysfs_writer_write (w, "/sys/bus/pci/drivers/e1000e/unbind", "x"), ==, 0);
  g_assert_cmpint (hd_sysfs_writer_write (w, "/sys/bus/pci/drivers/e1000e/unbind", "x"), ==, EBUSY);
  g_assert_cmpint (hd_sysfs_writer_write (w, "/sys/bus/pci/drivers/e1000e/unbind", "x"), ==, 0);
  g_assert_cmpint (hd_sysfs_writer_write (w, "/sys/bus/pci/drivers_probe", "x"), ==, ENODEV);
  g_assert_cmpint (hd_sysfs_writer_write (w, "/sys/bus/pci/drivers_probe", "x"), ==, ENODEV);
  g_assert_cmpuint (memory->n_writes, ==, 2);
}

static gpointer
hung_write (gpointer data)
{
  return GINT_TO_POINTER (hd_sysfs_writer_write (data, "/sys/bus/pci/devices/x/reset", "1"));
}

static void
test_hang (void)
{
  g_autoptr(TestMemoryWriter) memory = g_object_new (TEST_TYPE_MEMORY_WRITER, NULL);
  g_autoptr(HdFailingWriter) failing = hd_failing_writer_new (HD_SYSFS_WRITER (memory));
  GThread *thread;

  hd_failing_writer_add_rule (failing, "/reset", 0, HD_FAIL_HANG, 0);
  thread = g_thread_new ("hung", hung_write, failing);
  while (hd_failing_writer_get_n_hung (failing) == 0)
    g_usleep (1000);
  g_assert_cmpuint (memory->n_writes, ==, 0);
  hd_failing_writer_release (failing);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (thread)), ==, 0);
  g_assert_cmpuint (memory->n_writes, ==, 1);
  g_assert_cmpuint (hd_failing_writer_get_n_hung (failing), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sysfs-writer/paths", test_paths);
  g_test_add_func ("/sysfs-writer/kernel-refuses", test_kernel_refuses);
  g_test_add_func ("/sysfs-writer/recording", test_recording);
  g_test_add_func ("/sysfs-writer/failing", test_failing);
  g_test_add_func ("/sysfs-writer/hang", test_hang);
  return g_test_run ();
}
