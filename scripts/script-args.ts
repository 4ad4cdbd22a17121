// The command line the data scripts share: `--flag value` options and --help, and running main()
// only when the file is the program being run (not when a test imports it).
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface ScriptArgs {
  help: boolean;
  /** The value after the last `flag`, when given (so `npm run x -- --out dir` overrides the script's default). */
  string(flag: string): string | undefined;
  /** The value after `flag` as a number (NaN when it is not one: the script's own checks name it). */
  number(flag: string): number | undefined;
}

export function scriptArgs(argv: readonly string[] = process.argv.slice(2)): ScriptArgs {
  const value = (flag: string): string | undefined => {
    const at = argv.lastIndexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  return {
    help: argv.includes("--help"),
    string: value,
    number: (flag) => {
      const v = value(flag);
      return v === undefined ? undefined : Number(v);
    },
  };
}

/** Runs `main` when `moduleUrl` is the program; an error prints its message alone and exits 1. */
export function runAsScript(moduleUrl: string, main: () => void): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  try {
    main();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
