#!/usr/bin/env bash
# Builds a bootable VoiceHub disk image from Debian bookworm without loop mounts: the root file
# system is made in a directory (debootstrap + the voicehub .deb), packed with `mkfs.ext4 -d`, the
# boot partition with mkfs.vfat + mtools, the partition table with sfdisk, and the three written
# into one file at their offsets.
#
#   p1  FAT32 "VHBOOT"  boot files and voicehub.yaml, the user-editable first-boot settings
#   p2  ext4  "vh-root" the system, mounted read-only
#   p3  ext4  "vh-data" models, configuration and state (/var/lib/voicehub), writable
#
# usage: image-build/build-image.sh [--arch amd64|arm64] [--out DIR] [--deb FILE]
#   amd64: boots with systemd-boot on UEFI (QEMU with OVMF: image-build/boot-qemu.sh)
#   arm64: for the Raspberry Pi 4 (and 3/400/CM4): Debian's raspi-firmware and the Pi device trees
#          of linux-image-arm64 on the boot partition, the root made with debootstrap --foreign and
#          finished under qemu-user-static; boot-qemu.sh --arch arm64 boots it on QEMU's virt machine.
#          RPI_FIRMWARE_DIR (the boot/ folder of github.com/raspberrypi/firmware) overrides the
#          firmware, e.g. for the foundation's overlays/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=amd64
out="$root/artifacts/image"
deb=
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --deb) deb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "build-image.sh: needs root (debootstrap and chroot; no loop mounts)" >&2; exit 2; }
. "$root/image-build/lib.sh"
ensure_tools debootstrap mkfs.ext4 mkfs.vfat mcopy sfdisk

case "$arch" in
  amd64) ;;
  arm64) ensure_binfmt_aarch64 ;;   # apt and the kernel's hooks run arm64 programs in the root
  *) echo "build-image.sh: unknown architecture $arch" >&2; exit 2 ;;
esac

started=$(date +%s)
[ -n "$deb" ] || deb=$("$root/image-build/build-deb.sh" --arch "$arch")
base=$(bookworm_base "$arch" "$(image_packages "$arch")")

work=$(mktemp -d /tmp/voicehub-image.XXXXXX)
rootfs="$work/root"
cleanup() { umount -l "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$rootfs"
tar -xpf "$base" -C "$rootfs"
mount -t proc proc "$rootfs/proc"
rm -f "$rootfs/etc/resolv.conf" && cp /etc/resolv.conf "$rootfs/etc/resolv.conf"   # apt needs DNS while building
cp "$deb" "$rootfs/tmp/voicehub.deb"
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root "$@"; }
in_root apt-get install -y -qq --no-install-recommends /tmp/voicehub.deb systemd-resolved >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; exit 1; }
rm -f "$rootfs/tmp/voicehub.deb"

# The system: read-only root, writable data, first-boot settings from the boot partition.
cat > "$rootfs/etc/fstab" <<'EOF'
PARTLABEL=vh-root  /                  ext4  ro,noatime                 0 1
PARTLABEL=vh-boot  /boot/firmware     vfat  ro,nofail,umask=0022       0 2
PARTLABEL=vh-data  /var/lib/voicehub  ext4  rw,noatime,nofail,x-systemd.growfs  0 2
tmpfs              /var/log           tmpfs mode=0755,size=32m         0 0
tmpfs              /var/tmp           tmpfs mode=1777,size=32m         0 0
tmpfs              /tmp               tmpfs mode=1777,size=64m         0 0
tmpfs              /var/lib/systemd   tmpfs mode=0755,size=8m          0 0
EOF
mkdir -p "$rootfs/boot/firmware"
echo voicehub > "$rootfs/etc/hostname"
# The hub's settings live on the data partition; the first-boot unit writes them from voicehub.yaml.
rm -rf "$rootfs/etc/voicehub"
ln -s /var/lib/voicehub/config "$rootfs/etc/voicehub"
install -m 755 "$root/image-build/rootfs/voicehub-firstboot" "$rootfs/usr/lib/voicehub/voicehub-firstboot"
install -m 644 "$root/image-build/rootfs/voicehub-firstboot.service" "$root/image-build/rootfs/voicehub-console-ready.service" "$rootfs/usr/lib/systemd/system/"
in_root systemctl enable voicehub-firstboot.service voicehub-console-ready.service systemd-networkd.service >/dev/null 2>&1
# wpa_supplicant's D-Bus service has no D-Bus here; the first-boot script starts it per interface.
in_root systemctl disable wpa_supplicant.service >/dev/null 2>&1 || true
# No login on the serial console (root is locked; the appliance has no users): it keeps showing
# service states, which is how boot-qemu.sh sees the hub become ready.
in_root systemctl mask serial-getty@ttyS0.service serial-getty@ttyAMA0.service >/dev/null 2>&1
# No logins, so no login manager (it would want D-Bus, which the appliance does not carry).
in_root systemctl mask systemd-logind.service >/dev/null 2>&1
mkdir -p "$rootfs/etc/systemd/network" "$rootfs/etc/systemd/resolved.conf.d"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\nMulticastDNS=yes\n' > "$rootfs/etc/systemd/network/20-wired.network"
printf '[Match]\nName=wl*\n\n[Network]\nDHCP=yes\nMulticastDNS=yes\n' > "$rootfs/etc/systemd/network/25-wireless.network"
# Names from DHCP's DNS, and homeassistant.local over mDNS, through systemd-resolved (not the build host's resolv.conf).
printf '[Resolve]\nMulticastDNS=yes\n' > "$rootfs/etc/systemd/resolved.conf.d/voicehub.conf"
ln -sf /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
in_root systemctl enable systemd-resolved.service >/dev/null 2>&1
# journald keeps the log in memory (the root is read-only); the console shows service states.
mkdir -p "$rootfs/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' > "$rootfs/etc/systemd/journald.conf.d/voicehub.conf"
in_root passwd -l root >/dev/null
# machine-id is made on first boot (the root is read-only: systemd keeps it in /run).
: > "$rootfs/etc/machine-id"

