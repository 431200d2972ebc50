/* hostdevctl: colour, tables, JSON, verdicts and PCI classes in words. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "hostdevctl-format.h"

static const char *const style_on[] = {
  [HD_STYLE_NONE] = "",
  [HD_STYLE_BOLD] = "\033[1m",
  [HD_STYLE_GREEN] = "\033[32m",
  [HD_STYLE_YELLOW] = "\033[33m",
  [HD_STYLE_RED] = "\033[31m",
  [HD_STYLE_BLUE] = "\033[34m",
};

const char *
hd_style_on (const HdCtl *ctl, HdStyle style)
{
  return ctl->color ? style_on[style] : "";
}

const char *
hd_style_off (const HdCtl *ctl, HdStyle style)
{
  return ctl->color && style != HD_STYLE_NONE ? "\033[0m" : "";
}

static const struct {
  const char *token;
  const char *label;
  HdStyle style;
} verdicts[] = {
  { "detachable", N_("detachable"), HD_STYLE_GREEN },
  { "already-detached", N_("already detached"), HD_STYLE_BLUE },
  { "needs-group", N_("needs its IOMMU group"), HD_STYLE_YELLOW },
  { "in-use-by-host", N_("in use by the host"), HD_STYLE_RED },
  { "not-assignable", N_("not assignable"), HD_STYLE_RED },
};

const char *
hd_verdict_label (const char *verdict)
{
  for (guint i = 0; i < G_N_ELEMENTS (verdicts); i++)
    if (g_strcmp0 (verdict, verdicts[i].token) == 0)
      return _(verdicts[i].label);
  /* A verdict newer than this client: the daemon's token is still right. */
  return hd_or_dash (verdict);
}

HdStyle
hd_verdict_style (const char *verdict)
{
  for (guint i = 0; i < G_N_ELEMENTS (verdicts); i++)
    if (g_strcmp0 (verdict, verdicts[i].token) == 0)
      return verdicts[i].style;
  return HD_STYLE_NONE;
}

/* The base classes of the PCI Code and ID Assignment Specification, in
 * pci.ids' words. */
static const struct {
  int base;
  const char *label;
} pci_classes[] = {
  { 0x00, N_("unclassified device") },
  { 0x01, N_("mass storage controller") },
  { 0x02, N_("network controller") },
  { 0x03, N_("display controller") },
  { 0x04, N_("multimedia controller") },
  { 0x05, N_("memory controller") },
  { 0x06, N_("bridge") },
  { 0x07, N_("communication controller") },
  { 0x08, N_("generic system peripheral") },
  { 0x09, N_("input device controller") },
  { 0x0a, N_("docking station") },
  { 0x0b, N_("processor") },
  { 0x0c, N_("serial bus controller") },
  { 0x0d, N_("wireless controller") },
  { 0x0e, N_("intelligent controller") },
  { 0x0f, N_("satellite communications controller") },
  { 0x10, N_("encryption controller") },
  { 0x11, N_("signal processing controller") },
  { 0x12, N_("processing accelerator") },
  { 0x13, N_("non-essential instrumentation") },
  { 0x40, N_("coprocessor") },
  { 0xff, N_("unassigned class") },
};

const char *
hd_pci_class_label (int pci_class)
{
  if (pci_class < 0)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (pci_classes); i++)
    if (pci_classes[i].base == (pci_class >> 16))
      return _(pci_classes[i].label);
  return NULL;
}

const char *
hd_or_dash (const char *text)
{
  return text != NULL && text[0] != '\0' ? text : "-";
}

typedef struct {
  char *text;
  HdStyle style;
} Cell;

struct _HdTable {
  guint n_columns;
  GArray *cells;   /* Cell, row after row, the header first */
};

static void
cell_clear (gpointer data)
{
  g_free (((Cell *) data)->text);
}

HdTable *
hd_table_new (guint n_columns, ...)
{
  HdTable *table = g_new0 (HdTable, 1);
  va_list ap;

  table->n_columns = n_columns;
  table->cells = g_array_new (FALSE, FALSE, sizeof (Cell));
  g_array_set_clear_func (table->cells, cell_clear);
  va_start (ap, n_columns);
  for (guint i = 0; i < n_columns; i++)
    hd_table_add (table, HD_STYLE_BOLD, va_arg (ap, const char *));
  va_end (ap);
  return table;
}

void
hd_table_free (HdTable *table)
{
  g_array_unref (table->cells);
  g_free (table);
}

void
hd_table_add (HdTable *table, HdStyle style, const char *text)
{
  Cell cell = { g_strdup (hd_or_dash (text)), style };

  g_array_append_val (table->cells, cell);
}

