#!/usr/bin/env bash
# Boots an image under QEMU (software emulation), reads the serial console until the image
# announces the hub ready (after voicehub.service, Type=notify, sent READY=1), and prints the time
# from power-on to ready. The image itself is not changed: the VM writes to a throw-away overlay.
#   amd64: qemu-system-x86_64 with UEFI firmware (OVMF), through the image's systemd-boot.
#   arm64: qemu-system-aarch64's virt machine (Cortex-A72, as the Pi 4) booting the kernel and
#          initrd from the image's boot partition (the Pi's GPU firmware does not run under QEMU)
#          on the image's own root file system.
#
# usage: image-build/boot-qemu.sh [IMAGE] [--arch amd64|arm64] [--timeout SECONDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=amd64
image=
timeout=900
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    *) image=$1; shift ;;
  esac
done
image=${image:-$root/artifacts/image/voicehub-bookworm-$arch.img}
[ -f "$image" ] || { echo "boot-qemu.sh: $image: no such image (build it with image-build/build-image.sh)" >&2; exit 2; }
. "$root/image-build/lib.sh"
if [ "$arch" = arm64 ]; then
  ensure_tools qemu-system-aarch64 qemu-img mcopy
else
  ensure_tools qemu-system-x86_64 qemu-img
  [ -f /usr/share/ovmf/OVMF.fd ] || ensure_tools ovmf
fi

work=$(mktemp -d /tmp/voicehub-qemu.XXXXXX)
console="$root/artifacts/image/qemu-console-$arch.log"
qemu_pid=
cleanup() { [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
qemu-img create -q -f qcow2 -b "$(readlink -f "$image")" -F raw "$work/overlay.qcow2"
# Software emulation by default (what CI machines have); VOICEHUB_QEMU_ACCEL=kvm where KVM works.
accel=${VOICEHUB_QEMU_ACCEL:-tcg}

# VOICEHUB_QEMU_APPEND="systemd.journald.forward_to_console=1" boots the image's kernel directly
# with those extra arguments (the hub's log on the console) instead of through UEFI and systemd-boot.
boot=(-bios /usr/share/ovmf/OVMF.fd)
if [ "$arch" = amd64 ] && [ -n "${VOICEHUB_QEMU_APPEND:-}" ]; then
  mcopy -i "$image@@1M" ::vmlinuz ::initrd.img "$work/"
  boot=(-kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "root=PARTLABEL=vh-root ro rootwait console=ttyS0,115200 systemd.show_status=1 $VOICEHUB_QEMU_APPEND")
fi

rm -f "$console"   # a previous run's log must not count
started=$(date +%s.%N)
if [ "$arch" = arm64 ]; then
  mcopy -n -i "$image@@1M" ::kernel8.img ::initrd.img "$work/"
  qemu-system-aarch64 -machine virt -cpu cortex-a72 -m 2048 -smp 2 \
    -kernel "$work/kernel8.img" -initrd "$work/initrd.img" \
    -append "root=PARTLABEL=vh-root ro rootwait console=ttyAMA0 systemd.show_status=1 ${VOICEHUB_QEMU_APPEND:-}" \
    -drive file="$work/overlay.qcow2",format=qcow2,if=none,id=disk -device virtio-blk-pci,drive=disk \
    -netdev user,id=net -device virtio-net-pci,netdev=net,romfile= -display none -serial file:"$console" -monitor none &
else
  qemu-system-x86_64 -machine q35,accel=$accel -m 2048 -smp 2 "${boot[@]}" \
    -drive file="$work/overlay.qcow2",format=qcow2,if=virtio -nic user,model=virtio-net-pci \
    -display none -serial file:"$console" -monitor none &
fi
qemu_pid=$!

plain() { sed 's/\x1b\[[0-9;]*m//g' "$console" 2>/dev/null; }   # without the colour codes
ready=
while kill -0 "$qemu_pid" 2>/dev/null; do
  # voicehub-console-ready.service prints this once systemd has the hub's READY=1
  if plain | grep -aq "VoiceHub ready: "; then
    ready=$(date +%s.%N)
    break
  fi
  if plain | grep -aqE "Failed to start voicehub.service|Kernel panic"; then
    break
  fi
  if [ $(( $(date +%s) - ${started%.*} )) -gt "$timeout" ]; then
    break
  fi
  sleep 1
done

plain | grep -aE "voicehub|VoiceHub|Reached target|Kernel panic|Failed" | tail -n 12 >&2 || true
if [ -z "$ready" ]; then
  echo "boot-qemu.sh: FAIL: voicehub.service did not report ready within ${timeout} s ($accel); console: $console" >&2
  exit 1
fi
printf 'boot-qemu.sh: PASS: %s image, power-on to voicehub.service ready in %s s (%s, 2 vCPUs, 2 GiB); console: %s\n' \
  "$arch" "$(awk -v a="$ready" -v b="$started" 'BEGIN { printf "%.1f", a - b }')" "$accel" "$console"
