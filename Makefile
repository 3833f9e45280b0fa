# Two commands: `make` builds the catalogue, `make test` runs the tests. Both set up what they
# need first: the virtualenv with the pinned packages and the Debian packages (fonts, the fast
# font subsetter, PDF tools).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEBS := fonts-noto-cjk fonts-arphic-ukai libharfbuzz-subset0 libgs-common ghostscript poppler-utils qpdf \
        mupdf-tools fonts-noto-core chromium-headless-shell
# Reproducible dates: the time of the last commit.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: all catalogue test clean debs setup isbn proofs proof check watch bench pdfjs photos

all: catalogue

# Another book: `make BOOK=examples/macao-heritage` builds the book whose catalogue/ and images/
# are in that folder, into build/macao-heritage/; `make photos BOOK=…` first puts a generated
# camera-like photo wherever its content names one that has not arrived.
BOOK ?=
BOOK_ARGS := $(if $(BOOK),--catalogue $(BOOK)/catalogue --out build/$(notdir $(BOOK)))

catalogue: setup
	$(PY) -m typeset build --pad $(BOOK_ARGS)

# Never for the catalogue itself: its empty slots wait for the real photos.
photos: setup
	$(if $(BOOK),,$(error make photos needs BOOK=examples/<slug>))
	$(PY) -m typeset.samples $(BOOK)/catalogue

test: setup pdfjs
	$(PY) -m pytest

# pdf.js, the browsers' PDF viewer, as a test client (tests/pdfjs): with npm when node is there;
# the tests that read with it skip when it is not.
PDFJS := tests/pdfjs/node_modules/.package-lock.json
pdfjs:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(PDFJS); \
	else echo "node/npm not found: the pdf.js checks will skip"; fi

$(PDFJS): tests/pdfjs/package-lock.json
	npm ci --prefix tests/pdfjs --no-audit --no-fund --loglevel=error

setup: debs $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Install the Debian packages that are missing: as root with apt-get, otherwise print the command.
debs:
	@missing=""; \
	for package in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages; run:  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf build .pytest_cache

# Set the ISBN and re-stamp the built PDFs without laying the book out again: make isbn ISBN=978-…
isbn: setup
	$(PY) -m typeset isbn --set "$(ISBN)"

# Spreads and a contact sheet of the last build in build/proofs/ (CHANGED=1: only what moved).
proofs: setup
	$(PY) -m typeset proofs $(if $(CHANGED),--changed)

# The preflight report of a fresh build: every error and warning (STRICT=1: errors fail).
check: setup
	$(PY) -m typeset check --pad $(if $(STRICT),--strict) $(BOOK_ARGS)

# Rebuild on every change under catalogue/, images/, templates/ and styles/ (Ctrl-C stops).
watch: setup
	$(PY) -m typeset watch

# The live proof: watch, and show the spreads on http://127.0.0.1:<port>/ (printed on start),
# the changed spread marked after each save (Ctrl-C stops). PORT=8000 for a fixed port.
proof: setup
	$(PY) -m typeset proof $(if $(PORT),--port $(PORT))

# The benchmark (not part of make test): cold and warm builds, 1,000 pages, peak memory.
bench: setup
	$(PY) -m typeset.bench
