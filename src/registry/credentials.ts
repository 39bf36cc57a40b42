import { TwinLedgerError, ValidationError } from '../core/errors.js';
import type { HttpCallOptions } from '../core/http.js';
import { pathSegment, validateAuthId, validateDeviceId, validateTenantId } from '../core/ids.js';
import { MAX_BCRYPT_COST, type PasswordHashing, passwordSecret, validatePassword } from './passwords.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  Deadline,
  type IfMatchOptions,
  type ModifyOptions,
  type RegistryTransport,
  jsonCopy,
  requestOptions,
  retryOnConflict,
  validateCallOptions,
} from './transport.js';
import type {
  CommonSecret,
  Credential,
  CredentialType,
  PasswordCredential,
  PskCredential,
  Versioned,
  X509CertificateCredential,
} from './types.js';
import {
  confidentialValues,
  isBase64,
  isPlainObject,
  validateCredentialType,
  validateCredentials,
  validateDateTime,
} from './validation.js';
import { normalizeSubjectDn, parseCertificatePem, sameSubjectDn } from './x509.js';

export interface CredentialsSetOptions extends IfMatchOptions {
  /** Accept credential types other than the four Hono knows (stored as generic credentials). */
  allowCustomTypes?: boolean;
}

/** Options shared by the credential helpers (read-modify-write with `If-Match`). */
export interface CredentialHelperOptions extends ModifyOptions {
  /** Validity of the new secret (RFC 3339 string or Date). */
  notBefore?: string | Date;
  notAfter?: string | Date;
  /** Free text stored with the new secret. Never put the secret itself here. */
  comment?: string;
}

/**
 * `replace` (default): the credential's secrets become just the new one (existing secrets are dropped);
 * `add`: the new secret is added next to the existing ones (e.g. for a password rollover).
 */
export type SecretMode = 'add' | 'replace';

export interface PasswordOptions extends CredentialHelperOptions {
  /**
   * `plain` sends `pwd-plain` (the registry hashes it); `bcrypt` (default cost 10), `sha-256`, `sha-512`
   * hash here, so the clear text never leaves the process. Default `plain`.
   */
  hash?: PasswordHashing;
  /** bcrypt cost factor, 4..10 (Hono refuses more than 10). Default 10. */
  bcryptCost?: number;
  mode?: SecretMode;
}

export interface PskOptions extends CredentialHelperOptions {
  mode?: SecretMode;
}

/** The device certificate's subject DN (RFC 2253), or the certificate itself (the registry extracts DN and validity). */
export type X509Identity = { subjectDn: string } | { certificatePem: string };

export interface RemoveCredentialOptions extends ModifyOptions {
  allowCustomTypes?: boolean;
}

type Edit = (current: Credential[]) => Credential[] | undefined;

function validateMode(mode: unknown): SecretMode {
  if (mode === undefined) return 'replace';
  if (mode !== 'add' && mode !== 'replace')
    throw new ValidationError('options.mode', `must be "add" or "replace", got ${JSON.stringify(mode)}`);
  return mode;
}

function isoDate(field: string, value: string | Date): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError(field, 'is an invalid Date');
    return value.toISOString();
  }
  validateDateTime(field, value);
  return value;
}

/** The metadata of a new secret from the helper options. */
function secretMetadata(options: CredentialHelperOptions | undefined): CommonSecret {
  const secret: CommonSecret = {};
  if (options?.notBefore !== undefined) secret['not-before'] = isoDate('options.notBefore', options.notBefore);
  if (options?.notAfter !== undefined) secret['not-after'] = isoDate('options.notAfter', options.notAfter);
  if (
    secret['not-before'] !== undefined &&
    secret['not-after'] !== undefined &&
    Date.parse(secret['not-before']) >= Date.parse(secret['not-after'])
  ) {
    throw new ValidationError('options.notAfter', 'must be later than notBefore');
  }
  if (options?.comment !== undefined) {
    if (typeof options.comment !== 'string') throw new ValidationError('options.comment', 'must be a string');
    secret.comment = options.comment;
  }
  return secret;
}

/** A credential as read, ready to be sent back: a copy without `device-id` (Hono answers 400 to it). */
function resendable(credential: Credential): Credential {
  const copy = jsonCopy(credential) as Credential & { 'device-id'?: unknown };
  delete copy['device-id'];
  return copy;
}

/**
 * `/credentials/{tenantId}/{deviceId}`: the whole credentials array of a device, plus helpers that
 * change one credential at a time.
 *
 * The helpers follow Hono's patch mode: they read the array (secrets come back with their `id` and
 * without confidential data), change only the one credential, and write the whole array back with
 * `If-Match`. Secrets sent with their `id` are kept as they are; credentials left out are deleted.
 */
export class CredentialsApi {
  constructor(private readonly transport: RegistryTransport) {}

  private path(tenantId: string, deviceId: string): string {
    return `/credentials/${pathSegment(tenantId)}/${pathSegment(deviceId)}`;
  }

