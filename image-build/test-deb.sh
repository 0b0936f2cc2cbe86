#!/usr/bin/env bash
# Installs the voicehub .deb into a fresh Debian bookworm root made with debootstrap (no container),
# checks what the install did, runs the installed app, then removes and purges it and checks that
# nothing is left. Needs root (chroot) and Debian's archive.
#
# usage: image-build/test-deb.sh [DEB]    (default: builds one with build-deb.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "test-deb.sh: needs root (debootstrap and chroot)" >&2; exit 2; }
deb=${1:-$("$root/image-build/build-deb.sh")}
. "$root/image-build/lib.sh"
ensure_tools debootstrap

base=$(bookworm_base amd64 "$(image_packages amd64)")   # the image's system, cached; no voicehub yet
target=$(mktemp -d /tmp/voicehub-deb-test.XXXXXX)
cleanup() { umount -l "$target/proc" 2>/dev/null || true; rm -rf "$target"; }
trap cleanup EXIT
tar -xpf "$base" -C "$target"
mount -t proc proc "$target/proc"
rm -f "$target/etc/resolv.conf" && cp /etc/resolv.conf "$target/etc/resolv.conf"
cp "$deb" "$target/tmp/voicehub.deb"
in_root() { chroot "$target" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root "$@"; }
fail() { echo "test-deb.sh: FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

started=$(date +%s)
in_root apt-get update -qq >/dev/null
in_root apt-get install -y -qq --no-install-recommends /tmp/voicehub.deb >/tmp/voicehub-deb-install.log 2>&1 \
  || { tail -n 20 /tmp/voicehub-deb-install.log >&2; fail "apt-get install ./voicehub.deb"; }
ok "installed with its dependencies in $(( $(date +%s) - started )) s"

[ "$(in_root dpkg-query -W -f '${Status}' voicehub)" = "install ok installed" ] || fail "dpkg status"
in_root getent passwd voicehub >/dev/null || fail "no voicehub user"
groups=$(in_root id -nG voicehub)
for g in audio gpio; do [[ " $groups " == *" $g "* ]] || fail "voicehub is not in group $g ($groups)"; done
ok "user voicehub in groups: $groups"
[ -L "$target/etc/systemd/system/multi-user.target.wants/voicehub.service" ] || fail "voicehub.service is not enabled"
ok "voicehub.service enabled"
[ -f "$target/etc/voicehub/config.yaml" ] || fail "no /etc/voicehub/config.yaml"
[ "$(in_root stat -c %U /var/lib/voicehub)" = voicehub ] || fail "/var/lib/voicehub is not voicehub's"
ok "config in /etc/voicehub, state in /var/lib/voicehub"
in_root voicehub doctor --config /etc/voicehub/config.yaml >/tmp/voicehub-deb-doctor.txt 2>&1 || true
grep -q "^OK    whisper engine" /tmp/voicehub-deb-doctor.txt || { cat /tmp/voicehub-deb-doctor.txt >&2; fail "the installed app does not find its whisper engine"; }
grep -q "^OK    llama engine" /tmp/voicehub-deb-doctor.txt || { cat /tmp/voicehub-deb-doctor.txt >&2; fail "the installed app does not find its llama engine"; }
ok "the installed voicehub doctor finds both engines"
in_root voicehub parse "turn on the kitchen light" --devices /usr/lib/voicehub/demo/devices.yaml >/tmp/voicehub-deb-parse.txt 2>&1 \
  || { cat /tmp/voicehub-deb-parse.txt >&2; fail "voicehub parse"; }
grep -q HassTurnOn /tmp/voicehub-deb-parse.txt || fail "parse did not find HassTurnOn"
ok "the installed voicehub parses a command"

in_root apt-get remove -y -qq voicehub >/dev/null 2>&1 || fail "apt-get remove"
[ ! -e "$target/usr/lib/voicehub" ] || fail "/usr/lib/voicehub left after remove"
[ ! -L "$target/etc/systemd/system/multi-user.target.wants/voicehub.service" ] || fail "the unit is still enabled after remove"
[ -f "$target/etc/voicehub/config.yaml" ] || fail "remove deleted the config (only purge may)"
ok "removed: program and unit gone, config kept"
in_root apt-get purge -y -qq voicehub >/dev/null 2>&1 || fail "apt-get purge"
[ ! -e "$target/etc/voicehub" ] && [ ! -e "$target/var/lib/voicehub" ] || fail "purge left /etc/voicehub or /var/lib/voicehub"
[ "$(in_root dpkg-query -W -f '${Status}' voicehub 2>/dev/null || true)" != "install ok installed" ] || fail "still installed"
ok "purged: nothing left but the voicehub user"
echo "test-deb.sh: PASS ($(basename "$deb"), $(du -h "$deb" | cut -f1))"
