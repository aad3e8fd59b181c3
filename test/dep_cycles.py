#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dep_cycles.py SOURCE_DIR BUILD_DIR: no file of privhelper/, proto/ or core/
depends on itself through others. A file depends on each header it
#includes, and on each file that defines a function or variable it uses
(read with nm from the build's object files, so a declaration in a shared
header such as helper.h hides nothing). Prints every cycle and fails on any;
prints the graph with -v."""
import collections, os, re, subprocess, sys

DIRS = ('privhelper', 'proto', 'core')
INCLUDE_PATH = ('include', 'proto', 'core', 'privhelper')  # what the targets use
verbose = '-v' in sys.argv
src, build = [os.path.abspath(a) for a in sys.argv[1:] if a != '-v']
deps = collections.defaultdict(set)

# Include edges, between our own files.
for d in DIRS:
    for f in sorted(os.listdir(os.path.join(src, d))):
        if not f.endswith(('.c', '.h')):
            continue
        me = d + '/' + f
        for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', open(os.path.join(src, me)).read(), re.M):
            for base in (d,) + INCLUDE_PATH:
                target = os.path.normpath(os.path.join(base, inc))
                if os.path.isfile(os.path.join(src, target)):
                    if target.split('/')[0] in DIRS:
                        deps[me].add(target)
                    break

# Symbol edges: an object's undefined symbols -> the source that defines them.
# CMake puts SRC/x/y.c of a target in directory D at D/CMakeFiles/T.dir/x/y.c.o
# ("__" for "..").
defined, used = {}, collections.defaultdict(set)
for root, _, files in os.walk(build):
    for f in files:
        path = os.path.join(root, f)
        rel = os.path.relpath(path, build)
        m = re.fullmatch(r'(?:(.*)/)?CMakeFiles/[^/]+\.dir/(.*\.c)\.o', rel)
        if not m:
            continue
        source = os.path.normpath(os.path.join(m.group(1) or '', m.group(2).replace('__', '..')))
        if source.split('/')[0] not in DIRS or not os.path.isfile(os.path.join(src, source)):
            continue  # not ours, or an object left behind by a removed source
        out = subprocess.run(['nm', '-P', path], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            name, kind = line.split()[:2]
            if kind == 'U':
                used[source].add(name)
            elif kind in 'TDBRCGS':
                defined[name] = source
if not defined:
    sys.exit('FAIL: no object files of %s under %s: build it first' % (', '.join(DIRS), build))
for source, names in used.items():
    deps[source] |= {defined[n] for n in names if n in defined and defined[n] != source}

if verbose:
    for f in sorted(deps):
        print('%s -> %s' % (f, ' '.join(sorted(deps[f]))))

# Cycles: depth-first search, each one reported once from its smallest file.
cycles, state = set(), {}
def visit(f, path):
    state[f] = 1
    path.append(f)
    for g in sorted(deps.get(f, ())):
        if state.get(g) == 1:
            c = path[path.index(g):]
            i = c.index(min(c))
            cycles.add(tuple(c[i:] + c[:i]))
        elif g not in state:
            visit(g, path)
    path.pop()
    state[f] = 2
for f in sorted(deps):
    if f not in state:
        visit(f, [])
n_files = len(set(deps) | {g for v in deps.values() for g in v})
print('%d files of %s, %d dependencies, %d cycles' %
      (n_files, '/, '.join(DIRS) + '/', sum(map(len, deps.values())), len(cycles)))
for c in sorted(cycles):
    print('FAIL: cycle: ' + ' -> '.join(c + (c[0],)))
sys.exit(1 if cycles else 0)
