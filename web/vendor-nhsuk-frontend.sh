#!/usr/bin/env bash
# Vendors the built NHS.UK frontend (CSS, JS, icons) at a pinned version into web/vendor/nhsuk-frontend,
# so that building and running the service never needs npm or the network. Run it again only to move
# to another version (change VERSION and SHA256 together); its output is committed.
#
# Two rewrites make the built files work offline and under /app:
# - the @font-face rules that load Frutiger from https://assets.nhs.uk are dropped (the font is
#   licensed to NHS England and not in the package; the design system's own fallback, Arial, is used);
# - url(/assets/images/...) becomes url(/app/assets/nhsuk/images/...), where the binary serves them.
set -euo pipefail
cd "$(dirname "$0")"
VERSION=10.6.1
SHA256=$(cat vendor/nhsuk-frontend/SHA256 2>/dev/null || true)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "nhsuk-frontend@$VERSION" >/dev/null)
tarball="$work/nhsuk-frontend-$VERSION.tgz"
got=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ -n "$SHA256" ] && [ "$SHA256" != "$got" ]; then
  echo "nhsuk-frontend-$VERSION.tgz has sha256 $got, expected $SHA256" >&2
  exit 1
fi
tar xzf "$tarball" -C "$work"
src="$work/package/dist/nhsuk"
out=vendor/nhsuk-frontend
rm -rf "$out"
mkdir -p "$out/images"
sed -E \
  -e 's#@font-face\{[^}]*assets\.nhs\.uk[^}]*\}##g' \
  -e 's#url\(/assets/images/#url(/app/assets/nhsuk/images/#g' \
  -e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
  "$src/nhsuk-frontend.min.css" >"$out/nhsuk-frontend.min.css"
sed -e 's#//\# sourceMappingURL=.*$##' "$src/nhsuk-frontend.min.js" >"$out/nhsuk-frontend.min.js"
cp "$src"/assets/images/favicon.ico "$src"/assets/images/favicon.svg "$src"/assets/images/nhsuk-icon-*.svg "$out/images/"
if grep -qE 'https?://' "$out/nhsuk-frontend.min.css"; then
  echo "the vendored CSS still names an external address" >&2
  exit 1
fi
echo "$got" >"$out/SHA256"
echo "$VERSION" >"$out/VERSION"
cat >"$out/LICENSE" <<'LICENCE'
nhsuk-frontend (https://github.com/nhsuk/nhsuk-frontend), vendored from the npm package
nhsuk-frontend by web/vendor-nhsuk-frontend.sh; the package declares "license": "MIT" and its README
says: "The codebase is released under the MIT Licence, unless stated otherwise."

The MIT License (MIT)

Copyright (c) 2018 NHS Digital / NHS England

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense,
and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN
NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY,
WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
LICENCE
echo "vendored nhsuk-frontend $VERSION into web/$out"
