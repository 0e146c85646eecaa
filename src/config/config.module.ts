import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig } from 'src/config/app.config';
import { behaviourConfig } from 'src/config/behaviour.config';
import { databaseConfig } from 'src/config/database.config';
import { manychatConfig } from 'src/config/manychat.config';
import { metaConfig } from 'src/config/meta.config';
import { openaiConfig } from 'src/config/openai.config';
import { operationsConfig } from 'src/config/operations.config';
import { redisConfig } from 'src/config/redis.config';
import { securityConfig } from 'src/config/security.config';

export const ALL_CONFIGS = [
  appConfig,
  behaviourConfig,
  databaseConfig,
  manychatConfig,
  metaConfig,
  openaiConfig,
  operationsConfig,
  redisConfig,
  securityConfig,
];

/** Typed settings for every module; `.env` and validation are handled by readEnvironment. */
@Global()
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, cache: true, ignoreEnvFile: true, load: ALL_CONFIGS }),
  ],
  exports: [ConfigModule],
})
export class AppConfigModule {}
