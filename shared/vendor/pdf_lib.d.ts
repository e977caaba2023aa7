// The part of pdf-lib 1.17.1's API that shared/reports uses (the vendored build has no types).

export interface Color {
  type: string;
}
export function rgb(red: number, green: number, blue: number): Color;

export interface PDFFont {
  widthOfTextAtSize(text: string, size: number): number;
  heightAtSize(size: number): number;
}

export interface Point {
  x: number;
  y: number;
}

export interface PDFPage {
  drawText(
    text: string,
    options: { x: number; y: number; size: number; font: PDFFont; color?: Color },
  ): void;
  drawRectangle(
    options: { x: number; y: number; width: number; height: number; color?: Color },
  ): void;
  drawLine(options: { start: Point; end: Point; thickness?: number; color?: Color }): void;
  getSize(): { width: number; height: number };
}

export class PDFDocument {
  static create(): Promise<PDFDocument>;
  static load(bytes: Uint8Array): Promise<PDFDocument>;
  registerFontkit(fontkit: unknown): void;
  embedFont(bytes: Uint8Array, options?: { subset?: boolean }): Promise<PDFFont>;
  addPage(size?: [number, number]): PDFPage;
  getPages(): PDFPage[];
  getPageCount(): number;
  setTitle(title: string): void;
  setSubject(subject: string): void;
  setProducer(producer: string): void;
  setCreationDate(date: Date): void;
  save(options?: { useObjectStreams?: boolean }): Promise<Uint8Array>;
}