  private ids(tenantId: unknown, deviceId: unknown): void {
    validateTenantId(tenantId, this.transport.rules);
    validateDeviceId(deviceId, this.transport.rules);
  }

  /** `GET /credentials/{tenantId}/{deviceId}`: every credential of the device (secrets without confidential data). */
  async get(tenantId: string, deviceId: string, options?: HttpCallOptions): Promise<Versioned<Credential[]>> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    const response = await this.transport.send<unknown>({ method: 'GET', path: this.path(tenantId, deviceId), ...requestOptions(options) });
    if (!Array.isArray(response.data)) {
      throw new TwinLedgerError(`the registry answered GET credentials of ${deviceId} without a JSON array`, {
        code: 'registry.unexpected-response',
      });
    }
    return { value: response.data as Credential[], etag: response.etag };
  }

  /**
   * `PUT /credentials/{tenantId}/{deviceId}`: replaces the device's whole credentials array. Secrets
   * with an `id` keep their stored confidential data; credentials not in `credentials` are deleted.
   */
  async set(
    tenantId: string,
    deviceId: string,
    credentials: Credential[],
    options?: CredentialsSetOptions,
  ): Promise<{ etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    if (options?.allowCustomTypes !== undefined && typeof options.allowCustomTypes !== 'boolean') {
      throw new ValidationError('options.allowCustomTypes', 'must be a boolean');
    }
    const valid = validateCredentials(credentials, this.transport.rules, options?.allowCustomTypes ?? false);
    this.transport.addSecrets(confidentialValues(valid));
    return this.put(tenantId, deviceId, valid, requestOptions(options, options?.ifMatch));
  }

  /** Deletes every credential of the device (`PUT` of an empty array). */
  async clear(tenantId: string, deviceId: string, options?: IfMatchOptions): Promise<{ etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    return this.put(tenantId, deviceId, [], requestOptions(options, options?.ifMatch));
  }

  /**
   * Sets the password of the `hashed-password` credential `authId` (devices log in as `authId@tenant`),
   * creating the credential if needed. Other credentials and their secrets stay as they are.
   */
  async setPassword(
    tenantId: string,
    deviceId: string,
    authId: string,
    password: string,
    options?: PasswordOptions,
  ): Promise<{ etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    validateAuthId(authId, this.transport.rules);
    validateCallOptions(options);
    const hashing = options?.hash ?? 'plain';
    validatePassword(password, hashing, options?.bcryptCost);
    // Registered first, so that nothing thrown or logged from here on can show it.
    this.transport.addSecrets([password]);
    const mode = validateMode(options?.mode);
    const metadata = secretMetadata(options);
    const hashed = await passwordSecret(password, hashing, options?.bcryptCost ?? MAX_BCRYPT_COST);
    this.transport.addSecrets(confidentialValues([{ type: 'hashed-password', 'auth-id': authId, secrets: [hashed] }]));
    const secret = { ...metadata, ...hashed };
    const { etag } = await this.change(tenantId, deviceId, `setPassword ${authId}`, options, (current) =>
      upsertSecret(current, 'hashed-password', authId, secret, mode),
    );
    return { etag };
  }

  /** Sets the shared key of the `psk` credential `authId` (the PSK identity), creating it if needed. */
  async setPsk(
    tenantId: string,
    deviceId: string,
    authId: string,
    key: Uint8Array | string,
    options?: PskOptions,
  ): Promise<{ etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    validateAuthId(authId, this.transport.rules);
    validateCallOptions(options);
    let encoded: string;
    if (key instanceof Uint8Array) {
      if (key.byteLength === 0) throw new ValidationError('key', 'must not be empty');
      encoded = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
    } else if (isBase64(key)) {
      encoded = key;
    } else {
      throw new ValidationError(
        'key',
        'must be raw bytes (Uint8Array) or a non-empty Base64 string',
        'Encode a text key first, e.g. Buffer.from(text).',
      );
    }
    this.transport.addSecrets([encoded]);
    const mode = validateMode(options?.mode);
    const secret = { ...secretMetadata(options), key: encoded };
    const { etag } = await this.change(tenantId, deviceId, `setPsk ${authId}`, options, (current) =>
      upsertSecret(current, 'psk', authId, secret, mode),
    );
    return { etag };
  }

  /**
   * Registers the device's X.509 client certificate: by subject DN (auth-id = the RFC 2253 DN,
   * normalised; validity from `notBefore`/`notAfter`), or by the certificate itself (sent as `cert`; the
   * registry extracts DN and validity). Replaces an x509-cert credential with the same subject DN.
   */
  async setX509(
    tenantId: string,
    deviceId: string,
    identity: X509Identity,
    options?: CredentialHelperOptions,
  ): Promise<{ etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    if (!isPlainObject(identity) || 'subjectDn' in identity === 'certificatePem' in identity) {
      throw new ValidationError('identity', 'must be either { subjectDn } or { certificatePem }');
    }
    let wanted: X509CertificateCredential;
    let subjectDn: string;
    if ('subjectDn' in identity) {
      subjectDn = normalizeSubjectDn(identity.subjectDn, 'identity.subjectDn');
      wanted = { type: 'x509-cert', 'auth-id': subjectDn, secrets: [secretMetadata(options)] };
    } else {
      if (options?.notBefore !== undefined || options?.notAfter !== undefined) {
        throw new ValidationError(
          'options.notBefore',
          'cannot be set with certificatePem',
          'The registry takes the validity from the certificate.',
        );
      }
      const parsed = parseCertificatePem(identity.certificatePem, 'identity.certificatePem');
      subjectDn = parsed.subjectDn;
      wanted = { type: 'x509-cert', cert: parsed.der };
    }
    const { etag } = await this.change(tenantId, deviceId, `setX509 ${subjectDn}`, options, (current) => {
      const index = current.findIndex(
        (credential) =>
          credential.type === 'x509-cert' && typeof credential['auth-id'] === 'string' && sameSubjectDn(credential['auth-id'], subjectDn),
      );
      if (index < 0) return [...current, wanted];
      const existing = current[index] as X509CertificateCredential;
      const merged: X509CertificateCredential = { ...wanted };
      if (existing.enabled !== undefined) merged.enabled = existing.enabled;
      if (existing.ext !== undefined) merged.ext = existing.ext;
      const next = [...current];
      next[index] = merged;
      return next;
    });
    return { etag };
  }

  /**
   * Removes the credential with this type and auth-id (x509-cert: subject DN), keeping all others.
   * `removed: false` (and no write) when the device has no such credential.
   */
  async remove(
    tenantId: string,
    deviceId: string,
    type: CredentialType,
    authId: string,
    options?: RemoveCredentialOptions,
  ): Promise<{ etag: string | undefined; removed: boolean }> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    const credentialType = validateCredentialType(type, options?.allowCustomTypes === true);
    let matches: (candidate: unknown) => boolean;
    if (credentialType === 'x509-cert') {
      const subjectDn = normalizeSubjectDn(authId, 'authId');
      matches = (candidate) => typeof candidate === 'string' && sameSubjectDn(candidate, subjectDn);
    } else {
      validateAuthId(authId, this.transport.rules);
      matches = (candidate) => candidate === authId;
    }
    const { etag, changed } = await this.change(tenantId, deviceId, `remove ${credentialType} ${authId}`, options, (current) => {
      const kept = current.filter((credential) => !(credential.type === credentialType && matches(credential['auth-id'])));
      return kept.length === current.length ? undefined : kept;
    });
    return { etag, removed: changed };
  }

  private async put(
    tenantId: string,
    deviceId: string,
    credentials: Credential[],
    options: HttpCallOptions,
  ): Promise<{ etag: string | undefined }> {
    const response = await this.transport.send({ method: 'PUT', path: this.path(tenantId, deviceId), body: credentials, ...options });
    return { etag: response.etag };
  }

  /** GET, edit, PUT with `If-Match`; on 412 start over. `edit` returning undefined means "nothing to change". */
  private async change(
    tenantId: string,
    deviceId: string,
    what: string,
    options: ModifyOptions | undefined,
    edit: Edit,
  ): Promise<{ etag: string | undefined; changed: boolean }> {
    const deadline = new Deadline(`credentials ${what}`, options, this.transport.http.timeoutMs);
    const result = await retryOnConflict(
      options?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      this.transport.logger,
      `credentials.${what}`,
      async () => {
        const current = await this.get(tenantId, deviceId, deadline.next());
        const next = edit(current.value.map(resendable));
        if (next === undefined) return { etag: current.etag, changed: false };
        const { etag } = await this.put(tenantId, deviceId, next, deadline.next(current.etag));
        return { etag, changed: true };
      },
    );
    this.transport.logger.debug('credentials updated', { tenantId, deviceId, operation: what, changed: result.changed });
    return result;
  }
}

/** Adds `secret` to, or makes it the only secret of, the credential `type`/`authId`; creates the credential if missing. */
function upsertSecret(
  current: Credential[],
  type: 'hashed-password' | 'psk',
  authId: string,
  secret: CommonSecret & Record<string, unknown>,
  mode: SecretMode,
): Credential[] {
  const index = current.findIndex((credential) => credential.type === type && credential['auth-id'] === authId);
  if (index < 0) {
    const created = { type, 'auth-id': authId, secrets: [secret] } as PasswordCredential | PskCredential;
    return [...current, created];
  }
  const existing = current[index] as PasswordCredential | PskCredential;
  const secrets = mode === 'add' ? [...(existing.secrets ?? []), secret] : [secret];
  const next = [...current];
  next[index] = { ...existing, secrets } as PasswordCredential | PskCredential;
  return next;
}
