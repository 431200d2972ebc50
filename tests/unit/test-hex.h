/* Byte strings written as hex in the tests ("0000001c 20008086 …",
 * blanks ignored), as libvirt-rpc.md prints packets. */
#pragma once

#include <glib.h>

static inline GByteArray *
hex_array (const char *text)
{
  GByteArray *out = g_byte_array_new ();
  int hi = -1;

  for (const char *p = text; *p != '\0'; p++)
    {
      int v;

      if (g_ascii_isspace (*p))
        continue;
      v = g_ascii_xdigit_value (*p);
      g_assert_cmpint (v, >=, 0);
      if (hi < 0)
        hi = v;
      else
        {
          guint8 b = (guint8) (hi << 4 | v);
          g_byte_array_append (out, &b, 1);
          hi = -1;
        }
    }
  g_assert_cmpint (hi, ==, -1);
  return out;
}