# The data partition's first contents: the default settings and the models folder.
data="$work/data"
mkdir -p "$data/config" "$data/models"
install -m 644 "$root/systemd/config.yaml" "$data/config/config.yaml"
uid=$(in_root id -u voicehub) gid=$(in_root id -g voicehub)
chown -R "$uid:$gid" "$data"

# The boot partition.
boot="$work/boot"
mkdir -p "$boot"
install -m 644 "$root/image-build/rootfs/voicehub.yaml" "$boot/voicehub.yaml"
kernel=$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -n 1)
initrd=$(ls "$rootfs"/boot/initrd.img-* | sort -V | tail -n 1)
cmdline="root=PARTLABEL=vh-root ro rootwait console=tty0 console=ttyS0,115200 quiet systemd.show_status=1"   # the last console gets systemd's status lines
if [ "$arch" = amd64 ]; then
  mkdir -p "$boot/EFI/BOOT" "$boot/loader/entries"
  cp "$rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$boot/EFI/BOOT/BOOTX64.EFI"
  cp "$kernel" "$boot/vmlinuz"
  cp "$initrd" "$boot/initrd.img"
  printf 'default voicehub.conf\ntimeout 0\n' > "$boot/loader/loader.conf"
  printf 'title VoiceHub\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' "$cmdline" > "$boot/loader/entries/voicehub.conf"
else
  # The Pi's GPU firmware loads config.txt, the device tree, the kernel and the initrd from here.
  if [ -n "${RPI_FIRMWARE_DIR:-}" ]; then
    cp -r "$RPI_FIRMWARE_DIR"/. "$boot/"
  else
    cp "$rootfs"/usr/lib/raspi-firmware/* "$boot/"
    cp "$rootfs"/usr/lib/linux-image-"${kernel##*/vmlinuz-}"/broadcom/bcm27*-rpi-*.dtb "$boot/"
  fi
  cp "$kernel" "$boot/kernel8.img"
  cp "$initrd" "$boot/initrd.img"
  # upstream_kernel: Debian's kernel and device trees, as Debian's raspi-firmware configures it.
  printf 'arm_64bit=1\nupstream_kernel=1\nenable_uart=1\nkernel=kernel8.img\ninitramfs initrd.img followkernel\ndtparam=audio=on\n' > "$boot/config.txt"
  # The Pi 4's mini UART (the GPIO header's serial pins) is ttyS1 under the upstream kernel.
  echo "${cmdline/ttyS0,115200/ttyS1,115200}" > "$boot/cmdline.txt"
fi
umount -l "$rootfs/proc"

# Pack the partitions (no loop mounts) and the disk.
boot_mib=256 data_mib=256
root_mib=$(( $(du -sm "$rootfs" | cut -f1) * 115 / 100 + 64 ))
mkfs.vfat -C -F 32 -n VHBOOT "$work/boot.img" $((boot_mib * 1024)) >/dev/null
(cd "$boot" && find . -mindepth 1 -type d | sed 's:^\./::' | sort | while read -r d; do mmd -i "$work/boot.img" "::$d"; done
 find . -type f | sed 's:^\./::' | while read -r f; do mcopy -i "$work/boot.img" "$f" "::$f"; done)
mkfs.ext4 -q -L vh-root -d "$rootfs" -E root_owner=0:0 "$work/root.img" "${root_mib}M"
mkfs.ext4 -q -L vh-data -d "$data" "$work/data.img" "${data_mib}M"

mkdir -p "$out"
disk="$out/voicehub-bookworm-$arch.img"
total_mib=$((1 + boot_mib + root_mib + data_mib + 1))
rm -f "$disk"
truncate -s "${total_mib}M" "$disk"
esp_type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B linux_type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
[ "$arch" = arm64 ] && esp_type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7   # the Pi firmware reads a basic-data FAT
sfdisk -q "$disk" <<EOF
label: gpt
start=1MiB, size=${boot_mib}MiB, type=$esp_type, name=vh-boot
size=${root_mib}MiB, type=$linux_type, name=vh-root
size=${data_mib}MiB, type=$linux_type, name=vh-data
EOF
dd if="$work/boot.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$disk" bs=1M seek=$((1 + boot_mib)) conv=notrunc,sparse status=none
dd if="$work/data.img" of="$disk" bs=1M seek=$((1 + boot_mib + root_mib)) conv=notrunc,sparse status=none
echo "build-image.sh: $disk ($(du -h --apparent-size "$disk" | cut -f1) apparent, $(du -h "$disk" | cut -f1) on disk) in $(( $(date +%s) - started )) s" >&2
echo "$disk"