/* What is left of the last column on a narrow terminal, at least. */
#define MIN_LAST_WIDTH 16

/* The terminal's width, or 0 (do not cut) when stdout is not one. */
static guint
terminal_width (void)
{
  struct winsize ws;

  if (!isatty (STDOUT_FILENO))
    return 0;
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 80;
}

guint
hd_text_width (const char *text)
{
  guint width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_iszerowidth (c))
        width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

/* Where @text must end to take at most @width columns. */
static char *
cut_to_width (char *text, guint width)
{
  guint at = 0;
  char *p;

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      guint w = g_unichar_iszerowidth (c) ? 0 : g_unichar_iswide (c) ? 2 : 1;

      if (at + w > width)
        break;
      at += w;
    }
  return p;
}

void
hd_table_print (HdTable *table, const HdCtl *ctl)
{
  g_autofree guint *widths = g_new0 (guint, table->n_columns);
  g_autoptr(GString) out = g_string_new (NULL);
  guint term_width = terminal_width ();
  guint start_of_last = 0;

  for (guint i = 0; i < table->cells->len; i++)
    {
      Cell *cell = &g_array_index (table->cells, Cell, i);
      guint column = i % table->n_columns;

      widths[column] = MAX (widths[column], hd_text_width (cell->text));
    }
  for (guint c = 0; c + 1 < table->n_columns; c++)
    start_of_last += widths[c] + 2;

  for (guint i = 0; i < table->cells->len; i++)
    {
      Cell *cell = &g_array_index (table->cells, Cell, i);
      guint column = i % table->n_columns;
      gboolean last = column + 1 == table->n_columns;
      guint len = hd_text_width (cell->text);
      g_autofree char *text = g_strdup (cell->text);

      /* Only the last column (free text) gives way to a narrow terminal,
       * and never below a few words' width. */
      if (last && term_width > 0 && len > MAX (term_width - MIN (term_width, start_of_last), MIN_LAST_WIDTH))
        {
          guint keep = MAX (term_width - MIN (term_width, start_of_last), MIN_LAST_WIDTH);
          char *cut = cut_to_width (text, keep - 1);

          *cut = '\0';
          len = hd_text_width (text) + 1;
          text = g_realloc (text, strlen (text) + sizeof "…");
          strcat (text, "…");
        }
      g_string_append_printf (out, "%s%s%s", hd_style_on (ctl, cell->style), text,
                              hd_style_off (ctl, cell->style));
      if (last)
        g_string_append_c (out, '\n');
      else
        g_string_append_printf (out, "%*s", (int) (widths[column] - len + 2), "");
    }
  fputs (out->str, stdout);
}

void
hd_json_append_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        default:
          /* D-Bus strings are valid UTF-8: only control characters need
           * escaping. */
          if ((guchar) *p < 0x20)
            g_string_append_printf (out, "\\u%04x", (guint) (guchar) *p);
          else
            g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

void
hd_json_append_value (GString *out, GVariant *value)
{
  if (value == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
      break;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", (guint) g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", (int) g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", (guint) g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%" G_GINT32_FORMAT, g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%" G_GUINT32_FORMAT, g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      hd_json_append_string (out, g_variant_get_string (value, NULL));
      break;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);

        hd_json_append_value (out, inner);
      }
      break;
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
      g_string_append_c (out, '[');
      for (gsize i = 0; i < g_variant_n_children (value); i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

          if (i > 0)
            g_string_append (out, ", ");
          hd_json_append_value (out, child);
        }
      g_string_append_c (out, ']');
      break;
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) inner = g_variant_get_maybe (value);

        hd_json_append_value (out, inner);
      }
      break;
    case G_VARIANT_CLASS_DOUBLE:
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      /* Not in the Device interface; keep the output valid JSON anyway. */
      g_string_append (out, "null");
      break;
    }
}

void
hd_json_append_device (GString *out, HdDBusDevice *device, guint indent)
{
  GDBusInterfaceInfo *info = hd_dbus_device_interface_info ();

  g_string_append (out, "{\n");
  for (guint i = 0; info->properties[i] != NULL; i++)
    {
      const char *name = info->properties[i]->name;
      g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (device), name);

      g_string_append_printf (out, "%*s", (int) indent + 2, "");
      hd_json_append_string (out, name);
      g_string_append (out, ": ");
      hd_json_append_value (out, value);
      g_string_append (out, info->properties[i + 1] != NULL ? ",\n" : "\n");
    }
  g_string_append_printf (out, "%*s}", (int) indent, "");
}
