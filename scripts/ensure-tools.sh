#!/usr/bin/env bash
# Tools the tests drive as real parts, from Debian's packages: Chromium (browser tests, through
# playwright-core; never a downloaded browser build) and nginx (the load balancer in front of several
# instances), redis-server with redis-cli (the private Redis servers, Sentinel set and Cluster of the fault and
# topology tests, even when REDIS_URL names a server elsewhere), and a Korean font (fonts-nanum) so that screenshots of the Korean pages show Hangul rather
# than empty boxes. Installs whatever is missing in one apt run; fails loudly rather than letting tests skip.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
[ -d /usr/share/fonts/truetype/nanum ] || missing+=(fonts-nanum)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-tools: installing ${missing[*]}" >&2
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
[ -x /usr/bin/chromium ] && [ -x /usr/sbin/nginx ] && command -v redis-cli >/dev/null || { echo "ensure-tools: install failed" >&2; exit 1; }
