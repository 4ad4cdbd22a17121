// Options objects are checked for keys their callee does not know. From JavaScript (or through an
// `any`) a misspelt `activaton` or `epoch` would otherwise be ignored without a word, and the
// model would train as the user did not ask: a linear layer, one epoch.

/** Every key of an options type, listed once: the compiler checks the list is complete. */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Throws if `options` holds a key `known` lacks, naming `where`, the key, the nearest known key
 * when one is close, and all of them. Undefined or null options pass (every option is optional).
 */
export function checkOptions<T>(where: string, options: T | undefined | null, known: OptionKeys<T>): void {
  if (options === undefined || options === null) return;
  const keys = Object.keys(known);
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new Error(`gpu-cnn: ${where}: options must be an object such as { ${keys[0]}: ... }, got ${JSON.stringify(options) ?? String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (keys.includes(key)) continue;
    const near = nearest(key, keys);
    throw new Error(`gpu-cnn: ${where}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ""}; the options are ${keys.join(", ")}`);
  }
}

/** The known key a typo most likely meant: same letters ignoring case and underscores, or at most 2 edits away. */
function nearest(key: string, keys: string[]): string | null {
  const plain = (s: string) => s.replace(/_/g, "").toLowerCase();
  const same = keys.find((k) => plain(k) === plain(key));
  if (same) return same;
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of keys) {
    const d = editDistance(plain(key), plain(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}
