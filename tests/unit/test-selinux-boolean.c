/* virt_use_sysfs against a fake selinuxfs and a fake policy store, both in
 * one temporary directory: libselinux is pointed at the fake selinuxfs with
 * set_selinuxmnt(), libsemanage at the fake root with semanage_set_root().
 * The store holds a tiny CIL policy with the boolean, compiled once by
 * libsemanage itself; every test starts from a copy of it.  Nothing here
 * touches /sys/fs/selinux, /etc/selinux or /var/lib/selinux.
 *
 * selinuxfs does not react here as the kernel would (a write of "1" leaves
 * "1\0" over "0 0"); what was written, and in which order, is seen through
 * inotify on the fake directories and the bytes in the files. */
#include "config.h"

#include <errno.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <semanage/handle.h>

#include "hostdev/selinux-boolean.h"
#include "nodedev/error.h"

static char *tmp;        /* one per process: libsemanage caches the store paths */
static char *fs;         /* tmp/selinuxfs */
static char *root;       /* tmp/root: the fake policy root */
static char *pristine;   /* tmp/pristine: root as compiled once */

#define STORE "var/lib/selinux/targeted"

static const char policy_cil[] =
  "(class file (read))\n"
  "(classorder (file))\n"
  "(sid kernel)\n"
  "(sidorder (kernel))\n"
  "(user u)\n"
  "(role r)\n"
  "(type t)\n"
  "(category c0)\n"
  "(categoryorder (c0))\n"
  "(sensitivity s0)\n"
  "(sensitivityorder (s0))\n"
  "(sensitivitycategory s0 (c0))\n"
  "(allow t self (file (read)))\n"
  "(roletype r t)\n"
  "(userrole u r)\n"
  "(userlevel u (s0))\n"
  "(userrange u ((s0) (s0 (c0))))\n"
  "(sidcontext kernel (u r t ((s0) (s0))))\n"
  "(handleunknown allow)\n"
  "(mls false)\n"
  "(boolean virt_use_sysfs false)\n"
  "(booleanif virt_use_sysfs (true (allow t self (file (read)))))\n";

/* genhomedircon would read the real /etc/passwd; setfiles and
 * sefcontext_compile are not installed (and would read the real policy). */
static void put (const char *top, const char *rel, const char *bytes, gssize len);

static void
write_semanage_conf (const char *sefcontext_compile)
{
  g_autofree char *text = g_strdup_printf (
    "module-store = direct\n"
    "expand-check = 0\n"
    "disable-genhomedircon = true\n"
    "bzip-blocksize = 0\n"
    "[setfiles]\npath = /bin/true\n[end]\n"
    "[sefcontext_compile]\npath = %s\n[end]\n",
    sefcontext_compile);

  put (root, "etc/selinux/semanage.conf", text, -1);
}

static char *
path_in (const char *top, const char *rel)
{
  return g_build_filename (top, rel, NULL);
}

static void
put (const char *top, const char *rel, const char *bytes, gssize len)
{
  g_autofree char *path = path_in (top, rel);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, bytes, len, NULL));
}

static char *
get (const char *top, const char *rel, gsize *len)
{
  g_autofree char *path = path_in (top, rel);
  char *bytes = NULL;

  if (!g_file_get_contents (path, &bytes, len, NULL))
    return NULL;
  return bytes;
}

static void
run (const char *command)
{
  g_assert_cmpint (system (command), ==, 0);
}

/* The store as libsemanage leaves it after `semodule -B`. */
static void
build_pristine (void)
{
  semanage_handle_t *sh;
  g_autofree char *cmd = NULL;

  g_assert_cmpint (g_mkdir_with_parents (root, 0755), ==, 0);
  write_semanage_conf ("/bin/true");
  put (root, STORE "/active/modules/400/base/cil", policy_cil, -1);
  put (root, STORE "/active/modules/400/base/lang_ext", "cil", -1);

  sh = semanage_handle_create ();
  g_assert_nonnull (sh);
  semanage_set_rebuild (sh, 1);
  semanage_set_reload (sh, 0);
  g_assert_cmpint (semanage_connect (sh), ==, 0);
  g_assert_cmpint (semanage_begin_transaction (sh), ==, 0);
  g_assert_cmpint (semanage_commit (sh), >=, 0);
  semanage_disconnect (sh);
  semanage_handle_destroy (sh);

  cmd = g_strdup_printf ("cp -a '%s' '%s'", root, pristine);
  run (cmd);
}

