#!/usr/bin/env bash
# macOS: "Adversarial Workbench.app" from packaging/workbench.spec, its smoke test, and a
# compressed disk image with the app and a link to /Applications (drag to install).
# Not built by this project's CI, which runs on Linux: run it on a Mac (Xcode command line
# tools; the venv with the project and its `package` extra: pip install -e ".[package]").
#
#   packaging/macos/make_dmg.sh [PYTHON]   → dist/adversarial-workbench-<version>-macos-<arch>.dmg
#
# For distribution outside your own machines the app must be signed with a Developer ID and
# notarized, or Gatekeeper refuses it:
#   codesign --deep --force --options runtime --sign "Developer ID Application: …" "dist/Adversarial Workbench.app"
#   (then sign the .dmg too) xcrun notarytool submit DMG --wait …; xcrun stapler staple DMG
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-.venv/bin/python}
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' workbench/__init__.py)
app="dist/Adversarial Workbench.app"
dmg="dist/adversarial-workbench-$version-macos-$(uname -m).dmg"

"$python" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/workbench.spec
"$app/Contents/MacOS/workbench" --smoke

staging=$(mktemp -d)
trap 'rm -rf "$staging" build/pyinstaller' EXIT
ditto "$app" "$staging/Adversarial Workbench.app"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Adversarial Workbench" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
hdiutil verify "$dmg"
du -sh "$app" "$dmg"
