/* The fix texts that change a boot line on this machine: the exact
 * GRUB_CMDLINE_* line with the words added or removed, from the admin's own
 * /etc/default/grub (and grub.d drop-ins), the command that regenerates the
 * boot configuration on this distribution (/etc/os-release), and the
 * reboot; and the bookkeeping that keeps several checks' fixes to one line
 * consistent. */
#include "config.h"

#include "host-readiness-private.h"

#include <string.h>

#include <glib/gi18n.h>

/* ---- /etc/os-release ---- */

typedef enum {
  OS_UNKNOWN,
  OS_DEBIAN,   /* update-grub */
  OS_FEDORA,   /* grubby for the kernel line, grub2-mkconfig for Xen's */
  OS_ARCH,     /* grub-mkconfig -o /boot/grub/grub.cfg */
  OS_SUSE,     /* grub2-mkconfig -o /boot/grub2/grub.cfg */
} OsFamily;

static OsFamily
family_of (const char *id)
{
  static const struct { const char *id; OsFamily family; } known[] = {
    { "debian", OS_DEBIAN }, { "ubuntu", OS_DEBIAN },
    { "fedora", OS_FEDORA }, { "rhel", OS_FEDORA }, { "centos", OS_FEDORA },
    { "rocky", OS_FEDORA }, { "almalinux", OS_FEDORA },
    { "arch", OS_ARCH },
    { "opensuse", OS_SUSE }, { "opensuse-leap", OS_SUSE },
    { "opensuse-tumbleweed", OS_SUSE }, { "sles", OS_SUSE }, { "suse", OS_SUSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (id, known[i].id))
      return known[i].family;
  return OS_UNKNOWN;
}

/* A shell assignment's value (os-release and /etc/default/grub are both
 * sourced by sh): the raw text between the quotes, and which quote. */
static char *
shell_value (const char *text, char *quote)
{
  const char *end;

  *quote = 0;
  if (*text == '"' || *text == '\'')
    {
      *quote = *text;
      for (end = text + 1; *end != '\0' && *end != *quote; end++)
        if (*quote == '"' && *end == '\\' && end[1] != '\0')
          end++;
      return g_strndup (text + 1, (gsize) (end - text - 1));
    }
  for (end = text; *end != '\0' && !g_ascii_isspace (*end) && *end != '#'; end++)
    ;
  return g_strndup (text, (gsize) (end - text));
}

static OsFamily
read_os_family (const char *root)
{
  g_autofree char *text = hd_readiness_read (root, "etc/os-release");
  g_auto(GStrv) lines = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id_like = NULL;
  OsFamily family;

  if (text == NULL)
    text = hd_readiness_read (root, "usr/lib/os-release");
  if (text == NULL)
    return OS_UNKNOWN;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char quote;

      /* the last assignment wins, as when the file is sourced */
      if (g_str_has_prefix (lines[i], "ID="))
        {
          g_free (id);
          id = shell_value (lines[i] + 3, &quote);
        }
      else if (g_str_has_prefix (lines[i], "ID_LIKE="))
        {
          g_free (id_like);
          id_like = shell_value (lines[i] + 8, &quote);
        }
    }
  family = family_of (id != NULL ? id : "");
  if (family == OS_UNKNOWN && id_like != NULL)
    {
      g_auto(GStrv) likes = g_strsplit (id_like, " ", -1);

      for (guint i = 0; likes[i] != NULL && family == OS_UNKNOWN; i++)
        family = family_of (likes[i]);
    }
  return family;
}

/* ---- /etc/default/grub ---- */

typedef struct {
  char *file;    /* where it was set, as the admin sees it: "/etc/default/grub" */
  char *value;   /* the raw text between the quotes, kept as written ($VARS too) */
  char quote;
} GrubVar;

static void
grub_var_free (gpointer data)
{
  GrubVar *var = data;

  g_free (var->file);
  g_free (var->value);
  g_free (var);
}

struct _HdBootConfig {
  OsFamily family;
  gboolean has_grub;
  GHashTable *vars;   /* "GRUB_CMDLINE_LINUX" → GrubVar, the last assignment */
};

static const char *const linux_vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT", NULL };
static const char *const xen_vars[] = { "GRUB_CMDLINE_XEN_DEFAULT", "GRUB_CMDLINE_XEN", NULL };

