/** Reads a ZIP archive's directory (entry names, declared sizes) without inflating anything. */
import { unzipSync } from "fflate";

/** The names of the archive's entries, or null when the bytes are not a readable ZIP. */
export function zipEntryNames(bytes: Uint8Array): string[] | null {
  const names: string[] = [];
  try {
    unzipSync(bytes, {
      filter(file) {
        names.push(file.name);
        return false;
      },
    });
  } catch {
    return null;
  }
  return names;
}

/** The sum of the entries' declared uncompressed sizes, or null when the bytes are not a ZIP. */
export function zipExpandedSize(bytes: Uint8Array): number | null {
  let total = 0;
  try {
    unzipSync(bytes, {
      filter(file) {
        total += file.originalSize ?? 0;
        return false;
      },
    });
  } catch {
    return null;
  }
  return total;
}
