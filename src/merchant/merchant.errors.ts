import { DomainError } from 'src/common/domain-error';

export class MerchantNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'merchant not found');
  }
}

export class InstagramAccountTakenError extends DomainError {
  constructor(field: 'instagramAccountId' | 'pageId' = 'instagramAccountId') {
    super('conflict', `${field} is already used by another merchant`);
  }
}

export class ProductNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'product not found');
  }
}

export class DuplicateSkuError extends DomainError {
  constructor(sku: string) {
    super('conflict', `this merchant already has a product with sku ${JSON.stringify(sku)}`);
  }
}

/** An import refused as a whole: every problem, numbered by row. */
export class ProductImportError extends DomainError {
  constructor(readonly problems: string[]) {
    super('invalid', `nothing was imported: ${problems.join('; ')}`);
  }
}
