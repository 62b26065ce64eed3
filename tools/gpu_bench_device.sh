#!/bin/bash
# Run `ecg-scan bench gpu` once on a bare CUDA machine with no network (how the H200 table in nbs/14b_bench.ipynb was made).
# Prepare on a machine with pip: download the wheels the GPU machine lacks (fastai, fastcore, fastprogress, open_clip_torch,
# peft, wfdb, soundfile and their pure-Python dependencies) into .whl/ with `pip download --no-deps --only-binary=:all:
# --python-version <its python> --platform manylinux2014_x86_64 -d .whl NAME==VERSION`; copy the repository and .whl/ over;
# then: OUT=results bash tools/gpu_bench_device.sh 6   (minutes of budget for the benchmark)
set -o pipefail
mkdir -p ${OUT:-bench_gpu_out}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg
MIN=${1:-6}
t0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl 2>&1 | tail -3 || exit 3
export PYTHONPATH=/tmp/site:$PWD
{ echo "pip install: $(( $(date +%s)-t0 )) s"; nvidia-smi -L; nproc; df -h /dev/shm /tmp | tail -2
  python3 -c "import torch,transformers,peft,open_clip,fastai,accelerate,huggingface_hub,sys; print('python',sys.version.split()[0],'torch',torch.__version__,'cuda',torch.version.cuda,'transformers',transformers.__version__,'peft',peft.__version__,'open_clip',open_clip.__version__,'fastai',fastai.__version__,'accelerate',accelerate.__version__,'hub',huggingface_hub.__version__); import ecg_scan.train, ecg_scan.cli; print('import ecg_scan ok', torch.cuda.get_device_name())"
} 2>&1 | tee ${OUT:-bench_gpu_out}/log.txt || exit 4
echo "command: python3 -m ecg_scan bench gpu --minutes $MIN --out \${OUT:-bench_gpu_out}/bench" | tee -a ${OUT:-bench_gpu_out}/log.txt
python3 -m ecg_scan bench gpu --minutes $MIN --out ${OUT:-bench_gpu_out}/bench 2>&1 | tee -a ${OUT:-bench_gpu_out}/log.txt
echo "exit $? after $(( $(date +%s)-t0 )) s" | tee -a ${OUT:-bench_gpu_out}/log.txt