static void
parse_grub_file (HdBootConfig *boot, const char *root, const char *rel)
{
  g_autofree char *text = hd_readiness_read (root, rel);
  g_auto(GStrv) lines = NULL;

  if (text == NULL)
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      while (g_ascii_isspace (*line))
        line++;
      if (g_str_has_prefix (line, "export "))
        line += strlen ("export ");
      for (guint k = 0; k < 2; k++)
        {
          const char *const *names = k == 0 ? linux_vars : xen_vars;

          for (guint n = 0; names[n] != NULL; n++)
            {
              gsize len = strlen (names[n]);
              GrubVar *var;

              if (strncmp (line, names[n], len) != 0 || line[len] != '=')
                continue;
              var = g_new0 (GrubVar, 1);
              var->file = g_strconcat ("/", rel, NULL);
              var->value = shell_value (line + len + 1, &var->quote);
              g_hash_table_replace (boot->vars, g_strdup (names[n]), var);
            }
        }
    }
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

HdBootConfig *
hd_boot_config_read (const char *root)
{
  g_autoptr(HdBootConfig) boot = g_new0 (HdBootConfig, 1);
  g_autofree char *dropins = hd_readiness_path (root, "etc/default/grub.d");
  g_autoptr(GDir) dir = g_dir_open (dropins, 0, NULL);
  g_autoptr(GPtrArray) cfgs = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  boot->family = read_os_family (root);
  boot->vars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, grub_var_free);
  boot->has_grub = hd_readiness_exists (root, "etc/default/grub");
  parse_grub_file (boot, root, "etc/default/grub");
  /* grub-mkconfig sources grub.d/ *.cfg after the main file, in glob order;
   * cloud images set the kernel line there. */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".cfg"))
      g_ptr_array_add (cfgs, g_strconcat ("etc/default/grub.d/", name, NULL));
  g_ptr_array_sort (cfgs, compare_names);
  for (guint i = 0; i < cfgs->len; i++)
    parse_grub_file (boot, root, g_ptr_array_index (cfgs, i));
  return g_steal_pointer (&boot);
}

void
hd_boot_config_free (HdBootConfig *boot)
{
  if (boot == NULL)
    return;
  g_clear_pointer (&boot->vars, g_hash_table_unref);
  g_free (boot);
}

const char *
hd_boot_config_get (const HdBootConfig *boot, const char *name)
{
  const GrubVar *var = g_hash_table_lookup (boot->vars, name);

  return var != NULL ? var->value : NULL;
}

static gboolean
matches_any (const char *word, const char *const *specs)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    if (hd_cmdline_word_matches (word, specs[i]))
      return TRUE;
  return FALSE;
}

/* @value without the words matching @remove, with the words of @add
 * appended unless already there; *@removed says whether anything was taken
 * off. */
static char *
edit_words (const char *value, const char *const *add, const char *const *remove, gboolean *removed)
{
  g_auto(GStrv) words = g_strsplit_set (value, " \t", -1);
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (matches_any (words[i], remove))
        {
          *removed = TRUE;
          continue;
        }
      g_ptr_array_add (kept, words[i]);
    }
  for (guint i = 0; add != NULL && add[i] != NULL; i++)
    if (!g_ptr_array_find_with_equal_func (kept, add[i], g_str_equal, NULL))
      g_ptr_array_add (kept, (char *) add[i]);
  g_ptr_array_add (kept, NULL);
  return g_strjoinv (" ", (char **) kept->pdata);
}

static gboolean
var_has_word (const GrubVar *var, const char *word)
{
  g_auto(GStrv) words = NULL;

  if (var == NULL || word == NULL)
    return FALSE;
  words = g_strsplit_set (var->value, " \t", -1);
  return g_strv_contains ((const char *const *) words, word);
}

static gboolean
var_has_match (const GrubVar *var, const char *spec)
{
  g_auto(GStrv) words = NULL;

  if (var == NULL)
    return FALSE;
  words = g_strsplit_set (var->value, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0' && hd_cmdline_word_matches (words[i], spec))
      return TRUE;
  return FALSE;
}

static gboolean
any (const char *const *words)
{
  return words != NULL && words[0] != NULL;
}

static char *
grubby_command (const char *const *add, const char *const *remove)
{
  g_autoptr(GString) cmd = g_string_new ("grubby --update-kernel=ALL");

  if (any (remove))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) remove);

      g_string_append_printf (cmd, " --remove-args=\"%s\"", joined);
    }
  if (any (add))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) add);

      g_string_append_printf (cmd, " --args=\"%s\"", joined);
    }
  return g_string_free (g_steal_pointer (&cmd), FALSE);
}

