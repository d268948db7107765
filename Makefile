# Adversarial Workbench — developer entry points.
#   make run     start the desktop application
#   make test    the whole default test suite (what CI runs)
#   make zoo     retrain the built-in models (needs Debian's dataset-fashion-mnist)
#   make bench   benchmarks (pytest -m bench)
#   make package the Linux desktop bundle and .deb, installed and smoke-tested
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# System libraries that Qt needs to run offscreen / under Xvfb.
SYSTEM_PACKAGES := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core \
	libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 \
	libxcb-randr0 libxcb-xfixes0 libxcb-sync1 libxcb-xinerama0 libxcb-cursor0 xvfb xauth dataset-fashion-mnist
FASHION_MNIST := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
# Tools that `make package` needs too: readelf, desktop-file-validate, zstd, the screenshot tools,
# and the Wayland client libraries that the bundle's Qt links (to compute the .deb's Depends).
PACKAGING_PACKAGES := binutils desktop-file-utils zstd imagemagick xdotool libwayland-cursor0 libwayland-egl1
PACKAGE_STAMP := $(VENV)/.installed-package

.PHONY: run test zoo bench screenshots package system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $(STAMP)

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends $$missing; \
	  else echo "Missing system packages:$$missing (install them with apt-get)"; fi; \
	fi

run: $(STAMP)
	$(BIN)/workbench

test: $(STAMP) system-packages
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

$(FASHION_MNIST):
	apt-get install -y dataset-fashion-mnist

zoo: $(STAMP) $(FASHION_MNIST)
	$(BIN)/workbench zoo train fashion-cnn
	$(BIN)/workbench zoo train signs-cnn
	$(BIN)/workbench zoo train faces-cnn
	$(BIN)/workbench zoo samples

bench: $(STAMP) $(FASHION_MNIST)
	$(BIN)/python -m pytest -q -m bench -s tests/bench

# Renders the window mid-attack and in presentation mode into docs/screenshots/*.png, under a
# virtual X display (xvfb-run) when there is one, else with Qt's offscreen platform.
screenshots: $(STAMP) system-packages
	@if command -v xvfb-run >/dev/null 2>&1; then \
	  xvfb-run -a -s "-screen 0 1920x1200x24" $(BIN)/python packaging/screenshots.py --out docs/screenshots; \
	else \
	  QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshots.py --out docs/screenshots; \
	fi

# The Linux bundle and .deb, installed and smoke-tested; the .deb stays in dist/ (README:
# "Desktop installers"). Not part of `make test`.
$(PACKAGE_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/pip install --quiet -e ".[package]"
	touch $(PACKAGE_STAMP)

package: SYSTEM_PACKAGES += $(PACKAGING_PACKAGES)
package: $(STAMP) $(PACKAGE_STAMP) system-packages
	packaging/linux/package.sh $(BIN)/python

clean:
	rm -rf $(VENV) build dist
