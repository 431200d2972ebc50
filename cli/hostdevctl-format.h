/* hostdevctl: how things are written — colour, tables, JSON, and the
 * words for verdicts and PCI classes.  Nothing here talks to the daemon. */
#pragma once

#include "hostdevctl.h"

G_BEGIN_DECLS

typedef enum {
  HD_STYLE_NONE,
  HD_STYLE_BOLD,
  HD_STYLE_GREEN,
  HD_STYLE_YELLOW,
  HD_STYLE_RED,
  HD_STYLE_BLUE,
} HdStyle;

/* The escape sequences around a styled text, or "" without colour. */
const char *hd_style_on (const HdCtl *ctl, HdStyle style);
const char *hd_style_off (const HdCtl *ctl, HdStyle style);

/* Verdict tokens of the API ("needs-group") in words ("needs its group")
 * and in a colour: green can go, yellow can go with an option, red not. */
const char *hd_verdict_label (const char *verdict);
HdStyle hd_verdict_style (const char *verdict);

/* The base class of a 24-bit PCI class code in words, or NULL. */
const char *hd_pci_class_label (int pci_class);

/* The columns @text takes on a terminal: a wide character (Korean,
 * Chinese, Japanese) takes two, a combining mark none.  Translated labels
 * are aligned by this, not by their number of characters. */
guint hd_text_width (const char *text);

/* "" reads as "-" in tables and lists. */
const char *hd_or_dash (const char *text);

/* A table with a header row: columns padded to their widest cell, two
 * spaces apart; the last one is not padded, and is cut to the terminal's
 * width when writing to one (never in a pipe). */
typedef struct _HdTable HdTable;
HdTable *hd_table_new (guint n_columns, ...);
void hd_table_free (HdTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdTable, hd_table_free)
/* Cells are added left to right, row after row. */
void hd_table_add (HdTable *table, HdStyle style, const char *text);
void hd_table_print (HdTable *table, const HdCtl *ctl);

/* JSON, in the layout of `jq .`: an object per device, a key per line. */
void hd_json_append_string (GString *out, const char *text);
void hd_json_append_value (GString *out, GVariant *value);
/* Every property of @device, keyed by its D-Bus name, in the order of the
 * interface's introspection data. */
void hd_json_append_device (GString *out, HdDBusDevice *device, guint indent);

G_END_DECLS