/* ---- a fresh fake host for every test ---- */

typedef struct {
  int unused;   /* the fake host is global: see tmp */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s' '%s' && cp -a '%s' '%s'",
                                          fs, root, pristine, root);

  run (cmd);
  put (fs, "enforce", "1", -1);
  put (fs, "policyvers", "33", -1);
  put (fs, "booleans/virt_use_sysfs", "0 0", -1);
  put (fs, "booleans/virt_use_nfs", "0 0", -1);
  put (fs, "commit_pending_bools", "", 0);
  hd_selinux_redirect_for_tests (fs, root, TRUE);
}

static void
teardown (Fixture *f, gconstpointer data)
{
}

static void
set_persistent_on (void)
{
  put (root, STORE "/active/booleans.local", "virt_use_sysfs=1\n", -1);
}

static gboolean
persistent_on (void)
{
  g_autofree char *local = get (root, STORE "/active/booleans.local", NULL);

  return local != NULL && strstr (local, "virt_use_sysfs=1") != NULL;
}

static GBytes *
policy_bytes (void)
{
  gsize len = 0;
  char *bytes = get (root, "etc/selinux/targeted/policy/policy.33", &len);

  g_assert_nonnull (bytes);
  return g_bytes_new_take (bytes, len);
}

static void
assert_bytes (const char *rel, const char *expected, gsize expected_len)
{
  gsize len = 0;
  g_autofree char *bytes = get (fs, rel, &len);

  g_assert_nonnull (bytes);
  g_assert_cmpmem (bytes, MIN (len, expected_len), expected, expected_len);
}

/* ---- inotify: what was opened, written, created in the fake trees ---- */

typedef struct {
  int fd;
  GHashTable *dirs;   /* wd -> path relative to tmp */
} Watch;

static const char *watched[] = {
  "selinuxfs", "selinuxfs/booleans",
  "root/etc/selinux", "root/etc/selinux/targeted", "root/etc/selinux/targeted/policy",
  "root/var/lib/selinux", "root/" STORE, "root/" STORE "/active",
};

static Watch *
watch_start (void)
{
  Watch *w = g_new0 (Watch, 1);

  w->fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  g_assert_cmpint (w->fd, >=, 0);
  w->dirs = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (watched); i++) {
    g_autofree char *path = path_in (tmp, watched[i]);
    int wd = inotify_add_watch (w->fd, path, IN_ALL_EVENTS);

    if (wd >= 0)
      g_hash_table_insert (w->dirs, GINT_TO_POINTER (wd), g_strdup (watched[i]));
  }
  return w;
}

/* Events whose mask meets @mask, as "DIR/NAME", in order; ends the watch. */
static GStrv
watch_finish (Watch *w, guint32 mask)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  char buf[64 * 1024] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  ssize_t n;

  while ((n = read (w->fd, buf, sizeof buf)) > 0) {
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *) (void *) p;
      const char *dir = g_hash_table_lookup (w->dirs, GINT_TO_POINTER (ev->wd));

      if ((ev->mask & mask) != 0 && dir != NULL) {
        g_autofree char *name = g_strdup_printf ("%s/%s", dir, ev->len > 0 ? ev->name : ".");

        g_strv_builder_add (b, name);
      }
      p += sizeof *ev + ev->len;
    }
  }
  g_assert_cmpint (errno, ==, EAGAIN);
  close (w->fd);
  g_hash_table_unref (w->dirs);
  g_free (w);
  return g_strv_builder_end (b);
}

#define CHANGES (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)

/* The entries of @v that start with @prefix. */
static GStrv
only (GStrv v, const char *prefix)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; v[i] != NULL; i++)
    if (g_str_has_prefix (v[i], prefix))
      g_strv_builder_add (b, v[i]);
  return g_strv_builder_end (b);
}

static gboolean
strv_has_prefix (GStrv v, const char *prefix)
{
  for (guint i = 0; v[i] != NULL; i++)
    if (g_str_has_prefix (v[i], prefix))
      return TRUE;
  return FALSE;
}

/* ---- the tests ---- */

