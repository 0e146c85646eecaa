import type { DataSource } from 'typeorm';
import { rowsOf } from 'src/database/sql';
import { type CredentialCipher, CredentialDecryptionError } from 'src/merchant/credential-cipher';
import { credentialContext } from 'src/merchant/merchant-directory';

/** Every encrypted column of `merchants`, by the field name its ciphertext is bound to. */
export const CREDENTIAL_COLUMNS = {
  instagramAccessToken: 'instagram_access_token',
  manychatApiKey: 'manychat_api_key',
  inboundSecret: 'inbound_secret',
} as const;
export type CredentialField = keyof typeof CREDENTIAL_COLUMNS;
const FIELDS = Object.keys(CREDENTIAL_COLUMNS) as CredentialField[];

export interface RotationReport {
  /** Merchants that hold at least one credential. */
  merchants: number;
  /** Values re-encrypted with the current key, per field. */
  reencrypted: Record<CredentialField, number>;
  /** Values already sealed with the current key. */
  alreadyCurrent: number;
}

/** A stored credential that neither configured key opens: rotation stopped, nothing changed. */
export class CredentialRotationError extends Error {
  constructor(merchantId: string, field: CredentialField, reason: string) {
    super(`merchant ${merchantId}, ${field}: ${reason}; nothing was changed`);
    this.name = 'CredentialRotationError';
  }
}

/**
 * Re-encrypts, with ENCRYPTION_KEY, every stored credential sealed with another key (normally
 * ENCRYPTION_KEY_PREVIOUS), in one transaction: afterwards the previous key can be dropped. Rows
 * are locked while they are rewritten, so a concurrent update cannot be overwritten.
 */
export async function rotateCredentials(
  dataSource: DataSource,
  cipher: CredentialCipher,
): Promise<RotationReport> {
  const columns = FIELDS.map((field) => CREDENTIAL_COLUMNS[field]);
  return dataSource.transaction(async (manager) => {
    const rows = await rowsOf<Record<string, string | null>>(
      manager,
      `SELECT id, ${columns.join(', ')} FROM merchants
        WHERE ${columns.map((column) => `${column} IS NOT NULL`).join(' OR ')}
        ORDER BY id FOR UPDATE`,
    );
    const report: RotationReport = {
      merchants: rows.length,
      reencrypted: { instagramAccessToken: 0, manychatApiKey: 0, inboundSecret: 0 },
      alreadyCurrent: 0,
    };
    for (const row of rows) {
      const merchantId = row.id as string;
      const changes: Array<[string, string]> = [];
      for (const field of FIELDS) {
        const sealed = row[CREDENTIAL_COLUMNS[field]];
        if (sealed === null || sealed === undefined) continue;
        if (cipher.isCurrent(sealed)) {
          report.alreadyCurrent += 1;
          continue;
        }
        const context = credentialContext(merchantId, field);
        let plaintext: string;
        try {
          plaintext = cipher.decrypt(sealed, context);
        } catch (error) {
          if (error instanceof CredentialDecryptionError) {
            throw new CredentialRotationError(merchantId, field, error.message);
          }
          throw error;
        }
        changes.push([CREDENTIAL_COLUMNS[field], cipher.encrypt(plaintext, context)]);
        report.reencrypted[field] += 1;
      }
      if (changes.length === 0) continue;
      await manager.query(
        `UPDATE merchants SET ${changes.map(([column], index) => `${column} = $${index + 2}`).join(', ')}
          WHERE id = $1`,
        [merchantId, ...changes.map(([, value]) => value)],
      );
    }
    return report;
  });
}
