import type { HintProvider, HttpRequest } from '../core/http.js';
import type { Redactor } from '../core/redact.js';

type Resource = 'tenant' | 'device' | 'credentials';

function resourceOf(request: HttpRequest): Resource {
  if (request.path.startsWith('/tenants')) return 'tenant';
  if (request.path.startsWith('/credentials')) return 'credentials';
  return 'device';
}

const NOT_VISIBLE = 'or you may not see it (Hono answers 404 for 403)';

/**
 * Explains registry failures. The 400 hint repeats Hono's error text, passed through the redactor so
 * that a password echoed by the server stays hidden.
 */
export function registryHints(redactor: Redactor): HintProvider {
  return (status, upstreamCode, request) => {
    const resource = resourceOf(request);
    switch (status) {
      case 400: {
        const text = upstreamCode === undefined ? 'no reason given' : redactor.redactText(upstreamCode);
        return `The registry rejected the request as malformed: ${text}. Check the body and IDs against the Hono device registry API.`;
      }
      case 401:
        return 'The registry requires authentication: pass auth (basic or bearer) in the DeviceRegistry options.';
      case 403:
        return 'The registry does not allow this operation for your user.';
      case 404:
        if (resource === 'tenant') return `The tenant does not exist — ${NOT_VISIBLE}.`;
        return `The tenant or device does not exist — ${NOT_VISIBLE}.`;
      case 409:
        if (resource === 'tenant') {
          return 'A tenant with this ID already exists, or another tenant already uses a trusted CA with the same subject DN.';
        }
        if (resource === 'credentials') {
          return 'A credential with this type and auth-id already exists for another device of the tenant; auth-ids must be unique per tenant and type.';
        }
        return 'A device with this ID already exists in the tenant.';
      case 412:
        return 'The resource changed since you read it; re-read it (get) and retry with the new ETag, or use modify(), which does that for you.';
      case 413:
        return "The request body exceeds the registry's configured size limit.";
      case 429:
      case 503:
        return 'The registry is overloaded or unavailable; idempotent requests were retried. Try again later.';
      default:
        return undefined;
    }
  };
}
