#!/usr/bin/env python3
# Runs Google Benchmark binaries in turn (one repetition each, `reps` rounds) and prints, per
# case and binary, the minimum and median CPU time and the GFLOPS counter's maximum and median:
# for comparing two builds in the same minutes on a loaded machine (bench/README.md, "Conv
# forward fused with pooling").
#
#   bench/tools/alternate_runs.py 'relu_pool_forward|lenet_step_64/ctgrad$' 5 base/lenet_bench new/lenet_bench
import json,subprocess,sys,statistics
flt=sys.argv[1]; reps=int(sys.argv[2]); bins=sys.argv[3:]
res={}
for r in range(reps):
    for b in bins:
        out=subprocess.run([b,'--benchmark_filter='+flt,'--benchmark_format=json','--benchmark_repetitions=1'],capture_output=True,text=True).stdout
        for bm in json.loads(out)['benchmarks']:
            key=(b,bm['name'])
            t=bm['cpu_time']; unit=bm['time_unit']
            f={'ns':1,'us':1e3,'ms':1e6}[unit]
            g=bm.get('GFLOPS') or bm.get('GFLOP/s')
            res.setdefault(key,[]).append((t*f, g))
names=sorted(set(k[1] for k in res))
for n in names:
    for b in bins:
        v=res.get((b,n))
        if not v: continue
        ts=[x[0] for x in v]; gs=[x[1] for x in v if x[1]]
        print(f"{n:45s} {b:16s} min {min(ts)/1e3:9.1f} us  med {statistics.median(ts)/1e3:9.1f} us  GF max {max(gs)/1e9 if gs else 0:7.1f} med {statistics.median(gs)/1e9 if gs else 0:7.1f}")
