import { registerAs } from '@nestjs/config';
import { readEnvironment } from 'src/config/env';

export const openaiConfig = registerAs('openai', () => {
  const env = readEnvironment();
  return {
    apiKey: env.OPENAI_API_KEY,
    baseUrl: env.OPENAI_BASE_URL,
    model: env.OPENAI_MODEL,
    timeoutMs: env.AI_TIMEOUT_MS,
  };
});
export type OpenAiConfig = ReturnType<typeof openaiConfig>;