/* Which states ensure() would change, from the state alone. */
static void
test_needs_on (void)
{
  const HdSelinuxValue U = HD_SELINUX_VALUE_UNKNOWN, OFF = HD_SELINUX_VALUE_OFF, ON = HD_SELINUX_VALUE_ON;
  const struct {
    HdSelinuxStatus status;
    HdSelinuxValue current, pending, persistent;
    gboolean needs_on;
  } cases[] = {
    { HD_SELINUX_STATUS_PRESENT, OFF, OFF, OFF, TRUE },
    { HD_SELINUX_STATUS_PRESENT, ON, ON, OFF, TRUE },       /* off after a reboot */
    { HD_SELINUX_STATUS_PRESENT, ON, OFF, ON, TRUE },       /* a pending off */
    { HD_SELINUX_STATUS_PRESENT, OFF, OFF, U, TRUE },       /* the store unreadable, off now */
    { HD_SELINUX_STATUS_PRESENT, ON, ON, ON, FALSE },
    { HD_SELINUX_STATUS_PRESENT, ON, ON, U, FALSE },        /* only the store could say, and cannot */
    { HD_SELINUX_STATUS_DISABLED, U, U, U, FALSE },
    { HD_SELINUX_STATUS_NO_BOOLEAN, U, U, U, FALSE },
    { HD_SELINUX_STATUS_ERROR, U, U, U, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      HdSelinuxState state = {
        .status = cases[i].status, .enforcing = ON, .current = cases[i].current,
        .pending = cases[i].pending, .persistent = cases[i].persistent,
      };

      g_test_message ("case %u", i);
      g_assert_cmpint (hd_selinux_state_needs_on (&state), ==, cases[i].needs_on);
    }
}

static void
test_disabled (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) events = NULL;
  gboolean changed = TRUE;
  HdSelinuxState state;
  Watch *w;

  hd_selinux_redirect_for_tests (fs, root, FALSE);
  w = watch_start ();
  g_assert_true (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_no_error (error);
  g_assert_false (changed);
  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_no_error (error);
  g_assert_cmpint (state.status, ==, HD_SELINUX_STATUS_DISABLED);
  g_assert_cmpint (state.current, ==, HD_SELINUX_VALUE_UNKNOWN);
  g_assert_cmpint (state.persistent, ==, HD_SELINUX_VALUE_UNKNOWN);
  /* Not even opened: neither selinuxfs nor semanage.conf nor the store. */
  events = watch_finish (w, IN_ALL_EVENTS);
  g_assert_cmpstrv (events, ((const char *[]) { NULL }));
}

static void
test_get (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd = NULL;
  g_auto(GStrv) events = NULL;
  HdSelinuxState state;
  Watch *w;

  w = watch_start ();
  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_no_error (error);
  g_assert_cmpint (state.status, ==, HD_SELINUX_STATUS_PRESENT);
  g_assert_cmpint (state.enforcing, ==, HD_SELINUX_VALUE_ON);
  g_assert_cmpint (state.current, ==, HD_SELINUX_VALUE_OFF);
  g_assert_cmpint (state.pending, ==, HD_SELINUX_VALUE_OFF);
  g_assert_cmpint (state.persistent, ==, HD_SELINUX_VALUE_OFF);
  /* Reading writes nothing but libsemanage's read lock file. */
  events = watch_finish (w, CHANGES);
  for (guint i = 0; events[i] != NULL; i++)
    g_assert_cmpstr (events[i], ==, "root/" STORE "/semanage.read.LOCK");

  /* Running on, pending off; persistent from booleans.local. */
  put (fs, "booleans/virt_use_sysfs", "1 0", -1);
  put (fs, "enforce", "0", -1);
  set_persistent_on ();
  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_no_error (error);
  g_assert_cmpint (state.status, ==, HD_SELINUX_STATUS_PRESENT);
  g_assert_cmpint (state.enforcing, ==, HD_SELINUX_VALUE_OFF);
  g_assert_cmpint (state.current, ==, HD_SELINUX_VALUE_ON);
  g_assert_cmpint (state.pending, ==, HD_SELINUX_VALUE_OFF);
  g_assert_cmpint (state.persistent, ==, HD_SELINUX_VALUE_ON);

  /* No store: the persistent value is unknown, not an error. */
  cmd = g_strdup_printf ("rm -rf '%s/var/lib/selinux'", root);
  run (cmd);
  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_no_error (error);
  g_assert_cmpint (state.status, ==, HD_SELINUX_STATUS_PRESENT);
  g_assert_cmpint (state.current, ==, HD_SELINUX_VALUE_ON);
  g_assert_cmpint (state.persistent, ==, HD_SELINUX_VALUE_UNKNOWN);

  /* A boolean file that cannot be read: an error. */
  put (fs, "booleans/virt_use_sysfs", "1", -1);
  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_error (error, HD_ERROR, HD_ERROR_SYSTEM);
  g_assert_cmpint (state.status, ==, HD_SELINUX_STATUS_ERROR);
}

/* The whole job: "1" to the boolean, then "1" to commit_pending_bools, as
 * the kernel's selinuxfs expects; then booleans.local and a rebuilt policy. */
static void
test_off (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) writes = NULL;
  g_auto(GStrv) selinuxfs_writes = NULL;
  g_autoptr(GBytes) policy_before = NULL;
  g_autoptr(GBytes) policy_after = NULL;
  gboolean changed = FALSE;
  HdSelinuxState state;
  Watch *w;

  policy_before = policy_bytes ();
  w = watch_start ();
  g_assert_true (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  writes = watch_finish (w, IN_MODIFY);
  selinuxfs_writes = only (writes, "selinuxfs/");
  g_assert_cmpstrv (selinuxfs_writes, ((const char *[]) { "selinuxfs/booleans/virt_use_sysfs",
                                                          "selinuxfs/commit_pending_bools",
                                                          NULL }));
  assert_bytes ("booleans/virt_use_sysfs", "1", 2);   /* "1\0", one write */
  assert_bytes ("commit_pending_bools", "1", 2);
  assert_bytes ("booleans/virt_use_nfs", "0 0", 3);

  g_assert_true (persistent_on ());
  policy_after = policy_bytes ();
  g_assert_false (g_bytes_equal (policy_before, policy_after));   /* the default changed */

  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_no_error (error);
  g_assert_cmpint (state.current, ==, HD_SELINUX_VALUE_ON);
  g_assert_cmpint (state.persistent, ==, HD_SELINUX_VALUE_ON);
}

static void
test_already_on (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) events = NULL;
  gboolean changed = TRUE;
  Watch *w;

  put (fs, "booleans/virt_use_sysfs", "1 1", -1);
  set_persistent_on ();
  w = watch_start ();
  g_assert_true (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_no_error (error);
  g_assert_false (changed);
  events = watch_finish (w, CHANGES);
  g_assert_false (strv_has_prefix (events, "selinuxfs/"));
  g_assert_false (strv_has_prefix (events, "root/etc/"));
  g_assert_false (strv_has_prefix (events, "root/" STORE "/active/"));
  assert_bytes ("booleans/virt_use_sysfs", "1 1", 3);
  assert_bytes ("commit_pending_bools", "", 0);
}

/* Someone ran `setsebool virt_use_sysfs 1` without -P. */
static void
test_running_on_only (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) events = NULL;
  gboolean changed = FALSE;
  Watch *w;

  put (fs, "booleans/virt_use_sysfs", "1 1", -1);
  w = watch_start ();
  g_assert_true (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  events = watch_finish (w, CHANGES);
  g_assert_false (strv_has_prefix (events, "selinuxfs/"));
  g_assert_true (persistent_on ());
}

/* Someone ran `setsebool -P -N virt_use_sysfs 1` (no reload). */
static void
test_persistent_on_only (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) events = NULL;
  gboolean changed = FALSE;
  Watch *w;

  set_persistent_on ();
  w = watch_start ();
  g_assert_true (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  events = watch_finish (w, CHANGES);
  g_assert_true (strv_has_prefix (events, "selinuxfs/booleans/virt_use_sysfs"));
  g_assert_false (strv_has_prefix (events, "root/etc/"));
  g_assert_false (strv_has_prefix (events, "root/" STORE "/active/"));
  assert_bytes ("booleans/virt_use_sysfs", "1", 2);
  assert_bytes ("commit_pending_bools", "1", 2);
}

static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = path_in (fs, "booleans/virt_use_sysfs");
  g_auto(GStrv) events = NULL;
  gboolean changed = TRUE;
  HdSelinuxState state;
  Watch *w;

  g_assert_cmpint (g_unlink (path), ==, 0);
  w = watch_start ();
  g_assert_false (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "no boolean 'virt_use_sysfs'"));
  g_assert_false (changed);
  g_clear_error (&error);

  state = hd_selinux_virt_use_sysfs_get (&error);
  g_assert_no_error (error);
  g_assert_cmpint (state.status, ==, HD_SELINUX_STATUS_NO_BOOLEAN);
  events = watch_finish (w, CHANGES);
  g_assert_cmpstrv (events, ((const char *[]) { NULL }));
  g_assert_false (persistent_on ());
}

