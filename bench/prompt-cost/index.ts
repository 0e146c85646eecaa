import { encode } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { cpus } from 'node:os';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  estimateTokens,
  HISTORY_TOKEN_BUDGET,
  InstagramAIService,
  type TurnMessage,
} from 'src/ai/instagram-ai.service';
import { MODEL_ANSWER_SCHEMA } from 'src/ai/model-answer';
import { MAX_CONTEXT_PRODUCTS, ProductMatcher } from 'src/ai/product-matcher';
import { clothesCatalogue } from 'bench/lib/catalogue';
import {
  formatCount,
  formatMs,
  type BenchContext,
  type Benchmark,
  type BenchmarkReport,
  type ResultRow,
} from 'bench/lib/report';
import { percentile } from 'bench/lib/util';

const NAME = 'prompt-cost';
const CATALOGUES = [50, 500, 5_000];
const HISTORIES = [10, 50, 200];
/** Prompts built per combination (after as many unmeasured ones), for the build time. */
const BUILDS = 40;
/** Tokens OpenAI adds per chat message (role and separators), and to prime the answer. */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PRIMING = 3;
/** Largest spread of prompt sizes once the history fills its budget that still counts as flat. */
const MAX_SPREAD = 1.25;

const CUSTOMER_LINES = [
  'السلام عليكم، شكد سعر القميص الأسود القطن؟ وعدكم قياس لارج؟',
  'هلا حبيبي، التوصيل للبصرة بيش؟ ويوصل باجر لو عقب باجر؟',
  'اريد جاكيت جلد اسود قياس XL، متوفر؟',
  'Hi, do you have the blue dress in size M? How much?',
  'shgad si3ir el bantaroon el jeans? w aku loon azraq?',
  'عباية سودة حرير موجودة؟ شكد سعرها؟',
];
const BOT_LINES = [
  'هلا بيك 🌷 القميص الأسود القطن موديل 1 سعره 25,000 دينار، ومتوفر بكل القياسات من S إلى XXL.',
  'التوصيل لكل المحافظات خلال يومين إلى ثلاثة أيام، والدفع عند الاستلام.',
  'الجاكيت الجلد الأسود متوفر بقياس XL، سعره 75,000 دينار. تحب نثبتلك الطلب؟',
  'Yes, the blue dress is available in M for 30,000 IQD. Shall I reserve it for you?',
];

/** A conversation of `count` messages, customer and shop taking turns, a minute apart. */
function history(count: number, now: number): TurnMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const fromCustomer = i % 2 === 0;
    const lines = fromCustomer ? CUSTOMER_LINES : BOT_LINES;
    return {
      id: `h${i}`,
      direction: fromCustomer ? 'in' : 'out',
      sender: fromCustomer ? 'customer' : 'bot',
      type: 'text',
      text: lines[Math.floor(i / 2) % lines.length],
      attachments: [],
      meta: {},
      occurredAt: new Date(now - (count - i + 1) * 60_000),
    } satisfies TurnMessage;
  });
}

const SHOP = {
  name: 'Bench shop',
  profile: {
    displayName: 'متجر الأناقة',
    description: 'ملابس رجالية ونسائية، بغداد - الكرادة',
    tone: 'ودود وقصير',
    language: 'ar-IQ',
    workingHours: 'يوميا من 10 صباحا إلى 10 مساء',
    deliveryInfo: 'التوصيل لكل المحافظات 5,000 دينار، بغداد 3,000 دينار',
    returnPolicy: 'الاستبدال خلال 3 أيام إذا القطعة ما ملبوسة',
    faq: [
      { question: 'الدفع شلون؟', answer: 'الدفع عند الاستلام' },
      { question: 'عدكم فرع؟', answer: 'فرعنا بالكرادة داخل' },
    ],
  },
};

