/** Reads a ZIP archive's directory (entry names, declared sizes) without inflating anything. */
import { Unzip, UnzipInflate, unzipSync } from "fflate";

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

/**
 * Inflates the archive without keeping anything and returns how many bytes it really expands to,
 * stopping as soon as that passes `cap` (the declared sizes in a ZIP directory can lie).
 * Returns null when the bytes are not a readable ZIP.
 */
export function zipInflatedSize(bytes: Uint8Array, cap: number): number | null {
  if (
    bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 3 || bytes[3] !== 4
  ) {
    return null;
  }
  let total = 0;
  let broken = false;
  const unzip = new Unzip((file) => {
    file.ondata = (err, data) => {
      if (err) {
        broken = true;
        return;
      }
      total += data.byteLength;
      if (total > cap) file.terminate();
    };
    if (total <= cap) file.start();
  });
  unzip.register(UnzipInflate);
  try {
    // Feed in slices so that inflation stops soon after the cap.
    const step = 64 * 1024;
    for (let i = 0; i < bytes.length && total <= cap && !broken; i += step) {
      unzip.push(bytes.subarray(i, Math.min(bytes.length, i + step)), i + step >= bytes.length);
    }
  } catch {
    return null;
  }
  return broken ? null : total;
}
