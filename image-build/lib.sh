# Shared by the image-build scripts (sourced).
VOICEHUB_CACHE=${VOICEHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicehub}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The system around the hub on the image (the .deb's own dependencies come with it).
image_packages() { # image_packages ARCH
  case "$1" in
    amd64) echo "systemd,systemd-sysv,udev,kmod,initramfs-tools,linux-image-amd64,systemd-boot-efi,systemd-timesyncd,iproute2,wpasupplicant,mosquitto,alsa-utils" ;;
    # raspi-firmware (the Pi's boot firmware) and firmware-brcm80211 (its Wi-Fi) are in non-free-firmware.
    arm64) echo "systemd,systemd-sysv,udev,kmod,initramfs-tools,linux-image-arm64,raspi-firmware,firmware-brcm80211,systemd-timesyncd,iproute2,wpasupplicant,mosquitto,alsa-utils" ;;
  esac
}

# Installs the Debian packages that provide the given commands when they are missing (as root).
ensure_tools() {
  local missing=() tool package
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] && continue
    case "$tool" in
      debootstrap) package=debootstrap ;;
      mkfs.ext4) package=e2fsprogs ;;
      mkfs.vfat) package=dosfstools ;;
      mcopy) package=mtools ;;
      sfdisk) package=fdisk ;;
      qemu-system-x86_64) package=qemu-system-x86 ;;
      qemu-system-aarch64) package=qemu-system-arm ;;
      qemu-aarch64-static) package=qemu-user-static ;;
      qemu-img) package=qemu-utils ;;
      mtype|mdir) package=mtools ;;
      debugfs|dumpe2fs) package=e2fsprogs ;;
      *) package=$tool ;;
    esac
    missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing tools; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/voicehub-image-apt.log 2>&1 \
    || { apt-get update >>/tmp/voicehub-image-apt.log 2>&1; apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/voicehub-image-apt.log 2>&1; } \
    || { tail -n 20 /tmp/voicehub-image-apt.log >&2; exit 1; }
}

# Lets this machine run arm64 programs in a chroot: qemu-user-static registered with binfmt_misc
# (with the F flag, so the interpreter need not be inside the chroot). The package registers
# itself where systemd-binfmt runs; in a container or VM without it, this does.
ensure_binfmt_aarch64() {
  ensure_tools qemu-aarch64-static
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || { echo "cannot mount binfmt_misc: arm64 programs cannot run here" >&2; exit 1; }
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && return 0
  local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  [ -f "$conf" ] || { echo "$conf missing (qemu-user-static)" >&2; exit 1; }
  grep -v '^#' "$conf" | head -n 1 > /proc/sys/fs/binfmt_misc/register
}

# Prints the path of a cached tarball of a Debian bookworm root for ARCH (amd64|arm64) with the
# extra packages (comma-separated) included; builds it with debootstrap the first time.
bookworm_base() {
  local arch=$1 include=${2:-} key dir tarball
  # The Pi's firmware is in non-free-firmware; the x86-64 image needs main only (and keeps its cache key).
  local components=main
  [ "$arch" = arm64 ] && components=main,non-free-firmware
  key=$(printf '%s %s %s%s' "$arch" "$include" "$DEBIAN_MIRROR" "${components#main}" | sha256sum | cut -c1-12)
  dir="$VOICEHUB_CACHE/rootfs"
  tarball="$dir/bookworm-$arch-$key.tar"
  if [ ! -f "$tarball" ]; then
    mkdir -p "$dir"
    local work
    work=$(mktemp -d /tmp/voicehub-debootstrap.XXXXXX)
    local foreign=()
    if [ "$arch" != "$(dpkg --print-architecture)" ]; then
      foreign=(--foreign)
      ensure_binfmt_aarch64
    fi
    debootstrap --variant=minbase --arch="$arch" --components="$components" "${foreign[@]}" ${include:+--include="$include"} \
      bookworm "$work" "$DEBIAN_MIRROR" >/tmp/voicehub-debootstrap.log 2>&1 \
      || { tail -n 20 /tmp/voicehub-debootstrap.log >&2; rm -rf "$work"; echo "debootstrap failed (log: /tmp/voicehub-debootstrap.log)" >&2; exit 1; }
    if [ ${#foreign[@]} -gt 0 ]; then
      # A foreign root finishes under user-mode emulation (qemu-user-static, binfmt_misc).
      chroot "$work" /debootstrap/debootstrap --second-stage >>/tmp/voicehub-debootstrap.log 2>&1 \
        || { tail -n 20 /tmp/voicehub-debootstrap.log >&2; rm -rf "$work"; echo "debootstrap second stage failed" >&2; exit 1; }
    fi
    rm -rf "$work"/var/cache/apt/archives/*.deb
    tar -C "$work" -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
  fi
  echo "$tarball"
}
