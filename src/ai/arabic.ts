/**
 * Text normalisation for matching what Iraqi customers write against what merchants wrote:
 * spelling variants, Persian letters, digits, diacritics and emphasis collapse to one form.
 */

const DIACRITICS = /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]/g;
const LETTERS: Record<string, string> = {
  أ: 'ا',
  إ: 'ا',
  آ: 'ا',
  ٱ: 'ا',
  ى: 'ي',
  ة: 'ه',
  ؤ: 'و',
  ئ: 'ي',
  ء: '',
  گ: 'ك',
  چ: 'ك',
  ڤ: 'ف',
  پ: 'ب',
  ی: 'ي',
  ک: 'ك',
};
const LETTER_PATTERN = new RegExp(`[${Object.keys(LETTERS).join('')}]`, 'g');

/** Arabic-Indic and Persian digits as ASCII. */
export function asciiDigits(text: string): string {
  return text
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) - 0x06f0));
}

/** One spelling for matching: lower case, no diacritics or tatweel, unified letters and digits. */
export function normalizeText(text: string): string {
  return (
    asciiDigits(text)
      .toLowerCase()
      .replace(DIACRITICS, '')
      .replace(LETTER_PATTERN, (letter) => LETTERS[letter] ?? letter)
      .replace(/(\p{L})\1{2,}/gu, '$1')
      // One word however it is split: "t-shirt", "t shirt", "تي شيرت".
      .replace(/\bt[\s-]?shirt/g, 'tshirt')
      .replace(/تي\s+شيرت/g, 'تيشيرت')
      .replace(/[^\p{L}\p{N}\s]/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/** Colloquial and variant forms of catalogue words, mapped to one form. */
const SYNONYMS: Record<string, string> = {
  سوده: 'اسود',
  سودا: 'اسود',
  سوداء: 'اسود',
  بيضه: 'ابيض',
  بيضا: 'ابيض',
  بيضاء: 'ابيض',
  حمره: 'احمر',
  حمرا: 'احمر',
  زرقه: 'ازرق',
  زرقا: 'ازرق',
  خضره: 'اخضر',
  خضرا: 'اخضر',
  صفره: 'اصفر',
  صفرا: 'اصفر',
  بنطرون: 'بنطلون',
  بنطرونات: 'بنطلون',
  بناطيل: 'بنطلون',
  جنز: 'جينز',
  تيشيرت: 'تيشيرت',
  تيشرت: 'تيشيرت',
  تشيرت: 'تيشيرت',
  بدله: 'قاط',
  بدلات: 'قاط',
  كاب: 'كلاو',
  كابات: 'كلاو',
  شحاطه: 'نعال',
  قندره: 'حذاء',
  جزمه: 'حذاء',
  حذاء: 'حذاء',
  احذيه: 'حذاء',
  قمصان: 'قميص',
  فساتين: 'فستان',
  فسطان: 'فستان',
  فستان: 'فستان',
  عبايه: 'عبايه',
  عبايات: 'عبايه',
  black: 'اسود',
  white: 'ابيض',
  red: 'احمر',
  blue: 'ازرق',
  green: 'اخضر',
  dress: 'فستان',
  shirt: 'قميص',
  shoes: 'حذاء',
  shoe: 'حذاء',
  jeans: 'جينز',
  pants: 'بنطلون',
  trousers: 'بنطلون',
  abaya: 'عبايه',
  tshirt: 'تيشيرت',
  tshirts: 'تيشيرت',
  suit: 'قاط',
  cap: 'كلاو',
  slippers: 'نعال',
  slipper: 'نعال',
  aswad: 'اسود',
  sawda: 'اسود',
  abyad: 'ابيض',
  bentaroon: 'بنطلون',
  bantaloon: 'بنطلون',
  fistan: 'فستان',
  fustan: 'فستان',
  qamees: 'قميص',
  gamees: 'قميص',
  qamis: 'قميص',
  jaket: 'جاكيت',
  jacket: 'جاكيت',
};

const STOP_WORDS = new Set(
  'من في على الى عن مع هذا هذه هاي هذي هل شكد شكد كم بكم بيش سعر حق اريد ابي ابغي عدكم اكو موجود متوفر لو يا انا انت وين شلون شنو the a an is are do you have how much price for of and or i want please to delivery baghdad basra mosul erbil najaf karbala kirkuk duhok kut hilla'.split(
    ' ',
  ),
);

/** Matching tokens of a text: normalised words without the article, و, or filler words. */
export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const word of normalizeText(text).split(' ')) {
    if (!word) continue;
    let base = word;
    if (/^[\u0600-\u06ff]/.test(base)) {
      if (base.length > 4 && base.startsWith('وال')) base = base.slice(3);
      else if (base.length > 3 && base.startsWith('ال')) base = base.slice(2);
      else if (
        base.length > 3 &&
        (base.startsWith('و') || base.startsWith('ب')) &&
        !SYNONYMS[base]
      ) {
        const rest = base.slice(1);
        if (SYNONYMS[rest] || rest.startsWith('ال')) {
          base = rest.startsWith('ال') ? rest.slice(2) : rest;
        }
      }
    }
    const canonical = SYNONYMS[base] ?? SYNONYMS[word] ?? base;
    // A lone letter ("size L") names no product.
    if (canonical.length < 2) continue;
    if (!STOP_WORDS.has(canonical) && !STOP_WORDS.has(word)) out.push(canonical);
  }
  return out;
}

/** UTF-8 length of a string in bytes. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Whether the text is mostly Latin letters (the customer writes English or Arabizi). */
export function isMostlyLatin(text: string): boolean {
  const arabic = (text.match(/[\u0600-\u06ff]/g) ?? []).length;
  const latin = (text.match(/[a-z]/gi) ?? []).length;
  return latin > arabic;
}

/**
 * Common Arabizi words of a shop conversation; their presence means Arabic, not English. Roots
 * that take endings (shlon, shlonkum; mashkoor, mashkoorin; twaslon, twasloon) match with them.
 */
const ARABIZI =
  /\b(?:shgad|shkad|shaked|bkam|bekam|beesh|aku|ako|maku|areed|arid|abi|wen|wein|shno|shino|shukran|habibi|habibti|hala|halaw|ahlan|ahlen|ahla|marhaba|salam|3d?kum|3ndkum|tawseel|b?kam|zain|zen|kulish|hwaya|hwaia|ba3d|7abibi|mawjood|mutwafer|mtwafr|yoosal|yalla|inshallah|ygdar|agdar|akdar|khosh|(?:shlon|mashk[ou]+r|tisl[ae]m|twa?s[ae]?l|allah)[a-z]*)\b/i;

/** The reply language: Arabic unless the customer clearly writes English. */
export function replyLanguage(text: string): 'ar' | 'en' {
  // An Arabic sentence with English product words in it ("عدكم black dress size M؟") is Arabic.
  if (!isMostlyLatin(text) || /^[^\p{L}]*[\u0600-\u06ff]/u.test(text)) return 'ar';
  return ARABIZI.test(text) || /[a-z][235679]|[235679][a-z]/i.test(text) ? 'ar' : 'en';
}
