// The demo's bundled digits (build.ts makes this module: gzipped bytes, inlined by esbuild).
declare module "virtual:mnist-subset" {
  const gzipped: Uint8Array<ArrayBuffer>;
  export default gzipped;
}
