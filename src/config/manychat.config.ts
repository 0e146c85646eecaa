import { registerAs } from '@nestjs/config';
import { readEnvironment } from 'src/config/env';

export const manychatConfig = registerAs('manychat', () => {
  const env = readEnvironment();
  return { baseUrl: env.MANYCHAT_BASE_URL, apiKey: env.MANYCHAT_API_KEY };
});
export type ManyChatConfig = ReturnType<typeof manychatConfig>;
