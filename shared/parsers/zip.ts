/** Lists the entry names of a ZIP archive without inflating anything. */
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
