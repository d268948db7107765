#!/usr/bin/env bash
# `make package`: the Linux bundle, the .deb, its installation check and the figures.
#
#   packaging/linux/package.sh [PYTHON]     (PYTHON: the environment's, default .venv/bin/python)
#
# 1. PyInstaller bundle from packaging/workbench.spec → dist/adversarial-workbench/
# 2. .deb around it → dist/adversarial-workbench_<version>_<arch>.deb
# 3. packaging/linux/check_deb.sh: install, check, smoke test from the installed launcher,
#    screenshot → dist/adversarial-workbench-installed.png, remove
# 4. report bundle size, .deb size, build time and start-up time; delete the scratch
#    (build/pyinstaller, build/deb and the bundle folder): only the .deb and the screenshot stay
#    (KEEP_BUNDLE=1 keeps dist/adversarial-workbench/ too).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-.venv/bin/python}
bundle=dist/adversarial-workbench

check_log=$(mktemp)
cleanup() {
  rm -rf build/pyinstaller build/deb "$check_log"
  [ -n "${KEEP_BUNDLE:-}" ] || rm -rf "$bundle"
}
trap cleanup EXIT

torch_build=$("$python" -c 'import torch; print(torch.__version__, "CUDA " + torch.version.cuda if torch.version.cuda else "CPU-only")')
echo "== bundle (PyInstaller, torch $torch_build)"
started=$(date +%s)
"$python" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/workbench.spec
bundled=$(date +%s)
bundle_size=$(du -sh "$bundle" | cut -f1)

echo "== Debian package"
deb=$("$python" packaging/linux/build_deb.py "$bundle" --out dist --work build/deb | tail -1)
packaged=$(date +%s)
dpkg-deb --field "$deb" Package Version Architecture Installed-Size Depends

echo "== installation check"
packaging/linux/check_deb.sh "$deb" dist/adversarial-workbench-installed.png | tee "$check_log"
startup=$(sed -n 's/.*window shown \([0-9.]* s\) after start.*/\1/p' "$check_log")

echo "== package summary"
echo "torch:       $torch_build"
echo "bundle:      $bundle_size ($bundle)"
echo "package:     $(du -h "$deb" | cut -f1) ($deb)"
echo "build time:  $((packaged - started)) s (PyInstaller $((bundled - started)) s, .deb $((packaged - bundled)) s)"
echo "start-up:    window shown ${startup:-?} after the installed launcher started"
