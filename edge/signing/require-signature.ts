// With URL_SIGNING_KEY set, only signed URLs may make the service generate (403 otherwise). Reads
// of stored pictures never get here, so they need no signature.
import { signatureRequired } from '../errors/problems';
import type { ImageQuery } from '../params/read-image-query';
import { verifySignature } from './url-signature';

export async function requireSignature(signingKey: string | undefined, query: ImageQuery): Promise<void> {
  if (signingKey === undefined) return;
  const valid = query.sig !== undefined && (await verifySignature(signingKey, query.signed, query.sig));
  if (!valid) throw signatureRequired(query.sig !== undefined);
}
