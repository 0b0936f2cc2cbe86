#!/usr/bin/env bash
# Checks a built image without mounting it: the partition table, each file system, the boot
# partition's files, the service enabled on the root, the settings on the data partition.
#
# usage: image-build/verify-image.sh IMAGE
set -euo pipefail
image=${1:?usage: verify-image.sh IMAGE}
[ -f "$image" ] || { echo "verify-image.sh: $image: no such image" >&2; exit 2; }
work=$(mktemp -d /tmp/voicehub-verify.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "verify-image.sh: FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/image-build/lib.sh"
ensure_tools sfdisk mtype debugfs file

# sfdisk's dump: "IMAGE1 : start= 2048, size= 524288, type=..., uuid=..., name="vh-boot""
table=$(sfdisk -d "$image" 2>/dev/null) || fail "$image has no partition table"
field() { echo "$table" | grep "^$image$1 " | sed -n "s/.*$2= *\([^,]*\).*/\1/p" | tr -d '"'; }
echo "$table" | grep -q "^label: gpt" || fail "not a GPT disk"
names="$(field 1 name) $(field 2 name) $(field 3 name)"
[ "$names" = "vh-boot vh-root vh-data" ] || fail "partitions are '$names'"
ok "GPT with partitions: $names"

extract() { # extract NUMBER FILE   (prints the partition's first sector)
  dd if="$image" of="$2" bs=512 skip="$(field "$1" start)" count="$(field "$1" size)" conv=sparse status=none
  field "$1" start
}

boot_start=$(extract 1 "$work/boot.img")
file -s "$work/boot.img" | grep -q "FAT (32 bit)" || fail "p1 is not FAT32"
has() { mdir -i "$work/boot.img" "::$1" >/dev/null 2>&1; }
if has kernel8.img; then
  # The Raspberry Pi image: the GPU firmware, the Pi 4's device tree, config.txt and cmdline.txt.
  for f in voicehub.yaml start4.elf fixup4.dat bcm2711-rpi-4-b.dtb config.txt cmdline.txt kernel8.img initrd.img; do
    has "$f" || fail "boot partition lacks $f"
  done
  mtype -i "$work/boot.img" ::config.txt | grep -q "^arm_64bit=1" || fail "config.txt does not boot the 64-bit kernel"
  mtype -i "$work/boot.img" ::cmdline.txt | grep -q "root=PARTLABEL=vh-root ro" || fail "cmdline.txt does not mount the root read-only"
  what="Raspberry Pi firmware, device trees, kernel8.img, initrd"
else
  for f in voicehub.yaml EFI/BOOT/BOOTX64.EFI loader/entries/voicehub.conf vmlinuz initrd.img; do
    has "$f" || fail "boot partition lacks $f"
  done
  mtype -i "$work/boot.img" ::loader/entries/voicehub.conf | grep -q "root=PARTLABEL=vh-root ro" || fail "the boot entry does not mount the root read-only"
  what="systemd-boot, kernel, initrd"
fi
mtype -i "$work/boot.img" ::voicehub.yaml | grep -q "^mqtt:" || fail "voicehub.yaml has no mqtt section"
ok "p1 FAT32 (at sector $boot_start): $what, voicehub.yaml"

extract 2 "$work/root.img" >/dev/null
dumpe2fs -h "$work/root.img" 2>/dev/null | grep -q "Filesystem volume name:   vh-root" || fail "p2 is not the ext4 vh-root"
in_root_fs() { debugfs -R "$1" "$work/root.img" 2>/dev/null; }
in_root_fs "stat /etc/systemd/system/multi-user.target.wants/voicehub.service" | grep -q "Type: symlink" || fail "voicehub.service is not enabled"
in_root_fs "stat /etc/systemd/system/multi-user.target.wants/voicehub-firstboot.service" | grep -q "Type: symlink" || fail "the first-boot unit is not enabled"
in_root_fs "cat /etc/fstab" | grep -qE "^PARTLABEL=vh-root +/ +ext4 +ro" || fail "fstab does not mount / read-only"
in_root_fs "cat /etc/fstab" | grep -qE "^PARTLABEL=vh-data +/var/lib/voicehub" || fail "fstab does not mount the data partition"
in_root_fs "stat /usr/lib/voicehub/VoiceHub.App" | grep -q "Type: regular" || fail "no /usr/lib/voicehub/VoiceHub.App"
in_root_fs "cat /var/lib/dpkg/status" | grep -A1 "^Package: voicehub$" | grep -q "install ok installed" || fail "the voicehub package is not installed"
# The app and the engines it loads are built for the image's machine.
expected="x86-64"; has kernel8.img && expected="ARM aarch64"
for f in /usr/lib/voicehub/VoiceHub.App "$(in_root_fs "ls -p /usr/lib/voicehub" | grep -o 'libwhisper.so' | head -n 1 | sed 's:^:/usr/lib/voicehub/:')"; do
  [ "$f" = /usr/lib/voicehub/ ] && continue
  debugfs -R "dump $f $work/binary" "$work/root.img" 2>/dev/null
  file -b "$work/binary" | grep -q "$expected" || fail "$f is not built for $expected ($(file -b "$work/binary" | cut -c1-60))"
done
ok "p2 ext4 vh-root: voicehub installed ($expected), voicehub.service and first boot enabled, / read-only in fstab"

extract 3 "$work/data.img" >/dev/null
dumpe2fs -h "$work/data.img" 2>/dev/null | grep -q "Filesystem volume name:   vh-data" || fail "p3 is not the ext4 vh-data"
debugfs -R "cat /config/config.yaml" "$work/data.img" 2>/dev/null | grep -q "^mqtt:" || fail "no config/config.yaml on the data partition"
debugfs -R "stat /models" "$work/data.img" 2>/dev/null | grep -q "Type: directory" || fail "no models/ on the data partition"
ok "p3 ext4 vh-data: config/config.yaml, models/"
echo "verify-image.sh: PASS ($(basename "$image"))"
