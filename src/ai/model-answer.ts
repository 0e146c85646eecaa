import { INTENTS, type Intent } from 'src/ai/intents';
import { parseStorableJson } from 'src/common/storable-text';

/** The structured answer of INTERFACE §5, from the model or the offline replier. */
export interface ModelAnswer {
  reply: string;
  intent: Intent;
  confidence: number;
  needsHuman: boolean;
  productSkus: string[];
  language: string;
}

/** Below this confidence the conversation goes to a person (INTERFACE §5). */
export const HANDOVER_CONFIDENCE = 0.5;

/** The JSON schema sent as `response_format` (strict: every field required, nothing else). */
export const MODEL_ANSWER_SCHEMA = {
  type: 'object',
  properties: {
    reply: { type: 'string', description: 'The message to send to the customer.' },
    intent: { type: 'string', enum: [...INTENTS] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    needsHuman: { type: 'boolean' },
    productSkus: { type: 'array', items: { type: 'string' } },
    language: { type: 'string', description: 'Language of the reply, e.g. ar-IQ or en.' },
  },
  required: ['reply', 'intent', 'confidence', 'needsHuman', 'productSkus', 'language'],
  additionalProperties: false,
} as const;

/** Checks model output against the schema; null when it is not a valid answer. */
export function parseModelAnswer(content: string | null | undefined): ModelAnswer | null {
  if (!content) return null;
  let value: unknown;
  try {
    // What the model wrote is stored: U+0000 and lone surrogates would fail the insert.
    value = parseStorableJson(content.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort();
  if (keys.join(',') !== [...MODEL_ANSWER_SCHEMA.required].sort().join(',')) return null;
  if (typeof v.reply !== 'string' || v.reply.trim() === '') return null;
  if (typeof v.intent !== 'string' || !(INTENTS as readonly string[]).includes(v.intent)) {
    return null;
  }
  if (typeof v.confidence !== 'number' || !(v.confidence >= 0 && v.confidence <= 1)) return null;
  if (typeof v.needsHuman !== 'boolean') return null;
  if (!Array.isArray(v.productSkus) || !v.productSkus.every((sku) => typeof sku === 'string')) {
    return null;
  }
  if (typeof v.language !== 'string') return null;
  return {
    reply: v.reply,
    intent: v.intent as Intent,
    confidence: v.confidence,
    needsHuman: v.needsHuman,
    productSkus: v.productSkus,
    language: v.language,
  };
}

/** Whether an answer hands the conversation to a person (INTERFACE §5, and complaints). */
export function handsOver(answer: ModelAnswer): boolean {
  return (
    answer.needsHuman ||
    answer.intent === 'human_request' ||
    answer.intent === 'complaint' ||
    answer.confidence < HANDOVER_CONFIDENCE
  );
}
