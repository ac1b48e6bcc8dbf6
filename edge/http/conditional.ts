// If-None-Match (RFC 9110 §13.1.2) against our strong ETag `"<key>"`. The comparison is the weak
// one the RFC prescribes for If-None-Match (§8.8.3.2), so W/"<key>" matches too.
export function etagFor(key: string): string {
  return `"${key}"`;
}

/** True when the field lists our ETag. `*` is answered separately: it depends on whether we have the picture. */
export function ifNoneMatchLists(field: string | undefined, key: string): boolean {
  if (field === undefined) return false;
  return field.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etagFor(key));
}

export function ifNoneMatchIsAny(field: string | undefined): boolean {
  return field?.trim() === '*';
}
