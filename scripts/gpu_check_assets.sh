#!/bin/sh
# The files benchmarks/gpu_check.py needs on the device machine, which reaches no network and takes 64 MiB:
# .gpu/whl (wheels for its Python 3.12 that its image lacks), .gpu/smollm2-135m (SmolLM2's config and tokenizer,
# no weights) and .gpu/train.jsonl (ARC training chats of a prepare run). About 54 MB with the repository.
#   sh scripts/gpu_check_assets.sh [PREPARE_RUN]     # default: the main job's split-100 data
# Then, with the device tool: carry [".gpu"] and run
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl \
#     && PYTHONPATH=/tmp/site:$PWD python3 benchmarks/gpu_check.py --assets .gpu --out $OUT
set -e
data="${1:-runs/main/arc-distillation/split-100/data}"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/whl .gpu/smollm2-135m
for wheel in bitsandbytes==0.50.2 trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 \
    pydantic==2.13.0 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2; do
  python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl "$wheel"
done
models="$(python -c 'from arcray.llm.smollm2 import ensure_converted; print(ensure_converted())')"
for f in config.json generation_config.json tokenizer.json tokenizer_config.json special_tokens_map.json chat_template.jinja; do
  [ -f "$models/$f" ] && cp "$models/$f" .gpu/smollm2-135m/
done
cp "$data/train.jsonl" .gpu/train.jsonl
du -sh .gpu
