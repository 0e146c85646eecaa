import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import {
  decodeCursor,
  encodeCursor,
  isoMicros,
  ISO_MICROS,
  pageOf,
  type Page,
} from 'src/common/cursor';
import { isUniqueViolation } from 'src/database/unique-violation';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import type { CreateMerchantDto } from 'src/merchant/dto/create-merchant.dto';
import type { MerchantProfileDto } from 'src/merchant/dto/merchant-profile.dto';
import type { UpdateMerchantDto } from 'src/merchant/dto/update-merchant.dto';
import { credentialContext } from 'src/merchant/merchant-directory';
import { Merchant, type MerchantProfile } from 'src/merchant/merchant.entity';
import { InstagramAccountTakenError, MerchantNotFoundError } from 'src/merchant/merchant.errors';

const ACCOUNT_UNIQUE = 'uq_merchants_instagram_account';
/**
 * Taken by every write of a merchant's account ids, so that the check that no other merchant
 * holds them (in either column) and the write are one step.
 */
const ACCOUNT_IDS_LOCK = "pg_advisory_xact_lock(hashtext('radd:merchant-account-ids'))";
const INBOUND_SECRET_BYTES = 32;

/** A merchant together with the inbound secret just made for it (shown to the caller once). */
export interface MerchantWithSecret {
  merchant: Merchant;
  inboundSecret: string;
}

/**
 * Merchants as operators and merchants manage them. Credentials are sealed with CredentialCipher
 * under `credentialContext(merchantId, field)` before they reach the database, and never leave it
 * in clear through this service.
 */
