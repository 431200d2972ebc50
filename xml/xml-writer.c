#include "config.h"

#include "xml-writer.h"

#include <string.h>

void
hd_xml_writer_init (HdXmlWriter *w)
{
  w->str = g_string_new (NULL);
  w->indent = 0;
}

char *
hd_xml_writer_finish (HdXmlWriter *w)
{
  char *out = g_string_free (g_steal_pointer (&w->str), FALSE);

  w->indent = 0;
  return out;
}

void
hd_xml_writer_clear (HdXmlWriter *w)
{
  if (w->str != NULL)
    g_string_free (g_steal_pointer (&w->str), TRUE);
}

void
hd_xml_writer_indent (HdXmlWriter *w, int delta)
{
  w->indent = MAX (0, w->indent + delta);
}

static void
apply_indent (HdXmlWriter *w)
{
  /* virBufferApplyIndent indents only at the start of a line. */
  if (w->str->len == 0 || w->str->str[w->str->len - 1] == '\n')
    for (int i = 0; i < w->indent; i++)
      g_string_append_c (w->str, ' ');
}

void
hd_xml_writer_printf (HdXmlWriter *w, const char *format, ...)
{
  va_list args;

  apply_indent (w);
  va_start (args, format);
  g_string_append_vprintf (w->str, format, args);
  va_end (args);
}

/* The set virBufferEscapeString treats specially.  It stops at 0x19: bytes
 * 0x1a-0x1f pass through unescaped in libvirt, and so they do here. */
static gboolean
is_forbidden (guchar c)
{
  return (c >= 0x01 && c <= 0x19 && c != '\t' && c != '\n' && c != '\r') ||
         c == '"' || c == '&' || c == '\'' || c == '<' || c == '>';
}

char *
hd_xml_escape (const char *str)
{
  GString *out = g_string_sized_new (strlen (str));

  for (const char *p = str; *p; p++)
    {
      switch (*p)
        {
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        case '&': g_string_append (out, "&amp;"); break;
        case '"': g_string_append (out, "&quot;"); break;
        case '\'': g_string_append (out, "&apos;"); break;
        default:
          if (!is_forbidden ((guchar) *p))
            g_string_append_c (out, *p);
        }
    }
  return g_string_free (out, FALSE);
}

void
hd_xml_writer_escape (HdXmlWriter *w, const char *before, const char *str,
                      const char *after)
{
  g_autofree char *escaped = NULL;

  if (str == NULL)
    return;
  escaped = hd_xml_escape (str);
  hd_xml_writer_printf (w, "%s%s%s", before, escaped, after);
}
