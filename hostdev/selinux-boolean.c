/* virt_use_sysfs through libselinux (running value) and libsemanage
 * (persistent value); see selinux-boolean.h. */
#define G_LOG_DOMAIN "HostdevdSelinux"

#include "config.h"

#include "selinux-boolean.h"

#include <errno.h>

#include <selinux/selinux.h>
#include <semanage/boolean_record.h>
#include <semanage/booleans_local.h>
#include <semanage/booleans_policy.h>
#include <semanage/debug.h>
#include <semanage/handle.h>

#include <glib/gi18n.h>

#include "nodedev/error.h"

#define NAME HD_SELINUX_VIRT_USE_SYSFS

/* libselinux keeps the selinuxfs mount in a global, libsemanage its root,
 * paths and configuration; neither is thread-safe. */
static GMutex lock;
static gboolean redirected;
static gboolean redirected_enabled;
static char *redirected_root;

static gboolean
selinux_enabled (void)
{
  if (redirected)
    return redirected_enabled;
  return is_selinux_enabled () == 1;
}

static HdSelinuxValue
value_from_int (int v)
{
  return v < 0 ? HD_SELINUX_VALUE_UNKNOWN : v ? HD_SELINUX_VALUE_ON : HD_SELINUX_VALUE_OFF;
}

/* errno after a libselinux call that failed; libselinux does not set it
 * when a read or write is short. */
static int
saved_errno (void)
{
  return errno != 0 ? errno : EIO;
}

/* The running and pending values from selinuxfs.  *@missing: the loaded
 * policy has no such boolean (not an error here). */
static gboolean
read_running (HdSelinuxValue *current, HdSelinuxValue *pending, gboolean *missing,
              GError **error)
{
  int v;

  *missing = FALSE;
  errno = 0;
  v = security_get_boolean_active (NAME);
  if (v >= 0) {
    *current = value_from_int (v);
    errno = 0;
    v = security_get_boolean_pending (NAME);
  }
  if (v < 0) {
    int e = saved_errno ();

    if (e == ENOENT) {
      *missing = TRUE;
      return TRUE;
    }
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot read the SELinux boolean '%s' in selinuxfs: %s"),
                 NAME, g_strerror (e));
    return FALSE;
  }
  *pending = value_from_int (v);
  return TRUE;
}

/* Writes @value and commits it.  If the commit fails the boolean's pending
 * value is set back to @old_pending, so that nobody else's commit later
 * turns on what we failed to. */
static gboolean
write_running (int value, int old_pending, GError **error)
{
  int e;

  errno = 0;
  if (security_set_boolean (NAME, value) < 0) {
    e = saved_errno ();
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot set the SELinux boolean '%s' to %d in selinuxfs: %s"),
                 NAME, value, g_strerror (e));
    return FALSE;
  }
  errno = 0;
  if (security_commit_booleans () < 0) {
    e = saved_errno ();
    errno = 0;
    if (security_set_boolean (NAME, old_pending) < 0) {
      int e2 = saved_errno ();

      g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                   _("cannot commit the SELinux boolean '%s' in selinuxfs: %s; writing its "
                     "pending value back to %d failed too: %s"),
                   NAME, g_strerror (e), old_pending, g_strerror (e2));
    } else {
      g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                   _("cannot commit the SELinux boolean '%s' in selinuxfs: %s; its pending "
                     "value was written back to %d"),
                   NAME, g_strerror (e), old_pending);
    }
    return FALSE;
  }
  return TRUE;
}

/* ---- the policy store (libsemanage) ---- */

typedef struct {
  semanage_handle_t *sh;
  GString *errors;      /* libsemanage's and libsepol's error messages */
  gboolean connected;
} Store;

static void
store_free (Store *s)
{
  if (s->sh != NULL) {
    /* Disconnecting inside a transaction drops its sandbox and lock. */
    if (s->connected)
      semanage_disconnect (s->sh);
    semanage_handle_destroy (s->sh);
  }
  g_string_free (s->errors, TRUE);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Store, store_free)

/* libsemanage prints to stderr by default; its messages go to the debug
 * log instead, and its errors into the GError. */
static void store_message (void *arg, semanage_handle_t *sh, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);

static void
store_message (void *arg, semanage_handle_t *sh, const char *fmt, ...)
{
  Store *s = arg;
  g_autofree char *text = NULL;
  va_list ap;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_strstrip (text);
  g_debug ("%s: %s", semanage_msg_get_channel (sh), text);
  if (semanage_msg_get_level (sh) == SEMANAGE_MSG_ERR && text[0] != '\0') {
    if (s->errors->len > 0)
      g_string_append (s->errors, "; ");
    g_string_append (s->errors, text);
  }
}

static const char *
store_errors (Store *s)
{
  return s->errors->len > 0 ? s->errors->str : _("libsemanage gave no reason");
}

