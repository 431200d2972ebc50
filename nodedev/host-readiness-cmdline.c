/* The kernel command line as the kernel reads it: words split the way
 * lib/cmdline.c next_arg() splits them, names compared the way
 * kernel/params.c parameq() compares them, booleans read as kstrtobool()
 * reads them.  Used on /proc/cmdline and on the GRUB_CMDLINE_* values. */
#include "config.h"

#include "host-readiness-private.h"

#include <string.h>

GPtrArray *
hd_cmdline_split (const char *text)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  const char *p = text != NULL ? text : "";

  while (*p != '\0')
    {
      g_autoptr(GString) word = g_string_new (NULL);
      gboolean in_quote = FALSE;

      while (g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        break;
      /* lib/cmdline.c next_arg(): a quote toggles, it is not part of the word */
      for (; *p != '\0' && (in_quote || !g_ascii_isspace (*p)); p++)
        {
          if (*p == '"')
            in_quote = !in_quote;
          else
            g_string_append_c (word, *p);
        }
      /* init/main.c: everything after "--" is handed to init untouched */
      if (g_str_equal (word->str, "--"))
        break;
      g_ptr_array_add (words, g_string_free (g_steal_pointer (&word), FALSE));
    }
  return g_steal_pointer (&words);
}

/* kernel/params.c parameq(): dashes and underscores are the same in names */
static gboolean
name_equal (const char *word, gsize len, const char *name)
{
  if (strlen (name) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char a = word[i] == '-' ? '_' : word[i];
      char b = name[i] == '-' ? '_' : name[i];

      if (a != b)
        return FALSE;
    }
  return TRUE;
}

static gsize
word_name_len (const char *word)
{
  const char *eq = strchr (word, '=');

  return eq != NULL ? (gsize) (eq - word) : strlen (word);
}

const char *
hd_cmdline_get (const GPtrArray *words, const char *name)
{
  const char *value = NULL;

  for (guint i = 0; words != NULL && i < words->len; i++)
    {
      const char *word = g_ptr_array_index (words, i);
      gsize len = word_name_len (word);

      if (name_equal (word, len, name))
        value = word[len] == '=' ? word + len + 1 : "";
    }
  return value;
}

gboolean
hd_cmdline_bool (const char *value)
{
  if (value == NULL)
    return FALSE;
  if (*value == '\0')
    return TRUE;
  return value[0] == 'y' || value[0] == 'Y' || value[0] == '1' ||
         g_ascii_strcasecmp (value, "on") == 0;
}

gboolean
hd_cmdline_value_has (const char *value, const char *token)
{
  g_auto(GStrv) parts = NULL;

  if (value == NULL)
    return FALSE;
  parts = g_strsplit (value, ",", -1);
  return g_strv_contains ((const char *const *) parts, token);
}

gboolean
hd_cmdline_word_matches (const char *word, const char *spec)
{
  gsize wlen = word_name_len (word);
  gsize slen = word_name_len (spec);
  g_autofree char *sname = g_strndup (spec, slen);

  if (!name_equal (word, wlen, sname))
    return FALSE;
  if (spec[slen] != '=')
    return TRUE;
  return word[wlen] == '=' && g_str_equal (word + wlen + 1, spec + slen + 1);
}
