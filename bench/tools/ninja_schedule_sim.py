#!/usr/bin/env python3
"""Replays a build of ninja 1.11 from a ninja log: which edges of meson-test-prereq start when,
and how long the whole takes, on C cores with J jobs (bench/README.md, "Test-suite
organisation, fifteenth pass").

    ninja_schedule_sim.py BUILD_NINJA NINJA_LOG [OBJ_SCALE [LINK_SCALE]]

BUILD_NINJA: the build.ninja to replay (its edges, their inputs, their order); NINJA_LOG: a
.ninja_log whose durations are taken as each edge's work, times 2/3 (the fresh clones run 3 jobs
on 2 cores), times OBJ_SCALE for objects and LINK_SCALE for the rest (to try a change that makes
them cheaper). ninja 1.11 starts the ready edge with the lowest id (build.ninja's order);
running jobs share the cores equally. Prints the span and the idle core-seconds.
"""
import sys, re, heapq
bn, log = sys.argv[1], sys.argv[2]
obj_scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
link_scale = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
dur = {}
for l in open(log):
    if l.startswith('#'): continue
    s, e, _, out, _h = l.rstrip('\n').split('\t')
    dur[out] = (int(e) - int(s)) / 1000
edges = []  # (outs, ins)
prod = {}
text = open(bn).read().replace('$\n', ' ')
for line in text.split('\n'):
    if not line.startswith('build '): continue
    head, _, rest = line[6:].partition(': ')
    outs = head.replace('|', ' ').split()
    parts = rest.split()
    ins = [p for p in parts[1:] if p not in ('|', '||')]
    i = len(edges); edges.append((outs, ins, parts[0]))
    for o in outs: prod[o] = i
# closure of meson-test-prereq
need = set(); stack = [prod['meson-test-prereq']]
while stack:
    i = stack.pop()
    if i in need: continue
    need.add(i)
    for x in edges[i][1]:
        if x in prod: stack.append(prod[x])
deps = {i: {prod[x] for x in edges[i][1] if x in prod} for i in need}
work = {}
missing = 0
for i in need:
    outs, ins, rule = edges[i]
    d = max((dur.get(o, -1) for o in outs), default=-1)
    if d < 0:
        d = 0; missing += (rule not in ('phony', 'CUSTOM_COMMAND'))
    sc = obj_scale if outs[0].endswith('.o') else link_scale
    work[i] = d * 2 / 3 * sc if rule != 'phony' else 0
rdeps = {i: [] for i in need}
for i in need:
    for d in deps[i]: rdeps[d].append(i)
left = {i: len(deps[i]) for i in need}
ready = sorted(i for i in need if left[i] == 0)
running = {}  # i -> remaining work
t = 0.0; idle = 0.0; J = 3; C = 2
import bisect
while ready or running:
    while ready and len(running) < J:
        i = ready.pop(0); running[i] = work[i]
    n = len(running); rate = min(1.0, C / n)
    i_min = min(running, key=lambda k: running[k]); dt = running[i_min] / rate
    idle += (C - min(C, n)) * dt
    t += dt
    done = []
    for k in running:
        running[k] -= dt * rate
        if running[k] <= 1e-9: done.append(k)
    for k in done:
        del running[k]
        for r in rdeps[k]:
            left[r] -= 1
            if left[r] == 0: bisect.insort(ready, r)
print(f'{bn}: {len(need)} edges ({missing} without a logged duration), CPU work {sum(work.values()):.0f} s, span {t:.0f} s, idle core-s {idle:.0f}')