/* The command that turns /etc/default/grub into the boot configuration. */
static char *
regenerate_command (const HdBootConfig *boot, HdBootLine line,
                    const char *const *add, const char *const *remove)
{
  switch (boot->family)
    {
    case OS_DEBIAN:
      return g_strdup ("update-grub");
    case OS_FEDORA:
      /* BLS entries keep their own options: grubby changes the installed
       * kernels; grub2-mkconfig is still the way for Xen's multiboot line. */
      if (line == HD_BOOT_LINE_LINUX)
        return grubby_command (add, remove);
      return g_strdup ("grub2-mkconfig -o /boot/grub2/grub.cfg");
    case OS_ARCH:
      return g_strdup ("grub-mkconfig -o /boot/grub/grub.cfg");
    case OS_SUSE:
      return g_strdup ("grub2-mkconfig -o /boot/grub2/grub.cfg");
    case OS_UNKNOWN:
    default:
      /* TRANSLATORS: the two spellings of GRUB's config generator */
      return g_strdup (_("grub-mkconfig -o /boot/grub/grub.cfg (or, where GRUB is installed as grub2: grub2-mkconfig -o /boot/grub2/grub.cfg)"));
    }
}

/* Without /etc/default/grub the line cannot be named: say what to change. */
static char *
fix_without_grub (const HdBootConfig *boot, HdBootLine line,
                  const char *const *add, const char *const *remove)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *added = any (add) ? g_strjoinv (" ", (char **) add) : NULL;
  g_autofree char *removed = any (remove) ? g_strjoinv (" ", (char **) remove) : NULL;

  if (boot->family == OS_FEDORA && line == HD_BOOT_LINE_LINUX)
    {
      g_autofree char *cmd = grubby_command (add, remove);

      g_string_append_printf (out, _("Run: %s"), cmd);
    }
  else
    {
      /* TRANSLATORS: the second %s of "Remove %s from %s in the boot
       * loader's configuration" and "Add %s to %s in …" */
      const char *where = line == HD_BOOT_LINE_XEN ? _("Xen's command line") : _("the kernel command line");

      if (removed != NULL)
        g_string_append_printf (out, _("Remove %s from %s in the boot loader's configuration (this host has no /etc/default/grub)."),
                                removed, where);
      if (added != NULL)
        {
          g_string_append_printf (out, "%s", out->len > 0 ? "\n" : "");
          g_string_append_printf (out, _("Add %s to %s in the boot loader's configuration (this host has no /etc/default/grub)."),
                                  added, where);
        }
    }
  g_string_append_printf (out, "\n%s", _("Then reboot."));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  const char *file;
  GString *lines;
} FileEdit;

