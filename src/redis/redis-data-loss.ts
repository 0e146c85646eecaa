import { Injectable } from '@nestjs/common';
import { RedisService } from 'src/redis/redis.service';

/** The key (under REDIS_PREFIX) whose absence tells that Redis lost its data. */
export const DATA_MARKER_KEY = 'data-marker';

/**
 * Tells when Redis has lost its data since this process last looked: a restart without
 * persistence, a failover to an empty replica, a flush. A marker key, set on first contact, goes
 * only with the rest of the data. Of the processes that look, the first to find it gone sets it
 * again and is the one told; the others find it back.
 */
@Injectable()
export class RedisDataLoss {
  private seen = false;

  constructor(private readonly redis: RedisService) {}

  /**
   * True when the marker this process found before is gone. The first look cannot tell a new
   * Redis from one that lost its data, and answers false. Rejects while Redis is away.
   */
  async check(): Promise<boolean> {
    const created = await this.redis.client.set(
      this.redis.key(DATA_MARKER_KEY),
      new Date().toISOString(),
      'NX',
    );
    const lost = created === 'OK' && this.seen;
    this.seen = true;
    return lost;
  }
}
