// The data pipeline's only file-system access, kept in one small module so that a browser build
// can swap it for one that reads File and Blob objects. node:fs is imported on first use rather
// than at load: importing gpu-cnn in a browser must not fail because this module is bundled.

export type PathKind = "file" | "directory" | "missing" | "other";

export interface DirEntry {
  name: string;
  /** What the entry is, after following a symbolic link. */
  kind: PathKind;
  symlink: boolean;
}

type Fs = typeof import("node:fs/promises");
let fsModule: Promise<Fs> | null = null;
const fs = (): Promise<Fs> => (fsModule ??= import("node:fs/promises"));

/** What a path is; symbolic links are followed, as Keras' directory listing does. */
export async function pathKind(path: string): Promise<PathKind> {
  try {
    const stat = await (await fs()).stat(path);
    return stat.isDirectory() ? "directory" : stat.isFile() ? "file" : "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
}

/** The entries of a directory, sorted by name (code-unit order, like Python's sorted()). */
export async function listDirectory(path: string): Promise<DirEntry[]> {
  const entries = await (await fs()).readdir(path, { withFileTypes: true });
  const out: DirEntry[] = [];
  for (const entry of entries) {
    let kind: PathKind = entry.isDirectory() ? "directory" : entry.isFile() ? "file" : "other";
    if (entry.isSymbolicLink()) kind = await pathKind(joinPath(path, entry.name));
    out.push({ name: entry.name, kind, symlink: entry.isSymbolicLink() });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function readBytes(path: string): Promise<Uint8Array> {
  return (await fs()).readFile(path);
}

/** Joins with "/", which Node accepts on every platform; avoids bundling node:path. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/{2,}/g, "/");
}