static Store *
store_open (GError **error)
{
  g_autoptr(Store) s = g_new0 (Store, 1);
  int managed;

  s->errors = g_string_new (NULL);
  s->sh = semanage_handle_create ();
  if (s->sh == NULL) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot open the SELinux policy store: libsemanage could not read "
                   "semanage.conf"));
    return NULL;
  }
  semanage_msg_set_callback (s->sh, store_message, s);
  managed = semanage_is_managed (s->sh);
  if (managed < 0) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot open the SELinux policy store: %s"), store_errors (s));
    return NULL;
  }
  if (managed == 0) {
    g_set_error (error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                 _("the SELinux policy store cannot be read or is not managed by libsemanage, so "
                   "the persistent value of '%s' cannot be known or set"),
                 NAME);
    return NULL;
  }
  if (semanage_connect (s->sh) < 0) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot open the SELinux policy store: %s"), store_errors (s));
    return NULL;
  }
  s->connected = TRUE;
  return g_steal_pointer (&s);
}

/* The persistent value: the store's local setting, else the policy's
 * default. */
static gboolean
store_read (Store *s, HdSelinuxValue *value, GError **error)
{
  semanage_bool_key_t *key = NULL;
  semanage_bool_t *record = NULL;
  int local = 0, known = 0, rc;

  if (semanage_bool_key_create (s->sh, NAME, &key) < 0) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot read the SELinux policy store: %s"), store_errors (s));
    return FALSE;
  }
  rc = semanage_bool_exists_local (s->sh, key, &local);
  if (rc >= 0 && !local)
    rc = semanage_bool_exists (s->sh, key, &known);
  if (rc >= 0 && (local || known))
    rc = local ? semanage_bool_query_local (s->sh, key, &record)
               : semanage_bool_query (s->sh, key, &record);
  semanage_bool_key_free (key);
  if (rc < 0 || ((local || known) && record == NULL)) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot read the SELinux boolean '%s' in the policy store: %s"),
                 NAME, store_errors (s));
    return FALSE;
  }
  if (record == NULL) {
    g_set_error (error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                 _("the SELinux policy store has no boolean '%s', although the loaded policy "
                   "has it"),
                 NAME);
    return FALSE;
  }
  *value = value_from_int (semanage_bool_get_value (record));
  semanage_bool_free (record);
  return TRUE;
}

/* Takes the store's transaction lock; nothing is written yet. */
static gboolean
store_begin (Store *s, GError **error)
{
  if (semanage_access_check (s->sh) != SEMANAGE_CAN_WRITE) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot make the SELinux boolean '%s' persistent: the policy store is not "
                   "writable%s%s"),
                 NAME, s->errors->len > 0 ? ": " : "", s->errors->str);
    return FALSE;
  }
  if (semanage_begin_transaction (s->sh) < 0) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot make the SELinux boolean '%s' persistent: %s"),
                 NAME, store_errors (s));
    return FALSE;
  }
  return TRUE;
}

/* setsebool -P -N: the local setting, a rebuilt policy, no reload. */
static gboolean
store_commit_on (Store *s, GError **error)
{
  semanage_bool_t *record = NULL;
  semanage_bool_key_t *key = NULL;
  gboolean ok;

  ok = semanage_bool_create (s->sh, &record) >= 0 &&
       semanage_bool_set_name (s->sh, record, NAME) >= 0;
  if (ok) {
    semanage_bool_set_value (record, 1);
    ok = semanage_bool_key_extract (s->sh, record, &key) >= 0 &&
         semanage_bool_modify_local (s->sh, key, record) >= 0;
  }
  semanage_bool_key_free (key);
  semanage_bool_free (record);
  if (ok) {
    /* The kernel has the value already; a reload would only cost time. */
    semanage_set_reload (s->sh, 0);
    ok = semanage_commit (s->sh) >= 0;
  }
  if (!ok) {
    g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM,
                 _("cannot make the SELinux boolean '%s' persistent: %s"),
                 NAME, store_errors (s));
    return FALSE;
  }
  return TRUE;
}

/* ---- the two entry points ---- */

static HdSelinuxState
get_locked (GError **error)
{
  HdSelinuxState state = {
    HD_SELINUX_STATUS_ERROR, HD_SELINUX_VALUE_UNKNOWN, HD_SELINUX_VALUE_UNKNOWN,
    HD_SELINUX_VALUE_UNKNOWN, HD_SELINUX_VALUE_UNKNOWN,
  };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(Store) store = NULL;
  gboolean missing;

  if (!selinux_enabled ()) {
    state.status = HD_SELINUX_STATUS_DISABLED;
    return state;
  }
  state.enforcing = value_from_int (security_getenforce ());
  if (!read_running (&state.current, &state.pending, &missing, error))
    return state;
  if (missing) {
    state.status = HD_SELINUX_STATUS_NO_BOOLEAN;
    return state;
  }
  state.status = HD_SELINUX_STATUS_PRESENT;
  store = store_open (&local_error);
  if (store == NULL || !store_read (store, &state.persistent, &local_error))
    g_debug ("persistent value of %s unknown: %s", NAME, local_error->message);
  return state;
}

