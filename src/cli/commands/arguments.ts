/** Parsing of command-line arguments into typed values, with errors that name the argument. */
import { ValidationError } from '../../core/errors.js';

/** The namespace of a thing ID (`org.acme:lamp-1` → `org.acme`): Cloud2Edge's tenant by convention. */
export function tenantOf(thingId: string): string {
  const colon = thingId.indexOf(':');
  if (colon <= 0) throw new ValidationError('thingId', `must be namespace:name, got ${JSON.stringify(thingId)}`);
  return thingId.slice(0, colon);
}

export function parseJsonArgument(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError(
      name,
      `is not JSON: ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`,
      `Quote it for the shell, e.g. '{"temperature": 21.5}'.`,
    );
  }
}

export function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new ValidationError(name, `must be a positive whole number, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
