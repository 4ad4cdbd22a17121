// A small, strict argument parser for the gpu-cnn command: each subcommand declares its
// positionals and options; anything else is a UsageError with one line saying what is wrong.

export class UsageError extends Error {}

export type OptionKind = "flag" | "int" | "number" | "string";

export interface OptionSpec {
  kind: OptionKind;
  /** Shown in --help after the option, e.g. "<n>". */
  value?: string;
  help: string;
  /** Shown in --help as the default. */
  default?: string;
  choices?: readonly string[];
  /** Inclusive bounds for "int" and "number". */
  min?: number;
  max?: number;
  /** An exclusive lower bound for "number". */
  above?: number;
  /** An exclusive upper bound for "number". */
  below?: number;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** e.g. "<dir>" or "<model-dir> <image...>"; a trailing "..." takes one or more. */
  usage: string;
  positionals: { name: string; many?: boolean }[];
  options: Record<string, OptionSpec>;
  /** Lines after the options in --help (examples). */
  notes?: string[];
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | number | boolean>;
  help: boolean;
}

function checkValue(command: string, name: string, spec: OptionSpec, raw: string): string | number {
  const what = `gpu-cnn ${command}: --${name}`;
  if (spec.kind === "string") {
    if (spec.choices && !spec.choices.includes(raw)) throw new UsageError(`${what} must be one of ${spec.choices.join(", ")}, got "${raw}"`);
    return raw;
  }
  const value = raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`${what} must be a number, got "${raw}"`);
  if (spec.kind === "int" && !Number.isInteger(value)) throw new UsageError(`${what} must be a whole number, got "${raw}"`);
  const range = (): string => {
    const parts: string[] = [];
    if (spec.min !== undefined) parts.push(`at least ${spec.min}`);
    if (spec.above !== undefined) parts.push(`more than ${spec.above}`);
    if (spec.max !== undefined) parts.push(`at most ${spec.max}`);
    if (spec.below !== undefined) parts.push(`less than ${spec.below}`);
    return parts.join(" and ");
  };
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max) || (spec.above !== undefined && value <= spec.above) || (spec.below !== undefined && value >= spec.below)) {
    throw new UsageError(`${what} must be ${range()}, got ${raw}`);
  }
  return value;
}

/** Parses argv (after the subcommand name) against a command's spec. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const positionals: string[] = [];
  const options: Parsed["options"] = {};
  let help = false;
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositionals || !arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`gpu-cnn ${spec.name}: unknown option ${arg} (options are long, e.g. --epochs 5); see gpu-cnn ${spec.name} --help`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const option = spec.options[name];
    if (!option) throw new UsageError(`gpu-cnn ${spec.name}: unknown option --${name}; see gpu-cnn ${spec.name} --help`);
    if (name in options) throw new UsageError(`gpu-cnn ${spec.name}: --${name} is given twice`);
    if (option.kind === "flag") {
      if (eq >= 0) throw new UsageError(`gpu-cnn ${spec.name}: --${name} takes no value`);
      options[name] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // a negative number is a value; another option is not
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`gpu-cnn ${spec.name}: --${name} needs a value${option.value ? ` ${option.value}` : ""}`);
      }
      raw = next;
      i++;
    }
    options[name] = checkValue(spec.name, name, option, raw);
  }
  if (!help) {
    const required = spec.positionals.filter((p) => !p.many).length;
    const many = spec.positionals.some((p) => p.many);
    const missing = spec.positionals.slice(positionals.length).find(() => true);
    if (positionals.length < spec.positionals.length) {
      throw new UsageError(`gpu-cnn ${spec.name}: missing ${missing!.name}; usage: gpu-cnn ${spec.name} ${spec.usage}`);
    }
    if (!many && positionals.length > required) {
      throw new UsageError(`gpu-cnn ${spec.name}: unexpected argument "${positionals[required]}"; usage: gpu-cnn ${spec.name} ${spec.usage}`);
    }
  }
  return { positionals, options, help };
}

/** The --help text of a command. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const left = `  --${name}${o.value ? ` ${o.value}` : ""}`;
    const extra = [o.choices ? `one of ${o.choices.join(", ")}` : "", o.default !== undefined ? `default ${o.default}` : ""].filter(Boolean).join("; ");
    return [left, `${o.help}${extra ? ` (${extra})` : ""}`];
  });
  rows.push(["  --help", "show this help"]);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    `usage: gpu-cnn ${spec.name} ${spec.usage} [options]`,
    "",
    spec.summary,
    "",
    "options:",
    ...rows.map(([l, r]) => l.padEnd(width) + r),
    ...(spec.notes?.length ? ["", ...spec.notes] : []),
  ].join("\n");
}
