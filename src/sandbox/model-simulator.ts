import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { estimateTokens } from 'src/ai/instagram-ai.service';
import type { ModelAnswer } from 'src/ai/model-answer';
import { offlineReply, type ShopContext } from 'src/ai/offline-replier';
import { ProductMatcher, type CatalogueProduct } from 'src/ai/product-matcher';
import type { MerchantProfile } from 'src/merchant/merchant.entity';
import { listenOnLoopback, readBody } from 'src/sandbox/instagram-simulator';

/** The model's name in the simulator's answers. */
export const SIMULATED_MODEL = 'radd-sandbox-model';

/** The shop data Radd puts in the prompt (InstagramAIService), as far as the simulator reads it. */
interface PromptShopData {
  shop?: string;
  description?: string;
  tone?: string;
  language?: string;
  workingHours?: string;
  delivery?: string;
  returns?: string;
  faq?: Array<{ question: string; answer: string }>;
  products?: Array<{
    sku: string;
    name: string;
    description?: string;
    price: number;
    currency: string;
    inStock: boolean;
  }>;
}

interface ChatMessage {
  role: string;
  content?: unknown;
}

const SHOP_DATA_PREFIX = 'Shop data (JSON):\n';

/** The text of a message's content: a string, or the text parts of an array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part as { type?: string; text?: string }).text ?? '')
    .filter(Boolean)
    .join('\n');
}

/**
 * What the simulated model answers to Radd's prompt: the structured answer of INTERFACE §5, made
 * by the offline replier from the shop data and the products the prompt gives, for the customer's
 * words of the turn (the prompt's bracketed lines, such as "[comment on the shop's post]", are
 * framing, not the customer's).
 */
export function simulatedAnswer(messages: readonly ChatMessage[]): ModelAnswer {
  const shopMessage = messages.find(
    (message) => message.role === 'system' && textOf(message.content).startsWith(SHOP_DATA_PREFIX),
  );
  let data: PromptShopData = {};
  try {
    data = JSON.parse(
      textOf(shopMessage?.content).slice(SHOP_DATA_PREFIX.length) || '{}',
    ) as PromptShopData;
  } catch {
    data = {};
  }
  const profile: MerchantProfile = {
    displayName: data.shop,
    description: data.description,
    tone: data.tone,
    language: data.language,
    workingHours: data.workingHours,
    deliveryInfo: data.delivery,
    returnPolicy: data.returns,
    faq: data.faq ?? [],
  };
  const shop: ShopContext = { name: data.shop ?? '', profile };
  const products: CatalogueProduct[] = (data.products ?? []).map((product) => ({
    sku: product.sku,
    name: product.name,
    description: product.description ?? null,
    price: product.price,
    currency: product.currency,
    inStock: product.inStock,
    imageUrl: null,
  }));
  const turn = textOf(messages.at(-1)?.content)
    .split('\n')
    .filter((line) => !/^\[.*\]$/.test(line.trim()))
    .join('\n');
  const matched = new ProductMatcher(products).match(turn);
  return offlineReply(turn, shop, matched);
}

/**
 * An OpenAI-compatible chat-completions server on loopback for `npm run sandbox`: Radd's model
 * path (the structured answer, its checks, the price guard) runs as it does against a real model.
 */
export async function startModelSimulator(): Promise<{
  baseUrl: string;
  close: () => Promise<void>;
}> {
  const { url, close } = await listenOnLoopback(createServer((req, res) => void answer(req, res)));
  return { baseUrl: `${url}/v1`, close };
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = (await readBody(req)) as { model?: string; messages?: ChatMessage[] } | undefined;
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    send(404, { error: { message: 'not found', type: 'invalid_request_error', code: null } });
    return;
  }
  if (!request) {
    send(400, { error: { message: 'invalid JSON', type: 'invalid_request_error', code: null } });
    return;
  }
  const messages = request.messages ?? [];
  const content = JSON.stringify(simulatedAnswer(messages));
  const promptTokens = messages.reduce(
    (sum, message) => sum + estimateTokens(textOf(message.content)),
    0,
  );
  send(200, {
    id: `chatcmpl-sandbox-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model ?? SIMULATED_MODEL,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: estimateTokens(content),
      total_tokens: promptTokens + estimateTokens(content),
    },
  });
}
