import fc from 'fast-check';
import { MAX_PART_BYTES, splitText } from 'src/delivery/text-parts';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** Arabic, Kurdish-style and English words, emoji (with joiners), marks and line breaks. */
const word = fc.oneof(
  fc.constantFrom('هلا', 'بيك', 'شلونك؟', 'الفستان', 'الأسود', 'متوفر', '45,000', 'دينار', 'عيني'),
  fc.constantFrom('مُحَمَّد', 'بەڕێز', 'hello', 'order', '👨‍👩‍👧', '🌷', '👍🏽', 'ﷺ'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((w) => !/\s/.test(w)),
);
const spacing = fc.constantFrom(' ', ' ', ' ', '\n', '\n\n', '  ', ' \n');
const text = fc
  .array(fc.tuple(word, spacing), { minLength: 1, maxLength: 600 })
  .map((pairs) => pairs.map(([w, s]) => w + s).join(''));

describe('splitText', () => {
  it('keeps a text within the limit whole', () => {
    expect(splitText('هلا بيك 🌷 شلون اكدر اساعدك؟')).toEqual(['هلا بيك 🌷 شلون اكدر اساعدك؟']);
    expect(splitText('  \n ')).toEqual([]);
  });

  it('splits a 2,500-byte Arabic reply at spaces into parts of at most 1000 bytes, in order', () => {
    const sentence = 'الفستان الأسود متوفر بكل القياسات وسعره خمسة واربعين الف دينار عراقي. ';
    let reply = '';
    while (bytes(reply + sentence) <= 2_500) reply += sentence;
    reply = reply.trim();
    const parts = splitText(reply);
    expect(parts.length).toBe(3);
    for (const part of parts) {
      expect(bytes(part)).toBeLessThanOrEqual(MAX_PART_BYTES);
      expect(part).toBe(part.trim());
    }
    expect(parts.join(' ')).toBe(reply);
  });

  it('prefers a line break that leaves the part at least half full', () => {
    const first = 'ا'.repeat(300); // 600 bytes
    const second = 'ب'.repeat(300);
    expect(splitText(`${first}\n${second}`)).toEqual([first, second]);
    const para = `${'ج'.repeat(100)} ${'د'.repeat(200)}\n${'ه'.repeat(100)} ${'و'.repeat(200)}`;
    const parts = splitText(para);
    expect(parts[0]).toBe(`${'ج'.repeat(100)} ${'د'.repeat(200)}`);
  });

  it('cuts a word longer than the limit between graphemes only', () => {
    const family = '👨‍👩‍👧'; // 18 bytes, one grapheme
    const long = family.repeat(120);
    const parts = splitText(long);
    expect(parts.join('')).toBe(long);
    for (const part of parts) {
      expect(bytes(part)).toBeLessThanOrEqual(MAX_PART_BYTES);
      expect(part.length % family.length).toBe(0);
    }
  });

  it('never loses, repeats, reorders or breaks anything (property)', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 40, max: 1000 }), (input, limit) => {
        const parts = splitText(input, limit);
        for (const part of parts) {
          expect(bytes(part)).toBeLessThanOrEqual(limit);
          expect(part.length).toBeGreaterThan(0);
          expect(part).toBe(part.trim());
          // A valid UTF-16 string: no half of a surrogate pair at an edge.
          expect(Buffer.from(part, 'utf8').toString('utf8')).toBe(part);
        }
        expect(parts.join('').replace(/\s+/g, '')).toBe(input.replace(/\s+/g, ''));
        const fitsWhole = words(input).every((w) => bytes(w) <= limit);
        if (fitsWhole) expect(parts.flatMap(words)).toEqual(words(input));
      }),
      { numRuns: 300 },
    );
  });
});
