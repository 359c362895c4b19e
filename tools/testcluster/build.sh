#!/usr/bin/env bash
# Builds the test cluster's binaries from the Go module proxy into a cache outside the clone,
# keyed by version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/kubeheat/bin/<k8s-version>/{kube-apiserver,kube-controller-manager,etcd}
#   ${XDG_CACHE_HOME:-$HOME/.cache}/kubeheat/bin/helm-<helm-version>/helm
# and makes <repo>/.cache/bin a directory of links to them. A binary that is already there is
# only checked (its version), so a second run returns in well under a second.
#
# Versions: tools/testcluster/go.mod pins Kubernetes (and through it etcd); helm is built from its
# own module, tools/helm/go.mod, because its k8s.io requirements are not Kubernetes' pins.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
helm_mod="$repo/tools/helm"

log() { printf 'testcluster/build: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The single source of truth for versions is each go.mod's require block.
mod_version() {
    awk -v mod="$2" '$1 == mod && $2 ~ /^v[0-9]/ { print $2; exit }' "$1/go.mod"
}
k8s_version="$(mod_version "$here" k8s.io/kubernetes)"
etcd_version="$(mod_version "$here" go.etcd.io/etcd/server/v3)"
helm_version="$(mod_version "$helm_mod" helm.sh/helm/v3)"
helm_client_go="$(mod_version "$helm_mod" k8s.io/client-go)"
[[ -n "$k8s_version" ]] || die "k8s.io/kubernetes not found in $here/go.mod"
[[ -n "$etcd_version" ]] || die "go.etcd.io/etcd/server/v3 not found in $here/go.mod"
[[ -n "$helm_version" ]] || die "helm.sh/helm/v3 not found in $helm_mod/go.mod"
[[ -n "$helm_client_go" ]] || die "k8s.io/client-go not found in $helm_mod/go.mod"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/kubeheat/bin"
k8s_out="$cache/$k8s_version"
helm_out="$cache/helm-$helm_version"
link="$repo/.cache/bin"
K8S_BINARIES=(kube-apiserver kube-controller-manager etcd)
ALL_BINARIES=("${K8S_BINARIES[@]}" helm)

binary_path() {
    case "$1" in
        helm) printf '%s/helm' "$helm_out" ;;
        *) printf '%s/%s' "$k8s_out" "$1" ;;
    esac
}

# Prints nothing and succeeds when $1 is a working binary of the expected version.
check_binary() {
    local name="$1" want bin got
    bin="$(binary_path "$name")"
    [[ -x "$bin" ]] || return 1
    case "$name" in
        kube-apiserver | kube-controller-manager)
            want="Kubernetes $k8s_version"
            got="$("$bin" --version 2>&1)" || return 1
            ;;
        etcd)
            want="etcd Version: ${etcd_version#v}"
            got="$("$bin" --version 2>&1)" || return 1
            ;;
        helm)
            # helm has no --version flag; `helm version` must not read or write the user's
            # helm directories, so point them at nowhere.
            want="$helm_version"
            got="$(HELM_CONFIG_HOME=/nonexistent HELM_CACHE_HOME=/nonexistent \
                HELM_DATA_HOME=/nonexistent "$bin" version --template '{{.Version}}' 2>&1)" ||
                return 1
            ;;
        *) die "unknown binary $name" ;;
    esac
    grep -qxF "$want" <<<"$got" || { log "$bin reports '${got%%$'\n'*}', want '$want'"; return 1; }
}

