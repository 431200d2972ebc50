#!/usr/bin/python3
"""The translations in po/, checked three ways (standard library only, so
that Debian's /usr/bin/python3 runs it without extra packages):

  i18n-check.py complete SRCDIR
      Extracts a fresh template from po/POTFILES.in (xgettext with the
      keywords of meson's glib preset, into a temporary directory: the
      source tree is not touched), merges every language of po/LINGUAS
      against it and fails listing each message that is untranslated or
      fuzzy there; also fails for a source file that has translatable
      strings but is not in POTFILES.in, and for a catalog msgfmt -c
      rejects.

  i18n-check.py literal SRCDIR
      Fails for a _() or N_() whose text is not made of string literals
      only: "... (default " DEFAULT_DIR ")" or "%" G_GSIZE_FORMAT
      extracts as a fragment that can never match the text looked up at
      run time, so that message stays English in every language.

  i18n-check.py lang SRCDIR PODIR HOSTDEVD HOSTDEVCTL
      Runs the built hostdevd and hostdevctl under LANG=ko_KR.UTF-8 and
      LANG=de_DE.UTF-8 with HOSTDEVD_LOCALEDIR=PODIR (meson's compiled
      catalogs, PODIR/LANG/LC_MESSAGES/hostdevd.mo) and checks that they
      print the translations that po/LANG.po holds for the messages, and
      under LANG=C the English.  A locale this system lacks is compiled
      with localedef into a temporary directory (LOCPATH); without the
      locale sources (Debian's `locales` package) the test skips.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

# meson's i18n preset 'glib' (mesonbuild/modules/i18n.py), as the
# hostdevd-pot target runs xgettext.
XGETTEXT_GLIB = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format', '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format', '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]

# The folders whose C files must all be in POTFILES.in when they mark text.
SOURCE_DIRS = ['cli', 'daemon', 'dbus', 'hostdev', 'nodedev', 'remote', 'xml']
MARK = re.compile(r'\b(?:N_|_|C_|NC_|ngettext|g_dngettext)\s*\(\s*"')


def fail(lines):
    for line in lines:
        print(line)
    sys.exit(1)


# --- a small PO reader ------------------------------------------------------

def unquote(s):
    """The text of one C string literal of a PO file (without quotes)."""
    out = []
    i = 0
    escapes = {'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v'}
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            out.append(escapes.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def read_po(path):
    """The entries of a PO file: dicts with msgctxt, msgid, msgid_plural,
    msgstr (a list: one per plural form), flags and obsolete."""
    entries = []
    entry = None
    field = None

    def finish():
        if entry is not None and 'msgid' in entry:
            entries.append(entry)

    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = raw.rstrip('\n')
            obsolete = line.startswith('#~')
            if obsolete:
                line = line[2:].lstrip()
            if not line.strip():
                continue
            if line.startswith('#'):
                if entry is not None and 'msgid' in entry:
                    finish()
                    entry = None
                if entry is None:
                    entry = {'flags': set(), 'msgstr': {}, 'obsolete': False}
                if line.startswith('#,'):
                    entry['flags'].update(x.strip() for x in line[2:].split(','))
                continue
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$', line)
            if m:
                key = m.group(1)
                if key in ('msgctxt', 'msgid') and entry is not None and 'msgid' in entry:
                    finish()
                    entry = None
                if entry is None:
                    entry = {'flags': set(), 'msgstr': {}, 'obsolete': False}
                entry['obsolete'] = entry['obsolete'] or obsolete
                if key.startswith('msgstr'):
                    field = ('msgstr', int(m.group(2) or 0))
                    entry['msgstr'][field[1]] = unquote(m.group(3))
                else:
                    field = (key, None)
                    entry[key] = unquote(m.group(3))
                continue
            m = re.match(r'"(.*)"\s*$', line)
            if m and entry is not None and field is not None:
                if field[0] == 'msgstr':
                    entry['msgstr'][field[1]] += unquote(m.group(1))
                else:
                    entry[field[0]] += unquote(m.group(1))
                continue
            raise SystemExit(f'{path}: cannot read line: {raw!r}')
    finish()
    return entries


def linguas(srcdir):
    langs = []
    with open(os.path.join(srcdir, 'po', 'LINGUAS'), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0]
            langs += line.split()
    return langs


def potfiles(srcdir):
    with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.startswith('#')]


def short(text, n=100):
    text = text.replace('\n', '\\n')
    return text if len(text) <= n else text[:n - 1] + '…'


# --- complete ---------------------------------------------------------------

def check_complete(srcdir):
    problems = []
    listed = potfiles(srcdir)

    for path in listed:
        if not os.path.exists(os.path.join(srcdir, path)):
            problems.append(f'po/POTFILES.in: {path} does not exist')
    for folder in SOURCE_DIRS:
        for root, _dirs, files in os.walk(os.path.join(srcdir, folder)):
            for name in sorted(files):
                if not name.endswith(('.c', '.h')):
                    continue
                path = os.path.relpath(os.path.join(root, name), srcdir)
                with open(os.path.join(srcdir, path), encoding='utf-8', errors='replace') as f:
                    if MARK.search(f.read()) and path not in listed:
                        problems.append(f'po/POTFILES.in: {path} has translatable messages but is not listed')
    if problems:
        fail(problems)

    with tempfile.TemporaryDirectory(prefix='hostdevd-po-') as tmp:
        pot = os.path.join(tmp, 'hostdevd.pot')
        subprocess.run(['xgettext', '--package-name=hostdevd', '-f', os.path.join(srcdir, 'po', 'POTFILES.in'),
                        '-D', srcdir, '-k_', '-o', pot] + XGETTEXT_GLIB, check=True)
        n_messages = len([e for e in read_po(pot) if e['msgid'] != ''])
        for lang in linguas(srcdir):
            po = os.path.join(srcdir, 'po', lang + '.po')
            if not os.path.exists(po):
                problems.append(f'po/{lang}.po: missing (po/LINGUAS lists {lang})')
                continue
            check = subprocess.run(['msgfmt', '-c', '-o', '/dev/null', po], capture_output=True, text=True)
            if check.returncode != 0:
                problems.append(f'po/{lang}.po: msgfmt -c rejects it:\n{check.stderr.rstrip()}')
            merged = os.path.join(tmp, lang + '.po')
            subprocess.run(['msgmerge', '--quiet', '-o', merged, po, pot], check=True)
            for e in read_po(merged):
                if e['obsolete'] or e['msgid'] == '':
                    continue
                if 'fuzzy' in e['flags']:
                    problems.append(f'po/{lang}.po: fuzzy (the message changed): "{short(e["msgid"])}"')
                elif not e['msgstr'] or any(s == '' for s in e['msgstr'].values()):
                    problems.append(f'po/{lang}.po: untranslated: "{short(e["msgid"])}"')
    if problems:
        problems.append('Translate these in po/*.po (then run `ninja -C build hostdevd-pot hostdevd-update-po` '
                        'and check with `msgfmt -c --statistics po/LANG.po`).')
        fail(problems)
    print(f'{n_messages} messages, all translated in {" ".join(linguas(srcdir))}')


# --- literal ----------------------------------------------------------------

C_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.S)


def check_literal(srcdir):
    problems = []
    for path in potfiles(srcdir):
        if not path.endswith(('.c', '.h')):
            continue
        with open(os.path.join(srcdir, path), encoding='utf-8', errors='replace') as f:
            text = f.read()
        for m in MARK.finditer(text):
            # The arguments that are text: _ and N_ one, ngettext two, C_ two.
            n_texts = 2 if m.group(0).startswith(('ngettext', 'g_dngettext', 'C_', 'NC_')) else 1
            if m.group(0).startswith('g_dngettext'):
                continue   # the domain comes first; not used here
            pos = m.end() - 1
            for k in range(n_texts):
                literals = 0
                while True:
                    t = C_TOKEN.match(text, pos)
                    if t is None:
                        break
                    if t.group(0).startswith('"'):
                        literals += 1
                    pos = t.end()
                following = text[pos:pos + 1]
                if literals == 0 or following not in (')', ','):
                    line = text.count('\n', 0, m.start()) + 1
                    snippet = text[m.start():pos + 30].split('\n')[0]
                    problems.append(f'{path}:{line}: the text is not string literals only, '
                                    f'so the catalog can never match it: {snippet}')
                    break
                pos += 1
    if problems:
        problems.append('Write such a text as one literal (with %s and a printf at run time, or the '
                        'value spelled out), so that xgettext extracts what the program looks up.')
        fail(problems)
    print('every marked text is made of string literals')


# --- lang -------------------------------------------------------------------

def format_regex(text):
    """A regex for @text printed by printf: each directive matches anything."""
    parts = re.split(r'%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp]', text)
    return '.*?'.join(re.escape(p.replace('%%', '%')) for p in parts)


def locale_env(locale, locpath):
    """An environment for @locale, compiling the locale into @locpath if
    this system lacks it; None when that cannot be done."""
    have = subprocess.run(['locale', '-a'], capture_output=True, text=True).stdout.split()
    norm = locale.lower().replace('utf-8', 'utf8')
    env = {}
    if norm not in (h.lower() for h in have):
        lang, charset = locale.split('.')
        out = os.path.join(locpath, locale)
        if not os.path.isdir(out):
            r = subprocess.run(['localedef', '-i', lang, '-f', charset, out], capture_output=True, text=True)
            # localedef warns (status 1) about some locale sources but still
            # writes a usable locale; only a missing one is a failure.
            if not os.path.isdir(out):
                print(f'# cannot compile the locale {locale}: {r.stderr.strip()}')
                return None
        env['LOCPATH'] = locpath
    env['LANG'] = locale
    return env


def check_lang(srcdir, podir, hostdevd, hostdevctl):
    if shutil.which('localedef') is None and shutil.which('locale') is None:
        print('# SKIP: no locale or localedef')
        sys.exit(SKIP)
    base = {k: v for k, v in os.environ.items()
            if not (k.startswith('LC_') or k in ('LANG', 'LANGUAGE', 'LOCPATH'))}
    base['HOSTDEVD_LOCALEDIR'] = podir
    # hostdevctl's error when the bus cannot be reached at all.
    base['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent/hostdevd-test-bus'
    base['NO_COLOR'] = '1'

    # message id -> where it must show: (program, arguments, stream)
    cases = [
        ('Manage PCI device assignment to virtual machines.', hostdevd, ['--help'], 'stdout', 0),
        ('Print the version and exit', hostdevd, ['--help'], 'stdout', 0),
        ('Manage the assignment of PCI devices to virtual machines, through hostdevd.', hostdevctl, ['--help'], 'stdout', 0),
        ('Give a device to a stub driver for a virtual machine', hostdevctl, ['detach', '--help'], 'stdout', 0),
        ('Cannot connect to the system bus: %s', hostdevctl, ['list'], 'stderr', 8),
        ("Unknown command '%s'", hostdevctl, ['no-such-command'], 'stderr', 2),
    ]
    problems = []
    skipped = []
    with tempfile.TemporaryDirectory(prefix='hostdevd-locale-') as locpath:
        for lang, locale in [('C', 'C'), ('ko', 'ko_KR.UTF-8'), ('de', 'de_DE.UTF-8')]:
            if lang == 'C':
                env = dict(base, LANG='C')
                catalog = {}
            else:
                mo = os.path.join(podir, lang, 'LC_MESSAGES', 'hostdevd.mo')
                if not os.path.exists(mo):
                    problems.append(f'{mo} is not built (is {lang} in po/LINGUAS? reconfigure the build)')
                    continue
                extra = locale_env(locale, locpath)
                if extra is None:
                    skipped.append(locale)
                    continue
                env = dict(base, **extra)
                catalog = {e['msgid']: e['msgstr'].get(0, '') for e in read_po(os.path.join(srcdir, 'po', lang + '.po'))
                           if not e['obsolete'] and 'fuzzy' not in e['flags'] and 'msgctxt' not in e}
            for msgid, program, args, stream, status in cases:
                want = msgid if lang == 'C' else catalog.get(msgid, '')
                if want == '':
                    problems.append(f'po/{lang}.po has no translation of "{msgid}"')
                    continue
                if lang != 'C' and want == msgid:
                    problems.append(f'po/{lang}.po translates "{msgid}" as itself: nothing to check')
                    continue
                r = subprocess.run([program] + args, env=env, capture_output=True, timeout=60)
                out = (r.stdout if stream == 'stdout' else r.stderr).decode('utf-8', errors='replace')
                name = os.path.basename(program)
                what = f'LANG={env["LANG"]} {name} {" ".join(args)}'
                if r.returncode != status:
                    problems.append(f'{what}: exit status {r.returncode}, expected {status}')
                if not re.search(format_regex(want), out):
                    problems.append(f'{what}: {stream} lacks "{short(want)}" (po/{lang}.po for "{short(msgid)}"):\n'
                                    + ''.join(f'    | {l}\n' for l in out.splitlines()[:15]))
                elif lang != 'C' and re.search(format_regex(msgid), out):
                    problems.append(f'{what}: {stream} still has the English "{short(msgid)}"')
                else:
                    print(f'ok: {what}: "{short(want, 60)}"')
    if problems:
        fail(problems)
    if skipped:
        print(f'# SKIP: no locale {", ".join(skipped)} on this system and it cannot be compiled '
              '(install the locales package)')
        sys.exit(SKIP)


def main(argv):
    if len(argv) >= 3 and argv[1] == 'complete':
        check_complete(argv[2])
    elif len(argv) >= 3 and argv[1] == 'literal':
        check_literal(argv[2])
    elif len(argv) >= 6 and argv[1] == 'lang':
        check_lang(argv[2], argv[3], argv[4], argv[5])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
