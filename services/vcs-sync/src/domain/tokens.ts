import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VcsSyncError } from '../errors.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals remote tokens at rest with AES-256-GCM: a fresh IV per token, the
 * project id as associated data (a sealed token copied to another project's
 * row does not open), iv || tag || ciphertext in one value. Without a key,
 * sealing refuses (503 VCS_SYNC_TOKENS_DISABLED) and nothing is stored.
 */
export class TokenSealer {
  constructor(private readonly key: Buffer | undefined) {}

  /** Whether tokens can be kept at all. */
  get enabled(): boolean {
    return this.key !== undefined;
  }

  /** Refuses with 503 VCS_SYNC_TOKENS_DISABLED when no key is configured: before any work that would need one. */
  assertEnabled(): void {
    this.requireKey();
  }

  seal(token: string, projectId: string): Buffer {
    const key = this.requireKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(projectId));
    const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
  }

  open(sealed: Buffer, projectId: string): string {
    const key = this.requireKey();
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(projectId));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  private requireKey(): Buffer {
    if (!this.key) {
      throw new VcsSyncError(
        'VCS_SYNC_TOKENS_DISABLED',
        'This installation keeps no remote tokens (no VCS_SYNC_TOKEN_KEY); use a public remote or ask the operator.',
      );
    }
    return this.key;
  }
}
