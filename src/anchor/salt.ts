import { randomFillSync } from 'node:crypto';

const SALT_BYTES = 16;
/** Salts drawn from the system's random source at once (one call instead of one per record). */
const POOL_SALTS = 256;

/** Random 16-byte salts as hex, one per record, drawn from the system's CSPRNG in blocks. */
export class SaltPool {
  private readonly pool = Buffer.alloc(SALT_BYTES * POOL_SALTS);
  private offset = this.pool.byteLength;

  next(): string {
    if (this.offset === this.pool.byteLength) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const salt = this.pool.toString('hex', this.offset, this.offset + SALT_BYTES);
    this.offset += SALT_BYTES;
    return salt;
  }
}
