/* A plain main() for the libFuzzer entry points, after fwupd's
 * fu-fuzzer-main.c: runs every file of the directories (or the files)
 * given on the command line through LLVMFuzzerTestOneInput once.  A crash
 * or a failed check aborts; no input at all is a failure too, so a missing
 * corpus cannot pass as an empty one.  Builds with any compiler. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
run_file (const char *path, guint *n_run)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  g_print ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  (*n_run)++;
  return TRUE;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
run_path (const char *path, guint *n_run)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;
  gboolean ok = TRUE;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path, n_run);
  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    ok = run_path (g_ptr_array_index (names, i), n_run) && ok;
  return ok;
}

int
main (int argc, char **argv)
{
  guint n_run = 0;
  gboolean ok = TRUE;

  if (argc < 2)
    {
      g_printerr ("usage: %s CORPUS-DIR-OR-FILE...\n", argv[0]);
      return EXIT_FAILURE;
    }
  for (int i = 1; i < argc; i++)
    ok = run_path (argv[i], &n_run) && ok;
  g_print ("%u inputs\n", n_run);
  if (n_run == 0)
    {
      g_printerr ("no inputs found\n");
      return EXIT_FAILURE;
    }
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
