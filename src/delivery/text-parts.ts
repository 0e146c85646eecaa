/** Instagram's limit on one text message: "UTF-8 and 1000 bytes or less" (meta-instagram §5.2). */
export const MAX_PART_BYTES = 1000;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Splits a text into parts of at most `maxBytes` UTF-8 bytes, in order. Parts end at whitespace
 * (the whitespace at a cut is dropped, whitespace inside a part is kept); a line break is
 * preferred when it leaves the part at least half full. Only a single word longer than the limit
 * is cut inside, between graphemes (never inside a character, nor between a letter and its marks).
 */
export function splitText(text: string, maxBytes = MAX_PART_BYTES): string[] {
  const parts: string[] = [];
  let current = '';
  /** Where in `current` a line break starts (-1: none). */
  let lineBreak = -1;

  const flush = (): void => {
    const part = current.trimEnd();
    if (part !== '') parts.push(part);
    current = '';
    lineBreak = -1;
  };

  for (const token of text.match(/\s+|\S+/g) ?? []) {
    if (/^\s/.test(token)) {
      if (current === '') continue;
      if (token.includes('\n')) lineBreak = current.length;
      current += token;
      continue;
    }
    if (bytes(current) + bytes(token) <= maxBytes) {
      current += token;
      continue;
    }
    // The word does not fit: end the part at the last line break when that keeps it half full,
    // carrying what follows the break over; else end it here.
    if (lineBreak > 0 && bytes(current.slice(0, lineBreak)) >= maxBytes / 2) {
      const carried = current.slice(lineBreak).trimStart();
      current = current.slice(0, lineBreak);
      flush();
      current = carried;
      if (current !== '' && bytes(current) + bytes(token) <= maxBytes) {
        current += token;
        continue;
      }
    }
    flush();
    if (bytes(token) <= maxBytes) {
      current = token;
      continue;
    }
    const pieces = cutWord(token, maxBytes);
    parts.push(...pieces.slice(0, -1));
    current = pieces.at(-1) ?? '';
  }
  flush();
  return parts;
}

/** A word longer than the limit, cut between graphemes (or code points, for an absurd grapheme). */
function cutWord(word: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const { segment } of graphemes.segment(word)) {
    const units = bytes(segment) <= maxBytes ? [segment] : Array.from(segment);
    for (const unit of units) {
      if (bytes(piece) + bytes(unit) > maxBytes) {
        pieces.push(piece);
        piece = '';
      }
      piece += unit;
    }
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}
