import { registerAs } from '@nestjs/config';
import { readEnvironment, type Environment } from 'src/config/env';

export interface DatabaseConfig {
  url: string;
  poolSize: number;
}

export function databaseSettings(env: Environment): DatabaseConfig {
  return { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE };
}

export const databaseConfig = registerAs('database', () => databaseSettings(readEnvironment()));
