import { InitialSchema1764160000000 } from 'src/database/migrations/1764160000000-initial-schema';
import { InboundEvents1764170000000 } from 'src/database/migrations/1764170000000-inbound-events';
import { Replies1764180000000 } from 'src/database/migrations/1764180000000-replies';
import { DeliveryParts1764195000000 } from 'src/database/migrations/1764195000000-delivery-parts';
import { OwedWork1764210000000 } from 'src/database/migrations/1764210000000-owed-work';
import { CatalogueVersion1764220000000 } from 'src/database/migrations/1764220000000-catalogue-version';
import { SendingAttempt1764230000000 } from 'src/database/migrations/1764230000000-sending-attempt';
import { MerchantPageIndex1764240000000 } from 'src/database/migrations/1764240000000-merchant-page-index';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  InitialSchema1764160000000,
  InboundEvents1764170000000,
  Replies1764180000000,
  DeliveryParts1764195000000,
  OwedWork1764210000000,
  CatalogueVersion1764220000000,
  SendingAttempt1764230000000,
  MerchantPageIndex1764240000000,
];
