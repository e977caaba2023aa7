/**
 * The inbound shared secret: 32 random bytes (hex, prefixed `mcs_`), shown once when created or
 * rotated; the database keeps its SHA-256 only. The inbound route hashes what it is given and
 * compares the two hashes in constant time, so neither the secret nor its length leaks by timing.
 */
import { timingSafeEqual } from "../../shared/auth.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

export function newSecret(): string {
  return `mcs_${hex(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function secretHash(secret: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)),
  );
}

/** Whether `given` hashes to `stored` (both hashes compared in constant time). */
export async function secretMatches(given: string, stored: Uint8Array | null): Promise<boolean> {
  const a = hex(await secretHash(given));
  const b = stored ? hex(stored) : "0".repeat(64);
  return timingSafeEqual(a, b) && stored !== null && given.length > 0;
}
