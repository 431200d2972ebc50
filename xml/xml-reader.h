/* Reading XML that may come from anyone: libxml2 set up as libvirt sets it
 * up (virXMLParseHelper), minus what a hostile document could abuse; and
 * libvirt's attribute readers (virXMLProp*), with their error texts.
 *
 * - No network (XML_PARSE_NONET), no external DTD or entity loading (no
 *   XML_PARSE_DTDLOAD), no entity substitution (no XML_PARSE_NOENT), no
 *   XInclude; a document that declares an entity (general, parameter or
 *   unparsed) is refused outright, so nothing can be expanded at all.
 * - Documents over HD_XML_READ_MAX bytes are refused before parsing.
 * - libxml2's own error reporting never reaches stderr: errors are caught
 *   per parser context (its SAX structured-error hook, which libxml2 2.9.14
 *   keeps per context), and the first fatal one becomes the GError with
 *   libvirt's catchXMLError text:
 *     "(domain_definition):5: Opening and ending tag mismatch: …\n
 *      <the line>\n------^"
 * Safe to call from several threads at once. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

#define HD_XML_READ_MAX (1024 * 1024)

/* Parses @len bytes of @data.  @url names the document in errors, as
 * libvirt's url argument does ("(domain_definition)").  With @root, the
 * root element must have that name (libvirt's "expecting root element of
 * 'domain', not 'foo'").  Errors are HD_ERROR_INVALID_ARGUMENT. */
xmlDoc *hd_xml_read (const char *data, gsize len, const char *url,
                     const char *root, GError **error);

/* libvirt's XPath "./name" from @node: the first child element called
 * @name in no namespace; NULL if there is none (or @node is NULL). */
xmlNode *hd_xml_child (xmlNode *node, const char *name);

/* virXMLPropString: the attribute's value (namespaces ignored, as
 * xmlGetProp does), NULL when absent or when @node is NULL. g_free() it. */
char *hd_xml_prop (xmlNode *node, const char *name);

/* virXPathString ("string(./name[1])"): the text of the first child
 * element @name, NULL when absent or empty. */
char *hd_xml_child_text (xmlNode *node, const char *name);

/* XPath "string(./child/@attr)": the first such attribute (in no
 * namespace) in document order among all the @child elements; NULL when
 * there is none or it is empty. */
char *hd_xml_child_attr (xmlNode *node, const char *child, const char *attr);

/* libvirt's enum tables: index 0 is the "absent" value, which an XML
 * attribute may not spell out (VIR_XML_PROP_NONZERO). */
extern const char *const hd_xml_tristate_bool[];    /* "default", "yes", "no" */
extern const char *const hd_xml_tristate_switch[];  /* "default", "on", "off" */

/* The index of @s in the NULL-terminated @values, or -1. */
int hd_xml_enum_index (const char *const *values, const char *s);

typedef enum {
  HD_XML_PROP_REQUIRED = 1 << 0,
  HD_XML_PROP_NONZERO = 1 << 1,
} HdXmlPropFlags;

/* The readers return -1 on error (HD_ERROR_INVALID_ARGUMENT, libvirt's
 * text), 0 when the attribute is absent (or @node is NULL), 1 when set. */

/* virXMLPropEnum with VIR_XML_PROP_NONZERO: *@out is the index in @values;
 * index 0 and unknown values are "Invalid value for attribute …". */
int hd_xml_prop_enum (xmlNode *node, const char *name, const char *const *values,
                      int *out, GError **error);

/* virXMLPropTristateBool/Switch (@values one of the tables above) into
 * -1 (absent), 0 (no/off), 1 (yes/on). */
int hd_xml_prop_tristate (xmlNode *node, const char *name, const char *const *values,
                          int *out, GError **error);

/* virXMLPropUInt: strtoul in @base (0: hex with 0x, octal with 0, else
 * decimal), no '-', nothing after the number, fits 32 bits.  *@out is 0
 * when absent. */
int hd_xml_prop_uint (xmlNode *node, const char *name, int base, HdXmlPropFlags flags,
                      guint *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

G_END_DECLS
