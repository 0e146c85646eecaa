import { normalizeText, tokens } from 'src/ai/arabic';

/** A catalogue item as the AI sees it: names exactly as the merchant wrote them. */
export interface CatalogueProduct {
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  inStock: boolean;
  imageUrl: string | null;
}

/** Products put in front of the model at most, however large the catalogue. */
export const MAX_CONTEXT_PRODUCTS = 8;

/** Consonant skeleton of a Latin (Arabizi) or Arabic word, so "qamees" can meet "قميص". */
export function skeleton(word: string): string {
  const arabic: Record<string, string> = {
    ب: 'b',
    ت: 't',
    ث: 't',
    ج: 'j',
    ح: 'h',
    خ: 'k',
    د: 'd',
    ذ: 'd',
    ر: 'r',
    ز: 'z',
    س: 's',
    ش: 'sh',
    ص: 's',
    ض: 'd',
    ط: 't',
    ظ: 'd',
    ع: '',
    غ: 'g',
    ف: 'f',
    ق: 'k',
    ك: 'k',
    ل: 'l',
    م: 'm',
    ن: 'n',
    ه: 'h',
    و: '',
    ي: '',
    ا: '',
  };
  if (/[\u0600-\u06ff]/.test(word)) {
    return [...word].map((letter) => arabic[letter] ?? '').join('');
  }
  return word
    .toLowerCase()
    .replace(/kh/g, 'k')
    .replace(/q|g/g, 'k')
    .replace(/ch/g, 'k')
    .replace(/th|dh/g, 't')
    .replace(/[3]/g, '')
    .replace(/7/g, 'h')
    .replace(/5/g, 'k')
    .replace(/6/g, 't')
    .replace(/9/g, 's')
    .replace(/[aeiouyw2\d]/g, '')
    .replace(/(.)\1+/g, '$1');
}

/** Positions of products, by a key of theirs. */
type Postings = Map<string, number[]>;

function post(postings: Postings, key: string, position: number): void {
  const list = postings.get(key);
  if (list) list.push(position);
  else postings.set(key, [position]);
}

/**
 * Finds the products a customer's words are about: token overlap on names (then descriptions and
 * SKUs) after normalisation and synonyms, with an Arabizi skeleton match as a weaker signal.
 * Everything about the products is indexed once, when the matcher is built; a match only looks up
 * the customer's words, so one matcher serves every turn of a merchant until the catalogue changes.
 */
export class ProductMatcher {
  private readonly products: readonly CatalogueProduct[];
  /** Products whose name holds the token. */
  private readonly byNameToken: Postings = new Map();
  /** Products whose name, description or SKU holds the token. */
  private readonly byToken: Postings = new Map();
  /** Distinct name tokens of three letters or more, sorted, for prefix look-ups. */
  private readonly longNameTokens: string[];
  /** Products by the skeleton of a name token, once per name token that has it. */
  private readonly bySkeleton: Postings = new Map();
  /** Products by their normalised SKU. */
  private readonly bySku: Postings = new Map();

  constructor(products: readonly CatalogueProduct[]) {
    this.products = products;
    const skeletons = new Map<string, string>();
    for (const [position, product] of products.entries()) {
      const nameTokens = new Set(tokens(product.name));
      const allTokens = new Set([
        ...nameTokens,
        ...tokens(product.description ?? ''),
        ...tokens(product.sku),
      ]);
      for (const token of nameTokens) {
        post(this.byNameToken, token, position);
        let shape = skeletons.get(token);
        if (shape === undefined) {
          shape = skeleton(token);
          skeletons.set(token, shape);
        }
        if (shape.length >= 2) post(this.bySkeleton, shape, position);
      }
      for (const token of allTokens) post(this.byToken, token, position);
      const sku = normalizeText(product.sku);
      if (sku) post(this.bySku, sku, position);
    }
    this.longNameTokens = [...this.byNameToken.keys()].filter((token) => token.length >= 3).sort();
  }

  /** The best matches for the text, best first, at most `limit`. */
  match(text: string, limit = MAX_CONTEXT_PRODUCTS): CatalogueProduct[] {
    const words = tokens(text);
    if (words.length === 0) return [];
    const scores = new Float64Array(this.products.length);
    // Which word last scored a product: each word scores a product once, by its best kind of hit.
    const scoredBy = new Int32Array(this.products.length);
    const add = (positions: readonly number[] | undefined, word: number, points: number) => {
      for (const position of positions ?? []) {
        if (scoredBy[position] === word) continue;
        scoredBy[position] = word;
        scores[position] += points;
      }
    };

    for (const word of new Set(normalizeText(text).split(' '))) {
      for (const position of this.bySku.get(word) ?? []) scores[position] += 10;
    }
    const repeats = new Map<string, number>();
    for (const word of words) repeats.set(word, (repeats.get(word) ?? 0) + 1);
    let seq = 0;
    for (const [word, times] of repeats) {
      seq += 1;
      add(this.byNameToken.get(word), seq, 3 * times);
      add(this.byToken.get(word), seq, times);
      if (word.length >= 3) {
        for (const token of this.prefixRelated(word)) {
          add(this.byNameToken.get(token), seq, 1.5 * times);
        }
      }
    }
    const skeletons = new Set(
      words
        .filter((word) => /^[a-z]/.test(word))
        .map(skeleton)
        .filter((shape) => shape.length >= 2),
    );
    for (const shape of skeletons) {
      for (const position of this.bySkeleton.get(shape) ?? []) scores[position] += 2;
    }

    const found: number[] = [];
    for (let position = 0; position < scores.length; position += 1) {
      if (scores[position] > 0) found.push(position);
    }
    found.sort(
      (a, b) =>
        scores[b] - scores[a] ||
        Number(this.products[b].inStock) - Number(this.products[a].inStock) ||
        a - b,
    );
    return found.slice(0, limit).map((position) => this.products[position]);
  }

  /** Name tokens of three letters or more that start with the word, or that the word starts with. */
  private prefixRelated(word: string): string[] {
    const related: string[] = [];
    for (let length = 3; length < word.length; length += 1) {
      const head = word.slice(0, length);
      if (this.byNameToken.has(head)) related.push(head);
    }
    let low = 0;
    let high = this.longNameTokens.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.longNameTokens[middle] < word) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < this.longNameTokens.length; i += 1) {
      if (!this.longNameTokens[i].startsWith(word)) break;
      related.push(this.longNameTokens[i]);
    }
    return related;
  }
}
