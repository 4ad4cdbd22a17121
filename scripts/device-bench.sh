#!/usr/bin/env bash
# Runs the benchmark on a lent GPU machine, from the repository root, with .device/ carried
# (made by scripts/device-pack.sh): unpacks Node and Dawn, brings Vulkan's loader where the
# machine has none, and writes results-gpu.json and bench.log to $OUT, which the device tool
# brings back. Arguments go to the benchmark, e.g. `--quick` or `--quick matmul conv2d`.
set -euo pipefail
cd "$(dirname "$0")/.."
d=.device
[ -x "$d/node" ] || { xz -dc "$d/node.xz" >"$d/node" && chmod +x "$d/node"; }
dawn="$d/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || xz -dc "$dawn.xz" >"$dawn"
ldd "$d/node" | grep -q "not found" && export LD_LIBRARY_PATH="$PWD/$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for deb in "$d"/*.deb; do dpkg -x "$deb" /; done
  ldconfig
fi
# where the device's README says its NVIDIA Vulkan driver lives, when the loader does not find it
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="${VK_DRIVER_FILES:-$icd}"
command -v nvidia-smi >/dev/null && nvidia-smi -L || true
out="${OUT:-/tmp}"
"$d/node" "$d/bench/bench.mjs" --out "$out/results-gpu.json" "$@" 2>&1 | tee "$out/bench.log"