@Injectable()
export class MerchantService {
  constructor(
    @InjectRepository(Merchant) private readonly merchants: Repository<Merchant>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  async create(input: CreateMerchantDto): Promise<MerchantWithSecret> {
    const id = randomUUID();
    const inboundSecret = newInboundSecret();
    const credentials = input.credentials ?? {};
    const row: Partial<Merchant> = {
      id,
      name: input.name.trim(),
      instagramAccountId: input.instagramAccountId,
      pageId: input.pageId ?? null,
      deliveryChannel: input.deliveryChannel,
      profile: cleanProfile({}, input.profile),
      instagramAccessToken: this.seal(id, 'instagramAccessToken', credentials.instagramAccessToken),
      manychatApiKey: this.seal(id, 'manychatApiKey', credentials.manychatApiKey),
      manychatSubscriberField: credentials.manychatSubscriberField ?? null,
      inboundSecret: this.seal(id, 'inboundSecret', inboundSecret),
    };
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.assertAccountIdsFree(manager, id, row.instagramAccountId, row.pageId);
        await manager.insert(Merchant, row);
      });
    } catch (error) {
      if (isUniqueViolation(error, ACCOUNT_UNIQUE)) throw new InstagramAccountTakenError();
      throw error;
    }
    return { merchant: await this.get(id), inboundSecret };
  }

  /** Merchants, newest first. */
  async list(limit: number, cursor?: string): Promise<Page<Merchant>> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, ISO_MICROS);
    const query = this.merchants
      .createQueryBuilder('m')
      .addSelect(isoMicros('m.created_at'), 'sort_key')
      .orderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .limit(limit + 1);
    if (after) {
      query.where('(m.created_at, m.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', {
        at: after.key,
        id: after.id,
      });
    }
    const { entities, raw } = await query.getRawAndEntities<{ sort_key: string }>();
    const keys = new Map(entities.map((merchant, index) => [merchant.id, raw[index]?.sort_key]));
    return pageOf(
      entities,
      limit,
      (merchant) => merchant,
      (merchant) => encodeCursor(keys.get(merchant.id) ?? null, merchant.id),
    );
  }

  async get(merchantId: string): Promise<Merchant> {
    const merchant = await this.merchants.findOne({ where: { id: merchantId } });
    if (!merchant) throw new MerchantNotFoundError();
    return merchant;
  }

  /** Throws MerchantNotFoundError unless the merchant exists. */
  async assertExists(merchantId: string): Promise<void> {
    if (!(await this.merchants.exists({ where: { id: merchantId } }))) {
      throw new MerchantNotFoundError();
    }
  }

  async update(merchantId: string, patch: UpdateMerchantDto): Promise<Merchant> {
    try {
      await this.dataSource.transaction(async (manager) => {
        const merchant = await manager.findOne(Merchant, {
          where: { id: merchantId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!merchant) throw new MerchantNotFoundError();
        const changes: Partial<Merchant> = {};
        if (patch.name !== undefined) changes.name = patch.name.trim();
        if (patch.instagramAccountId !== undefined) {
          changes.instagramAccountId = patch.instagramAccountId;
        }
        if (patch.pageId !== undefined) changes.pageId = patch.pageId;
        if (changes.instagramAccountId !== undefined || changes.pageId !== undefined) {
          await this.assertAccountIdsFree(
            manager,
            merchantId,
            changes.instagramAccountId ?? merchant.instagramAccountId,
            changes.pageId === undefined ? merchant.pageId : changes.pageId,
          );
        }
        if (patch.deliveryChannel !== undefined) changes.deliveryChannel = patch.deliveryChannel;
        if (patch.profile !== undefined) {
          changes.profile = cleanProfile(merchant.profile, patch.profile);
        }
        const credentials = patch.credentials ?? {};
        if (credentials.instagramAccessToken !== undefined) {
          changes.instagramAccessToken = this.seal(
            merchantId,
            'instagramAccessToken',
            credentials.instagramAccessToken,
          );
          // A new token is a new authorisation: Meta's earlier refusal no longer applies.
          if (credentials.instagramAccessToken !== null) changes.needsReauth = false;
        }
        if (credentials.manychatApiKey !== undefined) {
          changes.manychatApiKey = this.seal(
            merchantId,
            'manychatApiKey',
            credentials.manychatApiKey,
          );
        }
        if (credentials.manychatSubscriberField !== undefined) {
          changes.manychatSubscriberField = credentials.manychatSubscriberField;
        }
        if (Object.keys(changes).length > 0) {
          await manager.update(Merchant, { id: merchantId }, changes);
        }
      });
    } catch (error) {
      if (isUniqueViolation(error, ACCOUNT_UNIQUE)) throw new InstagramAccountTakenError();
      throw error;
    }
    return this.get(merchantId);
  }

  /** A new ManyChat inbound secret; the old one stops working at once. */
  async rotateInboundSecret(merchantId: string): Promise<MerchantWithSecret> {
    const inboundSecret = newInboundSecret();
    const result = await this.merchants.update(
      { id: merchantId },
      { inboundSecret: this.seal(merchantId, 'inboundSecret', inboundSecret) },
    );
    if (!result.affected) throw new MerchantNotFoundError();
    return { merchant: await this.get(merchantId), inboundSecret };
  }

  /**
   * Webhooks are routed by `entry.id`, which is a merchant's Instagram account id or its Page id:
   * neither may be another merchant's, in either column, or that merchant's customers would be
   * routed here. Throws InstagramAccountTakenError naming the field.
   */
  private async assertAccountIdsFree(
    manager: EntityManager,
    merchantId: string,
    instagramAccountId: string | undefined,
    pageId: string | null | undefined,
  ): Promise<void> {
    await manager.query(`SELECT ${ACCOUNT_IDS_LOCK}`);
    const fields = [
      ['instagramAccountId', instagramAccountId],
      ['pageId', pageId],
    ] as const;
    for (const [field, accountId] of fields) {
      if (!accountId) continue;
      const [other] = await manager.query<unknown[]>(
        `SELECT 1 FROM merchants WHERE id <> $1 AND (instagram_account_id = $2 OR page_id = $2) LIMIT 1`,
        [merchantId, accountId],
      );
      if (other) throw new InstagramAccountTakenError(field);
    }
  }

  private seal(
    merchantId: string,
    field: 'instagramAccessToken' | 'manychatApiKey' | 'inboundSecret',
    value: string | null | undefined,
  ): string | null {
    if (value === undefined || value === null) return null;
    return this.cipher.encrypt(value, credentialContext(merchantId, field));
  }
}

function newInboundSecret(): string {
  return randomBytes(INBOUND_SECRET_BYTES).toString('base64url');
}

/** The stored profile with the given fields applied: values replace, null removes. */
function cleanProfile(
  stored: MerchantProfile,
  patch: MerchantProfileDto | undefined,
): MerchantProfile {
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  if (Array.isArray(merged.faq)) {
    merged.faq = (merged.faq as Array<{ question: string; answer: string }>).map((entry) => ({
      question: entry.question,
      answer: entry.answer,
    }));
  }
  return merged;
}