/* commit_pending_bools refuses (here: EISDIR): the pending value that was
 * written is written back, and the store is never written. */
static void
test_commit_fails (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *commit = path_in (fs, "commit_pending_bools");
  g_auto(GStrv) writes = NULL;
  g_auto(GStrv) selinuxfs_writes = NULL;
  gboolean changed = TRUE;
  Watch *w;

  g_assert_cmpint (g_unlink (commit), ==, 0);
  g_assert_cmpint (g_mkdir (commit, 0755), ==, 0);
  w = watch_start ();
  g_assert_false (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SYSTEM);
  g_assert_nonnull (strstr (error->message, g_strerror (EISDIR)));
  g_assert_nonnull (strstr (error->message, "written back to 0"));
  g_assert_false (changed);
  writes = watch_finish (w, IN_MODIFY | IN_CREATE);
  selinuxfs_writes = only (writes, "selinuxfs/");
  g_assert_cmpstrv (selinuxfs_writes, ((const char *[]) { "selinuxfs/booleans/virt_use_sysfs",
                                                          "selinuxfs/booleans/virt_use_sysfs",
                                                          NULL }));
  g_assert_false (strv_has_prefix (writes, "root/etc/"));
  g_assert_false (strv_has_prefix (writes, "root/" STORE "/active/"));
  assert_bytes ("booleans/virt_use_sysfs", "0", 2);
  g_assert_false (persistent_on ());
}

