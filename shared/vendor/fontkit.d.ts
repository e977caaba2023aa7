// The part of @pdf-lib/fontkit 1.1.1's API used here (the vendored build has no types).

export interface Glyph {
  id: number;
  advanceWidth: number;
}

export interface Font {
  unitsPerEm: number;
  glyphForCodePoint(codePoint: number): Glyph;
}

declare const fontkit: { create(bytes: Uint8Array): Font };
export default fontkit;
