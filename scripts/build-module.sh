#!/usr/bin/env bash
# Builds ngx_http_parley_module.so against Debian's nginx source (nginx-dev),
# configured exactly like the stock /usr/sbin/nginx so the module loads there.
#
#   scripts/build-module.sh <repo> <build-dir>
#
# The source is copied to <build-dir>/nginx-src once; configure runs again
# only when the addon `config` changed, otherwise make rebuilds incrementally.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 <repo> <build-dir>" >&2
    exit 2
fi

repo=$(realpath "$1")
mkdir -p "$2"
build=$(realpath "$2")
nginx_dist=/usr/share/nginx/src
src=$build/nginx-src
stamp=$src/objs/parley-config.stamp

if [ ! -f "$nginx_dist/conf_flags" ]; then
    echo "$0: $nginx_dist/conf_flags missing: install nginx-dev" >&2
    exit 1
fi

if [ ! -d "$src" ]; then
    cp -a "$nginx_dist" "$src.tmp"
    mv "$src.tmp" "$src"
fi

# defines the bash array NGX_CONF_FLAGS
# shellcheck source=/dev/null
. "$nginx_dist/conf_flags"

# what configure saw: the module's path and its addon file
wanted=$(printf '%s\n' "$repo"; cat "$repo/config")

cd "$src"
if [ ! -f objs/Makefile ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]
then
    ./configure "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$repo"
    printf '%s\n' "$wanted" > "$stamp"
fi

make -f objs/Makefile modules -j2
install -m 0644 objs/ngx_http_parley_module.so \
    "$build/ngx_http_parley_module.so"
