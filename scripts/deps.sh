#!/usr/bin/env bash
# Installs exactly the Debian 12 packages Parley builds, runs and tests with.
# Idempotent: packages already present are left alone and apt is not touched.
set -euo pipefail

packages=(
    # build
    build-essential cmake pkg-config
    # the nginx module: nginx's source (with conf_flags), the stock nginx,
    # jansson (the JSON of widget tokens)
    nginx-dev nginx-core libpcre2-dev zlib1g-dev libjansson-dev
    # engine libraries
    libboost-dev libpq-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev
    libyaml-cpp-dev libspdlog-dev libfmt-dev libhnswlib-dev
    # knowledge: content types (libmagic), HTML (gumbo), PDF (poppler), multipart
    # uploads (GMime), stemming (Snowball); FAISS is the retrieval bench's baseline
    libmagic-dev libgumbo-dev libpoppler-cpp-dev libgmime-3.0-dev libstemmer-dev libfaiss-dev
    # database server for demo and tests
    postgresql-15
    # tests and benchmarks; faketime: nginx checks the widget token vectors
    # at their own time (t/test_edge_widget_vectors.py)
    libgtest-dev libgmock-dev python3 python3-pytest python3-requests
    curl wrk libbenchmark-dev openssl faketime
    # documents the upload tests generate: PDFs with text, encrypted, image-only
    python3-reportlab qpdf img2pdf
    # the engine's style check (engine/.clang-format)
    clang-format
    # the widget's tests in a real browser (t/test_widget_browser.py)
    chromium chromium-driver python3-selenium
)

# axe-core (the accessibility audit of the browser tests) comes from npm: Debian's
# npm only where no node and npm are installed already
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
