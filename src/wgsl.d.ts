// .wgsl files are bundled as strings (tsup's text loader; the vitest plugin in tests).
declare module "*.wgsl" {
  const source: string;
  export default source;
}
