#!/usr/bin/env bash
# Installs software Vulkan drivers so WebGPU (Dawn) works on a Debian machine without a GPU:
# Mesa's lavapipe 25 from bookworm-backports (bookworm's own 22.3 is too old for Dawn) and
# Debian's chromium, which ships SwiftShader and runs the browser tests. Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"

if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo_cmd tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
$sudo_cmd apt-get install -y -qq chromium >/dev/null
ls /usr/share/vulkan/icd.d/lvp_icd*.json /usr/lib/chromium/vk_swiftshader_icd.json
