#!/usr/bin/env bash
# Install a built .deb, check what it installed and run the smoke test from the installed
# launcher; then take a screenshot of the installed app's window and remove the package.
#
#   packaging/linux/check_deb.sh dist/adversarial-workbench_0.1.0_amd64.deb [SCREENSHOT.png]
#
# As root with apt (and the package not installed before): `apt-get install ./X.deb` (which
# also proves that Depends can be met), `/usr/bin/adversarial-workbench --smoke`, then
# `apt-get remove --purge` and a check that nothing is left in /opt. Otherwise the package is
# unpacked into a throw-away folder with `dpkg-deb -x` and the launcher link's target is run
# there. Under xvfb-run when there is one (the real X11 path: xcb plugin and its libraries),
# else with Qt's offscreen platform. Prints "smoke ok: …" and "screenshot: …" lines.
set -euo pipefail

deb=$(readlink -f "$1")
screenshot=${2:-}
package=$(dpkg-deb --field "$deb" Package)
launcher=/usr/bin/$package
scratch=$(mktemp -d "${TMPDIR:-/tmp}/$package-check.XXXXXX")
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache"

fail() { echo "check_deb: $*" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! dpkg -s "$package" >/dev/null 2>&1; then
  mode=apt
  root=/
  cleanup() {
    apt-get remove --purge -y -qq "$package" >/dev/null || echo "check_deb: could not remove $package" >&2
    [ ! -e "/opt/$package" ] || echo "check_deb: /opt/$package is left after removal" >&2
    rm -rf "$scratch"
  }
  trap cleanup EXIT
  echo "installing $deb with apt-get (removed again at the end)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
  run="$launcher"
  [ "$(command -v "$package")" = "$launcher" ] || fail "$package is not on PATH after installation"
else
  mode=extract
  root="$scratch/root"
  trap 'rm -rf "$scratch"' EXIT
  echo "unpacking $deb into $root (not root, or $package is already installed)"
  dpkg-deb -x "$deb" "$root"
  target=$(readlink "$root$launcher") || fail "$launcher is not a link"
  run="$root$target"
fi
[ -x "$run" ] || fail "the launcher's target $run is not an executable"

# Maintainer scripts: there are none (dpkg triggers refresh the menu and the icon cache).
scripts=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -Ev '^\./$|^\./(control|md5sums)$' || true)
[ -z "$scripts" ] || fail "unexpected maintainer scripts: $scripts"

desktop="$root/usr/share/applications/$package.desktop"
desktop-file-validate "$desktop" || fail "$desktop does not validate"
exec_name=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop")
[ "$exec_name" = "$package" ] || fail "the desktop entry runs '$exec_name', not $package"
for size in 16 24 32 48 64 128 256; do
  [ -f "$root/usr/share/icons/hicolor/${size}x${size}/apps/$package.png" ] || fail "no ${size}x${size} icon"
done
[ -f "$root/usr/share/icons/hicolor/scalable/apps/$package.svg" ] || fail "no scalable icon"
echo "installed ($mode): launcher, desktop entry (valid), hicolor icons 16-256 + scalable"

if command -v xvfb-run >/dev/null; then
  display="under Xvfb"
  line=$(OMP_NUM_THREADS=1 timeout 600 xvfb-run -a -s "-screen 0 1600x1000x24" "$run" --smoke 2>"$scratch/smoke.err") \
    || fail "smoke test under Xvfb failed: ${line:-$(tail -3 "$scratch/smoke.err")}"
else
  display="offscreen"
  line=$(env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 timeout 600 "$run" --smoke \
    2>"$scratch/smoke.err") || fail "smoke test failed: ${line:-$(tail -3 "$scratch/smoke.err")}"
fi
echo "$line (installed launcher, $display)"

# What a person sees: the installed app started as from the menu, its window on a virtual
# screen, photographed from the X server itself.
if [ -n "$screenshot" ] && command -v xvfb-run >/dev/null && command -v xdotool >/dev/null \
    && command -v import >/dev/null; then
  mkdir -p "$(dirname "$screenshot")"
  OMP_NUM_THREADS=1 timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" sh -c '
    "$1" & app=$!
    xdotool search --sync --onlyvisible --name "Adversarial Workbench" >/dev/null
    sleep 3
    import -window root "$2"
    kill $app; wait $app 2>/dev/null || true' sh "$run" "$screenshot" \
    || fail "could not photograph the installed app's window"
  echo "screenshot: $screenshot"
fi
