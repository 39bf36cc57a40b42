import { createHash, randomBytes } from 'node:crypto';
import { genSalt, hash as bcryptHash } from 'bcryptjs';
import { ValidationError } from '../core/errors.js';
import type { PasswordSecret } from './types.js';

/** How `setPassword` sends a password: clear text for the registry to hash, or hashed here. */
export type PasswordHashing = 'plain' | 'bcrypt' | 'sha-256' | 'sha-512';

export const PASSWORD_HASHINGS: readonly PasswordHashing[] = Object.freeze(['plain', 'bcrypt', 'sha-256', 'sha-512']);

/** Hono's default `hono.credentials.maxBcryptCostFactor`: hashes with a higher cost are refused. */
export const MAX_BCRYPT_COST = 10;
/** bcrypt's own minimum. */
export const MIN_BCRYPT_COST = 4;
/** bcrypt only uses the first 72 bytes of a password. */
export const MAX_BCRYPT_PASSWORD_BYTES = 72;

/** `$2a$NN$` + 22 salt + 31 hash characters. Hono verifies `$2a$` hashes only. */
export const BCRYPT_HASH = /^\$2a\$(\d{2})\$[./A-Za-z0-9]{53}$/;

const SALT_BYTES = 16;

/** Checks password and hashing options; messages never contain the password. */
export function validatePassword(password: unknown, hashing: unknown, bcryptCost: unknown): asserts password is string {
  if (typeof password !== 'string' || password.length === 0) {
    throw new ValidationError('password', 'must be a non-empty string');
  }
  if (typeof hashing !== 'string' || !PASSWORD_HASHINGS.includes(hashing as PasswordHashing)) {
    throw new ValidationError('hash', `must be one of ${PASSWORD_HASHINGS.join(', ')}, got ${JSON.stringify(hashing)}`);
  }
  if (bcryptCost !== undefined) validateBcryptCost('bcryptCost', bcryptCost);
  if (hashing === 'bcrypt' && Buffer.byteLength(password, 'utf8') > MAX_BCRYPT_PASSWORD_BYTES) {
    throw new ValidationError(
      'password',
      `is longer than ${MAX_BCRYPT_PASSWORD_BYTES} bytes (UTF-8); bcrypt would silently ignore the rest`,
      'Use a shorter password, or hash: "sha-512" / "plain".',
    );
  }
}

export function validateBcryptCost(field: string, cost: unknown): void {
  if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
    throw new ValidationError(
      field,
      `must be an integer from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}, got ${JSON.stringify(cost)}`,
      `Hono refuses bcrypt hashes with a cost factor above ${MAX_BCRYPT_COST} (its default maxBcryptCostFactor).`,
    );
  }
}

/**
 * Builds the secret for a password: `pwd-plain`, or `pwd-hash` computed here so the clear text never
 * leaves the process. sha-*: `pwd-hash` = Base64(hash(salt ‖ UTF-8 password)) with a random 16-byte salt.
 */
export async function passwordSecret(
  password: string,
  hashing: PasswordHashing,
  bcryptCost: number = MAX_BCRYPT_COST,
): Promise<PasswordSecret> {
  switch (hashing) {
    case 'plain':
      return { 'pwd-plain': password };
    case 'bcrypt': {
      // bcryptjs 3 writes `$2b$` salts; Hono accepts `$2a$` only. Both variants hash identically for
      // passwords under 255 bytes, so a `$2a$` salt yields the hash Hono expects.
      const salt = (await genSalt(bcryptCost)).replace(/^\$2b\$/, '$2a$');
      const hashed = await bcryptHash(password, salt);
      return { 'hash-function': 'bcrypt', 'pwd-hash': hashed };
    }
    case 'sha-256':
    case 'sha-512': {
      const salt = randomBytes(SALT_BYTES);
      const digest = createHash(hashing === 'sha-256' ? 'sha256' : 'sha512')
        .update(salt)
        .update(Buffer.from(password, 'utf8'))
        .digest();
      return { 'hash-function': hashing, 'pwd-hash': digest.toString('base64'), salt: salt.toString('base64') };
    }
  }
}