/* Runs ensure in a child that became nobody (root ignores file modes) and
 * returns the HD_ERROR code it failed with (success fails the test);
 * *@message gets the error message. */
static int
ensure_as_nobody (char **message)
{
  int pipefd[2], status;
  char buf[512];
  ssize_t n;
  pid_t pid;

  g_assert_cmpint (pipe (pipefd), ==, 0);
  fflush (NULL);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0) {
    g_autoptr(GError) error = NULL;
    gboolean changed = TRUE;
    int code = 100;

    close (pipefd[0]);
    if (setgid (65534) == 0 && setuid (65534) == 0) {
      if (hd_selinux_virt_use_sysfs_ensure (&changed, &error))
        code = 101;
      else if (changed || error->domain != HD_ERROR)
        code = 102;
      else {
        code = error->code;
        if (write (pipefd[1], error->message, strlen (error->message)) < 0)
          code = 103;
      }
    }
    _exit (code);
  }
  close (pipefd[1]);
  n = read (pipefd[0], buf, sizeof buf - 1);
  close (pipefd[0]);
  buf[MAX (n, 0)] = '\0';
  *message = g_strdup (buf);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), <, 100);
  return WEXITSTATUS (status);
}

/* The boolean cannot be written (the kernel: EACCES without setbool).
 * Root ignores file modes, so as root the write is made by a child that
 * became nobody, with the fake store handed to nobody. */
