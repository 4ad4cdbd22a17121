#!/usr/bin/env bash
# Packs the benchmark for a lent GPU machine (the `device` tool's `run`). That machine has no
# Node, and a run carries at most 64 MiB, against node_modules' ~580 MB. This writes .device/
# (ignored by git), ~36 MB: Node and Dawn's linux-x64 binding (xz), the benchmark bundled with
# tfjs by esbuild, the package.json files whose versions results.json records, and Debian's
# Vulkan loader. Then, on the device: `bash scripts/device-bench.sh --quick` with carry [".device"].
set -euo pipefail
cd "$(dirname "$0")/.."
out=.device
rm -rf "$out"
mkdir -p "$out/bench" "$out/node_modules/webgpu/dist/linux-x64"

# .wgsl files as text, as the build and scripts/wgsl.mjs load them; webgpu stays outside the
# bundle (its index.js loads the native binding beside it)
npx esbuild bench/run.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --outfile="$out/bench/bench.mjs" --loader:.wgsl=text --external:webgpu \
  --banner:js="import { createRequire as gpuCnnRequire } from 'node:module'; const require = gpuCnnRequire(import.meta.url);"
cp package.json "$out/"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
for name in @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-backend-wasm tsx; do
  mkdir -p "$out/node_modules/$name"
  cp "node_modules/$name/package.json" "$out/node_modules/$name/"
done
xz -T0 -6 -c "$(command -v node)" >"$out/node.xz"
# Node and Dawn need only glibc and these two beside it: brought along in case the device lacks them
mkdir -p "$out/lib"
for lib in libstdc++.so.6 libgcc_s.so.1; do cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ { print $NF; exit }')" "$out/lib/"; done
# the device may lack Vulkan's loader (its README): Debian's, unpacked there by device-bench.sh
if ! (cd "$out" && apt-get download libvulkan1 >/dev/null 2>&1); then
  echo "device-pack: could not download libvulkan1 (apt); device-bench.sh will rely on the device's own loader" >&2
fi
du -sh "$out"