go_build() { # DIR OUT LDFLAGS PACKAGE...
    local dir="$1" dest="$2" ldflags="$3"
    shift 3
    # Static, stripped, no cgo: the cheapest build that runs anywhere on this kind of machine.
    (cd "$dir" && CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" \
        go build -trimpath -ldflags="$ldflags" -o "$dest/" "$@")
}

tmp_dirs=()
cleanup() { ((${#tmp_dirs[@]} == 0)) || rm -rf "${tmp_dirs[@]}"; }
trap cleanup EXIT

missing_k8s=()
missing_helm=()
for name in "${ALL_BINARIES[@]}"; do
    if check_binary "$name"; then
        log "ok: $(binary_path "$name")"
    elif [[ "$name" == helm ]]; then
        missing_helm+=("$name")
    else
        missing_k8s+=("$name")
    fi
done

if ((${#missing_k8s[@]} + ${#missing_helm[@]} > 0)); then
    command -v go >/dev/null || die "Go is required to build ${missing_k8s[*]} ${missing_helm[*]}"
fi

if ((${#missing_k8s[@]} > 0)); then
    log "building ${missing_k8s[*]} (kubernetes $k8s_version, etcd $etcd_version) with $(go env GOVERSION)"
    log "a cold build downloads modules and compiles for 10 to 25 minutes on 2 cores"
    mkdir -p "$k8s_out"
    tmp="$(mktemp -d "$k8s_out/.build.XXXXXX")"
    tmp_dirs+=("$tmp")

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
    for name in "${missing_k8s[@]}"; do pkgs+=("./cmd/$name"); done
    start=$SECONDS
    go_build "$here" "$tmp" "$ldflags" "${pkgs[@]}"
    for name in "${missing_k8s[@]}"; do
        mv -f "$tmp/$name" "$k8s_out/$name"
        check_binary "$name" || die "freshly built $k8s_out/$name fails its version check"
        log "built $k8s_out/$name ($(du -h "$k8s_out/$name" | cut -f1))"
    done
    log "kubernetes build took $((SECONDS - start))s"
fi

if ((${#missing_helm[@]} > 0)); then
    log "building helm $helm_version (k8s.io/client-go $helm_client_go) with $(go env GOVERSION)"
    log "a cold build downloads modules and compiles for 3 to 7 minutes on 2 cores"
    mkdir -p "$helm_out"
    tmp="$(mktemp -d "$helm_out/.build.XXXXXX")"
    tmp_dirs+=("$tmp")
    # As helm's own Makefile stamps it: the release, and the Kubernetes version that
    # .Capabilities.KubeVersion defaults to (`helm template`) and lint checks deprecations
    # against, taken from the client-go it is built with (v0.34.x -> 1.34).
    k8s_minor="${helm_client_go#v0.}"
    k8s_minor="${k8s_minor%%.*}"
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
    ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
    done
    start=$SECONDS
    go_build "$helm_mod" "$tmp" "$ldflags" helm.sh/helm/v3/cmd/helm
    mv -f "$tmp/helm" "$helm_out/helm"
    check_binary helm || die "freshly built $helm_out/helm fails its version check"
    log "built $helm_out/helm ($(du -h "$helm_out/helm" | cut -f1))"
    log "helm build took $((SECONDS - start))s"
fi

# <repo>/.cache/bin: one link per binary, so that binaries of different cache entries (the
# Kubernetes release, the helm release) sit side by side. Earlier versions of this script made
# .cache/bin itself a link to the Kubernetes directory; that is replaced.
mkdir -p "$(dirname "$link")"
if [[ -L "$link" ]]; then
    new="$(mktemp -d "$link.new.XXXXXX")"
    chmod 755 "$new"
    tmp_dirs+=("$new")
    for name in "${ALL_BINARIES[@]}"; do ln -s "$(binary_path "$name")" "$new/$name"; done
    rm -f "$link"
    mv "$new" "$link"
    log "replaced the link $link with a directory of links"
fi
[[ -d "$link" ]] || { [[ ! -e "$link" ]] && mkdir "$link"; } || die "$link is not a directory: remove it"
for name in "${ALL_BINARIES[@]}"; do
    target="$(binary_path "$name")"
    if [[ "$(readlink "$link/$name" 2>/dev/null || true)" != "$target" ]]; then
        [[ -L "$link/$name" || ! -e "$link/$name" ]] || die "$link/$name is not a link: remove it"
        ln -sfn "$target" "$link/$name.tmp.$$"
        mv -fT "$link/$name.tmp.$$" "$link/$name"
        log "linked $link/$name -> $target"
    fi
done
