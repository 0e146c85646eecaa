import { Global, Module } from '@nestjs/common';
import { RedisDataLoss } from 'src/redis/redis-data-loss';
import { RedisService } from 'src/redis/redis.service';

@Global()
@Module({ providers: [RedisService, RedisDataLoss], exports: [RedisService, RedisDataLoss] })
export class RedisModule {}
