#!/usr/bin/env bash
# One lease on the GPU machine: set-up from the carried archive, then the runs of
# tools/analysis_tools/gpu_benchmark.py, most important first, inside a deadline.
set -o pipefail
END=$((SECONDS + ${BUDGET_S:-520}))
export PYTHONUNBUFFERED=1 CEN_MM_EXT=0 TORCHINDUCTOR_COMPILE_THREADS=16
R=/tmp/res; mkdir -p $R /tmp/site && tar -xzf .gpu/site.tar.gz -C /tmp/site || exit 3
export PYTHONPATH=/tmp/site
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv 2>&1 | tee $R/gpu.txt
python3 -c "import sys, torch, numpy; print(sys.version.split()[0], torch.__version__, torch.version.cuda, numpy.__version__, torch.cuda.get_device_name(0))" 2>&1 | tee -a $R/gpu.txt
B=tools/analysis_tools/gpu_benchmark.py
step() {  # step NAME CAP_SECONDS ARGS...: run within min(CAP, time left)
  local name=$1 cap=$2; shift 2
  local left=$((END - SECONDS)); local t=$(( left < cap ? left : cap ))
  if [ $t -lt 20 ]; then echo "## $name: skipped (${left}s left)"; return; fi
  echo "## $name (limit ${t}s)"
  local t0=$SECONDS
  timeout $t python3 $B "$@" $EXTRA --json $R/$name.json 2>&1 | grep -v -E "Warning|warnings.warn" | tee $R/$name.log
  echo "## $name: rc ${PIPESTATUS[0]}, $((SECONDS - t0)) s" | tee -a $R/$name.log
  tar -czf $OUT/results.tar.gz -C $R .  # what is done so far comes back
}
step check 80 --check --phases infer --iters 1 --warmup 0 --size 64
left=$((END - SECONDS)); t=$(( left < 110 ? left : 110 )); echo "## ab (limit ${t}s)"; t0=$SECONDS
timeout $t python3 tools/analysis_tools/gpu_host_patterns_ab.py cuda 480 15 2>&1 | grep -v -E "Warning|warnings.warn|USDT|^ERROR" | tee $R/ab.log
echo "## ab: rc ${PIPESTATUS[0]}, $((SECONDS - t0)) s" | tee -a $R/ab.log; tar -czf $OUT/results.tar.gz -C $R .
step eager 60
step backbone_syncs 30 --backbone-only --iters 3 --warmup 2 --phases train
step m3 45 --streams 3 --config configs/_base_/models/cen_refinenet_r101.py configs/_base_/models/cen_pspnet_r101.py
step amp 50 --amp
echo "## done, $SECONDS s"
echo; echo "# SUMMARY"; cat $R/gpu.txt
for f in check ab eager backbone_syncs m3 amp; do [ -f $R/$f.log ] && { echo "## $f"; grep -E "^\| |^exchange on|^## |^# CEN" $R/$f.log | cut -c1-260; }; done
