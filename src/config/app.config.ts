import { registerAs } from '@nestjs/config';
import { readEnvironment, type AppRole } from 'src/config/env';

export interface RoleParts {
  /** Serves the HTTP API (webhooks, admin API). */
  http: boolean;
  /** Consumes queue jobs. */
  worker: boolean;
}

export function roleParts(role: AppRole): RoleParts {
  return { http: role !== 'worker', worker: role !== 'api' };
}

export const appConfig = registerAs('app', () => {
  const env = readEnvironment();
  return {
    role: env.APP_ROLE,
    port: env.PORT,
    host: env.HOST,
    workerHealthPort: env.WORKER_HEALTH_PORT,
    logLevel: env.LOG_LEVEL,
  };
});
export type AppConfig = ReturnType<typeof appConfig>;
