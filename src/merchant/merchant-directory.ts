import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { Merchant, type DeliveryChannel } from 'src/merchant/merchant.entity';
import { safeEqual } from 'src/common/safe-equal';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What routing and ingestion need to know of a merchant: no credentials. */
export interface MerchantRoute {
  id: string;
  instagramAccountId: string;
  pageId: string | null;
  deliveryChannel: DeliveryChannel;
}

/** The field name a credential is sealed under: binds each ciphertext to its merchant and column. */
export function credentialContext(
  merchantId: string,
  field: 'instagramAccessToken' | 'manychatApiKey' | 'inboundSecret',
): string {
  return `merchant:${merchantId}:${field}`;
}

/** Finds merchants by the ids Meta uses for them, and opens their credentials when needed. */
@Injectable()
export class MerchantDirectory {
  private readonly logger = new Logger(MerchantDirectory.name);

  constructor(
    @InjectRepository(Merchant) private readonly merchants: Repository<Merchant>,
    private readonly cipher: CredentialCipher,
  ) {}

  /** Merchants owning these accounts, keyed by the id asked for (an IG account id or a Page id). */
  async byAccountIds(accountIds: readonly string[]): Promise<Map<string, MerchantRoute>> {
    const ids = [...new Set(accountIds)].filter((id) => id !== '' && id !== '0');
    const routes = new Map<string, MerchantRoute>();
    if (ids.length === 0) return routes;
    // On every stored webhook: one plain query, without the ORM's per-query work.
    const found = await this.merchants.query<MerchantRoute[]>(
      `SELECT id, instagram_account_id AS "instagramAccountId", page_id AS "pageId",
              delivery_channel AS "deliveryChannel"
         FROM merchants WHERE instagram_account_id = ANY($1::text[]) OR page_id = ANY($1::text[])`,
      [ids],
    );
    // An id two merchants hold (rows older than the check that prevents it) routes to neither:
    // its events are stored unrouted rather than handed to one of them at random.
    const shared = new Set<string>();
    const claim = (accountId: string, route: MerchantRoute) => {
      const held = routes.get(accountId);
      if (held && held.id !== route.id) shared.add(accountId);
      else routes.set(accountId, route);
    };
    for (const merchant of found) {
      const route: MerchantRoute = {
        id: merchant.id,
        instagramAccountId: merchant.instagramAccountId,
        pageId: merchant.pageId,
        deliveryChannel: merchant.deliveryChannel,
      };
      if (merchant.pageId) claim(merchant.pageId, route);
      claim(merchant.instagramAccountId, route);
    }
    for (const accountId of shared) routes.delete(accountId);
    if (shared.size > 0) {
      this.logger.error(
        { accountIds: [...shared] },
        'an account id belongs to more than one merchant: its events are stored unrouted; give each merchant its own ids',
      );
    }
    return routes;
  }

  /** The merchant's Instagram access token in clear, or null when it has none. */
  async instagramToken(merchantId: string): Promise<string | null> {
    const merchant = await this.merchants.findOne({
      select: { id: true, instagramAccessToken: true },
      where: { id: merchantId },
    });
    if (!merchant?.instagramAccessToken) return null;
    return this.cipher.decrypt(
      merchant.instagramAccessToken,
      credentialContext(merchantId, 'instagramAccessToken'),
    );
  }

  /** The merchant's own ManyChat API key in clear, or null when it has none. */
  async manychatApiKey(merchantId: string): Promise<string | null> {
    const merchant = await this.merchants.findOne({
      select: { id: true, manychatApiKey: true },
      where: { id: merchantId },
    });
    return this.openManychatApiKey(merchantId, merchant?.manychatApiKey ?? null);
  }

  /** Opens a ManyChat API key as stored (read with other columns); null stays null. */
  openManychatApiKey(merchantId: string, sealed: string | null): string | null {
    if (!sealed) return null;
    return this.cipher.decrypt(sealed, credentialContext(merchantId, 'manychatApiKey'));
  }

  /** Whether `secret` is the merchant's ManyChat inbound secret (constant-time); false for no merchant. */
  async inboundSecretMatches(merchantId: string, secret: string): Promise<boolean> {
    if (!UUID.test(merchantId)) return false;
    const merchant = await this.merchants.findOne({
      select: { id: true, inboundSecret: true },
      where: { id: merchantId },
    });
    if (!merchant?.inboundSecret) return false;
    const expected = this.cipher.decrypt(
      merchant.inboundSecret,
      credentialContext(merchant.id, 'inboundSecret'),
    );
    return safeEqual(secret, expected);
  }

  async route(merchantId: string): Promise<MerchantRoute | null> {
    if (!UUID.test(merchantId)) return null;
    const merchant = await this.merchants.findOne({
      select: { id: true, instagramAccountId: true, pageId: true, deliveryChannel: true },
      where: { id: merchantId },
    });
    return merchant
      ? {
          id: merchant.id,
          instagramAccountId: merchant.instagramAccountId,
          pageId: merchant.pageId,
          deliveryChannel: merchant.deliveryChannel,
        }
      : null;
  }

  /** Meta refused the merchant's token (error 190): a person must connect the account again. */
  async markNeedsReauth(merchantId: string): Promise<void> {
    await this.merchants.update({ id: merchantId }, { needsReauth: true });
  }
}
