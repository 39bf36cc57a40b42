import type { HintProvider, HttpRequest } from '../core/http.js';

const MESSAGE_PATH = /\/(?:inbox|outbox)\/(?:messages\/|claim$)/;
const CONNECTION_PATH = /^\/api\/2\/connections(?:\/|$)/;

function header(request: HttpRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

function queryValue(request: HttpRequest, name: string): string | undefined {
  const value = request.query?.[name];
  return value === undefined || value === null ? undefined : String(value);
}

const POLICY_PATH = /^\/api\/2\/policies(?:\/|$)/;

/** Where a request asked Ditto's history to be read (or a history stream to start): `revision 7`, `2024-05-01T12:00:00Z`. */
function historyRequested(request: HttpRequest): string | undefined {
  const revision = header(request, 'at-historical-revision');
  if (revision !== undefined) return `revision ${revision}`;
  const timestamp = header(request, 'at-historical-timestamp');
  if (timestamp !== undefined) return timestamp;
  const fromRevision = queryValue(request, 'from-historical-revision');
  return fromRevision !== undefined ? `revision ${fromRevision}` : queryValue(request, 'from-historical-timestamp');
}

/** Where Ditto's history is configured, for the service that keeps this entity. */
function retentionHint(request: HttpRequest): string {
  const service = POLICY_PATH.test(request.path) ? 'policies' : CONNECTION_PATH.test(request.path) ? 'connectivity' : 'things';
  return (
    `Ditto keeps the history only as long as its background cleanup allows: \`history-retention-duration\` in the ${service} ` +
    `service's \`cleanup\` config (env CLEANUP_HISTORY_RETENTION_DURATION; Ditto Helm chart ` +
    `\`${service}.config.cleanup.history.retentionDuration\`, 30d by default) — history must be enabled there.`
  );
}

/**
 * Hints for Ditto's history API (`at-historical-*` headers, `from-historical-*` SSE parameters); `undefined` when the
 * error is not about the history.
 */
function historyHint(status: number, upstreamCode: string | undefined, request: HttpRequest): string | undefined {
  if (status === 404 && upstreamCode?.endsWith('.history.notfound')) {
    const what = historyRequested(request) ?? 'the requested revision or time';
    return (
      `Ditto has no state at ${what}: it is newer than the current revision or in the future, Ditto already cleaned it ` +
      `up, or you may not read the entity. ${retentionHint(request)}`
    );
  }
  const what = historyRequested(request);
  if (what === undefined) return undefined;
  if (status === 400 && upstreamCode === 'signal.unsupported') {
    return (
      "Ditto's history API is switched off: the Java system property ditto.devops.feature.historical-apis-enabled " +
      `is false on the Ditto services. ${retentionHint(request)}`
    );
  }
  if (status === 404) {
    return (
      'Not found or not visible to you. Ditto reads the history only of entities that exist now (not of deleted ones), ' +
      'checked against the current policy.'
    );
  }
  return undefined;
}

function messageTimeout(request: HttpRequest): string {
  const value = request.query?.timeout;
  return value === undefined || value === null ? '10' : String(value);
}

/**
 * Explains Ditto's error statuses in terms of what the caller can check. Ditto's own error code and
 * message are on the error already (`upstreamCode`, `upstreamMessage`).
 */
export const dittoHints: HintProvider = (status, upstreamCode, request) => {
  const path = request.path;
  const isMessage = MESSAGE_PATH.test(path);
  const isConnection = CONNECTION_PATH.test(path);
  const history = historyHint(status, upstreamCode, request);
  if (history !== undefined) return history;
  switch (status) {
    case 304:
      return 'Not modified: the resource still matches the ETag given in If-None-Match.';
    case 401:
      return isConnection
        ? 'Connections need Ditto devops credentials (Cloud2Edge: user "devops", password $DITTO_DEVOPS_PWD); pass devopsCredentials.'
        : 'Missing or wrong Ditto credentials (Cloud2Edge default: basic auth "ditto"/"ditto").';
    case 403:
      if (isConnection) return 'The devops user is required for connections; check devopsCredentials.';
      return isMessage
        ? 'The policy does not grant you WRITE on "message:/" (or on this message subject).'
        : 'The policy lets you see the resource but not change it: WRITE on "thing:/…" or "policy:/…" is missing for your subject.';
    case 404:
      if (isConnection) return 'No connection with this ID (connection IDs are case-sensitive).';
      return 'Not found or not visible to you: Ditto answers 404 when the policy hides the resource (no READ for your subject), as well as when it does not exist.';
    case 408:
      if (isMessage) {
        return (
          `No device answered within ${messageTimeout(request)} s — is it connected and subscribed for commands? ` +
          "The device must answer with both Hono's request id and Ditto's correlation-id."
        );
      }
      return "Ditto did not complete the request within its timeout; raise dittoTimeout (max 60 s) or requested acknowledgements' deadline.";
    case 409:
      return 'The request conflicts with the current state of the resource.';
    case 412: {
      const ifMatch = header(request, 'if-match');
      const ifNoneMatch = header(request, 'if-none-match');
      if (ifMatch !== undefined && ifMatch !== '*') {
        return `Revision changed (If-Match ${ifMatch} no longer current): someone else modified it; read it again and retry.`;
      }
      if (ifMatch === '*') return 'If-Match: * failed: the resource does not exist yet.';
      if (ifNoneMatch === '*') return 'If-None-Match: * failed: the resource already exists.';
      if (ifNoneMatch !== undefined) return `If-None-Match ${ifNoneMatch} failed: the resource is still at that revision.`;
      if (header(request, 'condition') !== undefined) return 'The condition did not hold for the current state of the thing.';
      if (header(request, 'if-equal') !== undefined) return 'Nothing changed: the new value equals the current one (if-equal: skip).';
      return upstreamCode?.endsWith('precondition.failed') ? 'A precondition (If-Match / If-None-Match / condition) failed.' : undefined;
    }
    case 413:
      return isMessage ? 'Message payloads are limited to 250 kB.' : 'Things and policies are limited to 100 kB each.';
    case 424: {
      const acks = header(request, 'requested-acks');
      return `A requested acknowledgement failed${acks ? ` (requested-acks: ${acks})` : ''}; the error body lists the status of each label.`;
    }
    case 429:
      return 'Ditto is rate-limiting this client; slow down.';
    case 503:
      return 'A Ditto service is unavailable (starting, overloaded or its cluster is forming); try again later.';
    default:
      return undefined;
  }
};
