import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { securityConfig, type SecurityConfig } from 'src/config/security.config';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CredentialDecryptionError extends Error {
  constructor(reason: string) {
    super(`stored credential cannot be decrypted: ${reason}`);
    this.name = 'CredentialDecryptionError';
  }
}

/** Short public fingerprint of a key: says which key sealed a value, reveals nothing of it. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM for credentials at rest: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts), with
 * a random 96-bit IV per value and the owner (merchant and field) bound in as associated data, so a
 * ciphertext copied to another merchant or column does not decrypt. Reads with ENCRYPTION_KEY or,
 * during rotation, ENCRYPTION_KEY_PREVIOUS; always writes with ENCRYPTION_KEY.
 */
@Injectable()
export class CredentialCipher {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  constructor(@Inject(securityConfig.KEY) config: SecurityConfig) {
    this.current = { id: keyId(config.encryptionKey), key: config.encryptionKey };
    this.keys.set(this.current.id, config.encryptionKey);
    if (config.encryptionKeyPrevious) {
      this.keys.set(keyId(config.encryptionKeyPrevious), config.encryptionKeyPrevious);
    }
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, b64(iv), b64(cipher.getAuthTag()), b64(sealed)].join('.');
  }

  decrypt(value: string, context: string): string {
    const [version, id, iv, tag, sealed] = value.split('.');
    if (
      version !== VERSION ||
      !id ||
      iv === undefined ||
      tag === undefined ||
      sealed === undefined
    ) {
      throw new CredentialDecryptionError('unknown format');
    }
    const key = this.keys.get(id);
    if (!key) throw new CredentialDecryptionError(`sealed with key ${id}, which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(sealed, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new CredentialDecryptionError('authentication failed');
    }
  }

  /** Whether a stored value was sealed with the current key (rotation leaves none that is not). */
  isCurrent(value: string): boolean {
    return value.split('.')[1] === this.current.id;
  }
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}
