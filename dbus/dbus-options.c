#include "config.h"

#include "dbus-options.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nodedev/error.h"

static const struct {
  const char *key;
  HdDBusOption option;
  const char *type;     /* GVariant type string */
} known[] = {
  { "driver", HD_DBUS_OPT_DRIVER, "s" },
  { "group", HD_DBUS_OPT_GROUP, "b" },
  { "force", HD_DBUS_OPT_FORCE, "b" },
  { "interactive", HD_DBUS_OPT_INTERACTIVE, "b" },
  { "format", HD_DBUS_OPT_FORMAT, "s" },
  { "managed", HD_DBUS_OPT_MANAGED, "b" },
};

void
hd_dbus_options_clear (HdDBusOptions *o)
{
  g_clear_pointer (&o->driver, g_free);
  g_clear_pointer (&o->format, g_free);
}

static void
store (HdDBusOptions *o, HdDBusOption option, GVariant *value)
{
  switch (option)
    {
    case HD_DBUS_OPT_DRIVER:
      g_free (o->driver);
      o->driver = g_variant_dup_string (value, NULL);
      break;
    case HD_DBUS_OPT_FORMAT:
      g_free (o->format);
      o->format = g_variant_dup_string (value, NULL);
      break;
    case HD_DBUS_OPT_GROUP:
      o->group = g_variant_get_boolean (value);
      break;
    case HD_DBUS_OPT_FORCE:
      o->force = g_variant_get_boolean (value);
      break;
    case HD_DBUS_OPT_INTERACTIVE:
      o->interactive = g_variant_get_boolean (value);
      break;
    case HD_DBUS_OPT_MANAGED:
    default:
      o->managed = g_variant_get_boolean (value);
      break;
    }
}

gboolean
hd_dbus_options_parse (GVariant *options, guint allowed, HdDBusOptions *out, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *raw;

  hd_dbus_options_clear (out);
  memset (out, 0, sizeof *out);
  out->managed = TRUE;
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &raw))
    {
      g_autoptr(GVariant) value = raw;
      guint i;

      for (i = 0; i < G_N_ELEMENTS (known); i++)
        if (g_str_equal (key, known[i].key) && (allowed & known[i].option))
          break;
      if (i == G_N_ELEMENTS (known))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, _("unknown option '%s'"), key);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (known[i].type)))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                       g_str_equal (known[i].type, "b") ? _("option '%s' must be a boolean (b), not %s")
                                                        : _("option '%s' must be a string (s), not %s"),
                       key, g_variant_get_type_string (value));
          return FALSE;
        }
      store (out, known[i].option, value);
    }
  return TRUE;
}

gboolean
hd_dbus_return_error (GDBusMethodInvocation *invocation, GError *error)
{
  g_dbus_method_invocation_return_gerror (invocation, error);
  g_error_free (error);
  return TRUE;
}