function textOf(content: ChatCompletionMessageParam['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => ('text' in part ? part.text : '')).join('\n');
}

interface Count {
  /** o200k_base tokens (gpt-4o / gpt-4o-mini), message framing and the answer schema included. */
  tokens: number;
  /** The same prompt by estimateTokens of src/ai/instagram-ai.service.ts. */
  estimated: number;
  byPart: { system: number; shopData: number; history: number; turn: number; schema: number };
  historyMessages: number;
  products: number;
}

const SCHEMA_TOKENS = encode(JSON.stringify(MODEL_ANSWER_SCHEMA)).length;

function count(messages: ChatCompletionMessageParam[], products: number): Count {
  const sizes = messages.map((message) => {
    const text = textOf(message.content);
    return { text, tokens: encode(text).length + TOKENS_PER_MESSAGE };
  });
  const [system, shopData] = sizes;
  const turn = sizes[sizes.length - 1];
  const historyParts = sizes.slice(2, -1);
  return {
    tokens: sizes.reduce((sum, size) => sum + size.tokens, 0) + TOKENS_PRIMING + SCHEMA_TOKENS,
    estimated: sizes.reduce((sum, size) => sum + estimateTokens(size.text), 0),
    byPart: {
      system: system.tokens,
      shopData: shopData.tokens,
      history: historyParts.reduce((sum, size) => sum + size.tokens, 0),
      turn: turn.tokens,
      schema: SCHEMA_TOKENS,
    },
    historyMessages: historyParts.length,
    products,
  };
}

// eslint-disable-next-line @typescript-eslint/require-await
async function run(context: BenchContext): Promise<BenchmarkReport> {
  const service = new InstagramAIService();
  const now = new Date('2026-11-26T12:00:00Z');
  const turn: TurnMessage[] = [
    {
      id: 'turn',
      direction: 'in',
      sender: 'customer',
      type: 'text',
      text: 'شكد سعر القميص الأسود؟ وعدكم منه قطن قياس لارج؟',
      attachments: [],
      meta: {},
      occurredAt: now,
    },
  ];
  const rows: ResultRow[] = [];
  const results: Array<{ catalogue: number; history: number; count: Count; buildMs: number[] }> =
    [];
  const indexMs: Record<number, number> = {};
  for (const size of CATALOGUES) {
    const catalogue = clothesCatalogue(size);
    // Indexed once per catalogue version and kept between turns, as the worker's CatalogueCache does.
    const indexStarted = performance.now();
    const matcher = new ProductMatcher(catalogue);
    indexMs[size] = performance.now() - indexStarted;
    for (const length of HISTORIES) {
      const past = history(length, now.getTime());
      const build = () => service.build({ shop: SHOP, matcher, history: past, turn, now });
      for (let i = 0; i < BUILDS; i += 1) build();
      const times: number[] = [];
      let prompt = build();
      for (let i = 0; i < BUILDS; i += 1) {
        const started = performance.now();
        prompt = build();
        times.push(performance.now() - started);
      }
      const counted = count(prompt.messages, prompt.products.length);
      results.push({ catalogue: size, history: length, count: counted, buildMs: times });
      const sorted = Float64Array.from(times).sort();
      const mean = times.reduce((sum, time) => sum + time, 0) / times.length;
      rows.push({
        benchmark: NAME,
        variant: `${formatCount(size)} products, ${length} messages`,
        reqPerSec: 1000 / mean,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        result:
          `${formatCount(counted.tokens)} tokens (est. ${formatCount(counted.estimated)}); ` +
          `${counted.products} products, ${counted.historyMessages} history msgs`,
      });
      context.progress(`${size} products, ${length} messages: ${counted.tokens} tokens`);
    }
  }

  const tokens = results.map((result) => result.count.tokens);
  const smallest = Math.min(...tokens);
  const largest = Math.max(...tokens);
  const atLargest = results.find(
    (r) => r.catalogue === Math.max(...CATALOGUES) && r.history === Math.max(...HISTORIES),
  )!;
  const atBudget = results.filter((r) => r.history >= 50);
  const flat =
    Math.max(...atBudget.map((r) => r.count.tokens)) /
    Math.min(...atBudget.map((r) => r.count.tokens));
  const growth =
    atLargest.count.tokens /
    results.find((r) => r.catalogue === Math.min(...CATALOGUES) && r.history === 50)!.count.tokens;
  const buildGrowth =
    median(atLargest.buildMs) /
    median(
      results.find((r) => r.catalogue === Math.min(...CATALOGUES) && r.history === 200)!.buildMs,
    );
  const indexTimes = CATALOGUES.map(
    (size) => `${formatMs(indexMs[size])} ms at ${formatCount(size)}`,
  ).join(', ');
  return {
    name: NAME,
    rows,
    lines: [
      `${NAME}: prompt tokens (o200k_base, as gpt-4o-mini counts them; framing and answer schema included) ` +
        `from ${formatCount(smallest)} to ${formatCount(largest)}; at 50+ history messages the spread is ${((flat - 1) * 100).toFixed(1)}% ` +
        `and 5,000 products × 200 messages is ${growth.toFixed(2)}× 50 products × 50 messages: flat in both.`,
      `${NAME}: parts at 5,000 × 200: system ${atLargest.count.byPart.system}, shop data ${atLargest.count.byPart.shopData} ` +
        `(${atLargest.count.products} of at most ${MAX_CONTEXT_PRODUCTS} products), history ${atLargest.count.byPart.history} ` +
        `(${atLargest.count.historyMessages} messages; budget ${HISTORY_TOKEN_BUDGET} estimated tokens), turn ${atLargest.count.byPart.turn}, schema ${SCHEMA_TOKENS}.`,
      `${NAME}: estimateTokens (chars ÷ 2.5) vs o200k_base on the same prompts: ` +
        results
          .filter((r) => r.history === 200)
          .map((r) => `${(r.count.estimated / r.count.tokens).toFixed(2)}×`)
          .join(', ') +
        ` (history budget is in estimated tokens). Build time from 50 to 5,000 products at 200 messages: ` +
        `${buildGrowth.toFixed(1)}× (the index is kept between turns; indexing once took ${indexTimes}).`,
      `${NAME}: in production the orchestrator also reads at most 30 history rows per turn from PostgreSQL, and the whole catalogue only when its version moved (not measured here: in-process, no database).`,
    ],
    // Bounded means flat once the history fills its budget, whatever the catalogue.
    failed: flat > MAX_SPREAD,
    details: {
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      tokenizer: 'o200k_base (gpt-tokenizer), +3 per message, +3 priming, + answer schema',
      historyTokenBudget: HISTORY_TOKEN_BUDGET,
      maxContextProducts: MAX_CONTEXT_PRODUCTS,
      indexMs,
      results: results.map((r) => ({
        catalogue: r.catalogue,
        history: r.history,
        ...r.count,
        buildMsMedian: median(r.buildMs),
      })),
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const promptCost: Benchmark = {
  name: NAME,
  description:
    'prompt tokens per reply for catalogues of 50/500/5,000 products and histories of 10/50/200 messages',
  run,
};
