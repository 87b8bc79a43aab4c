#!/usr/bin/env bash
# Build the one-folder app bundle dist/gcnn-viewer/ (run it as dist/gcnn-viewer/gcnn-viewer).
#
#   python -m pip install -e '.[packaging]'    # once: the project and PyInstaller
#   bash packaging/build.sh                    # CPU build (default)
#   GCNN_VIEWER_CUDA=1 bash packaging/build.sh # with the CUDA torch that is installed
#
# The bundle contains whichever torch is installed; for the default CPU build that must be
# PyTorch's CPU wheel (pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu).
set -euo pipefail
cd "$(dirname "$0")/.."

python - <<'PY'
import os
import sys

try:
    import PyInstaller  # noqa: F401
    import torch
except ImportError as exc:
    sys.exit(f"build.sh: {exc.name} is missing: python -m pip install -e '.[packaging]'")
cuda = torch.version.cuda
if cuda and os.environ.get("GCNN_VIEWER_CUDA") != "1":
    sys.exit(
        f"build.sh: the installed torch {torch.__version__} is a CUDA {cuda} build; for the "
        "default CPU bundle install the CPU wheel (python -m pip install torch==2.13.0 "
        "--index-url https://download.pytorch.org/whl/cpu), or build with CUDA: "
        "GCNN_VIEWER_CUDA=1 bash packaging/build.sh"
    )
print(f"build.sh: torch {torch.__version__} ({'CUDA ' + cuda if cuda else 'CPU'})")
PY

python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/gcnn-viewer.spec

bundle=dist/gcnn-viewer
"$bundle/gcnn-viewer" --version
echo "build.sh: $(du -sh "$bundle" | cut -f1) in $bundle; run $bundle/gcnn-viewer"
