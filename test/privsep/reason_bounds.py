#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""reason_bounds.py PRIVHELPER_DIR PROTO_DIR: every reason the helper can put in an
ERROR reply (nbh_fail, nbh_fail_errno, and the validator's BAD() text that
"bad request: %s" quotes) fits NBP_TEXT_LEN with its NUL, whatever its
arguments: each conversion is bounded by its type, its precision, or, for a
%s, by the table below (where each argument's longest value comes from).
An argument the table does not know fails the check: give it a bound."""
import ctypes, os, re, sys

text = {f: open(os.path.join(src, f)).read()
        for src in sys.argv[1:] for f in os.listdir(src) if f.endswith(('.c', '.h'))}
defines = {}
for body in text.values():
    for name, val in re.findall(r'#define (\w+)[ \t]+((?:[^\n]*\\\n)*[^\n]*)', body):
        defines[name] = re.sub(r'/\*.*?\*/', '', val.replace('\\\n', ' ')).strip()

def literal_len(expr):
    """Length of a string literal (concatenated), a macro of one, or None."""
    expr = defines.get(expr.strip(), expr).strip()
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', expr)
    if not parts or re.sub(r'"((?:[^"\\]|\\.)*)"', '', expr).strip():
        return None
    return len(bytes(''.join(parts), 'ascii').decode('unicode_escape'))

def num(name):
    return int(eval(re.sub(r'\w+', lambda m: defines.get(m.group(0), m.group(0)), name)))

strerror_max = max(len(os.strerror(e)) for e in range(0, 256))
libnl = ctypes.CDLL('libnl-3.so.200')
libnl.nl_geterror.restype = ctypes.c_char_p
nl_max = max(len(libnl.nl_geterror(-e)) for e in range(0, 256))

BDF = num('NBP_BDF_LEN') - 1
# (file or None for any, argument pattern, longest value, why)
TABLE = [
    (None, r'(.*(->|\.))?bdf', BDF, 'PCI addresses: char[NBP_BDF_LEN]'),
    (None, r'.*ifname', num('NBH_IFNAME_LEN') - 1, 'char[NBH_IFNAME_LEN]'),
    (None, r'.*policy->file', 255, 'struct nbh_policy.file[256]'),
    (None, r'strerror\(.*\)', strerror_max, 'longest strerror() text'),
    (None, r'nl_geterror\(.*\)', nl_max, "longest nl_geterror() text"),
    (None, r'rtnl_link_get_name\(.*\)', num('NBH_IFNAME_LEN') - 1, 'an interface name'),
    ('bind.c:nbh_nic_resolve', r'name', num('NBP_DEVNAME_LEN') - 1, "the CLAIM's device field"),
    ('bind.c:sysfs_write', r'text', 63, 'orig_override[64], "vfio-pci" or a bdf'),
    ('bind.c', r'path', 21 + 63 + 7, 'longest path bind.c writes: /sys/bus/pci/drivers/<driver[64]>/unbind'),
    ('bind.c', r'holder', 39 + 30, 'holder record: "quarantined, fd kept by the session of " uid= pid='),
    ('bind.c', r'members', 127, 'members[128]'),
    ('bind.c', r'why', 127, 'why[128]'),
    ('bind.c', r'drv', 63, 'drv[64]'),
    ('iommu.c', r'path', len('/dev/vfio/4294967295'), '"/dev/vfio/%u"'),
]

def bound_of(fname, func, arg, bad_max):
    n = literal_len(arg)
    cond = re.match(r'^.*\?\s*(".*")\s*:\s*(".*")$', arg.strip())
    if n is not None:
        return n
    if cond:
        return max(literal_len(cond.group(1)), literal_len(cond.group(2)))
    if fname == 'session.c' and arg.strip() == 'why':
        return bad_max
    for f, pat, val, _ in TABLE:
        if f in (None, fname, fname + ':' + func) and re.fullmatch(pat, arg.strip()):
            return val
    return None

def calls(body, name):
    for m in re.finditer(r'\b%s\(' % name, body):
        i, depth = m.end(), 1
        while depth:
            depth += {'(': 1, ')': -1}.get(body[i], 0)
            i += 1
        inner = body[m.end():i - 1]
        args, depth, cur, q = [], 0, '', False
        for k, c in enumerate(inner):
            if c == '"' and inner[k - 1] != '\\':
                q = not q
            if not q and c in '([':
                depth += 1
            if not q and c in ')]':
                depth -= 1
            if c == ',' and depth == 0 and not q:
                args.append(cur)
                cur = ''
            else:
                cur += c
        args.append(cur)
        func = re.findall(r'^[a-z][\w \*]*?\b(\w+)\(', body[:m.start()], re.M)
        yield body.count('\n', 0, m.start()) + 1, func[-1] if func else '', [a.strip() for a in args]

CONV = re.compile(r'%([-#0 +]*)(\d+)?(?:\.(\d+|\*))?(hh|h|ll|l|z|j|t)?([diouxXcs%])')

def longest(fname, func, line, fmt_args, bad_max, errors):
    fmt = fmt_args[0]
    n_fixed = literal_len(fmt)
    if n_fixed is None:
        errors.append('%s:%d: format is not a literal: %s' % (fname, line, fmt))
        return 0
    fmt = bytes(''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', fmt)), 'ascii').decode('unicode_escape')
    total, args = 0, fmt_args[1:]
    pos = 0
    for m in CONV.finditer(fmt):
        total += m.start() - pos
        pos = m.end()
        flags, width, prec, size, conv = m.groups()
        if conv == '%':
            total += 1
            continue
        arg = args.pop(0) if args else ''
        if conv == 's':
            b = int(prec) if prec else bound_of(fname, func, arg, bad_max)
            if b is None:
                errors.append('%s:%d: no bound known for %%s argument "%s"' % (fname, line, arg))
                b = 0
        else:
            b = 20 if size in ('ll', 'l', 'z', 'j') else 11 if conv in 'di' else 10 if conv in 'ou' else 8
            if conv == 'c':
                b = 1
        total += max(b, int(width or 0))
    return total + len(fmt) - pos

errors, bad_max, worst = [], 0, (0, '')
for fname, body in sorted(text.items()):      # proto.c's BAD() first: session.c quotes it
    for line, func, args in calls(body, 'BAD'):
        if args[0] != 'err':
            bad_max = max(bad_max, longest(fname, func, line, args[1:], 0, errors))
for fname, body in sorted(text.items()):
    for name in ('nbh_fail', 'nbh_fail_errno'):
        for line, func, args in calls(body, name):
            if fname.endswith('.h') or args[-1] == '...':
                continue  # declarations and the definition
            fa = args[1:] if name == 'nbh_fail' else args
            if name == 'nbh_fail_errno':
                fa = [fa[0] + ' ": %s"'] + fa[1:] + ['strerror(errno)']
            n = longest(fname, func, line, fa, bad_max, errors)
            if n > worst[0]:
                worst = (n, '%s:%d' % (fname, line))
cap = num('NBP_TEXT_LEN')
print('longest BAD() reason %d bytes; longest reason %d bytes at %s; strerror %d, nl_geterror %d; NBP_TEXT_LEN %d'
      % (bad_max, worst[0], worst[1], strerror_max, nl_max, cap))
for e in errors:
    print('FAIL:', e)
if worst[0] + 1 > cap:
    print('FAIL: NBP_TEXT_LEN %d cannot hold %d bytes and a NUL' % (cap, worst[0]))
sys.exit(1 if errors or worst[0] + 1 > cap else 0)
