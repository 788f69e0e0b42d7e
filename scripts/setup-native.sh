#!/usr/bin/env bash
# Builds the native TensorFlow backend (@tensorflow/tfjs-node) without internet access.
#
# tfjs-node's own install script downloads libtensorflow from storage.googleapis.com, which fails
# on offline machines (npm then drops the optional package). This script instead takes the
# TensorFlow C library and C-API headers from the tensorflow-cpu wheel that `pip download` finds
# in the configured package index/mirror, puts them where tfjs-node's binding.gyp expects them
# (deps/lib, deps/include; the binding's rpath is $ORIGIN/../../deps/lib) and compiles the
# binding with node-pre-gyp. About 20-30 s and 1.1 GB of disk at peak (0.82 GB afterwards).
#
# Usage: scripts/setup-native.sh [--if-available] [--force]
#   --if-available  when a prerequisite is missing (no wheel, no compiler, unsupported platform,
#                   too little disk), print "native backend not set up: <reason>; using wasm" and
#                   exit 0 (CI uses this). Without it such a miss is an error (exit 1).
#                   A build that fails once every prerequisite is present is always an error.
#   --force         rebuild even if a working binding is already installed.
# Environment:
#   FLUXION_TF_WHEEL  path of a tensorflow-cpu wheel to use instead of asking pip.
#   TMPDIR            where the wheel is downloaded (removed afterwards).
set -euo pipefail

readonly TF_WHEEL_VERSION=2.21.0
readonly PKG=@tensorflow/tfjs-node
readonly NEED_MB=1200

if_available=0
force=0
for arg in "$@"; do
  case "$arg" in
    --if-available) if_available=1 ;;
    --force) force=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup-native: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
root=$PWD
pkg_dir=$root/node_modules/$PKG
t_start=$SECONDS

say() { echo "setup-native: $*"; }
# A missing prerequisite: a warning with --if-available, an error otherwise.
unavailable() {
  if [ "$if_available" = 1 ]; then
    say "native backend not set up: $*; using wasm"
    exit 0
  fi
  say "error: native backend not set up: $*" >&2
  exit 1
}
fail() { say "error: $*" >&2; exit 1; }

