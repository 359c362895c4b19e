#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy (versions pinned in go.mod) into
# a cache outside the clone, keyed by the Kubernetes version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/kubeheat/bin/<k8s-version>/{kube-apiserver,etcd}
# and links <repo>/.cache/bin to that directory. A binary that is already there is only checked
# (--version), so a second run returns in well under a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

log() { printf 'testcluster/build: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The single source of truth for versions is go.mod's require block.
mod_version() {
    awk -v mod="$1" '$1 == mod && $2 ~ /^v[0-9]/ { print $2; exit }' "$here/go.mod"
}
k8s_version="$(mod_version k8s.io/kubernetes)"
etcd_version="$(mod_version go.etcd.io/etcd/server/v3)"
[[ -n "$k8s_version" ]] || die "k8s.io/kubernetes not found in $here/go.mod"
[[ -n "$etcd_version" ]] || die "go.etcd.io/etcd/server/v3 not found in $here/go.mod"

out="${XDG_CACHE_HOME:-$HOME/.cache}/kubeheat/bin/$k8s_version"
link="$repo/.cache/bin"

# Prints nothing and succeeds when $1 is a working binary of the expected version.
check_binary() {
    local name="$1" want bin="$out/$1" got
    case "$name" in
        kube-apiserver) want="Kubernetes $k8s_version" ;;
        etcd) want="etcd Version: ${etcd_version#v}" ;;
        *) die "unknown binary $name" ;;
    esac
    [[ -x "$bin" ]] || return 1
    got="$("$bin" --version 2>&1)" || return 1
    grep -qxF "$want" <<<"$got" || { log "$bin reports '${got%%$'\n'*}', want '$want'"; return 1; }
}

missing=()
for name in kube-apiserver etcd; do
    if check_binary "$name"; then
        log "ok: $out/$name ($k8s_version, etcd $etcd_version)"
    else
        missing+=("$name")
    fi
done

if ((${#missing[@]} > 0)); then
    command -v go >/dev/null || die "Go is required to build ${missing[*]}"
    log "building ${missing[*]} (kubernetes $k8s_version, etcd $etcd_version) with $(go env GOVERSION)"
    log "a cold build downloads ~170 MB of modules and compiles for about 5 minutes on 2 cores"
    mkdir -p "$out"
    tmp="$(mktemp -d "$out/.build.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT

    # Stamp the version the way Kubernetes' release build does, so that --version, /version and
    # the compatibility version all report the real release instead of v0.0.0-master.
    minor="${k8s_version#v1.}"
    minor="${minor%%.*}"
    ldflags="-s -w"
    build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        ldflags+=" -X $pkg.gitTreeState=clean"
        ldflags+=" -X $pkg.buildDate=$build_date"
    done

    pkgs=()
    for name in "${missing[@]}"; do pkgs+=("./cmd/$name"); done

    start=$SECONDS
    # Static, stripped, no cgo: the cheapest build that runs anywhere on this kind of machine.
    (cd "$here" && CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" \
        go build -trimpath -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}")
    for name in "${missing[@]}"; do
        mv -f "$tmp/$name" "$out/$name"
        check_binary "$name" || die "freshly built $out/$name fails its version check"
        log "built $out/$name ($(du -h "$out/$name" | cut -f1))"
    done
    log "build took $((SECONDS - start))s"
fi

mkdir -p "$(dirname "$link")"
[[ -L "$link" || ! -e "$link" ]] || die "$link exists and is not a symlink: remove it"
if [[ "$(readlink "$link" 2>/dev/null || true)" != "$out" ]]; then
    ln -sfn "$out" "$link"
    log "linked $link -> $out"
fi
