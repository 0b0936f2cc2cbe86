#!/usr/bin/env bash
# AFL++ over one of VoiceHub's parsers of outside input, through SharpFuzz:
#
#   tests/VoiceHub.Fuzz/run-afl.sh PARSER [MINUTES]     PARSER: wav gguf whisper intents devices config discovery text
#
# Builds the harness, instruments VoiceHub's assemblies (and YamlDotNet, whose exceptions must not
# leak), and runs afl-fuzz from the seeds in corpus/PARSER for MINUTES (default 10). Findings go to
# $VOICEHUB_CACHE/fuzz/PARSER (crashes/ and hangs/ hold the inputs); the last lines say how many
# executions ran and what was found. A crash is an exception other than the parser's one-line error.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
parser=${1:?usage: run-afl.sh PARSER [MINUTES]}
minutes=${2:-10}
[ -d "$here/corpus/$parser" ] || { echo "run-afl.sh: no corpus for '$parser' (have: $(ls "$here/corpus" | tr '\n' ' '))" >&2; exit 2; }
cache=${VOICEHUB_CACHE:-$HOME/.cache/voicehub}
work=$cache/fuzz
mkdir -p "$work"

if ! command -v afl-fuzz >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "run-afl.sh: afl-fuzz is missing; run: sudo apt-get install -y afl++" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends afl++ >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends afl++ >/dev/null; }
fi

sharpfuzz=$work/tools/sharpfuzz
[ -x "$sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null

bin=$work/bin
rm -rf "$bin"
# Its own build tree: a fuzz run beside a developer build must not share obj/ and bin/.
dotnet publish "$here/VoiceHub.Fuzz.csproj" -c Release -o "$bin" --artifacts-path "$work/artifacts" -nologo -v quiet >/dev/null
for assembly in VoiceHub.Core.dll VoiceHub.Native.dll VoiceHub.App.dll YamlDotNet.dll; do
  "$sharpfuzz" "$bin/$assembly" >"$work/instrument.log" 2>&1 || grep -q "already instrumented" "$work/instrument.log" \
    || { cat "$work/instrument.log" >&2; echo "run-afl.sh: could not instrument $assembly" >&2; exit 1; }
done

out=$work/$parser
rm -rf "$out"
# The .NET runtime is not built with AFL's compiler and forks a few threads: tell afl-fuzz that is expected.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
  afl-fuzz -V $((minutes * 60)) -i "$here/corpus/$parser" -o "$out" -t 10000 -m none -- dotnet "$bin/VoiceHub.Fuzz.dll" "$parser" >"$out.log" 2>&1 || {
    tail -n 30 "$out.log" >&2; echo "run-afl.sh: afl-fuzz failed (log: $out.log)" >&2; exit 1; }

stats=$out/default/fuzzer_stats
value() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$out/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
echo "$parser: $(value execs_done) executions in $(value run_time) s ($(value execs_per_sec)/s), $(value corpus_count) paths, $crashes crashes, $hangs hangs"
[ "$crashes" -eq 0 ] || echo "  crashing inputs: $out/default/crashes"