static void
test_boolean_unwritable (Fixture *f, gconstpointer data)
{
  g_autofree char *boolean = path_in (fs, "booleans/virt_use_sysfs");
  g_autofree char *cmd = NULL;
  g_autoptr(GError) error = NULL;
  gboolean changed = TRUE;

  g_assert_cmpint (g_chmod (boolean, 0444), ==, 0);
  if (geteuid () != 0) {
    g_assert_false (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
    g_assert_error (error, HD_ERROR, HD_ERROR_SYSTEM);
    g_assert_nonnull (strstr (error->message, g_strerror (EACCES)));
    g_assert_false (changed);
  } else {
    g_autofree char *message = NULL;

    cmd = g_strdup_printf ("chmod 0755 '%s' && chown -R 65534:65534 '%s'", tmp, root);
    run (cmd);
    g_assert_cmpint (ensure_as_nobody (&message), ==, HD_ERROR_SYSTEM);
    g_assert_nonnull (strstr (message, g_strerror (EACCES)));
    g_assert_cmpint (g_chmod (tmp, 0700), ==, 0);
  }
  assert_bytes ("booleans/virt_use_sysfs", "0 0", 3);
  assert_bytes ("commit_pending_bools", "", 0);
  g_assert_false (persistent_on ());
}

/* A store that can be read but not written: refused before selinuxfs is
 * written, although selinuxfs could be. */
static void
test_store_readonly (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd = NULL;
  g_autofree char *message = NULL;
  gboolean changed = TRUE;

  if (geteuid () != 0) {
    cmd = g_strdup_printf ("chmod -R a-w '%s/" STORE "'", root);
    run (cmd);
    g_assert_false (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
    g_assert_error (error, HD_ERROR, HD_ERROR_SYSTEM);
    g_assert_false (changed);
    message = g_strdup (error->message);
    g_clear_pointer (&cmd, g_free);
    cmd = g_strdup_printf ("chmod -R u+w '%s/" STORE "'", root);
    run (cmd);
  } else {
    cmd = g_strdup_printf ("chmod 0755 '%s' && chmod -R a+rX '%s' && chown -R 65534:65534 '%s'",
                           tmp, root, fs);
    run (cmd);
    g_assert_cmpint (ensure_as_nobody (&message), ==, HD_ERROR_SYSTEM);
    g_assert_cmpint (g_chmod (tmp, 0700), ==, 0);
  }
  g_assert_nonnull (strstr (message, "not writable"));
  assert_bytes ("booleans/virt_use_sysfs", "0 0", 3);
  assert_bytes ("commit_pending_bools", "", 0);
  g_assert_false (persistent_on ());
}

/* The policy rebuild fails (sefcontext_compile exits 1): the running value,
 * already on, is turned off again; the store's active copy is untouched. */
static void
test_persist_fails (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) writes = NULL;
  g_auto(GStrv) selinuxfs_writes = NULL;
  gboolean changed = TRUE;
  Watch *w;

  write_semanage_conf ("/bin/false");
  w = watch_start ();
  g_assert_false (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SYSTEM);
  g_assert_nonnull (strstr (error->message, "sefcontext_compile"));
  g_assert_nonnull (strstr (error->message, "running value was set back to 0"));
  g_assert_false (changed);
  writes = watch_finish (w, IN_MODIFY);
  selinuxfs_writes = only (writes, "selinuxfs/");
  g_assert_cmpstrv (selinuxfs_writes, ((const char *[]) { "selinuxfs/booleans/virt_use_sysfs",
                                                          "selinuxfs/commit_pending_bools",
                                                          "selinuxfs/booleans/virt_use_sysfs",
                                                          "selinuxfs/commit_pending_bools",
                                                          NULL }));
  g_assert_false (strv_has_prefix (writes, "root/" STORE "/active/"));
  assert_bytes ("booleans/virt_use_sysfs", "0", 2);
  g_assert_false (persistent_on ());
}

/* No policy store at all: refused before anything is written. */
static void
test_unmanaged (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s/var/lib/selinux'", root);
  g_auto(GStrv) events = NULL;
  gboolean changed = TRUE;
  Watch *w;

  run (cmd);
  w = watch_start ();
  g_assert_false (hd_selinux_virt_use_sysfs_ensure (&changed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "libsemanage"));
  g_assert_false (changed);
  events = watch_finish (w, CHANGES);
  g_assert_false (strv_has_prefix (events, "selinuxfs/"));
  assert_bytes ("booleans/virt_use_sysfs", "0 0", 3);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp = g_dir_make_tmp ("hostdevd-selinux-XXXXXX", &error);
  g_assert_no_error (error);
  fs = g_build_filename (tmp, "selinuxfs", NULL);
  root = g_build_filename (tmp, "root", NULL);
  pristine = g_build_filename (tmp, "pristine", NULL);
  g_assert_cmpint (g_mkdir (fs, 0755), ==, 0);
  /* Before libsemanage is used at all: it keeps the first root's paths. */
  hd_selinux_redirect_for_tests (fs, root, TRUE);
  build_pristine ();

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/selinux-boolean/needs-on", test_needs_on);
  ADD ("/selinux-boolean/disabled", test_disabled);
  ADD ("/selinux-boolean/get", test_get);
  ADD ("/selinux-boolean/off", test_off);
  ADD ("/selinux-boolean/already-on", test_already_on);
  ADD ("/selinux-boolean/running-on-only", test_running_on_only);
  ADD ("/selinux-boolean/persistent-on-only", test_persistent_on_only);
  ADD ("/selinux-boolean/missing", test_missing);
  ADD ("/selinux-boolean/commit-fails", test_commit_fails);
  ADD ("/selinux-boolean/boolean-unwritable", test_boolean_unwritable);
  ADD ("/selinux-boolean/store-readonly", test_store_readonly);
  ADD ("/selinux-boolean/persist-fails", test_persist_fails);
  ADD ("/selinux-boolean/unmanaged", test_unmanaged);
  ret = g_test_run ();

  cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  run (cmd);
  g_free (fs);
  g_free (root);
  g_free (pristine);
  g_free (tmp);
  return ret;
}