gboolean
hd_selinux_state_needs_on (const HdSelinuxState *state)
{
  return state->status == HD_SELINUX_STATUS_PRESENT &&
         (state->current != HD_SELINUX_VALUE_ON || state->pending != HD_SELINUX_VALUE_ON ||
          state->persistent == HD_SELINUX_VALUE_OFF);
}

static gboolean
ensure_locked (gboolean *changed, GError **error)
{
  g_autoptr(Store) store = NULL;
  HdSelinuxState state = { HD_SELINUX_STATUS_PRESENT, HD_SELINUX_VALUE_UNKNOWN, HD_SELINUX_VALUE_UNKNOWN,
                           HD_SELINUX_VALUE_UNKNOWN, HD_SELINUX_VALUE_UNKNOWN };
  gboolean missing, running_on;

  if (!selinux_enabled ()) {
    g_debug ("SELinux is disabled: %s does not apply", NAME);
    return TRUE;
  }

  /* Everything is read and checked before the first write. */
  if (!read_running (&state.current, &state.pending, &missing, error))
    return FALSE;
  if (missing) {
    g_set_error (error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                 _("the loaded SELinux policy has no boolean '%s'"), NAME);
    return FALSE;
  }
  store = store_open (error);
  if (store == NULL || !store_read (store, &state.persistent, error))
    return FALSE;
  if (!hd_selinux_state_needs_on (&state)) {
    g_debug ("%s is already on", NAME);
    return TRUE;
  }
  running_on = state.current == HD_SELINUX_VALUE_ON && state.pending == HD_SELINUX_VALUE_ON;
  if (state.persistent != HD_SELINUX_VALUE_ON && !store_begin (store, error))
    return FALSE;

  if (!running_on && !write_running (1, state.pending == HD_SELINUX_VALUE_ON, error))
    return FALSE;
  if (state.persistent != HD_SELINUX_VALUE_ON && !store_commit_on (store, error)) {
    g_autoptr(GError) rollback_error = NULL;
    char *message;

    if (running_on)
      return FALSE;
    /* Not on now and off after a reboot: turn it off again. */
    if (write_running (state.current == HD_SELINUX_VALUE_ON, state.pending == HD_SELINUX_VALUE_ON,
                       &rollback_error))
      message = g_strdup_printf (_("%s; its running value was set back to %d"),
                                 (*error)->message, state.current == HD_SELINUX_VALUE_ON);
    else
      message = g_strdup_printf (_("%s; setting its running value back failed too: %s"),
                                 (*error)->message, rollback_error->message);
    g_free ((*error)->message);
    (*error)->message = message;
    return FALSE;
  }

  if (changed != NULL)
    *changed = TRUE;
  g_message ("SELinux boolean %s turned on (%s)", NAME,
             running_on ? "persistent value; the running value was on already"
             : state.persistent == HD_SELINUX_VALUE_ON
               ? "running value; the persistent value was on already"
               : "running and persistent values");
  return TRUE;
}

HdSelinuxState
hd_selinux_virt_use_sysfs_get (GError **error)
{
  HdSelinuxState state;

  g_mutex_lock (&lock);
  state = get_locked (error);
  g_mutex_unlock (&lock);
  return state;
}

gboolean
hd_selinux_virt_use_sysfs_running_off (void)
{
  HdSelinuxValue current = HD_SELINUX_VALUE_UNKNOWN, pending;
  gboolean missing = TRUE;

  /* Never wait on the lock: ensure() may hold it for a policy rebuild. */
  if (!g_mutex_trylock (&lock))
    return FALSE;
  if (selinux_enabled () && !read_running (&current, &pending, &missing, NULL))
    missing = TRUE;
  g_mutex_unlock (&lock);
  return !missing && current == HD_SELINUX_VALUE_OFF;
}

gboolean
hd_selinux_virt_use_sysfs_ensure (gboolean *changed, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (changed != NULL)
    *changed = FALSE;
  g_mutex_lock (&lock);
  /* ensure_locked edits the message of its error when it rolls back. */
  ok = ensure_locked (changed, &local_error);
  g_mutex_unlock (&lock);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

void
hd_selinux_redirect_for_tests (const char *selinuxfs, const char *policy_root, gboolean enabled)
{
  g_return_if_fail (selinuxfs != NULL && policy_root != NULL);
  /* libsemanage caches the store paths of its first connection. */
  g_return_if_fail (redirected_root == NULL || g_str_equal (redirected_root, policy_root));

  g_mutex_lock (&lock);
  fini_selinuxmnt ();
  set_selinuxmnt (selinuxfs);
  if (redirected_root == NULL) {
    redirected_root = g_strdup (policy_root);
    if (semanage_set_root (policy_root) < 0)
      g_error ("semanage_set_root (%s) failed", policy_root);
  }
  redirected = TRUE;
  redirected_enabled = enabled;
  g_mutex_unlock (&lock);
}
