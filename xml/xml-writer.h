/* A line-oriented XML writer that reproduces libvirt's virBuffer output:
 * two-space indentation applied at the start of each line, and
 * virBufferEscapeString's escaping rules (the five XML entities, control
 * characters other than tab, CR and LF dropped). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GString *str;
  int indent;
} HdXmlWriter;

void hd_xml_writer_init (HdXmlWriter *w);
/* Returns the document and resets the writer. */
char *hd_xml_writer_finish (HdXmlWriter *w);
void hd_xml_writer_clear (HdXmlWriter *w);

void hd_xml_writer_indent (HdXmlWriter *w, int delta);

/* One line, printf-style, indentation prepended. */
void hd_xml_writer_printf (HdXmlWriter *w, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* virBufferEscapeString: @before, @str escaped, @after; nothing at all is
 * written when @str is NULL. */
void hd_xml_writer_escape (HdXmlWriter *w, const char *before, const char *str,
                           const char *after);

/* The escaped form of @str, as used inside text and attribute values. */
char *hd_xml_escape (const char *str);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdXmlWriter, hd_xml_writer_clear)

G_END_DECLS