tmp=''
staging=''
cleanup() {
  [ -n "$tmp" ] && rm -rf "$tmp"
  [ -n "$staging" ] && rm -rf "$staging"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs on Ctrl-C too

# Runs a tiny op on the native backend; prints the libtensorflow version on success.
binding_works() {
  (cd "$root" && TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 node -e "
    const tf = require('$PKG');
    const s = tf.sum(tf.tensor([1, 2, 3])).dataSync()[0];
    if (tf.getBackend() !== 'tensorflow' || s !== 6) process.exit(1);
    console.log(tf.backend().binding.TF_Version);
  " 2>/dev/null)
}

# 1. What the lockfile pins, and whether this machine can use it at all.
want_version=$(node -e "
  const l = require('./package-lock.json');
  const p = (l.packages || {})['node_modules/$PKG'];
  process.stdout.write(p ? p.version : '');
" 2>/dev/null || true)
[ -n "$want_version" ] || unavailable "package-lock.json pins no $PKG"
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || unavailable "the tensorflow-cpu wheel route supports Linux x86_64 only, not $(uname -s)-$(uname -m)"

have_version=$(node -p "try { require('$pkg_dir/package.json').version } catch { '' }" 2>/dev/null || true)
if [ "$force" = 0 ] && [ "$have_version" = "$want_version" ] && tfv=$(binding_works); then
  say "already set up: $PKG $have_version with libtensorflow $tfv (use --force to rebuild)"
  exit 0
fi

# 2. Build tools (node-gyp itself ships with npm).
for tool in python3 g++ make; do
  command -v "$tool" >/dev/null || unavailable "$tool is not installed"
done
python3 -m pip --version >/dev/null 2>&1 || unavailable "pip is not installed for python3"
node_prefix=$(dirname "$(dirname "$(node -p process.execPath)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  # Compile against the local Node headers instead of letting node-gyp download them.
  export npm_config_nodedir=$node_prefix
fi

# 3. The wheel: downloaded into a temporary directory that is removed on exit.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fluxion-native.XXXXXX")
free_mb() { df -Pm "$1" | awk 'NR == 2 { print $4 }'; }
[ "$(free_mb "$tmp")" -ge 300 ] || unavailable "less than 300 MB free in $tmp for the wheel"
[ "$(free_mb "$root/node_modules" 2>/dev/null || free_mb "$root")" -ge 900 ] || unavailable "less than 900 MB free under $root/node_modules"

if [ -n "${FLUXION_TF_WHEEL:-}" ]; then
  [ -f "$FLUXION_TF_WHEEL" ] || unavailable "FLUXION_TF_WHEEL=$FLUXION_TF_WHEEL does not exist"
  wheel=$FLUXION_TF_WHEEL
  say "using $wheel"
else
  say "looking for tensorflow-cpu==$TF_WHEEL_VERSION with pip download (configured indexes and mirrors)"
  # --retries 0: an unreachable default index (offline machine) costs one failed lookup, not five.
  if ! python3 -m pip download --no-deps --only-binary=:all: --retries 0 --timeout 20 \
      --disable-pip-version-check --no-input --progress-bar off -q \
      -d "$tmp" "tensorflow-cpu==$TF_WHEEL_VERSION" >"$tmp/pip.log" 2>&1; then
    reason=$(grep -m1 -E '^ERROR' "$tmp/pip.log" || tail -n1 "$tmp/pip.log")
    unavailable "pip found no tensorflow-cpu==$TF_WHEEL_VERSION wheel (${reason:-no output})"
  fi
  wheel=$(ls "$tmp"/tensorflow_cpu-*.whl 2>/dev/null | head -n1)
  [ -n "$wheel" ] || unavailable "pip downloaded no tensorflow_cpu wheel"
  say "found $(basename "$wheel") ($(du -m "$wheel" | cut -f1) MB) in $((SECONDS - t_start)) s"
fi

# 4. The package itself. `npm ci` drops it when its download-based install script fails, so put
#    it back exactly as package-lock.json pins it, without running that script.
if [ "$have_version" != "$want_version" ]; then
  say "installing $PKG $want_version from package-lock.json without its install script"
  cp package.json "$tmp/package.json.bak"
  cp package-lock.json "$tmp/package-lock.json.bak"
  npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1 \
    || { cat "$tmp/npm.log" >&2; fail "npm install --ignore-scripts failed"; }
  if ! cmp -s package.json "$tmp/package.json.bak" || ! cmp -s package-lock.json "$tmp/package-lock.json.bak"; then
    cp "$tmp/package.json.bak" package.json
    cp "$tmp/package-lock.json.bak" package-lock.json
    fail "npm install changed package.json or package-lock.json (restored them)"
  fi
  have_version=$(node -p "require('$pkg_dir/package.json').version")
  [ "$have_version" = "$want_version" ] || fail "installed $PKG $have_version, expected $want_version"
fi
pre_gyp=$root/node_modules/.bin/node-pre-gyp
[ -x "$pre_gyp" ] || fail "node-pre-gyp (a dependency of $PKG) is missing from node_modules/.bin"

# 5. Libraries and C-API headers into deps/, via a staging directory so an interrupted run never
#    leaves a half-filled deps/ behind.
say "extracting libtensorflow and the C-API headers into $PKG/deps"
t_extract=$SECONDS
staging=$pkg_dir/deps.staging
rm -rf "$staging"
python3 - "$wheel" "$staging" <<'EOF'
import os, shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
libs = ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2')
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/xla/tsl/c/',
           'tensorflow/include/tsl/platform/ctstring', 'tensorflow/include/tensorflow/core/platform/ctstring')
n = 0
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for lib in libs:
        if lib not in names:
            sys.exit(f'{os.path.basename(wheel)} has no {lib}')
    for info in z.infolist():
        name = info.filename
        if name.endswith('/'):
            continue
        if name in libs:
            dest = os.path.join(out, 'lib', os.path.basename(name))
        elif name.startswith(headers) and name.endswith('.h'):
            dest = os.path.join(out, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        n += 1
for h in ('tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h'):
    if not os.path.exists(os.path.join(out, 'include', h)):
        sys.exit(f'{os.path.basename(wheel)} has no include/{h}')
print(f'setup-native: extracted {n} files', end='')
EOF
echo " in $((SECONDS - t_extract)) s"
# The wheel is no longer needed: free its 270 MB before compiling.
rm -rf "$tmp"
tmp=''
ln -s libtensorflow_cc.so.2 "$staging/lib/libtensorflow.so.2"
ln -s libtensorflow_cc.so.2 "$staging/lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$staging/lib/libtensorflow_framework.so"
rm -rf "$pkg_dir/deps"
mv "$staging" "$pkg_dir/deps"
staging=''

# 6. Compile the binding (lib/napi-v<N>/tfjs_binding.node, rpath $ORIGIN/../../deps/lib).
say "compiling the binding with node-pre-gyp (nodedir ${npm_config_nodedir:-node-gyp default})"
t_build=$SECONDS
export JOBS=${JOBS:-max} # node-gyp: one compiler per core (the binding has two sources)
# Linking against the 750 MB libtensorflow_cc takes GNU ld ~14 s and gold ~2.5 s.
if command -v ld.gold >/dev/null; then export LDFLAGS="${LDFLAGS:-} -fuse-ld=gold"; fi
(cd "$pkg_dir" && "$pre_gyp" rebuild --build-from-source --build-latest-napi-version-only) >"$pkg_dir/deps/build.log" 2>&1 \
  || { tail -n 40 "$pkg_dir/deps/build.log" >&2; fail "node-pre-gyp rebuild failed (full log: $pkg_dir/deps/build.log)"; }
say "compiled in $((SECONDS - t_build)) s"

# 7. Check it loads and computes.
tfv=$(binding_works) || fail "the binding was built but does not load; try: node -e \"require('$PKG')\""
say "done in $((SECONDS - t_start)) s: $PKG $have_version with libtensorflow $tfv ($(du -sm "$pkg_dir/deps" | cut -f1) MB in deps/)"