char *
hd_boot_config_fix (const HdBootConfig *boot, HdBootLine line,
                    const char *const *add, const char *const *remove)
{
  const char *const *vars = line == HD_BOOT_LINE_LINUX ? linux_vars : xen_vars;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GArray) edits = g_array_new (FALSE, TRUE, sizeof (FileEdit));
  g_autofree char *regenerate = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new ();
  g_autoptr(GPtrArray) unmatched = g_ptr_array_new ();
  g_autofree char *words = NULL;

  if (!boot->has_grub)
    return fix_without_grub (boot, line, add, remove);

  /* a word already on one of the lines need not go on the other */
  for (guint a = 0; add != NULL && add[a] != NULL; a++)
    {
      gboolean present = FALSE;

      for (guint i = 0; vars[i] != NULL; i++)
        present = present || var_has_word (g_hash_table_lookup (boot->vars, vars[i]), add[a]);
      if (!present)
        g_ptr_array_add (missing, (char *) add[a]);
    }
  g_ptr_array_add (missing, NULL);

  /* vars[0] takes the new word: GRUB_CMDLINE_LINUX reaches every entry,
   * recovery included, which an IOMMU switch should. */
  for (guint i = 0; vars[i] != NULL; i++)
    {
      const GrubVar *var = g_hash_table_lookup (boot->vars, vars[i]);
      const char *file = var != NULL ? var->file : "/etc/default/grub";
      char quote = var != NULL && var->quote == '\'' ? '\'' : '"';
      gboolean var_removed = FALSE;
      g_autofree char *value = edit_words (var != NULL ? var->value : "",
                                           i == 0 ? (const char *const *) missing->pdata : NULL,
                                           remove, &var_removed);
      FileEdit *edit = NULL;

      if (var != NULL && g_str_equal (value, var->value) && !var_removed)
        continue;
      if (var == NULL && *value == '\0')
        continue;
      for (guint e = 0; e < edits->len && edit == NULL; e++)
        if (g_str_equal (g_array_index (edits, FileEdit, e).file, file))
          edit = &g_array_index (edits, FileEdit, e);
      if (edit == NULL)
        {
          FileEdit fresh = { file, g_string_new (NULL) };

          g_array_append_val (edits, fresh);
          edit = &g_array_index (edits, FileEdit, edits->len - 1);
        }
      g_string_append_printf (edit->lines, "\n  %s=%c%s%c", vars[i], quote, value, quote);
    }

  for (guint e = 0; e < edits->len; e++)
    {
      FileEdit *edit = &g_array_index (edits, FileEdit, e);

      g_string_append_printf (out, "%s", out->len > 0 ? "\n" : "");
      g_string_append_printf (out, _("Edit %s so that it reads:"), edit->file);
      g_string_append (out, edit->lines->str);
      g_string_free (edit->lines, TRUE);
    }
  /* words the running kernel has and /etc/default/grub does not */
  for (guint w = 0; remove != NULL && remove[w] != NULL; w++)
    {
      gboolean found = FALSE;

      for (guint i = 0; vars[i] != NULL; i++)
        found = found || var_has_match (g_hash_table_lookup (boot->vars, vars[i]), remove[w]);
      if (!found)
        g_ptr_array_add (unmatched, (char *) remove[w]);
    }
  g_ptr_array_add (unmatched, NULL);
  words = g_strjoinv (" ", (char **) unmatched->pdata);

  regenerate = regenerate_command (boot, line, add, remove);
  if (out->len > 0)
    {
      /* say so rather than pretend the edit above removes them */
      if (*words != '\0')
        {
          g_string_append_c (out, '\n');
          g_string_append_printf (out, _("%s is on the running command line but not in /etc/default/grub: remove it where the boot loader's configuration sets it."), words);
        }
      g_string_append_c (out, '\n');
      g_string_append_printf (out, _("then run: %s"), regenerate);
      g_string_append_printf (out, "\n%s", _("and reboot."));
      return g_string_free (g_steal_pointer (&out), FALSE);
    }

  /* Nothing to edit: most likely the boot configuration was not
   * regenerated, or the system not restarted, since the edit. */
  g_string_append (out, _("/etc/default/grub already has this change; the running system was started before it was made."));
  g_string_append_c (out, '\n');
  g_string_append_printf (out, _("Run: %s"), regenerate);
  g_string_append_printf (out, "\n%s", _("and reboot."));
  if (*words != '\0')
    {
      g_string_append_c (out, '\n');
      g_string_append_printf (out, _("If %s is still on the kernel command line then, something other than /etc/default/grub puts it there."), words);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- boot-line fixes across checks ---- */

typedef struct {
  HdReadinessCheck *check;
  HdBootLine line;
  char *add;
  GStrv remove;
  char *more;
} HdBootEdit;

static void
boot_edit_free (gpointer data)
{
  HdBootEdit *e = data;

  g_free (e->add);
  g_strfreev (e->remove);
  g_free (e->more);
  g_free (e);
}

GPtrArray *
hd_probe_boot_edits_new (void)
{
  return g_ptr_array_new_with_free_func (boot_edit_free);
}

void
hd_probe_boot_fix (HdProbe *p, HdReadinessCheck *check, HdBootLine line,
                   const char *add, const char *const *remove, const char *more)
{
  HdBootEdit *e = g_new0 (HdBootEdit, 1);

  e->check = check;
  e->line = line;
  e->add = g_strdup (add);
  e->remove = g_strdupv ((char **) remove);
  e->more = g_strdup (more);
  g_ptr_array_add (p->boot_edits, e);
}

static void
add_unique (GPtrArray *words, const char *word)
{
  if (word != NULL && !g_ptr_array_find_with_equal_func (words, word, g_str_equal, NULL))
    g_ptr_array_add (words, (char *) word);
}

void
hd_probe_write_boot_fixes (HdProbe *p)
{
  for (guint i = 0; i < p->boot_edits->len; i++)
    {
      HdBootEdit *e = g_ptr_array_index (p->boot_edits, i);
      g_autoptr(GPtrArray) add = g_ptr_array_new ();
      g_autoptr(GPtrArray) remove = g_ptr_array_new ();
      g_autofree char *fix = NULL;

      for (guint k = 0; k < p->boot_edits->len; k++)
        {
          HdBootEdit *other = g_ptr_array_index (p->boot_edits, k);

          if (other->line != e->line ||
              (other != e && other->check->status != HD_READINESS_WARN && other->check->status != HD_READINESS_FAIL))
            continue;
          add_unique (add, other->add);
          for (guint w = 0; other->remove != NULL && other->remove[w] != NULL; w++)
            add_unique (remove, other->remove[w]);
        }
      g_ptr_array_add (add, NULL);
      g_ptr_array_add (remove, NULL);
      fix = hd_boot_config_fix (p->boot, e->line, (const char *const *) add->pdata,
                                (const char *const *) remove->pdata);
      g_free (e->check->fix);
      e->check->fix = e->more != NULL ? g_strconcat (fix, "\n", e->more, NULL) : g_steal_pointer (&fix);
    }
}
