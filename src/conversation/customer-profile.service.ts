import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Customer } from 'src/conversation/customer.entity';
import { GraphApiError, InstagramGraphClient } from 'src/instagram/instagram-graph.client';
import { MerchantDirectory } from 'src/merchant/merchant-directory';

/** Graph error codes (meta-instagram spec §5.3, §9). */
const CONSENT_REQUIRED = 230;
const TOKEN_INVALID = 190;

/**
 * Fills in a new customer's name, username and picture from the Graph profile endpoint, best
 * effort: a missing consent (230) is normal, a refused token (190) flags the merchant for
 * re-authorisation, and nothing here ever fails the message it follows.
 */
@Injectable()
export class CustomerProfileService {
  private readonly logger = new Logger(CustomerProfileService.name);

  constructor(
    @InjectRepository(Customer) private readonly customers: Repository<Customer>,
    private readonly merchants: MerchantDirectory,
    private readonly graph: InstagramGraphClient,
  ) {}

  /** Never rejects: callers may leave it running in the background. */
  async refresh(merchantId: string, customerId: string, igsid: string): Promise<void> {
    try {
      await this.lookUp(merchantId, customerId, igsid);
    } catch (error) {
      this.logger.warn({ merchantId, err: error }, 'customer profile update failed');
    }
  }

  private async lookUp(merchantId: string, customerId: string, igsid: string): Promise<void> {
    try {
      const token = await this.merchants.instagramToken(merchantId);
      if (!token) return;
      const profile = await this.graph.userProfile(token, igsid);
      await this.customers.update(
        { id: customerId, merchantId },
        {
          name: profile.name ?? null,
          username: profile.username ?? undefined,
          profilePicUrl: profile.profilePic ?? null,
          profileFetchedAt: new Date(),
        },
      );
    } catch (error) {
      if (error instanceof GraphApiError && error.code === CONSENT_REQUIRED) {
        await this.customers.update(
          { id: customerId, merchantId },
          { profileFetchedAt: new Date() },
        );
        return;
      }
      if (error instanceof GraphApiError && error.code === TOKEN_INVALID) {
        this.logger.warn(
          { merchantId },
          'Instagram token refused (190): merchant needs re-authorisation',
        );
        await this.merchants.markNeedsReauth(merchantId);
        return;
      }
      this.logger.warn({ merchantId, err: error }, 'customer profile lookup failed');
    }
  }
}
