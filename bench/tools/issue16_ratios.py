#!/usr/bin/env python3
# Issue 16's ratios of the batch-256 MLP step (bench/tensor/mlp_parallel_bench.cpp), from
# interleaved repetitions: each round runs every binary given once (in turn, base and new
# alternated), with
#   --benchmark_filter=<the impls below> --benchmark_enable_random_interleaving=true
#   --benchmark_repetitions=N --benchmark_min_time=0.2
# and prints per round and binary the median wall time (real_time) of each impl, the load
# average before the run, and the ratios:
#   torch/2t      LibTorch's best thread setting (min of libtorch_1t, libtorch_2t) / ctgrad_2t
#                 (data_parallel::sgd_step, the call README.md shows): target >= 2
#   torch/best2t  the same over the best ctgrad 2-thread impl (min of ctgrad_2t, ctgrad_2t_split,
#                 ctgrad_2t_then)
#   1t/2t         ctgrad_1t / ctgrad_2t: target >= 1.6
#   then/2t       ctgrad_2t_then / ctgrad_2t (the update written in gradient_then vs sgd_step)
# then the median of each ratio over the rounds, per binary. A binary built before the sixteenth
# pass has no ctgrad_2t_then: its ctgrad_2t is what ctgrad_2t_then is now.
#
#   OPENBLAS_NUM_THREADS=1 bench/tools/issue16_ratios.py --rounds 4 --reps 9 \
#       /tmp/base/build/bench/parallel_bench build/bench/parallel_bench
import argparse, json, statistics, subprocess

IMPLS = ['ctgrad_1t', 'ctgrad_2t', 'ctgrad_2t_then', 'ctgrad_2t_split', 'libtorch_1t',
         'libtorch_2t']
CASE = 'mlp_step_256x784x100x10'

ap = argparse.ArgumentParser()
ap.add_argument('binaries', nargs='+')
ap.add_argument('--rounds', type=int, default=4)
ap.add_argument('--reps', type=int, default=9)
ap.add_argument('--min-time', default='0.2')
ap.add_argument('--impls', default='|'.join(IMPLS))
a = ap.parse_args()


def load():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def ratio(x, y):
    return x / y if x and y else None


def fmt(r):
    return f'{r:5.2f}' if r else '    -'


summary = {}
for rnd in range(a.rounds):
    for b in a.binaries:
        before = load()
        out = subprocess.run([b, f'--benchmark_filter={CASE}/({a.impls})$',
                              '--benchmark_enable_random_interleaving=true',
                              f'--benchmark_repetitions={a.reps}',
                              f'--benchmark_min_time={a.min_time}', '--benchmark_format=json'],
                             capture_output=True, text=True, check=True).stdout
        times = {}
        for bm in json.loads(out)['benchmarks']:
            if bm.get('run_type') == 'aggregate' and bm.get('aggregate_name') == 'median':
                f = {'ns': 1e-3, 'us': 1, 'ms': 1e3}[bm['time_unit']]
                times[bm['run_name'].split('/')[-1]] = bm['real_time'] * f
        t = lambda k: times.get(k)
        torch = min([v for v in (t('libtorch_1t'), t('libtorch_2t')) if v] or [0]) or None
        best2 = min([v for v in (t('ctgrad_2t'), t('ctgrad_2t_split'), t('ctgrad_2t_then'))
                     if v] or [0]) or None
        r = {'torch/2t': ratio(torch, t('ctgrad_2t')), 'torch/best2t': ratio(torch, best2),
             '1t/2t': ratio(t('ctgrad_1t'), t('ctgrad_2t')),
             'then/2t': ratio(t('ctgrad_2t_then'), t('ctgrad_2t'))}
        for k, v in r.items():
            if v:
                summary.setdefault((b, k), []).append(v)
        print(f'round {rnd} {b} [load {before}]')
        print('   ' + '  '.join(f'{k} {v:7.0f}' for k, v in sorted(times.items())) + ' (us)')
        print('   ' + '  '.join(f'{k} {fmt(v)}' for k, v in r.items()))
print('medians over the rounds:')
for b in a.binaries:
    print(f'  {b}: ' + '  '.join(
        f'{k} {statistics.median(summary[(b, k)]):.2f} ({min(summary[(b, k)]):.2f}-'
        f'{max(summary[(b, k)]):.2f})'
        for k in ('torch/2t', 'torch/best2t', '1t/2t', 'then/2t') if (b, k) in summary))
